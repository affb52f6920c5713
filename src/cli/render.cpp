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
  nlohmann::json iocs = nlohmann::json::array();
  for (const auto& i : r.iocs) iocs.push_back({{"type", i.type}, {"value", i.value}, {"where", i.where}});
  j["iocs"] = iocs;
  nlohmann::json ctx = nlohmann::json::object();
  for (const auto& [k, v] : r.context) ctx[k] = v;
  if (!ctx.empty()) j["context"] = ctx;
  if (!r.members.empty()) {
    nlohmann::json members = nlohmann::json::array();
    for (const auto& m : r.members) members.push_back(to_json(m));
    j["members"] = members;
  }
  return j;
}

void print_line(const engine::ScanResult& r, std::ostream& out) {
  out << r.path << ": ";
  if (r.verdict == engine::Verdict::error) out << (r.error.empty() ? "scan failed" : r.error) << " ERROR\n";
  else if (r.found()) out << r.signature << " FOUND\n";
  else out << "OK\n";
}

static void explain_one(const engine::ScanResult& r, std::ostream& out, const std::string& indent);

void print_explanation(const engine::ScanResult& r, std::ostream& out) { explain_one(r, out, "  "); }

static void explain_one(const engine::ScanResult& r, std::ostream& out, const std::string& indent) {
  out << indent << "type " << r.type.subtype << ", verdict " << engine::verdict_name(r.verdict);
  if (r.score) out << ", score " << std::fixed << std::setprecision(4) << *r.score << std::defaultfloat;
  if (!r.model.empty()) out << " (" << r.model << ")";
  out << "\n";
  if (r.verdict == engine::Verdict::unsupported && !r.score)
    out << indent << "no model applies to this file type yet; it was typed but not scored\n";
  for (const auto& x : r.reasons) {
    out << indent << (x.contribution >= 0 ? "+" : "-") << std::fixed << std::setprecision(3) << std::fabs(x.contribution)
        << std::defaultfloat << "  " << x.feature << " = " << x.value
        << (x.contribution >= 0 ? "  (towards malicious)" : "  (towards clean)") << "\n";
  }
  if (!r.anomalies.empty()) {
    out << indent << "anomalies:";
    for (const auto& a : r.anomalies) out << " " << a;
    out << "\n";
  }
  for (const auto& [k, v] : r.context) out << indent << k << ": " << v << "\n";
  for (const auto& i : r.iocs) out << indent << "ioc " << i.type << " " << i.value << "  (" << i.where << ")\n";
  for (const auto& m : r.members) {
    out << indent << "member " << m.path << ": " << engine::verdict_name(m.verdict);
    if (!m.signature.empty()) out << " " << m.signature;
    out << "\n";
    explain_one(m, out, indent + "  ");
  }
}

}  // namespace mamori::cli
