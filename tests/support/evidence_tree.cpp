#include "support/evidence_tree.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "support/pe_builder.hpp"

namespace fs = std::filesystem;

namespace mamori::test {

std::vector<std::uint8_t> make_pe(bool dll, std::size_t min_size, std::uint8_t salt) {
  PeSpec s;
  s.dll = dll;
  std::vector<std::uint8_t> code(1024, 0xC3);
  code[0] = salt;
  s.sections.push_back({".text", scn_code, code});
  s.imports.push_back({"KERNEL32.dll", {ImportFn::by_name("GetProcAddress"), ImportFn::by_name("LoadLibraryA")}});
  if (dll) s.exports = ExportSpec{"x.dll", 1, {{"DllRegisterServer", 1, 0}, {"Control_RunDLL", 2, 0}}};
  if (min_size > 4096) s.sections.push_back({".data", scn_data, std::vector<std::uint8_t>(min_size, salt)});
  return build_pe(s).bytes;
}

namespace {

std::string csv_quote(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"') o += '"';
    o += c;
  }
  return o + "\"";
}

std::vector<std::uint8_t> encode(const std::string& utf8_ascii, ListEncoding e) {
  std::vector<std::uint8_t> out;
  switch (e) {
    case ListEncoding::utf8: break;
    case ListEncoding::utf8_bom: out = {0xEF, 0xBB, 0xBF}; break;
    case ListEncoding::utf16le_bom: out = {0xFF, 0xFE}; break;
    case ListEncoding::utf16le_no_bom: break;
  }
  const bool wide = e == ListEncoding::utf16le_bom || e == ListEncoding::utf16le_no_bom;
  for (char c : utf8_ascii) {
    out.push_back(static_cast<std::uint8_t>(c));
    if (wide) out.push_back(0);
  }
  return out;
}

}  // namespace

std::vector<std::uint8_t> process_list(ListFormat f, ListEncoding e, const std::vector<ProcRow>& rows) {
  std::string t;
  switch (f) {
    case ListFormat::tasklist:
      t = "\"Image Name\",\"PID\",\"Session Name\",\"Session#\",\"Mem Usage\",\"Status\",\"User Name\",\"CPU Time\","
          "\"Window Title\"\r\n";
      for (const auto& r : rows)
        t += csv_quote(r.name) + "," + csv_quote(std::to_string(r.pid)) +
             ",\"Console\",\"1\",\"12,345 K\",\"Running\",\"WS-0042\\alice\",\"0:00:01\",\"N/A\"\r\n";
      break;
    case ListFormat::cim:
      t = "#TYPE Microsoft.Management.Infrastructure.CimInstance#root/cimv2/Win32_Process\r\n"
          "\"Name\",\"Caption\",\"CommandLine\",\"CreationDate\",\"ExecutablePath\",\"HandleCount\",\"ParentProcessId\","
          "\"ProcessId\",\"ProcessName\",\"Path\"\r\n";
      for (const auto& r : rows)
        t += csv_quote(r.name) + "," + csv_quote(r.name) + "," + csv_quote(r.cmd) + ",\"28/11/2026 09:00:00\"," +
             csv_quote(r.path) + ",\"123\",\"4\"," + csv_quote(std::to_string(r.pid)) + "," + csv_quote(r.name) + "," +
             csv_quote(r.path) + "\r\n";
      break;
    case ListFormat::wmic:
      t = "\r\r\nNode,CommandLine,ExecutablePath,Name,ProcessId\r\r\n";
      for (const auto& r : rows)
        t += "WS-0042," + r.cmd + "," + r.path + "," + r.name + "," + std::to_string(r.pid) + "\r\r\n";
      break;
  }
  return encode(t, e);
}

EvidenceTree::EvidenceTree(const std::string& tag) {
  root_ = fs::temp_directory_path() / ("mamori-emocheck-" + std::to_string(::getpid()) + "-" + tag);
  fs::remove_all(root_);
  fs::create_directories(root_);
}

EvidenceTree::~EvidenceTree() {
  std::error_code ec;
  fs::remove_all(root_, ec);
}

void EvidenceTree::dir(const std::string& rel) { fs::create_directories(root_ / rel); }

void EvidenceTree::file(const std::string& rel, const std::vector<std::uint8_t>& bytes) {
  const fs::path p = root_ / rel;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void EvidenceTree::file(const std::string& rel, const std::string& text) {
  file(rel, std::vector<std::uint8_t>(text.begin(), text.end()));
}

void EvidenceTree::set_mtime(const std::string& rel, std::int64_t s, long ns) {
  const struct timespec ts[2] = {{static_cast<time_t>(s), ns}, {static_cast<time_t>(s), ns}};
  if (::utimensat(AT_FDCWD, (root_ / rel).c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
    throw std::runtime_error("utimensat " + rel);
}

void EvidenceTree::hive(const std::string& rel, const HiveSpec& spec) {
  const fs::path p = root_ / rel;
  fs::create_directories(p.parent_path());
  std::string why;
  if (!write_hive(p.string(), spec, &why)) throw std::runtime_error("write_hive " + rel + ": " + why);
}

void EvidenceTree::windows(const Base& b) {
  const std::int64_t t0 = 1'700'000'000;  // 2023-11-14
  for (const char* sys : {"Windows/System32", "Windows/SysWOW64"}) {
    if (std::string(sys) == "Windows/SysWOW64" && !b.wow64) continue;
    const std::string s = sys;
    file(s + "/wscript.exe", make_pe(false, 0, 1));
    file(s + "/rundll32.exe", make_pe(false, 0, 2));
    file(s + "/regsvr32.exe", make_pe(false, 0, 3));
    file(s + "/svchost.exe", make_pe(false, 0, 4));
    file(s + "/shell32.dll", make_pe(true, 0, 5));
    file(s + "/drivers/ntfs.sys", make_pe(false, 0, 6));
    file(s + "/en-US/shell32.dll.mui", "not a pe");
    set_mtime(s + "/drivers/ntfs.sys", t0 - 86400 * 30);
    set_mtime(s + "/drivers", t0 - 86400 * 2);
  }
  HiveSpec system;
  system["Select"] = {dword_value("Current", 1), dword_value("Default", 1)};
  system["ControlSet001\\Control\\ComputerName\\ComputerName"] = {sz_value("ComputerName", b.host)};
  system["ControlSet001\\Services\\wuauserv"] = {sz_value("ImagePath", "%systemroot%\\system32\\svchost.exe -k netsvcs -p", 2)};
  for (const auto& [name, image] : b.services) system["ControlSet001\\Services\\" + name] = {sz_value("ImagePath", image, 2)};
  hive("Windows/System32/config/SYSTEM", system);
  hive("Windows/System32/config/SOFTWARE", b.software.empty() ? HiveSpec{{"Microsoft\\Windows\\CurrentVersion\\Run", {}}}
                                                              : b.software);
  const std::string home = "Users/" + b.user;
  dir(home + "/AppData/Local/Temp");
  dir(home + "/AppData/Roaming/Microsoft");
  dir("Users/Public/Documents");
  hive(home + "/NTUSER.DAT",
       b.hkcu.empty() ? HiveSpec{{"Software\\Microsoft\\Windows\\CurrentVersion\\Run", {}}} : b.hkcu);
  dir("Program Files/Common Files");
  dir("Program Files (x86)/Common Files");
}

}  // namespace mamori::test
