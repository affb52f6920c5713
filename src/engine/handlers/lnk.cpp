// Windows shortcuts: our [MS-SHLLINK] parser and the transparent rule score of formats/lnk/rules.hpp (no model:
// the corpus holds ten malicious links). Bytes appended after the link's terminal block are scanned as a member.
#include <algorithm>
#include <cctype>

#include "analysis/iocs.hpp"
#include "engine/handlers.hpp"
#include "engine/scanner.hpp"
#include "formats/lnk/lnk.hpp"
#include "formats/lnk/rules.hpp"

namespace mamori::engine::handlers {

namespace {

constexpr std::size_t kMaxContextValue = 4096;

std::string clip(std::string s) {
  if (s.size() > kMaxContextValue) {
    s.resize(kMaxContextValue);
    s += "...";
  }
  return s;
}

}  // namespace

void lnk(ByteView bytes, ScanResult& r, ScanContext& ctx) {
  auto parsed = lnk::parse(bytes);
  r.model = "lnk-rules";
  if (!parsed.ok()) {
    // A file with the link signature that Windows cannot read as a link runs nothing.
    r.anomalies.push_back("header_unreadable: " + parsed.error().message);
    r.verdict = Verdict::clean;
    r.score = 0;
    return;
  }
  const lnk::Link& l = *parsed;
  for (const auto& a : l.anomalies) r.anomalies.push_back(std::string(lnk::anomaly_name(a.code)) + ":" + std::to_string(a.detail));

  // The shared PowerShell decoder peels what the rules' own -EncodedCommand decoding does not (FromBase64String,
  // compressed payloads, char arithmetic); its layers are searched by the rules and for IOCs.
  // Only commands that involve PowerShell are peeled: on a cmd.exe line the decoder has nothing to undo.
  std::string cmd_lower = l.target() + " " + l.arguments;
  std::transform(cmd_lower.begin(), cmd_lower.end(), cmd_lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::vector<std::string> layers;
  if (cmd_lower.find("powershell") != std::string::npos || cmd_lower.find("pwsh") != std::string::npos)
    layers = analysis::decode_powershell(l.arguments);
  const lnk::Assessment as = lnk::assess(l, layers);
  auto put = [&](const std::string& key, const std::string& v) {
    if (!v.empty()) r.context.emplace_back(key, clip(v));
  };
  put("lnk.target", l.target());
  put("lnk.arguments", l.arguments);
  put("lnk.working_dir", l.working_dir);
  put("lnk.icon", l.icon_env_target.empty() ? l.icon_location : l.icon_env_target);
  put("lnk.name", l.name);
  if (l.show_command != lnk::kShowNormal) put("lnk.show_command", std::to_string(l.show_command));
  put("lnk.machine_id", l.tracker_machine_id);
  put("lnk.network_path", l.link_info.net_name);
  put("lnk.known_folder", l.known_folder_id);
  // Context keys are unique (the JSON renderer keeps one value per key): one per decoded command and per rule.
  for (std::size_t i = 0; i < as.decoded.size(); ++i)
    put(i == 0 ? std::string("lnk.decoded_command") : "lnk.decoded_command." + std::to_string(i + 1), as.decoded[i]);
  for (const auto& f : as.findings) {
    r.reasons.push_back({f.rule, 1, static_cast<double>(f.points)});
    put(f.rule, "+" + std::to_string(f.points) + ": " + f.detail);
  }
  std::size_t shown = as.decoded.size();
  for (const auto& layer : layers) {
    if (std::find(as.decoded.begin(), as.decoded.end(), layer) != as.decoded.end()) continue;
    put("lnk.decoded_layer." + std::to_string(++shown), layer);
  }
  for (const auto& i : as.indicators) r.iocs.push_back({i.type, i.value, i.where});
  analysis::merge_iocs(r.iocs, analysis::iocs_from_text(l.arguments, "lnk:arguments"));
  for (const auto& layer : layers) analysis::merge_iocs(r.iocs, analysis::iocs_from_text(layer, "lnk:decoded"));

  r.score = std::min(as.points, 100) / 100.0;
  bool cpl = false;
  for (const auto& f : as.findings) cpl |= f.rule == "lnk.cpl_applet_exploit";
  if (as.points >= lnk::kMaliciousPoints) {
    r.verdict = Verdict::malicious;
    r.signature = cpl ? "Mamori.LNK.CVE-2010-2568" : "Mamori.LNK.Malicious";
  } else if (as.points >= lnk::kSuspiciousPoints && ctx.scanner().options().alert_suspicious) {
    r.verdict = Verdict::suspicious;
    r.signature = "Mamori.LNK.Suspicious";
  } else {
    r.verdict = Verdict::clean;
  }
  // Droppers append the payload (a CAB, a PE, an encoded script) after the link for a findstr/certutil one-liner to
  // cut out; whatever it is, it is scanned like any other member.
  if (l.appended.size() >= 64) ctx.scan_member(r, "appended.bin", l.appended);
}

}  // namespace mamori::engine::handlers
