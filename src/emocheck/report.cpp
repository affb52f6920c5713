// Rendering a Report: EmoCheck's text and JSON report layout, with mamori's additions kept apart (a `mamori` key in
// JSON, a section after EmoCheck's lines in text) so that scripts written for EmoCheck keep working.
#include <cstdio>
#include <sstream>

#include "emocheck/emocheck.hpp"

namespace mamori::emocheck {

namespace {

constexpr const char* kLine = "____________________________________________________";

std::string hex8(std::uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "%08X", v);
  return b;
}

std::string pid_text(const Detection& d) { return d.pid ? std::to_string(*d.pid) : std::string(); }

}  // namespace

std::string report_basename(const Report& r) {
  return (r.hostname.empty() ? std::string("UNKNOWN") : r.hostname) + "_" + r.file_stamp + "_emocheck";
}

nlohmann::json report_json(const Report& r) {
  using nlohmann::json;
  json j;
  j["scan_time"] = r.scan_time;
  j["hostname"] = r.hostname;
  j["emocheck_version"] = emocheck_compat_version;
  j["is_infected"] = r.infected() ? "yes" : "no";
  json procs = json::array();
  for (const Detection& d : r.detections)
    procs.push_back({{"process_name", d.process_name},
                     {"process_id", pid_text(d)},
                     {"image_path", d.image_path},
                     {"registry_key", d.registry_key}});
  j["emotet_processes"] = procs;

  json m;
  m["version"] = MAMORI_VERSION;
  m["volume_serial"] = r.serial ? json{{"value", hex8(r.serial->value)}, {"source", r.serial->source}} : json(nullptr);
  m["keyword_names"] = r.keyword_names;
  json dets = json::array();
  for (const Detection& d : r.detections)
    dets.push_back({{"method", method_name(d.method)},
                    {"method_number", static_cast<int>(d.method)},
                    {"process_name", d.process_name},
                    {"process_id", d.pid ? json(*d.pid) : json(nullptr)},
                    {"running", d.running},
                    {"image_path", d.image_path},
                    {"registry_key", d.registry_key},
                    {"user", d.user},
                    {"evidence", d.evidence}});
  m["detections"] = dets;
  json scans = json::array();
  for (const SuspectScan& s : r.scans) {
    json o{{"image_path", s.image_path}, {"local_path", s.local_path}};
    if (s.local_path.empty() || (!s.error.empty() && s.sha256.empty())) {
      o["verdict"] = nullptr;
    } else {
      o["sha256"] = s.sha256;
      o["verdict"] = engine::verdict_name(s.verdict);
      o["score"] = s.score ? json(*s.score) : json(nullptr);
      o["signature"] = s.signature;
    }
    if (!s.error.empty()) o["error"] = s.error;
    scans.push_back(o);
  }
  m["scans"] = scans;
  json methods = json::array(), skipped = json::array();
  for (const MethodStatus& s : r.methods) {
    methods.push_back({{"method", method_name(s.method)},
                       {"method_number", static_cast<int>(s.method)},
                       {"state", method_state_name(s.state)},
                       {"detail", s.detail}});
    if (s.state == MethodState::skipped) skipped.push_back({{"method", method_name(s.method)}, {"reason", s.detail}});
  }
  m["methods"] = methods;
  m["methods_skipped"] = skipped;
  m["problems"] = r.problems;
  j["mamori"] = m;
  return j;
}

std::string report_text(const Report& r) {
  std::ostringstream o;
  o << "[EmoCheck v" << emocheck_compat_version << " compatible report by mamori " << MAMORI_VERSION << "]\n";
  o << "Scan time: " << r.scan_time << "\n" << kLine << "\n";
  if (r.infected()) {
    o << "[Result] \nDetected Emotet process.\n\n";
    for (const Detection& d : r.detections) {
      o << "[Emotet Process] \n"
        << "     Process Name  : " << d.process_name << "\n"
        << "     Process ID    : " << pid_text(d) << "\n"
        << "     Image Path    : " << d.image_path << "\n";
      if (!d.registry_key.empty()) o << "     Registry Key  : " << d.registry_key << "\n";
    }
    o << kLine << "\nPlease remove or isolate the suspicious execution file.\n";
  } else {
    o << "[Result] \nNo detection.\n";
  }
  o << kLine << "\n[mamori]\n";
  o << "Hostname      : " << (r.hostname.empty() ? "(no SYSTEM hive ComputerName)" : r.hostname) << "\n";
  if (r.serial)
  {
    const std::string h = hex8(r.serial->value);
    o << "Volume serial : " << h.substr(0, 4) << "-" << h.substr(4) << " (" << r.serial->source << ")\n";
  }
  else
    o << "Volume serial : unknown\n";
  if (!r.keyword_names.empty()) {
    o << "Keyword names :";
    for (const auto& n : r.keyword_names) o << " " << n;
    o << "\n";
  }
  for (const Detection& d : r.detections) {
    o << "Detection     : method " << static_cast<int>(d.method) << " (" << method_name(d.method) << ") "
      << (d.image_path.empty() ? d.process_name : d.image_path) << (d.user.empty() ? "" : " [user " + d.user + "]")
      << "\n";
    for (const auto& e : d.evidence) o << "                - " << e << "\n";
  }
  for (const SuspectScan& s : r.scans) {
    o << "Scan          : " << s.image_path << ": ";
    if (!s.sha256.empty()) {
      o << engine::verdict_name(s.verdict);
      if (s.score) {
        char b[32];
        std::snprintf(b, sizeof b, " score %.4f", *s.score);
        o << b;
      }
      if (!s.signature.empty()) o << " " << s.signature;
    }
    if (!s.error.empty()) o << (s.sha256.empty() ? "" : " ") << "(" << s.error << ")";
    o << "\n";
  }
  for (const MethodStatus& s : r.methods) {
    o << "Method " << static_cast<int>(s.method) << "      : " << method_name(s.method) << ": "
      << method_state_name(s.state);
    if (!s.detail.empty()) o << " - " << s.detail;
    o << "\n";
  }
  for (const auto& p : r.problems) o << "Problem       : " << p << "\n";
  return o.str();
}

}  // namespace mamori::emocheck
