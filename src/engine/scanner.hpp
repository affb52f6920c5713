// The engine: reads a file, types it, runs the format's analysis and model, and returns a ScanResult.
// It prints nothing and never exits; front ends render results.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/mapped_file.hpp"
#include "engine/verdict.hpp"
#include "model/model.hpp"

namespace mamori::engine {

struct Limits {
  /// Files larger than this are not read. They get verdict `suspicious` with signature
  /// Mamori.Limits.Exceeded.FileSize, never a silent OK. Padding is skipped cheaply, so the default is generous.
  std::uint64_t max_file_size = 4ull << 30;
};

struct Options {
  Limits limits;
  /// Compute SHAP reasons (costs about a millisecond a file); off when only the verdict is printed.
  bool explain = true;
  std::size_t max_reasons = 8;
  /// Report suspicious (between the suspicious and malicious thresholds) as found.
  bool alert_suspicious = true;
};

class Scanner {
 public:
  /// `pe_model` may be empty: PE files are then typed and parsed but get no score (verdict unsupported).
  Scanner(std::optional<model::Model> pe_model, Options opt);

  ScanResult scan_file(const std::string& path) const;
  ScanResult scan_bytes(ByteView bytes, const std::string& name) const;

  const Options& options() const noexcept { return opt_; }
  const model::Model* pe_model() const noexcept { return pe_model_ ? &*pe_model_ : nullptr; }

 private:
  void scan_pe(ByteView bytes, ScanResult& r) const;

  std::optional<model::Model> pe_model_;
  Options opt_;
};

/// Where the shipped models live: $MAMORI_MODELS, else <dir of the executable>/../share/mamori/models, else the
/// source tree's models/ (for build-tree use).
std::string default_model_dir();

}  // namespace mamori::engine
