// pdf::Shape and pdf::JsTraits (schema v6 `pdf_shape`): link annotations against the page, actions run on open
// resolved through references (into object streams too), form submissions, content operators, JavaScript traits and
// the document features built on them. Every input is built here; each shape has a twin that must not count.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "features/office_features.hpp"
#include "formats/pdf/pdf.hpp"
#include "support/office_sample.hpp"
#include "support/pdf_builder.hpp"

namespace {

namespace pdf = mamori::pdf;
using namespace mamori;
using namespace mamori::test;

Result<pdf::Document> parse(const std::string& s) { return pdf::parse(ByteView(s.data(), s.size())); }

// One Letter page whose only annotation is a link of `rect` to a URI action kept in an object stream (object 6), the
// catalog opening with a reference to that same action, and a content stream of `content`.
PdfSpec lure(const std::string& rect, const std::string& content) {
  PdfSpec s;
  const std::string objstm_body = "6 0 7 60 "
                                  "<< /Type /Action /S /URI /URI (https://bit.ly/3xYz) >>                           "
                                  "<< /Type /Annot /Subtype /Link /Rect " + rect + " /A 6 0 R /Border [0 0 0] >>";
  s.objects = {
      {"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>"},
      {"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 612 792] >>"},
      {"<< /Type /Page /Parent 2 0 R /Annots [7 0 R] /Contents 4 0 R /Resources << /XObject << /Im0 8 0 R >> >> >>"},
      {"<< >>", content, true, true},
      {"<< /Type /ObjStm /N 2 /First 9 >>", objstm_body, true, true},
  };
  return s;
}

TEST(PdfShape, FullPageLinkFromAnObjectStreamAndOpenAction) {
  const auto d = parse(build_pdf(lure("[0 0 612.0 792.0]", "q 612 0 0 792 0 0 cm /Im0 Do Q")));
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  const pdf::Shape& s = d->shape;
  EXPECT_EQ(s.link_annots, 1u);
  EXPECT_EQ(s.uri_links, 1u);  // /A 6 0 R resolved to the URI action inside the object stream
  EXPECT_DOUBLE_EQ(s.page_area, 612.0 * 792.0);
  EXPECT_DOUBLE_EQ(s.max_uri_link_fraction, 1.0);
  EXPECT_EQ(s.big_uri_links, 1u);
  EXPECT_EQ(s.open_uri, 1u);
  EXPECT_EQ(s.open_javascript, 0u);
  EXPECT_EQ(s.text_ops, 0u);
  EXPECT_EQ(s.draw_ops, 1u);
  ASSERT_EQ(d->uris.size(), 1u);
  EXPECT_EQ(d->uris[0], "https://bit.ly/3xYz");

  // Twin: a small link in a page of text, and the catalog opening at a destination instead of an action.
  PdfSpec t = lure("[72 700 200 712.5]", "BT /F1 12 Tf 72 720 Td (Hello) Tj [(W) 80 (orld)] TJ ET");
  t.objects[0] = PdfObject("<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /Fit] >>");
  const auto q = parse(build_pdf(t));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->shape.uri_links, 1u);
  EXPECT_NEAR(q->shape.max_uri_link_fraction, 128.0 * 12.5 / (612.0 * 792.0), 1e-9);
  EXPECT_EQ(q->shape.big_uri_links, 0u);
  EXPECT_EQ(q->shape.open_uri, 0u);
  EXPECT_EQ(q->shape.text_ops, 2u);
  EXPECT_EQ(q->shape.draw_ops, 0u);
}

TEST(PdfShape, OpenTriggersFormsAndSubmissions) {
  PdfSpec s;
  s.objects = {
      {"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] >> >>"},
      {"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
      // Page-open trigger by reference and an inline page-close trigger (close is not open).
      {"<< /Type /Page /Parent 2 0 R /AA << /O 5 0 R /C << /S /Launch /F (calc.exe) >> >> /Annots [4 0 R] >>"},
      // A form field whose keystroke script is not an open trigger, and its submit button to a web URL.
      {"<< /Type /Annot /Subtype /Widget /Rect [0 0 10 10] /AA << /K 6 0 R >> "
       "/A << /S /SubmitForm /F << /FS /URL /F (https://collect.example/post) >> >> >>"},
      {"<< /S /JavaScript /JS (app.setTimeOut\\(\"x\", 10\\)) >>"},
      {"<< /S /JavaScript /JS (AFNumber_Keystroke\\(2\\)) >>"},
  };
  const auto d = parse(build_pdf(s));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->shape.open_javascript, 1u);
  EXPECT_EQ(d->shape.open_launch, 0u);
  EXPECT_EQ(d->shape.widgets, 1u);
  EXPECT_EQ(d->shape.submit_web, 1u);
  EXPECT_EQ(d->js.timers, 1u);
  // The same launch as an inline page-open action runs on open.
  s.objects[2] = PdfObject("<< /Type /Page /Parent 2 0 R /AA << /O << /S /Launch /F (calc.exe) >> >> >>");
  const auto l = parse(build_pdf(s));
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->shape.open_launch, 1u);
  EXPECT_EQ(l->shape.open_javascript, 0u);
  // A submission to a local file is not a web submission.
  s.objects[3] = PdfObject("<< /Subtype /Widget /A << /S /SubmitForm /F (answers.fdf) >> >>");
  EXPECT_EQ(parse(build_pdf(s))->shape.submit_web, 0u);
}

TEST(PdfShape, JavaScriptTraits) {
  const std::string code =
      "var s = unescape('%u9090%u9090%u4141'); var h = \"" + std::string(80, 'a') + "\";"
      "eval(String.fromCharCode(97,108)); util.printf('%45000f', 1); this.getAnnots(); "
      "Collab.getIcon('x'); app.launchURL('http://x', true); var e = '\\x41\\x42';";
  pdf::JsTraits t;
  pdf::scan_javascript(ByteView(code.data(), code.size()), t);
  EXPECT_EQ(t.bytes, code.size());
  EXPECT_EQ(t.unescape, 1u);
  EXPECT_EQ(t.percent_u, 3u);
  EXPECT_EQ(t.eval, 1u);
  EXPECT_EQ(t.from_char_code, 1u);
  EXPECT_EQ(t.exploit_apis, 3u);  // util.printf, Collab., getIcon
  EXPECT_EQ(t.annots, 1u);
  EXPECT_EQ(t.navigation, 1u);
  EXPECT_EQ(t.hex_escapes, 2u);
  EXPECT_EQ(t.hex_runs, 1u);  // the 80 'a's
  EXPECT_EQ(t.longest_string, 80u);
  // An ordinary form script has none of them.
  pdf::JsTraits f;
  const std::string form = "AFNumber_Format(2, 0, 0, 0, \"$\", true); event.value = this.getField('total').value;";
  pdf::scan_javascript(ByteView(form.data(), form.size()), f);
  EXPECT_EQ(f.eval + f.unescape + f.percent_u + f.hex_runs + f.exploit_apis + f.navigation + f.timers, 0u);
  EXPECT_EQ(f.longest_string, 5u);

  // Through the parser: a JavaScript stream compressed with FlateDecode is decoded and scanned.
  PdfSpec s;
  s.objects = {{"<< /Type /Catalog /OpenAction << /S /JavaScript /JS 2 0 R >> >>"},
               {"<< >>", code, true, true}};
  const auto d = parse(build_pdf(s));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->js.percent_u, 3u);
  EXPECT_EQ(d->js.exploit_apis, 3u);
  EXPECT_EQ(d->shape.open_javascript, 1u);
}

TEST(PdfShapeDegrade, BrokenBoxesDictionariesAndReferences) {
  // Rectangles with three numbers, names, reals with two dots, an unbalanced ">>", a reference to nothing, and an
  // object stream whose header points past its end: nothing is counted that is not there, nothing crashes.
  const std::string bad =
      "%PDF-1.7\n"
      "1 0 obj << /Type /Catalog /OpenAction 99 0 R /MediaBox [0 0 1e5] >> >> >> endobj\n"
      "2 0 obj << /Subtype /Link /Rect [0 0 /x 10] /A << /S /URI /URI (http://a.example) >> >> endobj\n"
      "3 0 obj << /Subtype /Link /Rect [1.2.3 0 10 10] /A 77 0 R >> endobj\n"
      "4 0 obj << /Subtype /Link /Rect [0 0 1e308 1e308 5 6] /A << /S /URI /URI (http://b.example) >> >> endobj\n"
      "5 0 obj << /Type /ObjStm /N 1 /First 4000 /Length 10 >> stream\n0123456789\nendstream endobj\n"
      "6 0 obj << /AA << /O [1 2 3] /PO >> >> << >> >> endobj\n"
      "trailer << /Root 1 0 R >>\n%%EOF\n";
  const auto d = parse(bad);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->shape.link_annots, 3u);
  EXPECT_EQ(d->shape.uri_links, 2u);  // the /A 77 0 R of object 3 resolves to nothing
  EXPECT_DOUBLE_EQ(d->shape.page_area, 0.0);
  EXPECT_LE(d->shape.max_uri_link_fraction, 1.0);
  EXPECT_EQ(d->shape.big_uri_links, 0u);  // object 4's box has six numbers: not a rectangle
  EXPECT_EQ(d->shape.open_uri + d->shape.open_javascript + d->shape.open_launch + d->shape.open_other, 0u);
  // Truncated at every byte: the parser never fails past the header and the counts never grow.
  for (std::size_t cut = 9; cut < bad.size(); cut += 7) {
    const auto t = parse(bad.substr(0, cut));
    ASSERT_TRUE(t.ok());
    EXPECT_LE(t->shape.link_annots, 3u);
    EXPECT_LE(t->shape.max_uri_link_fraction, 1.0);
  }
}

TEST(PdfShapeFeatures, GroupIsFilledForPdfAndMissingOtherwise) {
  const auto s = featurize(build_pdf(lure("[0 0 612 792]", "/Im0 Do")));
  EXPECT_EQ(s.doc_type, "pdf");
  EXPECT_EQ(feature(s, "pdf_shape.uri_links"), 1.0f);
  EXPECT_EQ(feature(s, "pdf_shape.big_uri_links"), 1.0f);
  EXPECT_EQ(feature(s, "pdf_shape.max_uri_link_fraction"), 1.0f);
  EXPECT_EQ(feature(s, "pdf_shape.open_uri"), 1.0f);
  EXPECT_EQ(feature(s, "pdf_shape.no_text"), 1.0f);
  EXPECT_EQ(feature(s, "pdf_shape.few_pages_with_link"), 1.0f);
  EXPECT_EQ(feature(s, "pdf_shape.uri_shorteners"), 1.0f);
  EXPECT_EQ(feature(s, "pdf_shape.uri_plain_http"), 0.0f);
  PdfSpec p;
  p.objects = {{"<< /Type /Catalog >>"},
               {"<< /Subtype /Link /A << /S /URI /URI (http://user@files.000webhostapp.com:8080/a?id=1) >> >>"},
               {"<< /Subtype /Link /A << /S /URI /URI (mailto:me@example.org) >> >>"},
               {"<< /Subtype /Link /A << /S /URI /URI (javascript:alert\\(1\\)) >> >>"}};
  const auto u = featurize(build_pdf(p));
  EXPECT_EQ(feature(u, "pdf_shape.uri_distinct"), 3.0f);
  EXPECT_EQ(feature(u, "pdf_shape.uri_plain_http"), 1.0f);
  EXPECT_EQ(feature(u, "pdf_shape.uri_userinfo"), 1.0f);
  EXPECT_EQ(feature(u, "pdf_shape.uri_odd_port"), 1.0f);
  EXPECT_EQ(feature(u, "pdf_shape.uri_query"), 1.0f);
  EXPECT_EQ(feature(u, "pdf_shape.uri_file_hosting"), 1.0f);
  EXPECT_EQ(feature(u, "pdf_shape.uri_mailto"), 1.0f);
  EXPECT_EQ(feature(u, "pdf_shape.uri_other_scheme"), 1.0f);
  EXPECT_EQ(feature(u, "pdf_shape.uri_shorteners"), 0.0f);
  const auto rtf = featurize(std::string("{\\rtf1 hello}"));
  EXPECT_TRUE(std::isnan(feature(rtf, "pdf_shape.uri_links")));
}

}  // namespace
