// Rule score for shell links; the rules and weights are listed in docs/lnk-onenote-msg.md.
#include "formats/lnk/rules.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "common/base64.hpp"
#include "common/codepage.hpp"

namespace mamori::lnk {

namespace {

// Decoded -EncodedCommand payloads are capped: the text is reported and searched, never run.
constexpr std::size_t kMaxDecoded = 1u << 20;
// Indicators kept for one link.
constexpr std::size_t kMaxIndicators = 256;

std::string lower(std::string_view s) {
  std::string o(s);
  std::transform(o.begin(), o.end(), o.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return o;
}

bool has(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::string basename(std::string_view path) {
  const auto slash = path.find_last_of("\\/");
  std::string b(slash == std::string_view::npos ? path : path.substr(slash + 1));
  while (!b.empty() && (b.back() == '"' || b.back() == ' ')) b.pop_back();
  while (!b.empty() && (b.front() == '"' || b.front() == ' ')) b.erase(b.begin());
  b = lower(b);
  // %COMSPEC% is how links name cmd.exe without spelling it.
  if (b == "%comspec%") b = "cmd.exe";
  return b;
}

std::string extension(std::string_view name) {
  const auto dot = name.find_last_of('.');
  if (dot == std::string_view::npos) return {};
  return lower(name.substr(dot));
}

// Programs that run commands, scripts or code given on their command line (the "living off the land" set).
constexpr std::array<std::string_view, 34> kLaunchers = {
    "powershell", "pwsh", "cmd", "mshta", "rundll32", "regsvr32", "wscript", "cscript", "certutil", "bitsadmin",
    "curl", "msiexec", "conhost", "forfiles", "schtasks", "wmic", "hh", "msbuild", "installutil", "regasm",
    "regsvcs", "cmstp", "odbcconf", "pcalua", "bash", "wsl", "finger", "scriptrunner", "explorer", "msdt",
    "powershell_ise", "wget", "ftp", "syncappvpublishingserver"};

bool is_launcher(const std::string& base) {
  std::string stem = base;
  if (ends_with(stem, ".exe")) stem.resize(stem.size() - 4);
  return std::find(kLaunchers.begin(), kLaunchers.end(), stem) != kLaunchers.end();
}

constexpr std::array<std::string_view, 13> kScriptExts = {".vbs", ".vbe", ".js",  ".jse", ".wsf", ".wsh", ".hta",
                                                           ".bat", ".cmd", ".ps1", ".scr", ".pif", ".cpl"};
constexpr std::array<std::string_view, 14> kDocExts = {".pdf",  ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx",
                                                       ".txt",  ".rtf", ".jpg",  ".jpeg", ".png", ".odt", ".csv"};
// Applications whose icon makes a shortcut look like a document or a web page.
constexpr std::array<std::string_view, 9> kDocApps = {"acrord32.exe", "acrobat.exe", "winword.exe", "excel.exe",
                                                      "powerpnt.exe", "msedge.exe",  "chrome.exe",  "firefox.exe",
                                                      "notepad.exe"};

bool in(std::string_view v, auto const& list) { return std::find(list.begin(), list.end(), v) != list.end(); }

// The icon location without its ",index" suffix and quotes.
std::string icon_file(std::string_view icon) {
  std::string s(icon);
  const auto comma = s.find_last_of(',');
  if (comma != std::string::npos && comma > s.find_last_of("\\/.") ) s.resize(comma);
  return s;
}

std::vector<std::string> tokens(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : s) {
    if (c == '"') {
      quoted = !quoted;
      continue;
    }
    if (!quoted && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
      continue;
    }
    cur.push_back(c);
    if (out.size() >= 4096) break;
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// PowerShell accepts any unambiguous prefix of -EncodedCommand: -e, -ec, -en, -enc, ... with '-' or '/'.
bool is_encoded_flag(std::string_view tok) {
  if (tok.size() < 2 || (tok[0] != '-' && tok[0] != '/')) return false;
  const std::string t = lower(tok.substr(1));
  if (t == "ec" || t == "e") return true;
  const std::string_view full = "encodedcommand";
  return t.size() >= 2 && t.size() <= full.size() && full.substr(0, t.size()) == t;
}

std::string decode_utf16_base64(std::string_view b64) {
  auto raw = base64_decode(b64, kMaxDecoded).value_or(std::vector<std::uint8_t>{});
  if (raw.size() < 4 || raw.size() % 2 != 0) return {};
  std::size_t zeros = 0;
  for (std::size_t i = 1; i < raw.size(); i += 2) zeros += raw[i] == 0;
  if (zeros * 4 < raw.size() / 2 * 3) return {};  // not UTF-16LE text
  return utf16le_to_utf8(ByteView(raw.data(), raw.size()), raw.size() / 2);
}

std::size_t longest_space_run(std::string_view s) {
  std::size_t best = 0, run = 0;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') best = std::max(best, ++run);
    else run = 0;
  }
  return best;
}

struct Keyword {
  std::string_view needle;
  std::string_view label;
};

// Network fetches by the usual tools and APIs.
constexpr std::array<Keyword, 17> kCradles = {{{"downloadstring", "DownloadString"},
                                               {"downloadfile", "DownloadFile"},
                                               {"downloaddata", "DownloadData"},
                                               {"net.webclient", "Net.WebClient"},
                                               {"invoke-webrequest", "Invoke-WebRequest"},
                                               {"iwr ", "iwr"},
                                               {"invoke-restmethod", "Invoke-RestMethod"},
                                               {"irm ", "irm"},
                                               {"start-bitstransfer", "Start-BitsTransfer"},
                                               {"bitsadmin", "bitsadmin"},
                                               {"-urlcache", "certutil -urlcache"},
                                               {"msxml2.xmlhttp", "MSXML2.XMLHTTP"},
                                               {"winhttp", "WinHttp"},
                                               {"curl ", "curl"},
                                               {"wget ", "wget"},
                                               {"system.net.http", "System.Net.Http"},
                                               {"openread(", "OpenRead"}}};

constexpr std::array<Keyword, 10> kObfuscation = {{{"frombase64string", "FromBase64String"},
                                                   {"iex", "iex"},
                                                   {"invoke-expression", "Invoke-Expression"},
                                                   {"[char]", "[char] codes"},
                                                   {"-join", "-join"},
                                                   {"-bxor", "-bxor"},
                                                   {"[array]::reverse", "string reversal"},
                                                   {"%comspec:~", "env substring"},
                                                   {"-replace", "-replace"},
                                                   {"gzipstream", "GZipStream"}}};

// System binaries used to run or fetch code in ways shortcuts to real programs never need.
constexpr std::array<Keyword, 16> kLolbinAbuse = {{{"javascript:", "javascript: URL"},
                                                  {"vbscript:", "vbscript: URL"},
                                                  {"scrobj.dll", "scrobj.dll"},
                                                  {"/i:http", "regsvr32 /i:http"},
                                                  {"-decode", "certutil -decode"},
                                                  {"/transfer", "bitsadmin /transfer"},
                                                  {"davwwwroot", "WebDAV path"},
                                                  {"@ssl", "WebDAV path"},
                                                  {".hta", ".hta file"},
                                                  {"start-process", "Start-Process"},
                                                  {"findstr", "findstr (reads payload from a file)"},
                                                  {"expand ", "expand"},
                                                  {"copy /b", "copy /b"},
                                                  {"add-mppreference", "Defender exclusion"},
                                                  {"set-mppreference", "Defender setting"},
                                                  {"schtasks", "scheduled task"}}};

void add(Assessment& a, std::string rule, int points, std::string detail) {
  a.points += points;
  a.findings.push_back({std::move(rule), points, std::move(detail)});
}

// %VAR:~start,len% substrings: cmd.exe spells words out of letters taken from environment variables.
int env_substrings(std::string_view s) {
  int n = 0;
  for (std::size_t p = 0; (p = s.find(":~", p)) != std::string_view::npos; p += 2) {
    const auto open = s.rfind('%', p);
    const auto close = s.find('%', p);
    if (open != std::string_view::npos && close != std::string_view::npos && p - open < 32 && close - p < 12) ++n;
  }
  return n;
}

bool user_writable(std::string_view lower_path) {
  for (std::string_view d : {"\\temp\\", "\\tmp\\", "\\appdata\\", "\\users\\public\\", "\\programdata\\",
                             "\\downloads\\", "%temp%", "%tmp%", "%appdata%", "%localappdata%", "%public%",
                             "%programdata%", "%userprofile%"})
    if (has(lower_path, d)) return true;
  return false;
}

bool system_cpl(std::string_view lower_path) {
  return ends_with(lower_path, ".cpl") && (has(lower_path, "\\windows\\") || has(lower_path, "%systemroot%") ||
                                           has(lower_path, "%windir%"));
}

}  // namespace

void text_indicators(std::string_view text, std::string_view where, std::vector<Indicator>& out, std::size_t max) {
  auto push = [&](std::string type, std::string value) {
    if (value.empty() || out.size() >= max) return;
    for (const auto& i : out)
      if (i.type == type && i.value == value) return;
    out.push_back({std::move(type), std::move(value), std::string(where)});
  };
  auto host_of = [&](std::string_view host) {
    const auto colon = host.find(':');
    if (colon != std::string_view::npos) host = host.substr(0, colon);
    if (host.empty()) return;
    bool ip = std::count(host.begin(), host.end(), '.') == 3 &&
              std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
    if (ip) push("ip", std::string(host));
    else if (host.find('.') != std::string_view::npos) push("domain", lower(host));
  };
  const std::string low = lower(text);
  auto is_url_char = [](char c) {
    return c > 0x20 && c < 0x7f && c != '"' && c != '\'' && c != '<' && c != '>' && c != '`' && c != '(' && c != ')';
  };
  // URLs.
  for (std::string_view scheme : {"http://", "https://", "ftp://", "\\\\"}) {
    std::size_t p = 0;
    while ((p = low.find(scheme, p)) != std::string::npos && out.size() < max) {
      std::size_t e = p + scheme.size();
      while (e < text.size() && is_url_char(text[e]) && text[e] != ';' && text[e] != ',') ++e;
      std::string_view rest = text.substr(p + scheme.size(), e - p - scheme.size());
      if (scheme == "\\\\") {
        const auto end = rest.find('\\');
        std::string_view host = rest.substr(0, end);
        if (!host.empty() && host != "." && host != "?") {
          host_of(host);
          push("path", std::string(text.substr(p, e - p)));
        }
      } else if (!rest.empty()) {
        push("url", std::string(text.substr(p, e - p)));
        host_of(rest.substr(0, rest.find_first_of("/?#")));
      }
      p = e;
    }
  }
  // Bare IPv4 addresses.
  for (std::size_t i = 0; i < text.size() && out.size() < max; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i])) || (i > 0 && (std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '.'))) continue;
    std::size_t e = i;
    int dots = 0, digits = 0;
    bool ok = true;
    while (e < text.size() && (std::isdigit(static_cast<unsigned char>(text[e])) || text[e] == '.')) {
      if (text[e] == '.') {
        if (digits == 0 || digits > 3) ok = false;
        ++dots, digits = 0;
      } else {
        ++digits;
      }
      ++e;
    }
    if (ok && dots == 3 && digits >= 1 && digits <= 3) push("ip", std::string(text.substr(i, e - i)));
    i = e;
  }
  // Windows paths: "C:\..." and "%VAR%\...".
  for (std::size_t i = 0; i + 2 < text.size() && out.size() < max; ++i) {
    const bool drive = std::isalpha(static_cast<unsigned char>(text[i])) && text[i + 1] == ':' && text[i + 2] == '\\' &&
                       (i == 0 || !std::isalnum(static_cast<unsigned char>(text[i - 1])));
    const bool env = text[i] == '%' && (i == 0 || text[i - 1] != '%');
    std::size_t e = i;
    if (env) {
      const auto close = text.find('%', i + 1);
      if (close == std::string_view::npos || close - i > 32 || close + 1 >= text.size() || text[close + 1] != '\\') continue;
      e = close + 1;
    } else if (!drive) {
      continue;
    }
    // A path ends at a quote, a separator or redirection; at a blank when a file name with an extension (or an
    // option) came before it, since folder names may hold blanks but command lines go on after the file.
    while (e < text.size()) {
      const char c = text[e];
      if (c == '"' || c == '\'' || c == '\r' || c == '\n' || c == ';' || c == '|' || c == '>' || c == '<' || c == '&') break;
      if (c == ' ') {
        const auto seg = text.substr(i, e - i);
        const auto last = seg.find_last_of('\\');
        if ((last != std::string_view::npos && seg.find('.', last) != std::string_view::npos) ||
            (e + 1 < text.size() && (text[e + 1] == '-' || text[e + 1] == '/')))
          break;
      }
      ++e;
    }
    while (e > i && text[e - 1] == ' ') --e;
    if (e - i > 3) push("path", std::string(text.substr(i, e - i)));
    i = e;
  }
}

Assessment assess(const Link& l, const std::vector<std::string>& more_text) {
  Assessment a;
  const std::string target = l.target();
  const std::string target_l = lower(target);
  const std::string base = basename(target.empty() ? l.relative_path : target);
  const std::string args_l = lower(l.arguments);
  const bool has_args = l.arguments.find_first_not_of(" \t\r\n") != std::string::npos;
  a.launcher = is_launcher(base);
  a.command_line = target.empty() ? l.relative_path : target;
  if (has_args) a.command_line += " " + l.arguments;

  // CVE-2010-2568: a Control Panel item in the ID list whose applet is a file outside the system folders (Windows
  // loads it to draw the icon). Real Control Panel shortcuts name system .cpl files.
  bool after_control_panel = false;
  for (const auto& it : l.idlist) {
    if (it.clsid == "{21EC2020-3AEA-1069-A2DD-08002B30309D}" || it.clsid == "{26EE0668-A00A-44D7-9371-BEB064C98683}") {
      after_control_panel = true;
      continue;
    }
    if (!after_control_panel) continue;
    for (const auto& s : it.strings) {
      const std::string sl = lower(s);
      const bool path_like = (sl.size() > 3 && sl[1] == ':' && sl[2] == '\\') || sl.rfind("\\\\", 0) == 0;
      if (path_like && !system_cpl(sl)) {
        add(a, "lnk.cpl_applet_exploit", 100, "Control Panel item loads " + s + " (CVE-2010-2568)");
        after_control_panel = false;
        break;
      }
    }
  }

  if (a.launcher && has_args) add(a, "lnk.launcher_with_args", 30, base + " with arguments");

  // Encoded PowerShell.
  const auto toks = tokens(l.arguments);
  std::string decoded_all;
  for (std::size_t i = 0; i + 1 < toks.size(); ++i) {
    if (!is_encoded_flag(toks[i])) continue;
    std::string d = decode_utf16_base64(toks[i + 1]);
    if (d.empty()) continue;
    decoded_all += d + "\n";
    a.decoded.push_back(std::move(d));
    if (a.decoded.size() >= 4) break;
  }
  if (!a.decoded.empty()) add(a, "lnk.encoded_command", 45, "-EncodedCommand decodes to " + std::to_string(decoded_all.size()) + " bytes of text");
  for (const auto& t : more_text)
    if (decoded_all.size() < kMaxDecoded) decoded_all += t + "\n";

  const std::string text = args_l + "\n" + lower(decoded_all);
  std::string matched;
  for (const auto& k : kCradles)
    if (has(text, k.needle)) matched += matched.empty() ? std::string(k.label) : ", " + std::string(k.label);
  if (!matched.empty()) add(a, "lnk.download_cradle", 35, matched);
  const bool url = has(text, "http://") || has(text, "https://") || has(text, "ftp://");
  if (matched.empty() && url && (a.launcher || !a.decoded.empty())) add(a, "lnk.url_in_arguments", 15, "a URL in a launcher's arguments");

  const bool hidden_flag = has(text, "-w hidden") || has(text, "-windowstyle hidden") || has(text, "-win hidden") ||
                           has(text, "-w 1 ") || has(text, "/min ") || has(text, "-window hidden") || has(text, "-wi h");
  if ((l.show_command == kShowMinNoActive && a.launcher && has_args) || hidden_flag)
    add(a, "lnk.hidden_window", 15, hidden_flag ? "hidden window requested in the arguments" : "ShowCommand SW_SHOWMINNOACTIVE (7)");
  if (has(text, "bypass") || has(text, "-nop ") || has(text, "-noprofile") || has(text, "unrestricted"))
    add(a, "lnk.exec_policy_bypass", 10, "execution policy bypass / no profile");

  matched.clear();
  for (const auto& k : kObfuscation) {
    if (k.needle == "iex") {
      // "iex" as a word, not inside another (e.g. "index").
      std::size_t p = 0;
      bool word = false;
      while ((p = text.find("iex", p)) != std::string::npos) {
        const bool left = p == 0 || !std::isalnum(static_cast<unsigned char>(text[p - 1]));
        const bool right = p + 3 >= text.size() || !std::isalnum(static_cast<unsigned char>(text[p + 3]));
        if (left && right) word = true;
        p += 3;
      }
      if (!word) continue;
    } else if (!has(text, k.needle)) {
      continue;
    }
    matched += matched.empty() ? std::string(k.label) : ", " + std::string(k.label);
  }
  const auto carets = std::count(l.arguments.begin(), l.arguments.end(), '^');
  const auto ticks = std::count(l.arguments.begin(), l.arguments.end(), '`');
  if (env_substrings(l.arguments) >= 2) matched += matched.empty() ? "environment-variable substrings" : ", environment-variable substrings";
  if (carets >= 4) matched += matched.empty() ? "caret escapes" : ", caret escapes";
  if (ticks >= 4) matched += matched.empty() ? "backtick escapes" : ", backtick escapes";
  if (!matched.empty()) add(a, "lnk.obfuscation", 15, matched);

  matched.clear();
  if (a.launcher || !a.decoded.empty())
    for (const auto& k : kLolbinAbuse)
      if (has(text, k.needle) && !has(matched, k.label)) matched += matched.empty() ? std::string(k.label) : ", " + std::string(k.label);
  if (!matched.empty()) add(a, "lnk.lolbin_abuse", 25, matched);

  // A launcher pointed at a script or program in a folder any user can write to: the dropped second stage.
  if (a.launcher && has_args) {
    for (const auto& t : toks) {
      const std::string tl = lower(t);
      const std::string te = extension(basename(tl));
      if ((in(te, kScriptExts) || te == ".exe" || te == ".dll") && user_writable(tl)) {
        add(a, "lnk.payload_in_user_folder", 20, "runs " + t);
        break;
      }
    }
  }

  const std::size_t run = longest_space_run(l.arguments);
  if (run >= 32) add(a, "lnk.padded_arguments", 30, std::to_string(run) + " blank characters hide the rest of the arguments");
  if (l.arguments_chars > 1024) add(a, "lnk.long_arguments", 10, std::to_string(l.arguments_chars) + " characters of arguments");

  // Icon spoofing: a document's look on a shortcut that runs a program.
  const std::string ext = extension(base);
  const bool runs_code = a.launcher || ext == ".exe" || in(ext, kScriptExts);
  if (runs_code) {
    const std::string icon = lower(icon_file(l.icon_env_target.empty() ? l.icon_location : l.icon_env_target));
    const std::string icon_base = basename(icon);
    const std::string icon_ext = extension(icon_base);
    if (in(icon_ext, kDocExts) || in(icon_base, kDocApps)) {
      add(a, "lnk.icon_spoof", 25, "icon " + icon_base + " on a shortcut to " + base);
    } else if ((icon_base == "shell32.dll" || icon_base == "imageres.dll" || icon_base == "moricons.dll") && a.launcher &&
               has_args) {
      add(a, "lnk.icon_spoof", 15, "system library icon " + icon_base + " on a shortcut to " + base);
    }
  }

  if (in(ext, kScriptExts)) add(a, "lnk.script_target", 15, "target is a " + ext + " script");
  const bool remote = target_l.rfind("\\\\", 0) == 0 || has(target_l, "davwwwroot") || has(target_l, "@ssl");
  if (remote && runs_code) add(a, "lnk.remote_target", 20, "runs code from a network path: " + target);
  if (runs_code && !a.launcher && user_writable(target_l))
    add(a, "lnk.user_writable_target", 10, "runs a program from a user-writable folder");

  if (l.appended.size() >= 64)
    add(a, "lnk.appended_data", 20, std::to_string(l.appended.size()) + " bytes after the terminal block");

  // Indicators.
  auto& ind = a.indicators;
  if (has_args || a.launcher) ind.push_back({"command", a.command_line.substr(0, 4096), "lnk:command_line"});
  text_indicators(l.arguments, "lnk:arguments", ind, kMaxIndicators);
  for (const auto& d : a.decoded) text_indicators(d, "lnk:decoded", ind, kMaxIndicators);
  if (!target.empty()) text_indicators(target, "lnk:target", ind, kMaxIndicators);
  if (!l.link_info.net_name.empty()) text_indicators(l.link_info.net_name, "lnk:network_path", ind, kMaxIndicators);
  for (const auto& it : l.idlist)
    for (const auto& s : it.strings) text_indicators(s, "lnk:idlist", ind, kMaxIndicators);
  return a;
}

}  // namespace mamori::lnk
