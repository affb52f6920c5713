// libFuzzer target for analysis::script::assess, the call the scanner makes on every script file (handlers::script).
//
// Each input is scored once per language (the language decides which decoders run: the VBA evaluator, the JScript
// char-code reader, the PowerShell decoder, the <script> block splitter). Besides the sanitizers, it checks the
// promises of script.hpp: points are the sum of the findings, each finding has points, the verdict rule names a
// finding, and IOCs are kept only for scripts that reach the suspicious threshold.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "analysis/script.hpp"
#include "check.hpp"

namespace sc = mamori::analysis::script;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (sc::Lang lang : {sc::Lang::js, sc::Lang::vbs, sc::Lang::ps1, sc::Lang::bat, sc::Lang::hta, sc::Lang::unknown}) {
    const sc::Assessment a = sc::assess(text, lang);
    int sum = 0;
    for (const auto& f : a.findings) {
      check(f.points > 0);
      check(f.rule.rfind("script.", 0) == 0);
      sum += f.points;
    }
    check(sum == a.points);
    check(a.findings.empty() == a.top_rule.empty());
    if (a.points < sc::kSuspiciousPoints) check(a.iocs.empty());
    check(a.iocs.size() <= 512);
  }
  return 0;
}
