// Internal to src/analysis: the strings an evaluator computed, and the common last step that scans them.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "analysis/iocs.hpp"

namespace mamori::analysis::detail {

struct Candidate {
  std::string value;
  std::string where;
  bool partial = false;  // built with unknown pieces left out: an IOC in it may be cut short
};

/// Scans every candidate for IOCs (and every PowerShell layer decoded from it), fills out.iocs and out.strings
/// (strings that are not among `literals`), then drops IOCs that a longer one makes redundant.
void finish_evaluation(std::vector<Candidate> cands, const std::unordered_set<std::string>& literals, Evaluation& out);

/// evaluate_vba(source, name, extra) with every expression parsed again each time it runs, as the evaluator did
/// before it compiled them: the reference the compiled evaluation is compared with (tests, fuzz_vba_eval).
Evaluation evaluate_vba_parsed(std::string_view source, std::string_view name, const DocumentStrings& extra = {});

}  // namespace mamori::analysis::detail
