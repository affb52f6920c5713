// lnk::parse and the LNK handler against shortcuts synthesized by tests/support/lnk_builder: fields round-trip,
// damaged links degrade to anomalies (never an error past the header), and every truncation still gets a verdict.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/scanner.hpp"
#include "formats/lnk/lnk.hpp"
#include "support/lnk_builder.hpp"

namespace {

using mamori::ByteView;
using namespace mamori::test;
namespace lnk = mamori::lnk;
namespace engine = mamori::engine;
using lnk::Anomaly;

const std::string kMyComputer = "{20D04FE0-3AEA-1069-A2D8-08002B30309D}";

lnk::Link parse_ok(const Blob& b) {
  auto r = lnk::parse(ByteView(b.data(), b.size()));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  if (!r.ok()) return {};
  return std::move(r).value();
}

engine::ScanResult scan(const Blob& b) {
  engine::Scanner s(std::optional<mamori::model::Model>{}, engine::Options{});
  return s.scan_bytes(ByteView(b.data(), b.size()), "t.lnk");
}

LnkSpec app_shortcut() {
  LnkSpec s;
  s.idlist = {root_item(kMyComputer), volume_item("C:\\"), file_item("Program Files", true), file_item("Contoso", true),
              file_item("ContosoEditor.exe", false)};
  s.local_base_path = "C:\\Program Files\\Contoso\\ContosoEditor.exe";
  s.name = "Edit documents";
  s.working_dir = "C:\\Program Files\\Contoso";
  s.icon_location = "C:\\Program Files\\Contoso\\ContosoEditor.exe";
  s.machine_id = "build-pc-01";
  s.known_folder = "{905E63B6-C1BF-494E-B29C-65B732D3D21A}";
  return s;
}

TEST(LnkParse, FieldsRoundTrip) {
  auto b = build_lnk(app_shortcut());
  ASSERT_EQ(engine::detect_type(ByteView(b.data(), b.size())).kind, engine::FileKind::lnk);
  auto l = parse_ok(b);
  EXPECT_TRUE(l.anomalies.empty()) << lnk::anomaly_name(l.anomalies[0].code);
  ASSERT_EQ(l.idlist.size(), 5u);
  EXPECT_EQ(l.idlist[0].clsid, kMyComputer);
  EXPECT_EQ(l.idlist_path, "C:\\Program Files\\Contoso\\ContosoEditor.exe");
  EXPECT_TRUE(l.link_info.present);
  EXPECT_EQ(l.link_info.local_base_path, "C:\\Program Files\\Contoso\\ContosoEditor.exe");
  EXPECT_EQ(l.link_info.drive_type, 3u);
  EXPECT_EQ(l.name, "Edit documents");
  EXPECT_EQ(l.working_dir, "C:\\Program Files\\Contoso");
  EXPECT_EQ(l.tracker_machine_id, "build-pc-01");
  EXPECT_EQ(l.known_folder_id, "{905E63B6-C1BF-494E-B29C-65B732D3D21A}");
  EXPECT_EQ(l.target(), "C:\\Program Files\\Contoso\\ContosoEditor.exe");
  EXPECT_TRUE(l.appended.empty());
}

TEST(LnkParse, AnsiStringsNetworkPathAndEnvironmentTarget) {
  LnkSpec s;
  s.unicode = false;
  s.net_name = "\\\\fileserver\\public";
  s.arguments = "/quiet \xe9t\xe9";  // Windows-1252 bytes become UTF-8
  s.env_target = "%windir%\\system32\\notepad.exe";
  s.icon_env_target = "%windir%\\system32\\notepad.exe";
  s.console_block = true;
  auto l = parse_ok(build_lnk(s));
  EXPECT_EQ(l.link_info.net_name, "\\\\fileserver\\public");
  EXPECT_EQ(l.arguments, "/quiet \xc3\xa9t\xc3\xa9");
  EXPECT_EQ(l.env_target, "%windir%\\system32\\notepad.exe");
  EXPECT_EQ(l.icon_env_target, "%windir%\\system32\\notepad.exe");
  EXPECT_TRUE(l.has_console_block);
  EXPECT_EQ(l.target(), "%windir%\\system32\\notepad.exe");
}

TEST(LnkParse, NotALinkAndCutHeader) {
  Blob junk(100, 0x41);
  auto r = lnk::parse(ByteView(junk.data(), junk.size()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, mamori::ErrorCode::not_this_format);
  auto b = build_lnk(app_shortcut());
  auto cut = lnk::parse(ByteView(b.data(), 40));
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, mamori::ErrorCode::truncated);
}

// Every prefix of a link parses or fails cleanly, and the handler gives each a verdict.
TEST(LnkParse, EveryTruncationGetsAVerdict) {
  LnkSpec s = app_shortcut();
  s.arguments = "--profile-directory=Default";
  s.env_target = "%ProgramFiles%\\Contoso\\ContosoEditor.exe";
  const auto b = build_lnk(s);
  for (std::size_t n = 0; n <= b.size(); ++n) {
    Blob prefix(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = lnk::parse(ByteView(prefix.data(), prefix.size()));
    if (n >= 0x4C) {
      ASSERT_TRUE(r.ok()) << n;
      if (n < b.size()) {
        EXPECT_FALSE(r->anomalies.empty()) << n;
      }
    }
    if (n >= 20) {
      auto res = scan(prefix);
      EXPECT_EQ(res.type.kind, engine::FileKind::lnk);
      EXPECT_EQ(res.verdict, engine::Verdict::clean) << n;
      if (n < b.size()) {
        EXPECT_FALSE(res.anomalies.empty()) << n;
      }
    }
  }
}

TEST(LnkParse, OversizedLengthsBecomeAnomalies) {
  auto b = build_lnk(app_shortcut());
  // IDListSize right after the header.
  auto big_idlist = b;
  big_idlist[0x4C] = 0xFF, big_idlist[0x4D] = 0xFF;
  auto l = parse_ok(big_idlist);
  EXPECT_TRUE(l.has(Anomaly::idlist_truncated));

  // An item that claims more than the list holds.
  auto bad_item = b;
  bad_item[0x4E] = 0xF0, bad_item[0x4F] = 0x7F;
  l = parse_ok(bad_item);
  EXPECT_TRUE(l.has(Anomaly::idlist_item_invalid));
  EXPECT_TRUE(l.idlist.empty());

  // A string whose count runs past the end.
  LnkSpec s;
  s.arguments = "abc";
  auto str = build_lnk(s);
  str[0x4C] = 0xFF, str[0x4D] = 0x7F;
  l = parse_ok(str);
  EXPECT_TRUE(l.has(Anomaly::string_truncated));
  EXPECT_EQ(l.arguments_chars, 0x7FFFu);

  // LinkInfo with offsets outside itself and a size beyond the file.
  LnkSpec li;
  li.local_base_path = "C:\\x.txt";
  auto info = build_lnk(li);
  const std::size_t at = 0x4C;
  info[at + 16] = 0xF0;  // LocalBasePathOffset
  l = parse_ok(info);
  EXPECT_TRUE(l.has(Anomaly::link_info_offset_invalid));
  info[at + 3] = 0x7F;  // LinkInfoSize
  l = parse_ok(info);
  EXPECT_TRUE(l.has(Anomaly::link_info_truncated));

  // An extra block whose size runs past the end, and one with a wrong fixed size.
  LnkSpec e;
  Blob blk = {0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xA0};  // 64 KiB EnvironmentVariableDataBlock
  e.raw_blocks = {blk};
  e.terminal = false;
  l = parse_ok(build_lnk(e));
  EXPECT_TRUE(l.has(Anomaly::extra_block_truncated));
  Blob small = {0x0C, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0xA0, 0, 0, 0, 0};  // SpecialFolder of 12 bytes
  e.raw_blocks = {small};
  e.terminal = true;
  l = parse_ok(build_lnk(e));
  EXPECT_TRUE(l.has(Anomaly::extra_block_size_invalid));
  EXPECT_FALSE(l.has(Anomaly::extra_unterminated));

  for (const auto& v : {big_idlist, bad_item, str, info}) EXPECT_NE(scan(v).verdict, engine::Verdict::error);
}

TEST(LnkParse, WalksStopAtTheirCaps) {
  LnkSpec s;
  for (std::uint32_t i = 0; i < lnk::limits::max_idlist_items + 10; ++i) s.idlist.push_back(raw_item(0x00, {1, 2}));
  for (std::uint32_t i = 0; i < lnk::limits::max_extra_blocks + 10; ++i)
    s.raw_blocks.push_back({0x08, 0, 0, 0, 0x44, 0x33, 0x22, 0x11});
  auto l = parse_ok(build_lnk(s));
  EXPECT_TRUE(l.has(Anomaly::idlist_truncated_by_limit));
  EXPECT_EQ(l.idlist.size(), lnk::limits::max_idlist_items);
  EXPECT_TRUE(l.has(Anomaly::extra_truncated_by_limit));
  EXPECT_TRUE(l.has(Anomaly::extra_block_unknown));
  EXPECT_EQ(l.extra.size(), lnk::limits::max_extra_blocks);
}

TEST(LnkParse, AppendedDataIsScannedAsAMember) {
  LnkSpec s = app_shortcut();
  const std::string script = "@echo off\r\npowershell -nop -c \"echo hi\"\r\n" + std::string(100, 'x');
  s.appended.assign(script.begin(), script.end());
  const auto b = build_lnk(s);
  auto l = parse_ok(b);
  EXPECT_TRUE(l.has(Anomaly::data_after_terminal));
  EXPECT_EQ(l.appended.size(), script.size());
  auto r = scan(b);
  ASSERT_EQ(r.members.size(), 1u);
  EXPECT_EQ(r.members[0].path, "t.lnk!appended.bin");
  EXPECT_EQ(r.members[0].type.subtype, "script-bat");
}

}  // namespace
