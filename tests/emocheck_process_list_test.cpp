// Process-list exports: the three formats in each encoding, wmic's unquoted command lines, hostile input.
#include <gtest/gtest.h>

#include "emocheck/process_list.hpp"
#include "support/evidence_tree.hpp"

using namespace mamori;
using namespace mamori::emocheck;
using test::ListEncoding;
using test::ListFormat;

namespace {

const std::vector<test::ProcRow> kRows = {
    {4, "System", "", ""},
    {4321, "rundll32.exe", "C:\\Windows\\SysWOW64\\rundll32.exe",
     "C:\\Windows\\SysWOW64\\rundll32.exe \"C:\\Users\\alice\\AppData\\Local\\Abcdef\\ghijk.lmn\",DllRegisterServer"},
    {77, "explorer.exe", "C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE"},
};

Result<ProcessList> parse(const std::vector<std::uint8_t>& b) { return parse_process_list(ByteView(b.data(), b.size())); }

}  // namespace

TEST(EmocheckProcessList, EveryFormatInEveryEncoding) {
  for (auto f : {ListFormat::tasklist, ListFormat::cim, ListFormat::wmic}) {
    for (auto e : {ListEncoding::utf8, ListEncoding::utf8_bom, ListEncoding::utf16le_bom, ListEncoding::utf16le_no_bom}) {
      SCOPED_TRACE(static_cast<int>(f) * 10 + static_cast<int>(e));
      auto pl = parse(test::process_list(f, e, kRows));
      ASSERT_TRUE(pl.ok()) << pl.error().message;
      EXPECT_EQ(pl->format, f == ListFormat::tasklist ? ProcessListFormat::tasklist
                            : f == ListFormat::cim    ? ProcessListFormat::cim_csv
                                                      : ProcessListFormat::wmic_csv);
      ASSERT_EQ(pl->processes.size(), 3u);
      EXPECT_EQ(pl->processes[1].name, "rundll32.exe");
      EXPECT_EQ(pl->processes[1].pid.value(), 4321u);
      EXPECT_EQ(pl->processes[2].pid.value(), 77u);
      if (f != ListFormat::tasklist) {
        EXPECT_EQ(pl->processes[1].image_path, "C:\\Windows\\SysWOW64\\rundll32.exe");
        // wmic does not quote: the comma before the export split the row, and the parser put it back together.
        EXPECT_EQ(pl->processes[1].command_line, kRows[1].cmd);
      }
      const char* enc = e == ListEncoding::utf8 ? "utf-8" : e == ListEncoding::utf8_bom ? "utf-8-bom"
                        : e == ListEncoding::utf16le_bom ? "utf-16le-bom" : "utf-16le";
      EXPECT_EQ(pl->encoding, enc);
    }
  }
}

TEST(EmocheckProcessList, LocalizedTasklistHeaderAndUtf16BigEndian) {
  // Japanese tasklist: every header is translated except "PID".
  const std::string jp = "\"\xe3\x82\xa4\xe3\x83\xa1\xe3\x83\xbc\xe3\x82\xb8\xe5\x90\x8d\",\"PID\",\"x\"\n\"a.exe\",\"12\",\"y\"\n";
  auto pl = parse(std::vector<std::uint8_t>(jp.begin(), jp.end()));
  ASSERT_TRUE(pl.ok());
  EXPECT_EQ(pl->format, ProcessListFormat::tasklist);
  ASSERT_EQ(pl->processes.size(), 1u);
  EXPECT_EQ(pl->processes[0].name, "a.exe");
  std::vector<std::uint8_t> be = {0xFE, 0xFF};
  for (char c : std::string("\"Image Name\",\"PID\"\r\n\"b.exe\",\"9\"\r\n")) {
    be.push_back(0);
    be.push_back(static_cast<std::uint8_t>(c));
  }
  pl = parse(be);
  ASSERT_TRUE(pl.ok());
  EXPECT_EQ(pl->encoding, "utf-16be-bom");
  EXPECT_EQ(pl->processes.at(0).name, "b.exe");
}

TEST(EmocheckProcessList, UnknownHeadersAndEmptyInputAreErrors) {
  for (std::string s : {"", "hello world\n", "\xff\xfe", "a,b,c\n1,2,3\n", "#TYPE only\n"}) {
    auto pl = parse(std::vector<std::uint8_t>(s.begin(), s.end()));
    EXPECT_FALSE(pl.ok()) << s;
  }
}

TEST(EmocheckProcessList, HostileRowsBecomeAnomalies) {
  std::string s = "\"Image Name\",\"PID\"\n\"a.exe\",\"notanumber\"\n\"b.exe\"\n\"c.exe\",\"1\",\"x\",\"y\"\n";
  s += "\"d.exe\",\"99999999999\"\n\"" + std::string(200'000, 'z') + "\",\"5\"\n\"\xc3\x28.exe\",\"6\"\n\"unterminated";
  auto pl = parse(std::vector<std::uint8_t>(s.begin(), s.end()));
  ASSERT_TRUE(pl.ok());
  auto has = [&](ProcessListAnomaly a) {
    return std::find(pl->anomalies.begin(), pl->anomalies.end(), a) != pl->anomalies.end();
  };
  EXPECT_TRUE(has(ProcessListAnomaly::bad_pid));
  EXPECT_TRUE(has(ProcessListAnomaly::missing_fields));
  EXPECT_TRUE(has(ProcessListAnomaly::extra_fields));
  EXPECT_TRUE(has(ProcessListAnomaly::field_truncated));
  EXPECT_TRUE(has(ProcessListAnomaly::invalid_utf8));
  EXPECT_TRUE(has(ProcessListAnomaly::unterminated_quote));
  EXPECT_FALSE(pl->processes.at(0).pid);
  EXPECT_FALSE(pl->processes.at(3).pid);  // above 2^32
  EXPECT_EQ(pl->processes.at(4).name.size(), process_list_limits::max_field_bytes);
  EXPECT_EQ(pl->processes.at(5).name, "\xef\xbf\xbd(.exe");  // U+FFFD for the bad byte
}

TEST(EmocheckProcessList, HugeListsAreBounded) {
  // 1.2 million rows (about 25 MB): parsing stops at max_rows and says so.
  std::string s = "Node,CommandLine,ExecutablePath,Name,ProcessId\n";
  s.reserve(30u << 20);
  for (std::size_t i = 0; i < process_list_limits::max_rows + 200'000; ++i) s += "H,c,p,n.exe," + std::to_string(i) + "\n";
  auto pl = parse(std::vector<std::uint8_t>(s.begin(), s.end()));
  ASSERT_TRUE(pl.ok());
  EXPECT_EQ(pl->processes.size(), process_list_limits::max_rows);
  EXPECT_NE(std::find(pl->anomalies.begin(), pl->anomalies.end(), ProcessListAnomaly::rows_truncated), pl->anomalies.end());
  // One row with 100,000 fields.
  std::string wide = "\"Image Name\",\"PID\"\n\"a.exe\",\"1\"" + std::string(100'000, ',') + "\n";
  pl = parse(std::vector<std::uint8_t>(wide.begin(), wide.end()));
  ASSERT_TRUE(pl.ok());
  EXPECT_NE(std::find(pl->anomalies.begin(), pl->anomalies.end(), ProcessListAnomaly::fields_truncated), pl->anomalies.end());
}
