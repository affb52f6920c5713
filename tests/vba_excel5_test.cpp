// vba::extract / vba::read_excel5 on Excel 5/95 projects built by tests/support/excel5_builder: the recovered
// listing of a well-formed project, and anomalies without crashes for truncated, out-of-range and oversized values.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analysis/extract.hpp"
#include "formats/ole2/ole2.hpp"
#include "formats/vba/vba.hpp"
#include "support/cfb_builder.hpp"
#include "support/excel5_builder.hpp"

namespace {

using mamori::ByteView;
namespace ole2 = mamori::ole2;
namespace vba = mamori::vba;
namespace x5 = mamori::test::excel5;
using vba::Excel5Anomaly;

// Indices into names().
enum { kVBA, kExcel, kModule1, kApplication, kOnSheetActivate, kStartupPath, kSaveAs, kSheets, kCopy, kFilename, kN };

std::vector<std::string> names() {
  return {"VBA", "Excel", "Module1", "Application", "OnSheetActivate", "StartupPath", "SaveAs", "Sheets", "Copy",
          "Filename", "n"};
}

x5::Spec spreading_project() {
  x5::Spec s;
  s.names = names();
  x5::Module m;
  m.stream_name = "24bb04edb";
  m.lines.push_back(x5::Line{}.comment("spreads on every sheet change"));
  m.lines.push_back(x5::Line{}.str("hook").name(x5::op_ld, kApplication).name(x5::op_mem_st, kOnSheetActivate));
  m.lines.push_back(x5::Line{});  // a blank line: no p-code
  m.lines.push_back(x5::Line{}
                        .name(x5::op_ld, kApplication)
                        .name(x5::op_mem_ld, kStartupPath)
                        .str("\\")
                        .op(x5::op_concat)
                        .str("BOOK\"1.XLS")
                        .op(x5::op_concat)
                        .name(x5::op_named_arg, kFilename)
                        .name(x5::op_ld, kN)
                        .call(x5::op_args_mem_call, kSaveAs, 1));
  m.lines.push_back(x5::Line{}.num(1).call(x5::op_args_ld, kSheets, 1).call(x5::op_args_mem_call, kCopy, 0));
  s.modules.push_back(m);
  return s;
}

struct Parsed {
  std::vector<std::uint8_t> bytes;
  ole2::File file;
};

vba::VbaProject read(const x5::Spec& s) {
  const auto bytes = x5::build_workbook(s);
  auto f = ole2::parse(ByteView(bytes.data(), bytes.size()));
  EXPECT_TRUE(f.ok());
  const auto projects = vba::find_projects(*f);
  EXPECT_EQ(projects.size(), 1u);
  if (projects.empty()) return {};
  auto p = vba::extract(*f, projects[0]);
  EXPECT_TRUE(p.ok());
  return p.ok() ? *p : vba::VbaProject{};
}

std::string anomalies(const vba::VbaProject& p) {
  std::string s;
  for (const auto& a : p.excel5_anomalies) s += std::string(vba::excel5_anomaly_name(a.code)) + " ";
  return s;
}

TEST(VbaExcel5, WellFormedProjectGivesTheListing) {
  const auto p = read(spreading_project());
  EXPECT_TRUE(p.excel5);
  EXPECT_EQ(p.storage, "_VBA_PROJECT");
  EXPECT_EQ(p.excel5_version, 4);
  EXPECT_EQ(p.identifiers, names());
  EXPECT_TRUE(p.excel5_anomalies.empty()) << anomalies(p);
  EXPECT_TRUE(p.anomalies.empty());
  ASSERT_EQ(p.modules.size(), 1u);
  const auto& m = p.modules[0];
  EXPECT_EQ(m.name, "24bb04edb");
  EXPECT_TRUE(m.recovered);
  EXPECT_EQ(m.pcode_lines, 4u);
  EXPECT_EQ(m.literals, 3u);
  const std::string& s = m.source;
  EXPECT_EQ(s.rfind("' mamori: Excel 5/95 VBA module: no source is stored", 0), 0u) << s;
  EXPECT_NE(s.find("\n' spreads on every sheet change\n"), std::string::npos) << s;
  EXPECT_NE(s.find("\n\"hook\" Application.OnSheetActivate =\n"), std::string::npos) << s;
  // A quote inside a literal is doubled, as VBA writes it.
  EXPECT_NE(s.find("\nApplication.StartupPath \"\\\" & \"BOOK\"\"1.XLS\" & Filename:= n.SaveAs\n"), std::string::npos)
      << s;
  EXPECT_NE(s.find("\n1 Sheets.Copy\n"), std::string::npos) << s;
  EXPECT_EQ(m.code_lines, 3u);  // the comment line is not code
}

TEST(VbaExcel5, ExtractShowsModulesAndIdentifiers) {
  const auto bytes = x5::build_workbook(spreading_project());
  auto x = mamori::analysis::extract_document(ByteView(bytes.data(), bytes.size()));
  ASSERT_TRUE(x.ok());
  ASSERT_EQ(x->modules.size(), 2u);
  EXPECT_EQ(x->modules[0].name, "24bb04edb");
  EXPECT_NE(x->modules[0].source.find("Application.OnSheetActivate ="), std::string::npos);
  EXPECT_EQ(x->modules[1].name, "(identifier table)");
  EXPECT_NE(x->modules[1].source.find("\n' StartupPath\n"), std::string::npos);
}

TEST(VbaExcel5, GarbagePadBytesAndZeroPadsGiveTheSameNames) {
  auto s = spreading_project();
  s.name_pad = 0;
  EXPECT_EQ(read(s).identifiers, names());
  s.name_pad = 0x03;
  EXPECT_EQ(read(s).identifiers, names());
}

TEST(VbaExcel5, NoRecordTableKeepsLiteralsAndNames) {
  auto s = spreading_project();
  s.write_record_table = false;
  const auto p = read(s);
  EXPECT_TRUE(p.has(Excel5Anomaly::record_table_missing)) << anomalies(p);
  EXPECT_EQ(p.identifiers, names());
  ASSERT_EQ(p.modules.size(), 1u);
  EXPECT_NE(p.modules[0].source.find("\n\"hook\"\n"), std::string::npos) << p.modules[0].source;
  EXPECT_EQ(p.modules[0].source.find("OnSheetActivate"), std::string::npos);
}

TEST(VbaExcel5, IdsOutsideTheRecordTableStayUnresolved) {
  auto s = spreading_project();
  s.modules[0].lines = {x5::Line{}.raw16(x5::op_ld).raw16(0xFFF0).str("after").raw16(x5::op_mem_ld).raw16(3)};
  const auto p = read(s);
  ASSERT_EQ(p.modules.size(), 1u);
  // 0xFFF0 is past the table; 3 is inside it but not on a record: neither gives a name, the literal survives.
  EXPECT_NE(p.modules[0].source.find("\n\"after\"\n"), std::string::npos) << p.modules[0].source;
}

TEST(VbaExcel5, LiteralRunningPastItsLine) {
  auto s = spreading_project();
  s.modules[0].lines = {x5::Line{}.raw16(x5::op_lit_str).raw16(200).raw16(0x4141)};
  const auto p = read(s);
  EXPECT_TRUE(p.has(Excel5Anomaly::literal_truncated)) << anomalies(p);
}

TEST(VbaExcel5, LineOutsideThePcodeBlock) {
  auto s = spreading_project();
  auto streams = x5::build_streams(s);
  auto& mod = streams[1].data;
  // Entry 1's offset (at +8 of the entry) is pointed far past the p-code block.
  const std::size_t cafe = 4 + 60;
  const std::size_t entry1 = cafe + 8 + 12;
  mamori::test::put_u16(mod, entry1 + 8, 0x7000);
  mamori::test::CfbSpec c;
  c.streams = streams;
  const auto bytes = mamori::test::build_cfb(c);
  auto f = ole2::parse(ByteView(bytes.data(), bytes.size()));
  ASSERT_TRUE(f.ok());
  auto p = vba::extract(*f, "_VBA_PROJECT");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->has(Excel5Anomaly::line_outside_pcode)) << anomalies(*p);
  EXPECT_EQ(p->modules[0].pcode_lines, 3u);
}

TEST(VbaExcel5, OversizedLineCountMeansNoLineTable) {
  auto s = spreading_project();
  auto streams = x5::build_streams(s);
  mamori::test::put_u16(streams[1].data, 4 + 60 + 4, 0xFFFF);  // 65535 lines: their entries cannot fit
  mamori::test::CfbSpec c;
  c.streams = streams;
  const auto bytes = mamori::test::build_cfb(c);
  auto f = ole2::parse(ByteView(bytes.data(), bytes.size()));
  ASSERT_TRUE(f.ok());
  auto p = vba::extract(*f, "_VBA_PROJECT");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->has(Excel5Anomaly::line_table_missing)) << anomalies(*p);
}

TEST(VbaExcel5, NameTableSizeBeyondTheDir) {
  auto s = spreading_project();
  auto streams = x5::build_streams(s);
  auto& dir = streams[0].data;
  // Both tables claim more bytes than the dir has: no table is found, nothing is resolved.
  for (std::size_t i = 0; i + 8 <= dir.size(); ++i)
    if (dir[i] == 0xFF && dir[i + 1] == 0xFF && dir[i + 2] == 0x01 && dir[i + 3] == 0x00)
      mamori::test::put_u32(dir, i + 4, 0x7FFFFFF0u);
  mamori::test::CfbSpec c;
  c.streams = streams;
  const auto bytes = mamori::test::build_cfb(c);
  auto f = ole2::parse(ByteView(bytes.data(), bytes.size()));
  ASSERT_TRUE(f.ok());
  auto p = vba::extract(*f, "_VBA_PROJECT");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->has(Excel5Anomaly::identifier_table_missing)) << anomalies(*p);
  EXPECT_TRUE(p->identifiers.empty());
  EXPECT_NE(p->modules[0].source.find("\"hook\""), std::string::npos);
}

// Every prefix of the dir and of the module stream: no crash, and the reader still returns a project.
TEST(VbaExcel5, EveryTruncationIsSurvived) {
  const auto s = spreading_project();
  const auto full = x5::build_streams(s);
  for (int which = 0; which < 2; ++which) {
    for (std::size_t cut = 0; cut <= full[which].data.size(); cut += 1) {
      auto streams = full;
      streams[which].data.resize(cut);
      mamori::test::CfbSpec c;
      c.streams = streams;
      const auto bytes = mamori::test::build_cfb(c);
      auto f = ole2::parse(ByteView(bytes.data(), bytes.size()));
      ASSERT_TRUE(f.ok());
      auto p = vba::extract(*f, "_VBA_PROJECT");
      ASSERT_TRUE(p.ok());
      if (which == 0 && cut >= 2) {
        EXPECT_TRUE(p->excel5);
        // Cut inside the name table: fewer names, never a made-up one.
        EXPECT_LE(p->identifiers.size(), names().size());
      }
      if (which == 1 && cut < full[1].data.size()) {
        // A cut module loses its line table (its p-code block no longer fits) or some of its p-code.
        EXPECT_LE(p->modules.at(0).pcode_lines, 4u);
      }
    }
  }
}

TEST(VbaExcel5, CompressedDirStillTakesTheOvbaPath) {
  // A dir that starts with the [MS-OVBA] container signature is never read as Excel 5/95.
  const std::vector<std::uint8_t> ovba = {0x01, 0x00, 0x00};
  EXPECT_FALSE(vba::is_excel5_dir(ByteView(ovba.data(), ovba.size())));
  const std::vector<std::uint8_t> x = {0xCC, 0x61, 0x04, 0x00};
  EXPECT_TRUE(vba::is_excel5_dir(ByteView(x.data(), x.size())));
}

}  // namespace
