// rtf: documents built in memory with tests/support/rtf_builder and cfb_builder.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "formats/rtf/rtf.hpp"
#include "support/cfb_builder.hpp"
#include "support/rtf_builder.hpp"

namespace {

namespace rtf = mamori::rtf;
using namespace std::string_literals;
using namespace mamori::test;

mamori::Result<rtf::Document> parse(const std::string& s) { return rtf::parse(mamori::ByteView(s.data(), s.size())); }

std::vector<std::uint8_t> equation_ole2() {
  CfbSpec spec;
  spec.streams = {{"Equation Native", std::vector<std::uint8_t>(200, 0x1C)}, {"\x01" "CompObj", std::vector<std::uint8_t>(60, 1)}};
  CfbLayout layout;
  auto file = build_cfb(spec, &layout);
  // The root entry's CLSID: Equation Editor 3.0.
  const auto off = layout.dir_entry_offset(0) + 0x50;
  for (std::size_t k = 0; k < 16; ++k) file[off + k] = rtf::kEquationClsid[k];
  return file;
}

TEST(RtfParse, EquationEditorObjectWithObfuscatedHex) {
  const auto native = equation_ole2();
  for (auto style : {HexStyle::plain, HexStyle::obfuscated}) {
    const auto doc = parse(rtf_object("Equation.3", rtf_hex(ole1_embedded("Equation.3", native), style), "\\objupdate"));
    ASSERT_TRUE(doc.ok());
    ASSERT_EQ(doc->objects.size(), 1u);
    const auto& o = doc->objects[0];
    EXPECT_EQ(o.objclass, "Equation.3");
    EXPECT_TRUE(o.ole1);
    EXPECT_EQ(o.format_id, 2u);
    EXPECT_EQ(o.class_name, "Equation.3");
    EXPECT_EQ(o.native, native) << static_cast<int>(style);
    EXPECT_TRUE(o.native_is_ole2);
    ASSERT_TRUE(o.clsid.has_value());
    EXPECT_EQ(o.clsid_text, "0002CE02-0000-0000-C000-000000000046");
    EXPECT_TRUE(o.equation_editor);
    EXPECT_TRUE(o.update);
    EXPECT_EQ(o.kind, rtf::ObjectKind::embedded);
    EXPECT_NE(std::find(o.ole2_streams.begin(), o.ole2_streams.end(), "Equation Native"), o.ole2_streams.end());
    EXPECT_TRUE(doc->has(rtf::Anomaly::equation_editor));
    EXPECT_EQ(doc->counts.equation_objects, 1u);
    EXPECT_EQ(doc->counts.objupdate, 1u);
    EXPECT_EQ(doc->counts.pict, 1u);
    EXPECT_EQ(doc->has(rtf::Anomaly::objdata_obfuscated), style == HexStyle::obfuscated);
    EXPECT_FALSE(doc->has(rtf::Anomaly::ole1_header_invalid));
    EXPECT_FALSE(doc->has(rtf::Anomaly::unclosed_groups));
    EXPECT_FALSE(doc->has(rtf::Anomaly::data_after_end));
  }
}

TEST(RtfParse, ObfuscatedClassNameStillFlagsEquation) {
  // The class is given in a case Word still resolves, and \objclass is missing.
  const std::vector<std::uint8_t> native(64, 0x41);
  const std::string s = "{\\rtf1{\\object\\objemb{\\*\\objdata " + rtf_hex(ole1_embedded("eQuAtIoN.3", native), HexStyle::plain) + "}}}";
  const auto doc = parse(s);
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ(doc->objects.size(), 1u);
  EXPECT_TRUE(doc->objects[0].equation_editor);
  EXPECT_FALSE(doc->objects[0].native_is_ole2);
}

TEST(RtfParse, PackageWithExecutable) {
  const std::vector<std::uint8_t> payload = {'M', 'Z', 0x90, 0, 3, 0, 0, 0};
  const auto native = package_native("invoice.exe", "C:\\Users\\a\\invoice.exe", "C:\\Users\\a\\AppData\\Local\\Temp\\invoice.exe", payload);
  const auto doc = parse(rtf_embedded_object("Package", native));
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ(doc->objects.size(), 1u);
  const auto& o = doc->objects[0];
  ASSERT_TRUE(o.package.has_value());
  EXPECT_EQ(o.package->file_name, "invoice.exe");
  EXPECT_EQ(o.package->source_path, "C:\\Users\\a\\invoice.exe");
  EXPECT_EQ(o.package->temp_path, "C:\\Users\\a\\AppData\\Local\\Temp\\invoice.exe");
  EXPECT_EQ(o.package->payload, payload);
  EXPECT_TRUE(o.package->executable);
  EXPECT_TRUE(doc->has(rtf::Anomaly::package_executable));
  EXPECT_EQ(doc->counts.executable_packages, 1u);
  EXPECT_FALSE(o.equation_editor);

  const auto img = package_native("photo.jpg", "C:\\p.jpg", "C:\\t\\p.jpg", payload);
  const auto d2 = parse(rtf_embedded_object("Package", img));
  ASSERT_TRUE(d2.ok());
  ASSERT_TRUE(d2->objects[0].package.has_value());
  EXPECT_FALSE(d2->objects[0].package->executable);
  EXPECT_FALSE(d2->has(rtf::Anomaly::package_executable));
  EXPECT_TRUE(rtf::executable_name("a.HTA"));
  EXPECT_TRUE(rtf::executable_name("a.exe. "));
  EXPECT_FALSE(rtf::executable_name("a.docx"));
}

// CFB compares names without case, so Office opens an \x01Ole10Native stream in any case; a dropper that varies the
// case must not hide the packaged executable.
TEST(RtfParse, OleWrappedPackageFoundWhateverTheStreamNameCase) {
  const std::vector<std::uint8_t> payload = {'M', 'Z', 0x90, 0, 3, 0, 0, 0};
  auto native = package_native("run.exe", "C:\\a\\run.exe", "C:\\t\\run.exe", payload);
  std::vector<std::uint8_t> sized = {static_cast<std::uint8_t>(native.size()), static_cast<std::uint8_t>(native.size() >> 8), 0, 0};
  sized.insert(sized.end(), native.begin(), native.end());
  for (const char* name : {"\x01Ole10Native", "\x01oLE10nATIVE"}) {
    CfbSpec spec;
    spec.streams = {{name, sized}};
    const auto doc = parse(rtf_embedded_object("Package", build_cfb(spec)));
    ASSERT_TRUE(doc.ok());
    ASSERT_EQ(doc->objects.size(), 1u);
    EXPECT_TRUE(doc->objects[0].native_is_ole2);
    ASSERT_TRUE(doc->objects[0].package.has_value()) << name + 1;
    EXPECT_EQ(doc->objects[0].package->file_name, "run.exe");
    EXPECT_TRUE(doc->has(rtf::Anomaly::package_executable));
  }
}

TEST(RtfParse, LinkedObjectAndAutoLink) {
  const auto doc = parse("{\\rtf1{\\object\\objautlink\\objupdate{\\*\\objclass Word.Document.8}{\\*\\objdata " +
                         rtf_hex(ole1_linked("Word.Document.8", "http://example.invalid/x.doc"), HexStyle::plain) + "}}}");
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ(doc->objects.size(), 1u);
  EXPECT_TRUE(doc->objects[0].link);
  EXPECT_EQ(doc->objects[0].kind, rtf::ObjectKind::autolink);
  EXPECT_EQ(doc->objects[0].format_id, 1u);
  EXPECT_EQ(doc->objects[0].topic_name, "http://example.invalid/x.doc");
  EXPECT_TRUE(doc->has(rtf::Anomaly::ole_link));
  EXPECT_EQ(doc->counts.links, 1u);
}

TEST(RtfParse, BinRunAndOddNibbles) {
  const std::vector<std::uint8_t> native = {1, 2, 3, 4, 5};
  auto wrapped = ole1_embedded("X", native);
  // First half as hex, the rest as a raw \bin run.
  const std::size_t half = wrapped.size() / 2;
  std::string s = "{\\rtf1{\\object{\\*\\objdata " +
                  rtf_hex(std::vector<std::uint8_t>(wrapped.begin(), wrapped.begin() + static_cast<std::ptrdiff_t>(half)), HexStyle::plain) +
                  "\\bin" + std::to_string(wrapped.size() - half) + " ";
  s.append(wrapped.begin() + static_cast<std::ptrdiff_t>(half), wrapped.end());
  s += "a}}}";
  const auto doc = parse(s);
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ(doc->objects.size(), 1u);
  EXPECT_EQ(doc->objects[0].native, native);
  EXPECT_EQ(doc->counts.bin_runs, 1u);
  EXPECT_TRUE(doc->has(rtf::Anomaly::objdata_odd_nibbles));
}

TEST(RtfParse, QuoteTakesBackTheDigitBeforeIt) {
  // The interleaving exploit kits use: each real byte's digits, then a junk digit, then \'hh.
  const std::vector<std::uint8_t> native(16, 0x5A);
  const auto data = ole1_embedded("Equation.3", native);
  std::string hex;
  static const char* digits = "0123456789abcdef";
  for (auto b : data) {
    hex += digits[b >> 4];
    hex += digits[b & 0xF];
    hex += "f\\'cc";
  }
  const auto doc = parse("{\\rtf1{\\object\\objemb{\\*\\objdata {\\hlsrc 414243}" + hex + "}}}");
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ(doc->objects.size(), 1u);
  EXPECT_TRUE(doc->objects[0].ole1);
  EXPECT_EQ(doc->objects[0].class_name, "Equation.3");
  EXPECT_EQ(doc->objects[0].native, native);
  EXPECT_TRUE(doc->objects[0].equation_editor);
}

TEST(RtfParse, NotOle1DataIsKeptRaw) {
  const auto doc = parse("{\\rtf1{\\object{\\*\\objdata 4d5a9000zz}}}");
  ASSERT_TRUE(doc.ok());
  ASSERT_EQ(doc->objects.size(), 1u);
  EXPECT_EQ(doc->objects[0].native, (std::vector<std::uint8_t>{0x4d, 0x5a, 0x90, 0x00}));
  EXPECT_TRUE(doc->has(rtf::Anomaly::ole1_header_invalid));
  EXPECT_TRUE(doc->has(rtf::Anomaly::objdata_non_hex));
}

TEST(RtfDegrade, HeaderVariantsAndBraces) {
  EXPECT_FALSE(parse("{\\rtx").ok() && false);
  EXPECT_FALSE(parse("hello").ok());
  EXPECT_EQ(parse("hello").error().code, mamori::ErrorCode::not_this_format);
  const auto v = parse("{\\rtvariant{\\b x}}");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->header_variant);
  EXPECT_TRUE(v->has(rtf::Anomaly::header_variant));
  const auto u = parse("{\\rtf1{\\b x}");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->has(rtf::Anomaly::unclosed_groups));
  const auto e = parse("{\\rtf1 x}}");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->has(rtf::Anomaly::extra_closing_brace));
  const auto a = parse("{\\rtf1 x}\r\n\r\nMZ trailing payload");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->has(rtf::Anomaly::data_after_end));
  EXPECT_EQ(a->end_offset, 9u);
  const auto w = parse("{\\rtf1 x}\r\n\0"s);
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE(w->has(rtf::Anomaly::data_after_end));
}

// Blank padding after the document is read in 8 MB chunks: data after the padding, past a chunk boundary, is still
// seen, and so is its size.
TEST(RtfDegrade, DataBehindLongPaddingAfterTheEnd) {
  std::string doc = "{\\rtf1 x}";
  doc += std::string(9u << 20, '\0');
  const auto blank = parse(doc);
  ASSERT_TRUE(blank.ok());
  EXPECT_FALSE(blank->has(rtf::Anomaly::data_after_end));
  EXPECT_EQ(blank->counts.bytes_after_end, 9u << 20);
  doc += "MZ";
  const auto data = parse(doc);
  ASSERT_TRUE(data.ok());
  EXPECT_TRUE(data->has(rtf::Anomaly::data_after_end));
  EXPECT_EQ(data->counts.bytes_after_end, (9u << 20) + 2);
}

TEST(RtfDegrade, DeepNestingLongWordsAndTruncatedBin) {
  std::string deep = "{\\rtf1";
  for (int k = 0; k < 5000; ++k) deep += "{";
  deep += "{\\object{\\*\\objdata 0102}}";
  for (int k = 0; k < 5000; ++k) deep += "}";
  deep += "}";
  const auto d = parse(deep);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->has(rtf::Anomaly::group_too_deep));
  EXPECT_EQ(d->counts.max_depth, 5003u);
  EXPECT_FALSE(d->has(rtf::Anomaly::unclosed_groups));
  EXPECT_FALSE(d->has(rtf::Anomaly::extra_closing_brace));

  const auto l = parse("{\\rtf1\\" + std::string(100, 'a') + "123456789012345 x}");
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->has(rtf::Anomaly::control_word_too_long));
  EXPECT_TRUE(l->has(rtf::Anomaly::parameter_too_long));

  const auto b = parse("{\\rtf1{\\object{\\*\\objdata \\bin999999 abc");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->has(rtf::Anomaly::bin_run_truncated));
  EXPECT_TRUE(b->has(rtf::Anomaly::unclosed_groups));
  ASSERT_EQ(b->objects.size(), 1u);
  EXPECT_EQ(b->objects[0].native, (std::vector<std::uint8_t>{'a', 'b', 'c'}));
}

TEST(RtfDegrade, TruncatedOle1AndObjectCap) {
  auto wrapped = ole1_embedded("Package", std::vector<std::uint8_t>(100, 7), 5000);
  const auto doc = parse(rtf_object("Package", rtf_hex(wrapped, HexStyle::plain)));
  ASSERT_TRUE(doc.ok());
  EXPECT_TRUE(doc->has(rtf::Anomaly::native_size_mismatch));
  EXPECT_TRUE(doc->has(rtf::Anomaly::package_malformed));
  EXPECT_EQ(doc->objects[0].native.size(), 100u);

  std::string many = "{\\rtf1";
  for (std::uint32_t k = 0; k < rtf::limits::max_objects + 10; ++k) many += "{\\object{\\*\\objdata 00}}";
  many += "}";
  const auto m = parse(many);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->objects.size(), rtf::limits::max_objects);
  EXPECT_TRUE(m->has(rtf::Anomaly::objects_truncated_by_limit));
}

}  // namespace
