#include "cli/render.hpp"

#include <iomanip>

namespace mamori::cli {

nlohmann::json to_json(const engine::ScanResult& r) {
  nlohmann::json j;
  j["path"] = r.path;
  j["sha256"] = r.sha256.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.sha256);
  j["size"] = r.size;
  j["type"] = r.type.subtype.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.type.subtype);
  j["kind"] = engine::kind_name(r.type.kind);
  j["verdict"] = engine::verdict_name(r.verdict);
  j["score"] = r.score ? nlohmann::json(*r.score) : nlohmann::json(nullptr);
  j["model"] = r.model.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.model);
  j["signature"] = r.signature.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.signature);
  nlohmann::json reasons = nlohmann::json::array();
  for (const auto& x : r.reasons)
    reasons.push_back({{"feature", x.feature}, {"value", x.value}, {"contribution", x.contribution}});
  j["reasons"] = reasons;
  j["anomalies"] = r.anomalies;
  if (!r.error.empty()) j["error"] = r.error;
  j["elapsed_ms"] = r.elapsed_ms;
  return j;
}

void print_line(const engine::ScanResult& r, std::ostream& out) {
  out << r.path << ": ";
  if (r.verdict == engine::Verdict::error) out << (r.error.empty() ? "scan failed" : r.error) << " ERROR\n";
  else if (r.found()) out << r.signature << " FOUND\n";
  else out << "OK\n";
}

void print_explanation(const engine::ScanResult& r, std::ostream& out) {
  out << "  type " << r.type.subtype << ", verdict " << engine::verdict_name(r.verdict);
  if (r.score) out << ", score " << std::fixed << std::setprecision(4) << *r.score << std::defaultfloat;
  if (!r.model.empty()) out << " (" << r.model << ")";
  out << "\n";
  if (r.verdict == engine::Verdict::unsupported && !r.score)
    out << "  no model applies to this file type yet; it was typed but not scored\n";
  for (const auto& x : r.reasons) {
    out << "  " << (x.contribution >= 0 ? "+" : "-") << std::fixed << std::setprecision(3) << std::fabs(x.contribution)
        << std::defaultfloat << "  " << x.feature << " = " << x.value
        << (x.contribution >= 0 ? "  (towards malicious)" : "  (towards clean)") << "\n";
  }
  if (!r.anomalies.empty()) {
    out << "  anomalies:";
    for (const auto& a : r.anomalies) out << " " << a;
    out << "\n";
  }
}

}  // namespace mamori::cli
