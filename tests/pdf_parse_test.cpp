// pdf: files built in memory with tests/support/pdf_builder.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "formats/pdf/pdf.hpp"
#include "support/pdf_builder.hpp"

namespace {

namespace pdf = mamori::pdf;
using namespace mamori::test;

mamori::Result<pdf::Document> parse(const std::string& s) { return pdf::parse(mamori::ByteView(s.data(), s.size())); }

PdfSpec malicious() {
  PdfSpec s;
  s.objects = {
      {"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R /AcroForm << /XFA 9 0 R >> /Names << /EmbeddedFiles << /Names [(a.exe) 7 0 R] >> >> >>"},
      {"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
      {"<< /Type /Page /Parent 2 0 R /AA << /O 5 0 R >> /Annots [<< /Subtype /Link /A << /S /URI /URI (http://evil.example/a?b=\\(1\\)) >> >>] >>"},
      {"<< /Type /Action /S /J#61vaScript /JS 6 0 R >>"},
      {"<< /Type /Action /S /Launch /Win << /F (cmd.exe) /P (/c calc.exe) >> >>"},
      {"<< >>", "var s = unescape('%u9090'); this.exportDataObject({cName: 'a.exe'}); eval(s);", true, true},
      {"<< /Type /Filespec /F (a.exe) /UF <612E657865> /EF << /F 8 0 R >> >>"},
      {"<< /Type /EmbeddedFile >>", std::string("MZ\x90\x00payload", 11), true, true},
      {"<< /S /GoToR /F (other.pdf) /D [0 /Fit] >> % /SubmitForm in a comment does not count"},
      {"<< /Type /XObject /Subtype /Image /Filter /JBIG2Decode /Colors 16777217 /Length 4 >>"},
      {"<< /RichMedia true /SubmitForm 1 >>"},
  };
  s.after_eof = "\nMZ trailing junk after the end";
  return s;
}

TEST(PdfParse, CountsKeywordsAndExtractsActions) {
  const auto d = parse(build_pdf(malicious()));
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  EXPECT_EQ(d->header_offset, 0u);
  EXPECT_EQ(d->version, "1.7");
  EXPECT_EQ(d->count(pdf::Key::obj), 11u);
  EXPECT_EQ(d->count(pdf::Key::endobj), 11u);
  EXPECT_EQ(d->count(pdf::Key::stream), 2u);
  EXPECT_EQ(d->count(pdf::Key::endstream), 2u);
  EXPECT_EQ(d->count(pdf::Key::xref), 1u);
  EXPECT_EQ(d->count(pdf::Key::trailer), 1u);
  EXPECT_EQ(d->count(pdf::Key::startxref), 1u);
  EXPECT_EQ(d->count(pdf::Key::page), 1u);  // /Pages is not /Page
  EXPECT_EQ(d->count(pdf::Key::javascript), 1u);
  EXPECT_EQ(d->obfuscated[static_cast<std::size_t>(pdf::Key::javascript)], 1u);
  EXPECT_TRUE(d->has(pdf::Anomaly::name_obfuscated));
  EXPECT_EQ(d->count(pdf::Key::js), 1u);
  EXPECT_EQ(d->count(pdf::Key::aa), 1u);
  EXPECT_EQ(d->count(pdf::Key::openaction), 1u);
  EXPECT_EQ(d->count(pdf::Key::acroform), 1u);
  EXPECT_EQ(d->count(pdf::Key::xfa), 1u);
  EXPECT_EQ(d->count(pdf::Key::launch), 1u);
  EXPECT_EQ(d->count(pdf::Key::uri), 2u);  // the /S /URI action type and the /URI key
  EXPECT_EQ(d->count(pdf::Key::embeddedfile), 1u);
  EXPECT_EQ(d->count(pdf::Key::gotor), 1u);
  EXPECT_EQ(d->count(pdf::Key::jbig2decode), 1u);
  EXPECT_EQ(d->count(pdf::Key::colors_gt_2_24), 1u);
  EXPECT_EQ(d->count(pdf::Key::richmedia), 1u);
  EXPECT_EQ(d->count(pdf::Key::submitform), 1u);
  EXPECT_EQ(d->count(pdf::Key::encrypt), 0u);

  ASSERT_EQ(d->uris.size(), 1u);
  EXPECT_EQ(d->uris[0], "http://evil.example/a?b=(1)");
  ASSERT_EQ(d->launches.size(), 1u);
  EXPECT_EQ(d->launches[0], "cmd.exe /c calc.exe");
  ASSERT_EQ(d->embedded_files.size(), 1u);
  EXPECT_EQ(d->embedded_files[0].object, 8u);
  EXPECT_EQ(d->embedded_files[0].bytes, (std::vector<std::uint8_t>{'M', 'Z', 0x90, 0, 'p', 'a', 'y', 'l', 'o', 'a', 'd'}));
  EXPECT_TRUE(d->embedded_files[0].decoded);
  EXPECT_TRUE(d->embedded_files[0].complete);
  EXPECT_NE(std::find(d->file_names.begin(), d->file_names.end(), "a.exe"), d->file_names.end());
  EXPECT_EQ(d->stats.js_streams, 1u);
  ASSERT_FALSE(d->javascript.empty());
  EXPECT_NE(d->javascript[0].find("exportDataObject"), std::string::npos);

  EXPECT_EQ(d->eof_markers, 1u);
  EXPECT_GT(d->bytes_after_eof, 20u);
  EXPECT_TRUE(d->has(pdf::Anomaly::data_after_eof));
  EXPECT_FALSE(d->has(pdf::Anomaly::obj_endobj_mismatch));
  EXPECT_FALSE(d->has(pdf::Anomaly::stream_length_mismatch));
}

TEST(PdfParse, ObjectStreamsAreLexed) {
  PdfSpec s;
  // An object stream holding an action with /JavaScript and /OpenAction: only visible after decoding.
  s.objects = {{"<< /Type /Catalog >>"},
               {"<< /Type /ObjStm /N 1 /First 5 >>", "3 0 << /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> >>", true, true}};
  const auto d = parse(build_pdf(s));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->count(pdf::Key::objstm), 1u);
  EXPECT_EQ(d->count(pdf::Key::openaction), 1u);
  EXPECT_EQ(d->count(pdf::Key::javascript), 1u);
  EXPECT_EQ(d->stats.objstm_decoded, 1u);
  ASSERT_EQ(d->javascript.size(), 1u);
  EXPECT_EQ(d->javascript[0], "app.alert(1)");
  EXPECT_FALSE(d->has(pdf::Anomaly::data_after_eof));
}

// What follows the last %%EOF is counted in 8 MB chunks: every non-blank byte behind long padding still counts.
TEST(PdfDegrade, BytesAfterEofBehindLongPadding) {
  std::string doc = "%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
  doc += std::string(9u << 20, '\0');
  const auto blank = parse(doc);
  ASSERT_TRUE(blank.ok());
  EXPECT_EQ(blank->bytes_after_eof, 0u);
  EXPECT_FALSE(blank->has(pdf::Anomaly::data_after_eof));
  doc += "abc";
  doc.insert(doc.size() / 2, "de");
  const auto data = parse(doc);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->bytes_after_eof, 5u);
  EXPECT_TRUE(data->has(pdf::Anomaly::data_after_eof));
}

TEST(PdfDegrade, HeaderEofStreamsAndBombs) {
  EXPECT_FALSE(parse("not a pdf at all").ok());
  PdfSpec s = malicious();
  s.header = std::string(2000, ' ') + "%PDF-1.4\n";
  s.write_eof = false;
  s.after_eof.clear();
  s.objects[5].wrong_length = true;
  s.objects.push_back({"<< /Filter /FlateDecode >>", "this is not zlib data at all", true, false});
  const auto d = parse(build_pdf(s));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->header_offset, 2000u);
  EXPECT_EQ(d->version, "1.4");
  EXPECT_TRUE(d->has(pdf::Anomaly::header_not_at_start));
  EXPECT_TRUE(d->has(pdf::Anomaly::header_late));
  EXPECT_TRUE(d->has(pdf::Anomaly::eof_missing));
  EXPECT_TRUE(d->has(pdf::Anomaly::stream_length_mismatch));
  EXPECT_TRUE(d->has(pdf::Anomaly::stream_decode_error));
  EXPECT_EQ(d->stats.js_streams, 1u);  // found by searching for endstream

  // A stream that never ends, and a string that never closes.
  const auto u = parse("%PDF-1.5\n1 0 obj << /Length 99999 >> stream\nabc (never closed");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->has(pdf::Anomaly::stream_unterminated));
  EXPECT_TRUE(u->has(pdf::Anomaly::string_unterminated));
  EXPECT_TRUE(u->has(pdf::Anomaly::obj_endobj_mismatch));

  // A decompression bomb stops at the per-stream cap.
  PdfSpec b;
  b.objects = {{"<< /Type /EmbeddedFile >>", std::string(40u << 20, 'A'), true, true}};
  const auto db = parse(build_pdf(b));
  ASSERT_TRUE(db.ok());
  ASSERT_EQ(db->embedded_files.size(), 1u);
  EXPECT_EQ(db->embedded_files[0].bytes.size(), pdf::limits::max_stream_decoded);
  EXPECT_FALSE(db->embedded_files[0].complete);
  EXPECT_TRUE(db->has(pdf::Anomaly::stream_decode_truncated_by_limit));
}

TEST(PdfDegrade, EncryptedAndIndirectLength) {
  PdfSpec s;
  s.objects = {{"<< /Type /Catalog >>"}, {"<< /Filter /Standard /V 2 /R 3 >>"}};
  s.trailer_extra = "/Encrypt 2 0 R";
  std::string pdf = build_pdf(s);
  pdf += "3 0 obj << /Length 4 0 R >> stream\nvar x; eval(x); this.y\nendstream endobj\n4 0 obj 23 endobj\n";
  const auto d = parse(pdf);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->count(pdf::Key::encrypt), 1u);
  EXPECT_TRUE(d->has(pdf::Anomaly::encrypted));
  EXPECT_FALSE(d->has(pdf::Anomaly::stream_length_mismatch));
  EXPECT_EQ(d->stats.js_streams, 1u);
}

}  // namespace
