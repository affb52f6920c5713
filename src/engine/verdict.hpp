// What a scan concludes about one input. The engine fills it; the cli, daemon and emocheck render it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/filetype.hpp"

namespace mamori::engine {

enum class Verdict : std::uint8_t { clean, suspicious, malicious, error, unsupported };
const char* verdict_name(Verdict v) noexcept;
/// Worse verdicts rank higher: a container takes the worst of its members.
int severity(Verdict v) noexcept;

struct Reason {
  std::string feature;  // schema name, e.g. "imports.api_injection"
  double value = 0;     // the feature's value in this file
  double contribution = 0;  // signed contribution to the log-odds of "malicious"
};

struct ScanResult {
  std::string path;
  std::string sha256;
  std::uint64_t size = 0;
  FileType type;
  Verdict verdict = Verdict::unsupported;
  std::optional<double> score;  // none when no model applies
  std::string model;            // model name, empty when none applied
  std::string signature;        // clamd-style name, e.g. "Mamori.PE.Malicious"; empty when clean
  std::vector<Reason> reasons;
  std::vector<std::string> anomalies;
  std::string error;            // set when verdict == error
  double elapsed_ms = 0;

  bool found() const noexcept { return verdict == Verdict::malicious || verdict == Verdict::suspicious; }
};

}  // namespace mamori::engine
