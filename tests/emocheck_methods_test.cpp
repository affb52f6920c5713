// The five detection methods, each on a synthetic evidence tree it alone detects, a realistic clean tree that none
// detects, method 1's names checked against hand-worked examples, and hostile evidence trees.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "emocheck/emocheck.hpp"
#include "emocheck/offline_evidence.hpp"
#include "support/evidence_tree.hpp"

namespace fs = std::filesystem;
using namespace mamori;
using namespace mamori::emocheck;
using test::EvidenceTree;
using test::HiveSpec;
using test::ListEncoding;
using test::ListFormat;
using test::ProcRow;

namespace {

constexpr std::int64_t kT = 1'730'000'000;  // 2024-10-27, the base of the trees' file times
constexpr const char* kLocal = "Users/alice/AppData/Local";
constexpr const char* kRun = "Software\\Microsoft\\Windows\\CurrentVersion\\Run";
constexpr const char* kExplorer = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer";

std::unique_ptr<OfflineEvidence> open(const EvidenceTree& t, const std::string& plist = "") {
  auto ev = OfflineEvidence::open(t.root().string(), plist);
  EXPECT_TRUE(ev.ok()) << (ev.ok() ? "" : ev.error().message);
  return ev.ok() ? std::move(*ev) : nullptr;
}

Report check(const Evidence& ev, std::optional<std::uint32_t> serial = std::nullopt) {
  CheckOptions o;
  o.volume_serial = serial;
  o.now = kT;
  return run_check(ev, o);
}

std::set<Method> methods_of(const Report& r) {
  std::set<Method> m;
  for (const auto& d : r.detections) m.insert(d.method);
  return m;
}

const MethodStatus& status(const Report& r, Method m) {
  for (const auto& s : r.methods)
    if (s.method == m) return s;
  throw std::runtime_error("no status");
}

std::string write_list(EvidenceTree& t, ListFormat f, ListEncoding e, const std::vector<ProcRow>& rows) {
  const std::string rel = "../" + t.root().filename().string() + "-procs.csv";
  const fs::path p = t.root().parent_path() / (t.root().filename().string() + "-procs.csv");
  std::ofstream(p, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(test::process_list(f, e, rows).data()),
             static_cast<std::streamsize>(test::process_list(f, e, rows).size()));
  return p.string();
}

// Benign processes present in every list.
std::vector<ProcRow> benign_procs() {
  return {{4, "System", "", ""},
          {612, "svchost.exe", "C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p"},
          {2840, "explorer.exe", "C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE"},
          {3312, "rundll32.exe", "C:\\Windows\\System32\\rundll32.exe",
           "C:\\Windows\\system32\\rundll32.exe C:\\Windows\\system32\\shell32.dll,Control_RunDLL"}};
}

}  // namespace

// ---- Method 1: the name generation against hand-worked examples ------------------------------------------------
//
// The joined keyword list is 356 characters (64 words + 63 commas). Word spans used below (first..last index):
//   duck 0..3, ','4, mfidl 5..9, ... khmer 23..27, ','28, purge 29..33, ... ptr 19..21,
//   elem 311..314, ','315, channel 316..322, ... violet 344..349, ','350, thunk 351..355.
TEST(EmocheckKeywords, ListIsThePublishedOne) {
  const std::string_view l = keyword_list();
  EXPECT_EQ(l.size(), 356u);
  EXPECT_EQ(std::count(l.begin(), l.end(), ','), 63);
  EXPECT_EQ(l.substr(0, 5), "duck,");
  EXPECT_EQ(l.substr(l.size() - 6), ",thunk");
  EXPECT_EQ(keyword_at(23), "khmer");
  EXPECT_EQ(keyword_at(27), "khmer");
  EXPECT_EQ(keyword_at(28), "purge");  // a comma selects the word after it
  EXPECT_EQ(keyword_at(355), "thunk");
  EXPECT_EQ(keyword_at(356), "");      // out of range
}

TEST(EmocheckKeywords, WorkedExamples) {
  // Serial 1900000 (0x001CFDE0):
  //   1900000 / 356 = 5337 rem 28  (5337 * 356 = 1899972)          -> index 28 is the comma after "khmer" -> "purge"
  //   0xFFFFFFFF - 5337 = 4294961958; 4294961958 / 356 = 12064499 rem 314 (12064499 * 356 = 4294961644)
  //                                                                 -> index 314 is the last 'm' of "elem" -> "elem"
  //   => "purgeelem.exe" (the same name the public PowerShell port of EmoCheck gives for serial 1900000).
  EXPECT_EQ(keyword_process_names(1900000), std::vector<std::string>{"purgeelem.exe"});
  // Serial 0x12345678 = 305419896:
  //   305419896 / 356 = 857921 rem 20 (857921 * 356 = 305419876)   -> index 20 is 't' of "ptr" (19..21) -> "ptr"
  //   0xFFFFFFFF - 857921 = 4294109374; / 356 = 12062104 rem 350 (12062104 * 356 = 4294109024)
  //                                                                 -> index 350 is the comma before "thunk"
  //   => "ptrthunk.exe"
  EXPECT_EQ(keyword_process_names(0x12345678), std::vector<std::string>{"ptrthunk.exe"});
  // Serial 0xFFFFFFFF = 4294967295:
  //   4294967295 / 356 = 12064514 rem 311 (12064514 * 356 = 4294966984) -> index 311 is 'e' of "elem" -> "elem"
  //   0xFFFFFFFF - 12064514 = 4282902781; / 356 = 12030625 rem 281 (12030625 * 356 = 4282902500)
  //                                                                 -> index 281 is 'v' of "vol" (281..283) -> "vol"
  //   => "elemvol.exe"
  EXPECT_EQ(keyword_process_names(0xFFFFFFFF), std::vector<std::string>{"elemvol.exe"});
  // Serial 2: 2 / 356 = 0 rem 2 -> index 2 is inside "duck"; 0xFFFFFFFF - 0 = 4294967295 rem 311 -> "elem".
  //   The word containing index 2 is "duck" => "duckelem.exe". EmoCheck's own code searches back for a comma only
  //   down to index 1 and so starts at index 2, giving "ck" => "ckelem.exe"; both are checked.
  EXPECT_EQ(keyword_process_names(2), (std::vector<std::string>{"duckelem.exe", "ckelem.exe"}));
}

TEST(EmocheckKeywords, ExplorerValueDecoding) {
  // Serial 0x5A5A1234: key bytes (little-endian) 34 12 5A 5A. "mstask" = 6D 73 74 61 73 6B.
  //   6D^34=59 73^12=61 74^5A=2E 61^5A=3B 73^34=47 6B^12=79, then a trailing 00^5A=5A... we add a NUL (00^5A = 5A? no:
  //   index 6 uses key byte 5A -> 0x5A = 'Z' would be kept), so the test appends the encoded NUL and a 0x80 byte
  //   that decode to 0x00 and 0xDA, both outside 0x21..0x7D and dropped.
  const std::vector<std::uint8_t> enc = {0x59, 0x61, 0x2E, 0x3B, 0x47, 0x79, 0x5A, 0x80 ^ 0x5A};
  EXPECT_EQ(decode_explorer_value(enc, 0x5A5A1234), "mstask");
}

TEST(EmocheckKeywords, VolumeSerialSpellings) {
  EXPECT_EQ(parse_volume_serial("001CFDE0"), 0x001CFDE0u);
  EXPECT_EQ(parse_volume_serial("001C-FDE0"), 0x001CFDE0u);  // as `vol` prints it
  EXPECT_EQ(parse_volume_serial("0x001cfde0"), 0x001CFDE0u);
  EXPECT_EQ(parse_volume_serial("fde0"), 0xFDE0u);
  EXPECT_FALSE(parse_volume_serial(""));
  EXPECT_FALSE(parse_volume_serial("0x"));
  EXPECT_FALSE(parse_volume_serial("001CFDE0A"));  // nine digits
  EXPECT_FALSE(parse_volume_serial("001C:FDE0"));
  EXPECT_FALSE(parse_volume_serial("XYZ"));
}

// ---- Positive trees, one per method -----------------------------------------------------------------------------

TEST(EmocheckMethods, KeywordNameFromProcessList) {
  EvidenceTree t("m1");
  t.windows({});
  t.file(std::string(kLocal) + "/purgeelem.exe", test::make_pe(false, 0, 9));
  auto procs = benign_procs();
  procs.push_back({5150, "purgeelem.exe", "C:\\Users\\alice\\AppData\\Local\\purgeelem.exe",
                   "C:\\Users\\alice\\AppData\\Local\\purgeelem.exe"});
  auto ev = open(t, write_list(t, ListFormat::cim, ListEncoding::utf8, procs));
  ASSERT_TRUE(ev);
  const Report r = check(*ev, 1900000);
  EXPECT_EQ(methods_of(r), std::set<Method>{Method::keyword_name});
  ASSERT_EQ(r.detections.size(), 1u);
  EXPECT_EQ(r.detections[0].pid.value(), 5150u);
  EXPECT_TRUE(r.detections[0].running);
  EXPECT_EQ(r.detections[0].image_path, "C:\\Users\\alice\\AppData\\Local\\purgeelem.exe");
  EXPECT_EQ(r.hostname, "WS-0042");
  for (const auto& s : r.methods) EXPECT_NE(s.state, MethodState::skipped) << method_name(s.method);
  // The same tree with another serial is clean (1900001 would not do: it selects the same two words).
  EXPECT_FALSE(check(*ev, 0x12345678).infected());
}

TEST(EmocheckMethods, KeywordNameFromTasklistUtf16AndVolOutput) {
  // tasklist has no image paths; the serial comes from `vol` output saved (UTF-16LE, as cmd /u writes) in the root.
  EvidenceTree t("m1b");
  t.windows({});
  std::string vol = " Volume in drive C has no label.\r\n Volume Serial Number is 001C-FDE0\r\n";
  std::vector<std::uint8_t> wide = {0xFF, 0xFE};
  for (char c : vol) {
    wide.push_back(static_cast<std::uint8_t>(c));
    wide.push_back(0);
  }
  t.file("vol.txt", wide);
  auto procs = benign_procs();
  procs.push_back({5151, "purgeelem.exe", "", ""});
  auto ev = open(t, write_list(t, ListFormat::tasklist, ListEncoding::utf16le_bom, procs));
  ASSERT_TRUE(ev);
  const Report r = check(*ev);
  ASSERT_TRUE(r.serial);
  EXPECT_EQ(r.serial->value, 1900000u);
  EXPECT_EQ(r.serial->source, "vol output vol.txt");
  EXPECT_EQ(methods_of(r), std::set<Method>{Method::keyword_name});
  EXPECT_EQ(r.detections.at(0).process_name, "purgeelem.exe");
  EXPECT_EQ(r.detections.at(0).pid.value(), 5151u);
}

TEST(EmocheckMethods, ExplorerValueDecodesToARunningProcess) {
  EvidenceTree t("m2");
  EvidenceTree::Base b;
  const std::uint32_t serial = 0x5A5A1234;  // method 1 would want "driversymbol.exe", which does not run
  b.hkcu[kRun] = {};
  b.hkcu[kExplorer] = {test::binary_value("5a5a1234", {0x59, 0x61, 0x2E, 0x3B, 0x47, 0x79, 0x5A, 0x80 ^ 0x5A}),
                       test::dword_value("GlobalAssocChangedCounter", 7)};
  t.windows(b);
  auto procs = benign_procs();
  procs.push_back({716, "mstask.exe", "C:\\Users\\alice\\AppData\\Local\\mstask.exe", ""});
  auto ev = open(t, write_list(t, ListFormat::wmic, ListEncoding::utf16le_bom, procs));
  ASSERT_TRUE(ev);
  Report r = check(*ev, serial);
  EXPECT_EQ(methods_of(r), std::set<Method>{Method::explorer_value});
  ASSERT_EQ(r.detections.size(), 1u);
  EXPECT_EQ(r.detections[0].process_name, "mstask.exe");
  EXPECT_EQ(r.detections[0].pid.value(), 716u);
  EXPECT_EQ(r.detections[0].registry_key, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\5a5a1234");
  // With no serial given and none in the evidence, the value's own name supplies it.
  r = check(*ev);
  ASSERT_TRUE(r.serial);
  EXPECT_EQ(r.serial->value, serial);
  EXPECT_EQ(methods_of(r), std::set<Method>{Method::explorer_value});
}

TEST(EmocheckMethods, System32LookalikeRunFromTheUsersRunKey) {
  EvidenceTree t("m3");
  EvidenceTree::Base b;
  b.hkcu[kRun] = {test::sz_value("wscript", "C:\\Users\\alice\\AppData\\Local\\wscript\\wscript.exe")};
  t.windows(b);
  t.file(std::string(kLocal) + "/wscript/wscript.exe", test::make_pe(false, 20000, 7));
  t.set_mtime(std::string(kLocal) + "/wscript/wscript.exe", kT - 3600);
  t.set_mtime(std::string(kLocal) + "/wscript", kT - 100);
  auto ev = open(t);
  ASSERT_TRUE(ev);
  const Report r = check(*ev, 1900000);
  EXPECT_EQ(methods_of(r), std::set<Method>{Method::system32_lookalike});
  ASSERT_EQ(r.detections.size(), 1u);
  EXPECT_EQ(r.detections[0].image_path, "C:\\Users\\alice\\AppData\\Local\\wscript\\wscript.exe");
  EXPECT_EQ(r.detections[0].registry_key, "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\wscript");
  EXPECT_EQ(r.detections[0].user, "alice");
  EXPECT_EQ(status(r, Method::keyword_name).state, MethodState::partial);  // no process list

  // Negative twins: a copy of the real System32 file (same size), and a file under 10,000 bytes.
  EvidenceTree same("m3same");
  same.windows(b);
  same.file(std::string(kLocal) + "/wscript/wscript.exe", test::make_pe(false, 0, 1));  // byte-identical to System32's
  EXPECT_FALSE(check(*open(same), 1900000).infected());
}

TEST(EmocheckMethods, RandomNameRunByRundll32FromRunKey) {
  EvidenceTree t("m4");
  EvidenceTree::Base b;
  b.hkcu[kRun] = {test::sz_value(
      "Ayzjgqmxa", "C:\\Windows\\SysWOW64\\rundll32.exe \"C:\\Users\\alice\\AppData\\Local\\Ayzjgqmxa\\lkdjfnxq.tvx\",DllRegisterServer")};
  t.windows(b);
  t.file(std::string(kLocal) + "/Ayzjgqmxa/lkdjfnxq.tvx", test::make_pe(true, 0, 8));
  t.set_mtime(std::string(kLocal) + "/Ayzjgqmxa/lkdjfnxq.tvx", kT - 5000);
  t.set_mtime(std::string(kLocal) + "/Ayzjgqmxa", kT - 10);
  auto procs = benign_procs();
  procs.push_back({6060, "rundll32.exe", "C:\\Windows\\SysWOW64\\rundll32.exe",
                   "C:\\Windows\\SysWOW64\\rundll32.exe \"C:\\Users\\alice\\AppData\\Local\\Ayzjgqmxa\\lkdjfnxq.tvx\",DllRegisterServer"});
  auto ev = open(t, write_list(t, ListFormat::wmic, ListEncoding::utf8, procs));
  ASSERT_TRUE(ev);
  const Report r = check(*ev, 1900000);
  EXPECT_EQ(methods_of(r), std::set<Method>{Method::random_name});
  ASSERT_EQ(r.detections.size(), 1u);
  EXPECT_EQ(r.detections[0].process_name, "rundll32.exe");
  EXPECT_EQ(r.detections[0].pid.value(), 6060u);
  EXPECT_EQ(r.detections[0].image_path, "C:\\Users\\alice\\AppData\\Local\\Ayzjgqmxa\\lkdjfnxq.tvx");
}

TEST(EmocheckMethods, RandomNameAdminCaseRunAsAService) {
  EvidenceTree t("m4svc");
  EvidenceTree::Base b;
  b.services = {{"lkdjfnxq.tvx", "C:\\Windows\\system32\\rundll32.exe \"C:\\Windows\\SysWOW64\\Qwhbxkt\\lkdjfnxq.tvx\",Control_RunDLL"}};
  t.windows(b);
  t.file("Windows/SysWOW64/Qwhbxkt/lkdjfnxq.tvx", test::make_pe(true, 0, 10));
  auto ev = open(t);
  ASSERT_TRUE(ev);
  const Report r = check(*ev, 1900000);
  EXPECT_EQ(methods_of(r), std::set<Method>{Method::random_name});
  ASSERT_EQ(r.detections.size(), 1u);
  EXPECT_EQ(r.detections[0].registry_key, "HKLM\\SYSTEM\\ControlSet001\\Services\\lkdjfnxq.tvx");
  EXPECT_FALSE(r.detections[0].running);

  // The same folder name installed under Program Files is allow-listed.
  t.dir("Program Files/Vendor/Qwhbxkt");
  EXPECT_FALSE(check(*open(t), 1900000).infected());
}

TEST(EmocheckMethods, TimestompSevenDaysFromTheFolder) {
  EvidenceTree t("m5");
  t.windows({});
  const std::string f = std::string(kLocal) + "/Somefolder/anything.dll";
  t.file(f, test::make_pe(true, 0, 11));
  t.file(std::string(kLocal) + "/Somefolder/readme.txt", "hello");
  t.set_mtime(f, kT - 7 * 86400, 400'000'000);  // 7 days and 0.6 s before the folder
  t.set_mtime(std::string(kLocal) + "/Somefolder/readme.txt", kT - 7 * 86400);  // 7 days, but not a PE
  t.set_mtime(std::string(kLocal) + "/Somefolder", kT);
  auto ev = open(t);
  ASSERT_TRUE(ev);
  Report r = check(*ev, 1900000);
  EXPECT_EQ(methods_of(r), std::set<Method>{Method::timestomp});
  ASSERT_EQ(r.detections.size(), 1u);
  EXPECT_EQ(r.detections[0].image_path, "C:\\Users\\alice\\AppData\\Local\\Somefolder\\anything.dll");
  // 7 days and 1.5 s apart is not "exactly".
  t.set_mtime(f, kT - 7 * 86400 - 2, 500'000'000);
  t.set_mtime(std::string(kLocal) + "/Somefolder", kT);
  EXPECT_FALSE(check(*open(t), 1900000).infected());
}

// ---- A clean host ------------------------------------------------------------------------------------------------

TEST(EmocheckMethods, RealisticCleanHostHasNoDetection) {
  EvidenceTree t("clean");
  EvidenceTree::Base b;
  b.hkcu[kRun] = {
      test::sz_value("OneDrive", "\"C:\\Users\\alice\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe\" /background"),
      test::sz_value("Discord", "C:\\Users\\alice\\AppData\\Local\\Discord\\Update.exe --processStart Discord.exe"),
      test::sz_value("GoogleUpdate", "\"C:\\Users\\alice\\AppData\\Local\\Google\\Update\\GoogleUpdate.exe\" /c"),
      test::sz_value("Teams", "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Teams\\Update.exe --processStart \"Teams.exe\"")};
  b.hkcu[kExplorer] = {test::dword_value("GlobalAssocChangedCounter", 12),
                       test::binary_value("ShellState", {0x24, 0, 0, 0, 0x3e, 0x28, 0, 0})};
  b.software["Microsoft\\Windows\\CurrentVersion\\Run"] = {
      test::sz_value("SecurityHealth", "%windir%\\system32\\SecurityHealthSystray.exe", 2),
      test::sz_value("FooShell", "regsvr32.exe /s \"C:\\Program Files\\Foo\\fooshell.dll\""),
      test::sz_value("Realtek", "\"C:\\Program Files\\Realtek\\Audio\\HDA\\RtkNGUI64.exe\" -s")};
  b.software["WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Run"] = {
      test::sz_value("Acrobat", "\"C:\\Program Files (x86)\\Adobe\\Acrobat Reader DC\\Reader\\reader_sl.exe\"")};
  b.services = {{"FooSvc", "\"C:\\Program Files\\Foo\\foosvc.exe\""},
                {"Themes", "%SystemRoot%\\System32\\svchost.exe -k netsvcs -p"},
                {"nvlddmkm", "\\SystemRoot\\System32\\DriverStore\\FileRepository\\nv.inf_amd64\\nvlddmkm.sys"}};
  t.windows(b);
  const std::string L = kLocal;
  t.file(L + "/Microsoft/OneDrive/OneDrive.exe", test::make_pe(false, 20000, 20));
  t.file(L + "/Microsoft/Teams/Update.exe", test::make_pe(false, 20000, 21));
  t.file(L + "/Discord/Update.exe", test::make_pe(false, 20000, 22));
  t.file(L + "/Discord/app-1.0.9013/Discord.exe", test::make_pe(false, 20000, 23));
  t.file(L + "/Google/Update/GoogleUpdate.exe", test::make_pe(false, 20000, 24));
  t.file(L + "/{5F2A1C3B-7D9E-4B0A-8C6F-1E2D3C4B5A69}/setup.exe", test::make_pe(false, 0, 25));
  t.file(L + "/{5F2A1C3B-7D9E-4B0A-8C6F-1E2D3C4B5A69}/helper.dat", test::make_pe(true, 0, 26));
  t.dir(L + "/Packages/Microsoft.WindowsStore_8wekyb3d8bbwe/LocalState");
  t.file(L + "/Temp/setup.tmp", test::make_pe(false, 0, 27));           // an MZ .tmp in a 4-letter folder, not run
  t.file(L + "/Temp/nsuA12F.tmp/System.dll", test::make_pe(true, 0, 28));
  t.file(L + "/CrashDumps/Discord.exe.1234.dmp", "MDMP");
  t.file(L + "/Mozilla/Firefox/Profiles/x.default/cache2/entries/ABCDEF", "cache");
  t.file(L + "/Zoom/bin/Zoom.exe", test::make_pe(false, 0, 29));
  t.file(L + "/Zoom/installer.dat", test::make_pe(false, 0, 30));       // MZ, random-looking, but not started
  t.file("Users/alice/AppData/Roaming/Zoom/data/a.db", "sqlite");
  t.file("Program Files/Foo/fooshell.dll", test::make_pe(true, 0, 31));
  t.file("Program Files/Foo/foosvc.exe", test::make_pe(false, 0, 32));
  t.dir("Program Files/Mozilla Firefox/browser");
  t.dir("Program Files (x86)/Adobe/Acrobat Reader DC/Reader");
  t.file("Windows/SysWOW64/Macromed/Flash/flash.ocx", test::make_pe(true, 0, 33));
  // File times: installs spread over months, nothing exactly a week from its folder.
  std::int64_t when = kT - 200 * 86400;
  for (const char* d : {"Microsoft", "Discord", "Google", "{5F2A1C3B-7D9E-4B0A-8C6F-1E2D3C4B5A69}", "Packages", "Temp",
                        "CrashDumps", "Mozilla", "Zoom"}) {
    when += 86400 * 3 + 3600;
    t.set_mtime(L + "/" + d, when);
  }
  auto procs = benign_procs();
  procs.push_back({4100, "OneDrive.exe", "C:\\Users\\alice\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe",
                   "\"C:\\Users\\alice\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe\" /background"});
  procs.push_back({4200, "Discord.exe", "C:\\Users\\alice\\AppData\\Local\\Discord\\app-1.0.9013\\Discord.exe", ""});
  procs.push_back({4300, "regsvr32.exe", "C:\\Windows\\System32\\regsvr32.exe",
                   "regsvr32.exe /s \"C:\\Program Files\\Foo\\fooshell.dll\""});
  for (auto enc : {ListEncoding::utf8, ListEncoding::utf16le_bom}) {
    for (auto fmt : {ListFormat::tasklist, ListFormat::cim, ListFormat::wmic}) {
      auto ev = open(t, write_list(t, fmt, enc, procs));
      ASSERT_TRUE(ev);
      for (std::uint32_t serial : {1900000u, 0x5A5A1234u, 0xA1B2C3D4u}) {
        const Report r = check(*ev, serial);
        EXPECT_FALSE(r.infected()) << (r.detections.empty() ? "" : r.detections[0].image_path + " by " +
                                                                         method_name(r.detections[0].method));
        for (const auto& s : r.methods) EXPECT_EQ(s.state, MethodState::ran) << method_name(s.method) << ": " << s.detail;
      }
    }
  }
}

// ---- Missing and hostile evidence -------------------------------------------------------------------------------

TEST(EmocheckEvidence, MissingPartsSkipMethodsWithReasons) {
  EvidenceTree t("empty");
  auto ev = open(t);
  ASSERT_TRUE(ev);
  const Report r = check(*ev);
  EXPECT_FALSE(r.checkable());
  for (const auto& s : r.methods) {
    EXPECT_EQ(s.state, MethodState::skipped) << method_name(s.method);
    EXPECT_FALSE(s.detail.empty());
  }
  // Only a user's AppData: the time-stomp method runs, the others explain what they lack.
  t.dir(std::string(kLocal) + "/Something");
  const Report r2 = check(*open(t));
  EXPECT_TRUE(r2.checkable());
  EXPECT_EQ(status(r2, Method::timestomp).state, MethodState::ran);
  EXPECT_EQ(status(r2, Method::keyword_name).state, MethodState::skipped);
  EXPECT_NE(status(r2, Method::random_name).detail.find("Run keys"), std::string::npos);
}

TEST(EmocheckEvidence, MalformedHivesAreReportedNotFatal) {
  EvidenceTree t("badhive");
  t.windows({});
  std::vector<std::uint8_t> junk(5000, 0x41);
  std::memcpy(junk.data(), "regf", 4);
  t.file("Windows/System32/config/SYSTEM", junk);
  const auto tmpl = test::empty_hive();
  t.file("Users/alice/NTUSER.DAT", std::vector<std::uint8_t>(tmpl.begin(), tmpl.begin() + 700));
  auto ev = open(t);
  ASSERT_TRUE(ev);
  const Report r = check(*ev, 1900000);
  EXPECT_FALSE(r.infected());
  EXPECT_GE(r.problems.size(), 2u) << ::testing::PrintToString(r.problems);
  EXPECT_EQ(r.hostname, "");
}

TEST(EmocheckEvidence, SymlinkLoopsAndEscapesAreNotFollowed) {
  EvidenceTree t("links");
  t.windows({});
  const fs::path local = t.at(kLocal);
  fs::create_directory_symlink(local, local / "Loopyfolder");           // a loop inside the root
  fs::create_directory_symlink("/", local / "Escape");                  // out of the root
  fs::create_directory_symlink(t.root().parent_path(), t.at("Program Files") / "Up");
  fs::create_symlink("/etc/passwd", local / "Temp" / "passwd.tmp");
  // A System32 that is a link out of the root is not used: the method reports no System32.
  fs::rename(t.at("Windows/System32"), t.at("Windows/System32.real"));
  fs::create_directory_symlink("/usr/bin", t.at("Windows/System32"));
  auto ev = open(t);
  ASSERT_TRUE(ev);
  EXPECT_FALSE(ev->resolve("C:\\Users\\alice\\AppData\\Local\\Escape\\etc"));
  EXPECT_FALSE(ev->resolve("C:\\Windows\\System32\\ls"));
  EXPECT_FALSE(ev->local_path("C:\\Users\\alice\\AppData\\Local\\Temp\\passwd.tmp"));
  EXPECT_TRUE(ev->read_head("C:\\Users\\alice\\AppData\\Local\\Temp\\passwd.tmp", 16).empty());
  EXPECT_FALSE(ev->resolve("C:\\Users\\..\\..\\etc"));
  EXPECT_TRUE(ev->resolve("C:\\Users\\alice\\AppData\\Local\\Loopyfolder\\Loopyfolder\\Temp"));  // inside: fine
  const Report r = check(*ev, 1900000);
  EXPECT_FALSE(r.infected());
  EXPECT_EQ(status(r, Method::system32_lookalike).state, MethodState::skipped);
}

TEST(EmocheckEvidence, CaseInsensitivePathsAndFifos) {
  EvidenceTree t("case");
  t.windows({});
  fs::rename(t.at("Windows"), t.at("WINDOWS"));
  fs::rename(t.at("Users/alice/AppData"), t.at("Users/alice/appdata"));
  const fs::path fifo = t.at("Users/alice/appdata/Local/Temp/pipe.tmp");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto ev = open(t);
  ASSERT_TRUE(ev);
  EXPECT_TRUE(ev->stat("C:\\Windows\\System32\\svchost.exe"));
  EXPECT_TRUE(ev->has_hive(RegRoot{Hive::system, {}}));
  EXPECT_TRUE(ev->read_head("C:\\Users\\alice\\AppData\\Local\\Temp\\pipe.tmp", 16).empty());  // no blocking
  const Report r = check(*ev, 1900000);
  EXPECT_EQ(r.hostname, "WS-0042");
  for (const auto& s : r.methods) EXPECT_NE(s.state, MethodState::skipped) << method_name(s.method) << ": " << s.detail;
}
