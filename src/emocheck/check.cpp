// The five detection methods over the Evidence interface, and the check that runs them and scans what they find.
// The methods are written from EmoCheck's public descriptions (README, JPCERT/CC's write-ups); see docs/emocheck.md.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/bytes.hpp"

#include "emocheck/emocheck.hpp"
#include "engine/scanner.hpp"

namespace mamori::emocheck {

const char* method_name(Method m) noexcept {
  switch (m) {
    case Method::keyword_name: return "keyword-name";
    case Method::explorer_value: return "explorer-value";
    case Method::system32_lookalike: return "system32-lookalike";
    case Method::random_name: return "random-name";
    case Method::timestomp: return "timestomp";
  }
  return "?";
}

const char* method_state_name(MethodState s) noexcept {
  switch (s) {
    case MethodState::ran: return "ran";
    case MethodState::partial: return "partial";
    case MethodState::skipped: return "skipped";
  }
  return "?";
}

bool Report::checkable() const noexcept {
  return std::any_of(methods.begin(), methods.end(), [](const MethodStatus& m) { return m.state != MethodState::skipped; });
}

// ---- Method 1: the keyword list ------------------------------------------------------------------------------

namespace {
// The published list: a fact about Emotet, 64 words, 356 characters joined. Source: JPCERT/CC's EmoCheck,
// emocheck/modules/scan_v1.cpp (the same list since its first commit a20367b, 2020-02-03, through v2.0 and later),
// and every public port of it. Issue 6 speaks of 71 words; no public source has a 71-word list, and the
// index arithmetic only reproduces EmoCheck's names with this 356-character string (see docs/emocheck.md).
constexpr std::string_view kKeywords =
    "duck,mfidl,targets,ptr,khmer,purge,metrics,acc,inet,msra,symbol,driver,sidebar,restore,msg,volume,cards,shext,"
    "query,roam,etw,mexico,basic,url,createa,blb,pal,cors,send,devices,radio,bid,format,thrd,taskmgr,timeout,vmd,ctl,"
    "bta,shlp,avi,exce,dbt,pfx,rtp,edge,mult,clr,wmistr,ellipse,vol,cyan,ses,guid,wce,wmp,dvb,elem,channel,space,"
    "digital,pdeft,violet,thunk";

std::string word_from(std::size_t start) {
  const std::size_t end = std::min(kKeywords.find(',', start), kKeywords.size());
  return std::string(kKeywords.substr(start, end - start));
}
}  // namespace

std::string_view keyword_list() noexcept { return kKeywords; }

std::string keyword_at(std::size_t index) {
  if (index >= kKeywords.size()) return {};
  // The word starts after the last comma at or before the index (a comma itself selects the next word).
  const std::size_t comma = kKeywords.rfind(',', index);
  return word_from(comma == std::string_view::npos ? 0 : comma + 1);
}

namespace {
// EmoCheck's implementation searches back for a comma only down to index 1, so inside the first word it starts at
// the index itself and yields a suffix ("ck" for index 2 of "duck"). Which one Emotet produced there is not
// published; both are checked.
std::string keyword_at_emocheck(std::size_t index) {
  if (index >= kKeywords.size()) return {};
  const std::size_t comma = kKeywords.rfind(',', index);
  return word_from(comma == std::string_view::npos ? index : comma + 1);
}
}  // namespace

std::vector<std::string> keyword_process_names(std::uint32_t serial) {
  const auto len = static_cast<std::uint32_t>(kKeywords.size());
  const std::uint32_t first = serial % len;
  const std::uint32_t second = (0xFFFFFFFFu - serial / len) % len;
  std::vector<std::string> out{keyword_at(first) + keyword_at(second) + ".exe"};
  const std::string alt = keyword_at_emocheck(first) + keyword_at_emocheck(second) + ".exe";
  if (alt != out[0]) out.push_back(alt);
  return out;
}

std::string decode_explorer_value(const std::vector<std::uint8_t>& data, std::uint32_t serial) {
  std::string out;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const auto key = static_cast<std::uint8_t>(serial >> (8 * (i % 4)));
    const auto c = static_cast<std::uint8_t>(data[i] ^ key);
    if (c >= 0x21 && c <= 0x7D) out.push_back(static_cast<char>(c));
  }
  return out;
}

namespace {

namespace limits {
/// Entries listed from one evidence folder (System32 holds ~5,000; a LOCALAPPDATA a few hundred).
constexpr std::size_t max_dir_entries = 100'000;
/// Folders visited and their depth while collecting the allow-list of method 4.
constexpr std::size_t max_allow_dirs = 200'000;
constexpr std::size_t max_allow_depth = 4;
/// Services read from the SYSTEM hive.
constexpr std::size_t max_services = 8192;
/// Bytes read to test a file for MZ / PE.
constexpr std::size_t pe_probe_bytes = 4096;
}  // namespace limits

constexpr std::string_view kRunPath = "Software\\Microsoft\\Windows\\CurrentVersion\\Run";
constexpr std::string_view kExplorerPath = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer";
constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kSevenDays = 7LL * 24 * 3600 * kSecond;

// A command that starts something at logon or boot: a Run value or a service's ImagePath.
struct Autostart {
  std::string registry_key;  // e.g. HKCU\Software\Microsoft\Windows\CurrentVersion\Run\name
  std::string user;          // for HKCU values
  std::string command;
  std::string norm;          // normalize_command(command)
  bool is_service = false;
};

struct Ctx {
  Ctx(const Evidence& e, Report& rep) : ev(e), r(rep) {}
  const Evidence& ev;
  Report& r;
  const std::vector<ProcessInfo>* procs = nullptr;
  std::vector<std::string> users;
  std::vector<std::pair<std::string, std::string>> local_appdata;  // (user, path) that exist
  std::optional<std::string> sysdir_x86;                          // SysWOW64, else System32 (32-bit Windows)
  bool have_system32 = false;
  std::vector<Autostart> autostarts;
  bool have_user_run = false, have_hklm_run = false, have_services = false;
  std::set<std::string> seen;  // method + path + pid, to report each detection once
};

bool is_letters(std::string_view s, std::size_t lo, std::size_t hi) {
  if (s.size() < lo || s.size() > hi) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); });
}

bool is_dir(const FileInfo& f) { return f.kind == FileKind::dir; }
bool is_file(const FileInfo& f) { return f.kind == FileKind::file; }

bool starts_mz(const Evidence& ev, const std::string& path) {
  auto h = ev.read_head(path, 2);
  return h.size() == 2 && h[0] == 'M' && h[1] == 'Z';
}

// MZ, then a PE signature where e_lfanew points (within the first 4 KB, where every real image has it).
bool is_pe(const Evidence& ev, const std::string& path) {
  auto h = ev.read_head(path, limits::pe_probe_bytes);
  const ByteView b(h.data(), h.size());
  if (h.size() < 0x40 || h[0] != 'M' || h[1] != 'Z') return false;
  const std::uint32_t lfanew = b.le_or<std::uint32_t>(0x3C, 0xFFFFFFFF);
  return b.fits(lfanew, 4) && b.u32(lfanew) == 0x00004550u;
}

std::string extension(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string() : lower_ascii(name.substr(dot + 1));
}

std::string stem(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  return std::string(dot == std::string_view::npos ? name : name.substr(0, dot));
}

// "\folder\file" lower-cased: how a command refers to a file whatever the profile root or drive letter it uses.
std::string tail_of(std::string_view path) {
  const std::size_t last = path.find_last_of('\\');
  if (last == std::string_view::npos || last == 0) return lower_ascii(path);
  const std::size_t prev = path.find_last_of('\\', last - 1);
  return lower_ascii(path.substr(prev == std::string_view::npos ? 0 : prev));
}

bool mentions(std::string_view norm_cmd, std::string_view path) {
  const std::string t = tail_of(path);
  return norm_cmd.find(t) != std::string_view::npos;
}

// The path as a 32-bit process sees SysWOW64 (System32): Emotet's admin-case command lines say System32.
std::string redirected(std::string_view path) {
  std::string l = lower_ascii(path);
  const std::size_t at = l.find("\\syswow64\\");
  if (at != std::string::npos) l.replace(at, 10, "\\system32\\");
  return l;
}

bool mentions_any(std::string_view norm_cmd, std::string_view path) {
  return mentions(norm_cmd, path) || norm_cmd.find(redirected(path)) != std::string_view::npos;
}

// rundll32.exe "<path>",<Export> or regsvr32.exe [...] "<path>".
bool is_loader_command(std::string_view norm_cmd, std::string_view path) {
  if (norm_cmd.find("regsvr32") != std::string_view::npos) return true;
  if (norm_cmd.find("rundll32") == std::string_view::npos) return false;
  const std::string file = lower_ascii(win_basename(path));
  const std::size_t at = norm_cmd.find(file);
  if (at == std::string_view::npos) return false;
  std::size_t i = at + file.size();
  while (i < norm_cmd.size() && norm_cmd[i] == ' ') ++i;
  if (i >= norm_cmd.size() || norm_cmd[i] != ',') return false;
  ++i;
  while (i < norm_cmd.size() && norm_cmd[i] == ' ') ++i;
  return i < norm_cmd.size() && (std::isalnum(static_cast<unsigned char>(norm_cmd[i])) || norm_cmd[i] == '#' ||
                                 norm_cmd[i] == '_' || norm_cmd[i] == '?' || norm_cmd[i] == '@');
}

std::string current_control_set(const Evidence& ev) {
  RegRoot sys{Hive::system, {}};
  if (auto sel = ev.reg_key(sys, "Select")) {
    for (const RegValue& v : sel->values)
      if (iequals(v.name, "Current"))
        if (auto d = v.dword(); d && *d >= 1 && *d <= 999) {
          char buf[16];
          std::snprintf(buf, sizeof buf, "ControlSet%03u", *d);
          return buf;
        }
  }
  return "ControlSet001";
}

void collect_autostarts(Ctx& c) {
  auto add_run = [&](const RegRoot& root, std::string_view path, const std::string& user) -> bool {
    auto k = c.ev.reg_key(root, path);
    if (!k) return false;
    const std::string prefix = root.hive == Hive::software ? "HKLM\\SOFTWARE\\" : root.prefix() + "\\";
    for (const RegValue& v : k->values) {
      auto t = v.text();
      if (!t) continue;
      c.autostarts.push_back({prefix + std::string(path) + "\\" + v.name, user, *t, normalize_command(*t), false});
    }
    return true;
  };
  for (const std::string& u : c.users)
    if (add_run(RegRoot{Hive::user, u}, kRunPath, u)) c.have_user_run = true;
  const RegRoot sw{Hive::software, {}};
  if (add_run(sw, "Microsoft\\Windows\\CurrentVersion\\Run", {})) c.have_hklm_run = true;
  if (add_run(sw, "WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Run", {})) c.have_hklm_run = true;

  const RegRoot sys{Hive::system, {}};
  const std::string cs = current_control_set(c.ev);
  if (auto services = c.ev.reg_key(sys, cs + "\\Services")) {
    c.have_services = true;
    std::size_t n = 0;
    for (const std::string& name : services->subkeys) {
      if (++n > limits::max_services) {
        c.r.problems.push_back("more than 8192 services; the rest were not read");
        break;
      }
      auto sk = c.ev.reg_key(sys, cs + "\\Services\\" + name);
      if (!sk) continue;
      for (const RegValue& v : sk->values)
        if (iequals(v.name, "ImagePath"))
          if (auto t = v.text())
            c.autostarts.push_back(
                {"HKLM\\SYSTEM\\" + cs + "\\Services\\" + name, {}, *t, normalize_command(*t), true});
    }
  }
}

const ProcessInfo* process_by_name(const Ctx& c, std::string_view name) {
  if (!c.procs) return nullptr;
  for (const ProcessInfo& p : *c.procs)
    if (iequals(p.name, name) || iequals(win_basename(p.image_path), name)) return &p;
  return nullptr;
}

std::vector<const ProcessInfo*> processes_running(const Ctx& c, const std::string& path) {
  std::vector<const ProcessInfo*> out;
  if (!c.procs) return out;
  for (const ProcessInfo& p : *c.procs) {
    if (!p.image_path.empty() && (iequals(p.image_path, path) || mentions(lower_ascii(p.image_path), path))) {
      out.push_back(&p);
      continue;
    }
    if (!p.command_line.empty() && mentions_any(normalize_command(p.command_line), path)) out.push_back(&p);
  }
  return out;
}

void add_detection(Ctx& c, Detection d) {
  const std::string key = std::to_string(static_cast<int>(d.method)) + "|" + lower_ascii(d.image_path) + "|" +
                          (d.pid ? std::to_string(*d.pid) : std::string("-")) + "|" + lower_ascii(d.process_name);
  if (!c.seen.insert(key).second) return;
  c.r.detections.push_back(std::move(d));
}

// A file a method found: one detection per process running it, or one for the file when none is.
void report_file(Ctx& c, Method m, const std::string& path, const std::string& user, const std::string& regkey,
                 std::vector<std::string> evidence) {
  auto procs = processes_running(c, path);
  if (procs.empty()) {
    Detection d{m, std::string(win_basename(path)), std::nullopt, path, regkey, user, false, evidence};
    d.evidence.push_back(c.procs ? "no process in the list runs it" : "no process list: whether it runs is unknown");
    add_detection(c, std::move(d));
    return;
  }
  for (const ProcessInfo* p : procs) {
    Detection d{m, p->name, p->pid, path, regkey, user, true, evidence};
    d.evidence.push_back("running: " + p->name + (p->pid ? " pid " + std::to_string(*p->pid) : std::string()) +
                         (p->command_line.empty() ? std::string() : " cmd " + p->command_line));
    add_detection(c, std::move(d));
  }
}

// Where methods 1 and 2 place a named executable.
std::vector<std::pair<std::string, std::string>> named_locations(const Ctx& c, const std::string& name) {
  std::vector<std::pair<std::string, std::string>> out;  // (user, path)
  const std::string s = stem(name);
  for (const auto& [u, la] : c.local_appdata) {
    out.emplace_back(u, win_join(la, name));
    out.emplace_back(u, win_join(win_join(la, s), name));
  }
  for (const char* d : {"C:\\Windows\\SysWOW64", "C:\\Windows\\System32"}) {
    out.emplace_back(std::string(), win_join(d, name));
    out.emplace_back(std::string(), win_join(win_join(d, s), name));
  }
  return out;
}

// Methods 1 and 2 name an executable; it counts when a process of that name runs, or when the file is on disk.
void report_named(Ctx& c, Method m, const std::string& name, const std::string& regkey, const std::string& user,
                  const std::string& why) {
  std::string on_disk;
  std::string disk_user = user;
  for (const auto& [u, p] : named_locations(c, name)) {
    auto st = c.ev.stat(p);
    if (st && st->kind == FileKind::file) {
      on_disk = p;
      disk_user = u.empty() ? user : u;
      break;
    }
  }
  if (const ProcessInfo* p = process_by_name(c, name)) {
    std::vector<std::string> ev{why, "running: " + p->name + (p->pid ? " pid " + std::to_string(*p->pid) : "")};
    const std::string path = !p->image_path.empty() ? p->image_path : on_disk;
    if (!on_disk.empty()) ev.push_back("file present: " + on_disk);
    add_detection(c, Detection{m, p->name, p->pid, path, regkey, disk_user, true, ev});
    return;
  }
  if (!on_disk.empty()) {
    std::vector<std::string> ev{why, "file present: " + on_disk,
                                c.procs ? "no process of that name in the list" : "no process list: not confirmed running"};
    add_detection(c, Detection{m, name, std::nullopt, on_disk, regkey, disk_user, false, ev});
  }
}

void method_keyword_name(Ctx& c, MethodStatus& st) {
  if (!c.r.serial) {
    st = {Method::keyword_name, MethodState::skipped,
          "no volume serial (give --volume-serial, or collect `vol C:` output or $Boot)"};
    return;
  }
  c.r.keyword_names = keyword_process_names(c.r.serial->value);
  st = {Method::keyword_name, c.procs ? MethodState::ran : MethodState::partial,
        c.procs ? std::string() : "no process list: only looked for the named file on disk"};
  char hex[16];
  std::snprintf(hex, sizeof hex, "%08X", c.r.serial->value);
  for (const std::string& n : c.r.keyword_names)
    report_named(c, Method::keyword_name, n, {}, {},
                 "name " + n + " derived from volume serial " + hex + " (" + c.r.serial->source + ")");
}

struct ExplorerKey {
  RegRoot root;
  std::string path;
  std::string display;
};

std::vector<ExplorerKey> explorer_keys(const Ctx& c) {
  std::vector<ExplorerKey> out;
  for (const std::string& u : c.users)
    out.push_back({RegRoot{Hive::user, u}, std::string(kExplorerPath), "HKCU\\" + std::string(kExplorerPath)});
  out.push_back({RegRoot{Hive::software, {}}, "Microsoft\\Windows\\CurrentVersion\\Explorer",
                 "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Explorer"});
  out.push_back({RegRoot{Hive::software, {}}, "WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Explorer",
                 "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Explorer"});
  return out;
}

std::optional<std::uint32_t> parse_hex_name(std::string_view s) {
  if (s.empty() || s.size() > 8) return std::nullopt;
  std::uint32_t v = 0;
  for (char ch : s) {
    int d = -1;
    if (ch >= '0' && ch <= '9') d = ch - '0';
    if (ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') d = ch - 'A' + 10;
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<std::uint32_t>(d);
  }
  return v;
}

std::string with_exe(std::string name) {
  if (name.size() < 4 || !iequals(std::string_view(name).substr(name.size() - 4), ".exe")) name += ".exe";
  return name;
}

// When nothing else gives the serial: a binary value under Explorer whose hex name, used as the key, decodes its
// data to a plausible file name is Emotet's own record of the serial.
std::optional<VolumeSerial> serial_from_explorer(const Ctx& c) {
  for (const ExplorerKey& k : explorer_keys(c)) {
    auto key = c.ev.reg_key(k.root, k.path);
    if (!key) continue;
    for (const RegValue& v : key->values) {
      if (v.type != reg_binary || v.data.size() < 3 || v.data.size() > 520) continue;
      auto serial = parse_hex_name(v.name);
      if (!serial || *serial < 0x10000) continue;
      const std::string name = decode_explorer_value(v.data, *serial);
      if (name.size() >= 3 && name.size() * 2 >= v.data.size())
        return VolumeSerial{*serial, "inferred from value " + k.display + "\\" + v.name};
    }
  }
  return std::nullopt;
}

void method_explorer_value(Ctx& c, MethodStatus& st) {
  if (!c.r.serial) {
    st = {Method::explorer_value, MethodState::skipped, "no volume serial"};
    return;
  }
  const auto keys = explorer_keys(c);
  std::size_t readable = 0;
  char name_lower[16], name_padded[16];
  std::snprintf(name_lower, sizeof name_lower, "%x", c.r.serial->value);
  std::snprintf(name_padded, sizeof name_padded, "%08x", c.r.serial->value);
  for (const ExplorerKey& k : keys) {
    if (!c.ev.has_hive(k.root)) continue;
    ++readable;
    auto key = c.ev.reg_key(k.root, k.path);
    if (!key) continue;
    for (const RegValue& v : key->values) {
      if (!iequals(v.name, name_lower) && !iequals(v.name, name_padded)) continue;
      const std::string decoded = decode_explorer_value(v.data, c.r.serial->value);
      if (decoded.empty()) continue;
      const std::string name = with_exe(decoded);
      report_named(c, Method::explorer_value, name, k.display + "\\" + v.name, k.root.user,
                   "value " + k.display + "\\" + v.name + " decodes to " + decoded);
    }
  }
  if (readable == 0) {
    st = {Method::explorer_value, MethodState::skipped, "no NTUSER.DAT and no SOFTWARE hive"};
    return;
  }
  st = {Method::explorer_value, c.procs ? MethodState::ran : MethodState::partial,
        c.procs ? std::string() : "no process list: only looked for the named file on disk"};
}

void method_system32_lookalike(Ctx& c, MethodStatus& st) {
  auto sys = c.ev.list_dir("C:\\Windows\\System32", limits::max_dir_entries);
  if (!sys) {
    st = {Method::system32_lookalike, MethodState::skipped, "no Windows\\System32 folder in the evidence"};
    return;
  }
  std::unordered_set<std::string> names;  // lower-case stems of System32's executables
  std::unordered_map<std::string, std::uint64_t> exe_size;
  for (const FileInfo& f : *sys) {
    if (!is_file(f)) continue;
    const std::string ext = extension(f.name);
    if (ext == "exe" || ext == "dll" || ext == "sys" || ext == "ocx" || ext == "cpl" || ext == "scr" || ext == "drv")
      names.insert(lower_ascii(stem(f.name)));
    if (ext == "exe") exe_size[lower_ascii(f.name)] = f.size;
  }
  std::vector<std::pair<std::string, std::string>> roots = c.local_appdata;  // (user, folder)
  if (c.sysdir_x86 && iequals(win_basename(*c.sysdir_x86), "SysWOW64")) roots.emplace_back(std::string(), *c.sysdir_x86);
  if (roots.empty()) {
    st = {Method::system32_lookalike, MethodState::skipped, "no %LOCALAPPDATA% and no SysWOW64 in the evidence"};
    return;
  }
  if (!c.have_user_run && !c.have_hklm_run && !c.have_services) {
    st = {Method::system32_lookalike, MethodState::skipped, "no Run keys or services readable (no NTUSER.DAT/SOFTWARE/SYSTEM)"};
    return;
  }
  for (const auto& [user, root] : roots) {
    auto entries = c.ev.list_dir(root, limits::max_dir_entries);
    if (!entries) continue;
    for (const FileInfo& d : *entries) {
      if (!is_dir(d) || !names.count(lower_ascii(d.name))) continue;
      const std::string folder = win_join(root, d.name);
      auto files = c.ev.list_dir(folder, limits::max_dir_entries);
      if (!files) continue;
      for (const FileInfo& f : *files) {
        if (!is_file(f) || !iequals(f.name, d.name + ".exe")) continue;
        const std::string path = win_join(folder, f.name);
        if (f.size < 10000) continue;
        auto sz = exe_size.find(lower_ascii(f.name));
        if (sz != exe_size.end() && sz->second == f.size) continue;  // a copy of the real one
        for (const Autostart& a : c.autostarts) {
          // The user case is run from that user's Run key; the SysWOW64 case from HKLM or a service.
          if (!user.empty() && (a.is_service || a.user != user)) continue;
          if (!mentions_any(a.norm, path)) continue;
          std::vector<std::string> ev{
              "named after System32 file " + d.name + " in a folder of the same name",
              "size " + std::to_string(f.size) +
                  (sz == exe_size.end() ? " (no System32 namesake .exe)"
                                        : " differs from System32\\" + f.name + " (" + std::to_string(sz->second) + ")"),
              "started by " + a.registry_key + " = " + a.command};
          report_file(c, Method::system32_lookalike, path, user, a.registry_key, ev);
          break;
        }
      }
    }
  }
  st = {Method::system32_lookalike, MethodState::ran, {}};
  if (!c.have_user_run) st.detail = "no user Run keys (no NTUSER.DAT)";
}

// Folder names that exist under Program Files, Program Files (x86) or a user's AppData\Roaming (any depth up to
// max_allow_depth): a random-looking folder there is an installed product, not Emotet.
std::unordered_set<std::string> allow_list(Ctx& c) {
  std::unordered_set<std::string> out;
  std::vector<std::pair<std::string, std::size_t>> stack;
  for (const char* p : {"C:\\Program Files", "C:\\Program Files (x86)"}) stack.emplace_back(p, 0);
  for (const std::string& u : c.users) stack.emplace_back("C:\\Users\\" + u + "\\AppData\\Roaming", 0);
  std::size_t visited = 0;
  while (!stack.empty()) {
    auto [dir, depth] = stack.back();
    stack.pop_back();
    if (++visited > limits::max_allow_dirs) {
      c.r.problems.push_back("allow-list walk stopped after 200000 folders");
      break;
    }
    auto entries = c.ev.list_dir(dir, limits::max_dir_entries);
    if (!entries) continue;
    for (const FileInfo& e : *entries) {
      if (!is_dir(e)) continue;  // symlinks are never followed
      out.insert(lower_ascii(e.name));
      if (depth + 1 < limits::max_allow_depth) stack.emplace_back(win_join(dir, e.name), depth + 1);
    }
  }
  return out;
}

void method_random_name(Ctx& c, MethodStatus& st) {
  std::vector<std::pair<std::string, std::string>> roots = c.local_appdata;
  if (c.sysdir_x86) roots.emplace_back(std::string(), *c.sysdir_x86);
  if (roots.empty()) {
    st = {Method::random_name, MethodState::skipped, "no %LOCALAPPDATA%, SysWOW64 or System32 in the evidence"};
    return;
  }
  if (!c.have_user_run && !c.have_hklm_run && !c.have_services) {
    st = {Method::random_name, MethodState::skipped, "no Run keys or services readable (no NTUSER.DAT/SOFTWARE/SYSTEM)"};
    return;
  }
  const auto allow = allow_list(c);
  for (const auto& [user, root] : roots) {
    auto entries = c.ev.list_dir(root, limits::max_dir_entries);
    if (!entries) continue;
    for (const FileInfo& d : *entries) {
      if (!is_dir(d) || !is_letters(d.name, 4, 16) || allow.count(lower_ascii(d.name))) continue;
      const std::string folder = win_join(root, d.name);
      auto files = c.ev.list_dir(folder, limits::max_dir_entries);
      if (!files) continue;
      for (const FileInfo& f : *files) {
        if (!is_file(f)) continue;
        const std::size_t dot = f.name.rfind('.');
        if (dot == std::string::npos || !is_letters(std::string_view(f.name).substr(0, dot), 3, 15) ||
            !is_letters(std::string_view(f.name).substr(dot + 1), 3, 3))
          continue;
        const std::string ext = extension(f.name);
        if (ext == "exe" || ext == "dll") continue;
        const std::string path = win_join(folder, f.name);
        if (!starts_mz(c.ev, path)) continue;
        for (const Autostart& a : c.autostarts) {
          if (!user.empty() && !a.user.empty() && a.user != user) continue;
          if (!mentions_any(a.norm, path) || !is_loader_command(a.norm, path)) continue;
          std::vector<std::string> ev{"random-looking folder " + d.name + " (not under Program Files or AppData)",
                                      "file " + f.name + " starts with MZ",
                                      "started by " + a.registry_key + " = " + a.command};
          report_file(c, Method::random_name, path, user, a.registry_key, ev);
          break;
        }
      }
    }
  }
  st = {Method::random_name, MethodState::ran, {}};
  if (!c.have_services) st.detail = "no services (no SYSTEM hive): the admin case was checked against Run keys only";
}

void method_timestomp(Ctx& c, MethodStatus& st) {
  std::vector<std::pair<std::string, std::string>> roots = c.local_appdata;
  if (c.sysdir_x86) roots.emplace_back(std::string(), *c.sysdir_x86);
  if (roots.empty()) {
    st = {Method::timestomp, MethodState::skipped, "no %LOCALAPPDATA%, SysWOW64 or System32 in the evidence"};
    return;
  }
  for (const auto& [user, root] : roots) {
    auto entries = c.ev.list_dir(root, limits::max_dir_entries);
    if (!entries) continue;
    for (const FileInfo& d : *entries) {
      if (!is_dir(d)) continue;
      const std::string folder = win_join(root, d.name);
      auto files = c.ev.list_dir(folder, limits::max_dir_entries);
      if (!files) continue;
      for (const FileInfo& f : *files) {
        if (!is_file(f)) continue;
        const std::int64_t diff = f.mtime_ns > d.mtime_ns ? f.mtime_ns - d.mtime_ns : d.mtime_ns - f.mtime_ns;
        if (diff < kSevenDays - kSecond || diff > kSevenDays + kSecond) continue;
        const std::string path = win_join(folder, f.name);
        if (!is_pe(c.ev, path)) continue;
        char buf[96];
        std::snprintf(buf, sizeof buf, "last write differs from its folder's by %.3f s (7 days = 604800 s)",
                      static_cast<double>(diff) / 1e9);
        report_file(c, Method::timestomp, path, user, {}, {buf});
      }
    }
  }
  st = {Method::timestomp, MethodState::ran, {}};
}

std::string hostname_from(const Evidence& ev) {
  const RegRoot sys{Hive::system, {}};
  auto k = ev.reg_key(sys, current_control_set(ev) + "\\Control\\ComputerName\\ComputerName");
  if (!k) return {};
  for (const RegValue& v : k->values)
    if (iequals(v.name, "ComputerName"))
      if (auto t = v.text()) {
        std::string s;
        for (char ch : *t)  // it names a report file: keep it to a safe set
          if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.') s.push_back(ch);
        return s;
      }
  return {};
}

void scan_suspects(Ctx& c, const engine::Scanner* scanner) {
  std::set<std::string> done;
  for (const Detection& d : c.r.detections) {
    if (d.image_path.empty() || !done.insert(lower_ascii(d.image_path)).second) continue;
    SuspectScan s;
    s.image_path = d.image_path;
    auto local = c.ev.local_path(d.image_path);
    if (!local) {
      s.error = "file not in the evidence";
      c.r.scans.push_back(std::move(s));
      continue;
    }
    s.local_path = *local;
    if (scanner == nullptr) {
      s.error = "no model loaded";
      c.r.scans.push_back(std::move(s));
      continue;
    }
    const engine::ScanResult res = scanner->scan_file(*local);
    s.sha256 = res.sha256;
    s.verdict = res.verdict;
    s.score = res.score;
    s.signature = res.signature;
    s.error = res.error;
    c.r.scans.push_back(std::move(s));
  }
}

}  // namespace

std::optional<std::uint32_t> parse_volume_serial(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.size() == 9 && s[4] == '-') return parse_hex_name(std::string(s.substr(0, 4)) + std::string(s.substr(5)));
  return parse_hex_name(s);
}

Report run_check(const Evidence& ev, const CheckOptions& opt) {
  Report r;
  const std::time_t now = opt.now != 0 ? opt.now : std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  r.scan_time = buf;
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  r.file_stamp = buf;

  Ctx c(ev, r);
  c.procs = ev.processes();
  c.users = ev.users();
  for (const std::string& u : c.users) {
    const std::string la = "C:\\Users\\" + u + "\\AppData\\Local";
    if (auto st = ev.stat(la); st && st->kind == FileKind::dir) c.local_appdata.emplace_back(u, la);
  }
  for (const char* d : {"C:\\Windows\\SysWOW64", "C:\\Windows\\System32"}) {
    auto st = ev.stat(d);
    if (st && st->kind == FileKind::dir) {
      c.sysdir_x86 = d;
      break;
    }
  }
  r.hostname = hostname_from(ev);
  collect_autostarts(c);

  if (opt.volume_serial) {
    r.serial = VolumeSerial{*opt.volume_serial, "--volume-serial"};
  } else if (auto v = ev.volume_serial()) {
    r.serial = v;
  } else {
    r.serial = serial_from_explorer(c);
  }

  MethodStatus st[5];
  method_keyword_name(c, st[0]);
  method_explorer_value(c, st[1]);
  method_system32_lookalike(c, st[2]);
  method_random_name(c, st[3]);
  method_timestomp(c, st[4]);
  r.methods.assign(std::begin(st), std::end(st));

  scan_suspects(c, opt.scanner);
  for (std::string& p : ev.problems()) r.problems.push_back(std::move(p));
  return r;
}

}  // namespace mamori::emocheck
