// The engine: reads a file, types it, runs the format's handler and model, recurses into what the file contains,
// and returns a ScanResult tree. It prints nothing and never exits; front ends render results.
#pragma once

#include <optional>
#include <string>

#include "common/mapped_file.hpp"
#include "engine/context.hpp"
#include "engine/verdict.hpp"
#include "model/model.hpp"

namespace mamori::engine {

struct Options {
  Limits limits;
  /// Compute SHAP reasons (costs about a millisecond a file); off when only the verdict is printed.
  bool explain = true;
  std::size_t max_reasons = 8;
  /// Report suspicious (between the suspicious and malicious thresholds) as found.
  bool alert_suspicious = true;
  /// Passwords tried on encrypted archives after those found in an enclosing e-mail.
  std::vector<std::string> archive_passwords = {"infected", "malware", "virus", "password", "1234", "123456"};
  /// An archive that stays encrypted after every password is suspicious (true) or merely reported (false).
  bool encrypted_is_suspicious = true;
  /// Try Excel's default password ("VelvetSweatshop") on encrypted OOXML packages and scan what it opens.
  bool decrypt_documents = true;
  /// A document that stays encrypted (neither the default password nor any of the archive passwords opened it)
  /// is suspicious, Mamori.Office.Encrypted (true, the default, as issue 3 and encrypted archives have it: its
  /// content cannot be analysed, and macro droppers are sent encrypted with the password in the mail so that
  /// scanners see nothing), or only reported in anomalies and context (false: --encrypted-doc-ok,
  /// AlertEncryptedDoc no, for sites where protected business documents are common; the corpus's 32 benign
  /// encrypted documents are library test files, 31 of which stay encrypted and are flagged, docs/office.md).
  bool encrypted_documents_are_suspicious = true;
};

/// The models the engine scores with, one per family of file kinds. Any may be absent: files of that family are
/// then typed and parsed but get verdict `unsupported`.
struct Models {
  std::optional<model::Model> pe;
  std::optional<model::Model> office;
  std::optional<model::Model> pdf;  // scores the documents of bucket "pdf" in place of `office` when present
};

/// Loads root/pe (required) and every other model directory that exists under `root` (office, pdf).
Result<Models> load_models(const std::string& root);

class Scanner {
 public:
  Scanner(Models models, Options opt);
  /// PE-only engine (tests and tools that do not need the document models).
  Scanner(std::optional<model::Model> pe_model, Options opt);

  ScanResult scan_file(const std::string& path) const;
  ScanResult scan_bytes(ByteView bytes, const std::string& name) const;

  const Options& options() const noexcept { return opt_; }
  const Models& models() const noexcept { return models_; }
  const model::Model* pe_model() const noexcept { return models_.pe ? &*models_.pe : nullptr; }

  /// Types `bytes` and runs its handler into `r` (path already set). The recursion entry used by ScanContext.
  void dispatch(ByteView bytes, ScanResult& r, ScanContext& ctx) const;

 private:
  Models models_;
  Options opt_;
};

/// Where the shipped models live: $MAMORI_MODELS, else <dir of the executable>/../share/mamori/models, else the
/// source tree's models/ (for build-tree use).
std::string default_model_dir();

}  // namespace mamori::engine
