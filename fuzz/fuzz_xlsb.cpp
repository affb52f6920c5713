// libFuzzer target for the XLSB path of the xls module ([MS-XLSB] binary records through xls::parse_ooxml): the
// first two bytes give where the input splits into xl/workbook.bin (BrtBundleSh, BrtName, BrtExternSheet) and one
// xl/macrosheets/sheet1.bin part (BrtFmla* cells with biff12 formula tokens), so both record streams are fuzzed
// with the other present. Checks: the anomaly list matches the bit set, caps from xls::limits hold, and every
// formula's sheet index names a sheet.
#include <cstddef>
#include <cstdint>
#include <string>

#include "check.hpp"
#include "formats/xls/xls.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace xls = mamori::xls;
  if (size < 2) return 0;
  const std::size_t split = std::min<std::size_t>(size - 2, static_cast<std::size_t>(data[0] | (data[1] << 8)));
  const mamori::ByteView book(data + 2, split), sheet(data + 2 + split, size - 2 - split);
  // The relationships name the part so that the sheet is typed as a macro sheet through rId1, as Excel writes it.
  const std::string rels =
      "<Relationships><Relationship Id=\"rId1\" Type=\"http://schemas.microsoft.com/office/2006/relationships/"
      "xlMacrosheet\" Target=\"macrosheets/sheet1.bin\"/></Relationships>";
  const xls::OoxmlPart parts[] = {{"xl/macrosheets/sheet1.bin", sheet}};
  const auto wb = xls::parse_ooxml(book, mamori::ByteView(rels.data(), rels.size()), parts);
  std::uint64_t bits = 0;
  for (const auto& a : wb.anomalies) {
    check(a.code < xls::Anomaly::kCount);
    bits |= std::uint64_t{1} << static_cast<unsigned>(a.code);
  }
  check(bits == wb.anomaly_bits);
  check(wb.sheets.size() <= xls::limits::max_sheets + 1);
  check(wb.names.size() <= xls::limits::max_names);
  check(wb.formulas.size() <= xls::limits::max_formulas);
  for (const auto& f : wb.formulas) {
    check(f.text.size() <= xls::limits::max_formula_text + 8);
    check(f.sheet < wb.sheets.size());
  }
  check(wb.counts.macro_sheets <= wb.sheets.size());
  return 0;
}
