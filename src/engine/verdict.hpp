// What a scan concludes about one input. The engine fills it; the cli, daemon and emocheck render it.
#pragma once

#include <optional>
#include <string>
#include <utility>
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

/// An indicator recovered from the content: what a macro would fetch or run, where an LNK points...
struct Ioc {
  std::string type;   // "url", "ip", "domain", "path", "command", "email"
  std::string value;
  std::string where;  // e.g. "vba:Module1 line 12", "lnk:arguments"
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
  std::vector<Ioc> iocs;
  /// Facts about the input that are not reasons, in order: e-mail sender and subject, archive password used...
  std::vector<std::pair<std::string, std::string>> context;
  /// Results for what this file contains (archive entries, attachments, embedded objects), scanned by the same
  /// dispatch. A member's path is the whole chain: "mail.eml!invoice.zip!invoice.doc".
  std::vector<ScanResult> members;

  bool found() const noexcept { return verdict == Verdict::malicious || verdict == Verdict::suspicious; }
};

/// Adds a scanned member to its container. The container's verdict becomes the worse of the two; when the member
/// decides it, the member's signature names the container's detection as well (that is what clamd clients see).
void add_member(ScanResult& parent, ScanResult member);

/// Raises `r` to `v` with `signature` if `v` is worse than its current verdict (a clean or unsupported container
/// that hits a limit becomes suspicious, but a malicious one stays malicious).
void raise_verdict(ScanResult& r, Verdict v, std::string signature);

/// Visits `r` and every nested member, depth first.
template <class F>
void for_each_result(const ScanResult& r, F&& f) {
  f(r);
  for (const auto& m : r.members) for_each_result(m, f);
}

}  // namespace mamori::engine
