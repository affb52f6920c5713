// libFuzzer target for the xls module: the input is read three ways --
//   1. as a BIFF Workbook stream (parse_workbook_stream: records, SST/CONTINUE, names, FILEPASS + RC4),
//   2. as one formula token stream (decode_formula with a small context that has sheets, names and an XTI table),
//   3. as an OOXML macro sheet / workbook.xml (parse_ooxml's tolerant scanner).
// Checks: the anomaly list matches the bit set, caps from xls::limits hold, decoded text is bounded, and every
// formula's sheet index names a sheet (or is the "none" marker).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "check.hpp"
#include "formats/xls/xls.hpp"

namespace {

namespace xls = mamori::xls;

void check_workbook(const xls::Workbook& wb) {
  std::uint64_t bits = 0;
  for (const auto& a : wb.anomalies) {
    check(a.code < xls::Anomaly::kCount);
    bits |= std::uint64_t{1} << static_cast<unsigned>(a.code);
    check(xls::anomaly_name(a.code) != nullptr);
  }
  check(bits == wb.anomaly_bits);
  check(wb.sheets.size() <= xls::limits::max_sheets + 1);
  check(wb.names.size() <= xls::limits::max_names);
  check(wb.formulas.size() <= xls::limits::max_formulas);
  check(wb.strings.size() <= xls::limits::max_string_cells);
  check(wb.sst.size() <= xls::limits::max_sst_strings);
  for (const auto& f : wb.formulas) {
    check(f.text.size() <= xls::limits::max_formula_text + 8);
    check(f.sheet < wb.sheets.size() || f.sheet == 0xFFFFFFFFu);
  }
  for (const auto& s : wb.sst) check(s.size() <= xls::limits::max_string_chars * 4);
  check(wb.counts.macro_sheets <= wb.sheets.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mamori::ByteView in(data, size);
  auto wb = xls::parse_workbook_stream(in);
  if (wb.ok()) check_workbook(*wb);

  const std::vector<std::string> sheets = {"Sheet1", "Macro1"};
  const std::vector<std::string> names = {"Auto_Open", "x"};
  const std::vector<std::uint16_t> xti_first = {0, 1, 0xFFFF}, xti_sb = {0, 0, 1};
  const std::vector<std::vector<std::string>> sb = {{"Auto_Open", "x"}, {"URLDownloadToFileA"}};
  xls::FormulaContext ctx;
  ctx.sheet_names = sheets;
  ctx.name_names = names;
  ctx.xti_first_sheet = xti_first;
  ctx.xti_supbook = xti_sb;
  ctx.supbook_names = sb;
  ctx.base_row = 3;
  ctx.base_col = 2;
  for (bool biff5 : {false, true}) {
    ctx.biff5 = biff5;
    const auto d = xls::decode_formula(in, ctx);
    check(d.tokens <= xls::limits::max_formula_tokens);
    check(d.text.size() <= xls::limits::max_formula_text + 8);
    check(d.complete || !d.anomalies.empty());
    check(d.folded.size() <= 256);
  }

  const xls::OoxmlPart parts[] = {{"xl/macrosheets/sheet1.xml", in}};
  const auto ox = xls::parse_ooxml(in, in, parts);
  check_workbook(ox);
  return 0;
}
