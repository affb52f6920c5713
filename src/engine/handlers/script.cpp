// Script files: JScript, VBScript (and VBA source saved as text), PowerShell, batch/cmd, HTML applications,
// scriptlets and Windows Script Files, scored by the named rules of analysis/script.hpp (no model). A finding names
// the line it matched; the verdict is Mamori.Script.<Rule> after the rule with the most points. Text files and
// unknown data whose name carries a script extension come here too, so a .js in a zip is judged like a .js on disk.
#include <algorithm>

#include "analysis/iocs.hpp"
#include "analysis/script.hpp"
#include "engine/handlers.hpp"
#include "engine/scanner.hpp"

namespace mamori::engine::handlers {

void script(ByteView bytes, ScanResult& r, ScanContext& ctx) {
  namespace sc = analysis::script;
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const sc::Lang lang = sc::language_of(r.type.subtype, r.path, text);
  const sc::Assessment a = sc::assess(text, lang);
  r.model = "script-rules";
  r.context.emplace_back("script.language", sc::lang_name(lang));
  for (const auto& n : a.notes) r.anomalies.push_back("script: " + n);
  // Context keys are unique (the JSON renderer keeps one value per key): one per rule and per decoded layer.
  for (const auto& f : a.findings) {
    r.reasons.push_back({f.rule, 1, static_cast<double>(f.points)});
    std::string key = f.rule;
    for (int k = 2; std::any_of(r.context.begin(), r.context.end(), [&](const auto& c) { return c.first == key; }); ++k)
      key = f.rule + "." + std::to_string(k);
    r.context.emplace_back(key, "+" + std::to_string(f.points) + ": " + f.detail);
  }
  if (a.points >= sc::kSuspiciousPoints)
    for (std::size_t i = 0; i < a.decoded.size() && i < 8; ++i)
      r.context.emplace_back(i == 0 ? std::string("script.decoded") : "script.decoded." + std::to_string(i + 1), a.decoded[i]);
  analysis::merge_iocs(r.iocs, a.iocs);
  r.score = std::min(a.points, 100) / 100.0;
  if (a.points >= sc::kMaliciousPoints) {
    r.verdict = Verdict::malicious;
    r.signature = "Mamori.Script." + a.top_rule;
  } else if (a.points >= sc::kSuspiciousPoints && ctx.scanner().options().alert_suspicious) {
    r.verdict = Verdict::suspicious;
    r.signature = "Mamori.Script." + a.top_rule;
  } else {
    r.verdict = Verdict::clean;
  }
}

}  // namespace mamori::engine::handlers
