// libFuzzer target for the analysis layer over arbitrary text: the VBA evaluator (as a module source), the chain
// analysis of the document features (the same text read as a procedure graph, with the evaluator's strings), the
// XLM evaluator (each line a formula of one macro sheet column), the PowerShell decoder and the IOC recognisers.
//
// Checks: IOC lists stay within limits::max_iocs with a type and a value each, the evaluator's work stays within
// its budget (plus one string's worth of slack), decoding stops at limits::max_ps_layers, and no layer exceeds the
// string and inflate caps; the chain flags stay 0/1 and the triggers within features::office::chain_limits. The
// evaluator compiles expressions: its result must equal the evaluation that parses every expression each time it
// runs (detail::evaluate_vba_parsed), IOC for IOC, string for string, and in statements, work and limits hit.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "analysis/candidates.hpp"
#include "analysis/iocs.hpp"
#include "features/office_internal.hpp"
#include "formats/xls/xls.hpp"
#include "check.hpp"

namespace analysis = mamori::analysis;

namespace {

void check_iocs(const std::vector<mamori::engine::Ioc>& iocs) {
  check(iocs.size() <= analysis::limits::max_iocs);
  for (const auto& i : iocs) check(!i.type.empty() && !i.value.empty());
}

bool same(const analysis::Evaluation& a, const analysis::Evaluation& b) {
  if (a.statements != b.statements || a.work != b.work || a.limits_hit != b.limits_hit) return false;
  if (a.iocs.size() != b.iocs.size() || a.strings.size() != b.strings.size()) return false;
  for (std::size_t i = 0; i < a.iocs.size(); ++i)
    if (a.iocs[i].type != b.iocs[i].type || a.iocs[i].value != b.iocs[i].value || a.iocs[i].where != b.iocs[i].where)
      return false;
  for (std::size_t i = 0; i < a.strings.size(); ++i)
    if (a.strings[i].value != b.strings[i].value || a.strings[i].where != b.strings[i].where) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // Form strings from the input's second half, so that control references can resolve to fuzzed text.
  analysis::DocumentStrings extra;
  extra.forms.push_back({"UserForm1", "Label1", "Caption", std::string(text.substr(size / 2))});
  extra.forms.push_back({"", "Comments", "Property", std::string(text.substr(0, size / 3))});
  const auto ev = analysis::evaluate_vba(text, "Module1", extra);
  check_iocs(ev.iocs);
  check(ev.work <= analysis::limits::max_work + analysis::limits::max_string + 1024);
  check(ev.strings.size() <= analysis::limits::max_decoded_strings + analysis::limits::max_ps_layers);
  check(same(ev, analysis::detail::evaluate_vba_parsed(text, "Module1", extra)));

  namespace office = mamori::features::office;
  office::ChainStats cs;
  office::analyze_chain({office::ChainModule{"Module1", text}}, &ev, cs);
  check(cs.triggers <= static_cast<double>(office::chain_limits::max_triggers));
  check(cs.max_depth <= static_cast<double>(office::chain_limits::max_call_depth));
  for (double flag : {cs.trigger_download, cs.trigger_execute, cs.trigger_download_execute, cs.trigger_write_execute,
                      cs.trigger_executable_string, cs.trigger_object_by_expression, cs.trigger_remote_executable})
    check(flag == 0 || flag == 1);
  check(cs.trigger_download_execute <= cs.trigger_download && cs.trigger_download_execute <= cs.trigger_execute);

  const auto layers = analysis::decode_powershell(text);
  check(layers.size() <= analysis::limits::max_ps_layers);
  for (const auto& l : layers) check(l.size() <= analysis::limits::max_string + analysis::limits::max_inflate);

  check_iocs(analysis::iocs_from_text(text, "fuzz"));

  mamori::xls::Workbook wb;
  wb.sheets.push_back({"Macro1", mamori::xls::SheetType::macro_sheet, mamori::xls::Visibility::visible, 0, 0x40, true, {}});
  std::uint32_t row = 0;
  std::size_t start = 0;
  while (start < size && row < 256) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = size;
    mamori::xls::FormulaCell f;
    f.row = row++;
    f.text = std::string(text.substr(start, end - start));
    wb.formulas.push_back(std::move(f));
    start = end + 1;
  }
  const auto xe = analysis::evaluate_xlm(wb);
  check_iocs(xe.iocs);
  check(xe.work <= analysis::limits::max_work + analysis::limits::max_string + 1024);
  return 0;
}
