// Recognisers for indicators in text: URLs, IPv4 addresses, domains, Windows paths and command lines.
//
// They run over strings a macro computes as well as over raw text (LNK arguments, decoded scripts), so they are
// tuned against code: a domain needs a known top-level domain, one letter case throughout, and no call or
// assignment right after it ("ActiveDocument.Save", "Application.Run(" and "file.exe" are not domains).
#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "analysis/iocs.hpp"
#include "analysis/text_util.hpp"

namespace mamori::analysis {

namespace {

// Top-level domains accepted for bare domains and URL hosts. Deliberately not the whole IANA list: names that are
// also file extensions or common code words (exe, dll, js, zip, mov, run, app, save, open, name, sh, py, md) are
// left out, so "loader.exe" and "Application.Run" never become domains.
constexpr std::string_view kTlds[] = {
    "com", "net", "org", "info", "biz", "edu", "gov", "mil", "int", "mobi", "pro", "asia", "tel", "xyz", "top",
    "site", "online", "club", "shop", "store", "live", "life", "space", "website", "tech", "icu", "vip", "work",
    "link", "click", "win", "bid", "loan", "download", "host", "press", "fun", "cloud", "digital", "email", "group",
    "today", "world", "news", "blog", "design", "agency", "services", "solutions", "company", "center", "network",
    "ru", "su", "ua", "by", "kz", "cn", "hk", "tw", "jp", "kr", "vn", "th", "id", "my", "sg", "ph", "in", "pk", "ir",
    "tr", "il", "ae", "sa", "eg", "za", "ng", "ke", "ma", "de", "uk", "fr", "it", "es", "pt", "nl", "be", "ch", "at",
    "pl", "cz", "sk", "hu", "ro", "bg", "gr", "se", "no", "dk", "fi", "ee", "lv", "lt", "ie", "eu", "us", "ca", "mx",
    "br", "ar", "cl", "co", "pe", "ve", "au", "nz", "io", "me", "tv", "cc", "ws", "pw", "tk", "ml", "ga", "cf", "gq",
    "to", "ly", "am", "ai", "gs", "la"};

bool is_tld(std::string_view s) {
  if (s.size() < 2 || s.size() > 10) return false;
  char b[10];  // lower-cased in place: every dotted word of every candidate string comes here
  for (std::size_t i = 0; i < s.size(); ++i) b[i] = lower(s[i]);
  const std::string_view l(b, s.size());
  return std::find(std::begin(kTlds), std::end(kTlds), l) != std::end(kTlds);
}

bool host_char(char c) { return is_alnum(c) || c == '-' || c == '.'; }

// Characters a URL may hold once it has started. Quotes, angle brackets, whitespace, backslash and the list
// separators that droppers glue URLs with end it.
bool url_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7F) return false;
  switch (c) {
    case '"': case '\'': case '<': case '>': case '\\': case '^': case '`': case '{': case '}': case '|':
      return false;
    default: return true;
  }
}

bool list_separator(char c) { return c == '@' || c == ',' || c == ';' || c == '|' || c == '*' || c == '!'; }

// Position of the next "http://", "https://" or "ftp://" (case-insensitive) at or after `from`.
std::size_t next_scheme(std::string_view t, std::size_t from, std::size_t& scheme_len) {
  for (std::size_t i = from; i + 6 <= t.size(); ++i) {
    const char c = lower(t[i]);
    if (c != 'h' && c != 'f') continue;
    if (lower(t[i + 1]) != 't') continue;  // every scheme's second letter: most h and f start none of them
    std::string_view rest = t.substr(i);
    for (std::string_view s : {std::string_view("http://"), std::string_view("https://"), std::string_view("ftp://")}) {
      if (rest.size() >= s.size() && iequals(rest.substr(0, s.size()), s)) {
        scheme_len = s.size();
        return i;
      }
    }
  }
  return std::string_view::npos;
}

bool valid_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = i;
    while (j < s.size() && is_digit(s[j])) ++j;
    if (j == i || j - i > 3) return false;
    int v = 0;  // at most three digits: no conversion call (numbers in decoded code come here by the thousand)
    for (std::size_t k = i; k < j; ++k) v = v * 10 + (s[k] - '0');
    if (v > 255) return false;
    ++parts;
    if (j == s.size()) break;
    if (s[j] != '.') return false;
    i = j + 1;
  }
  return parts == 4;
}

// A host is a dotted name with a known TLD, or an IPv4 address, or "localhost"-free: anything else is not a URL
// worth reporting (it is usually a half-built string such as "http://exa").
bool valid_host(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (valid_ipv4(host)) return true;
  const std::size_t dot = host.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  std::string_view tld = host.substr(dot + 1);
  if (!is_tld(tld)) {
    // Any alphabetic TLD of 2..10 letters is accepted in a URL host: the scheme already says it is a URL.
    if (tld.size() < 2 || tld.size() > 10) return false;
    for (char c : tld)
      if (!is_alpha(c)) return false;
  }
  if (host.front() == '-' || host.front() == '.') return false;
  return true;
}

struct Collector {
  std::vector<engine::Ioc>& out;
  std::string_view where;
  void add(std::string type, std::string value) {
    for (const auto& i : out)
      if (i.type == type && i.value == value) return;
    if (out.size() >= limits::max_iocs) return;
    out.push_back({std::move(type), std::move(value), std::string(where)});
  }
};

// URLs, including lists glued with separators: "http://a/b@http://c/d" yields both.
void find_urls(std::string_view t, Collector& c, std::vector<std::pair<std::size_t, std::size_t>>& spans) {
  std::size_t pos = 0, slen = 0;
  while ((pos = next_scheme(t, pos, slen)) != std::string_view::npos) {
    std::size_t end = pos + slen;
    while (end < t.size() && url_char(t[end])) ++end;
    // A second scheme inside ends this URL at the separator before it.
    std::size_t slen2 = 0;
    const std::size_t inner = next_scheme(t.substr(0, end), pos + slen, slen2);
    if (inner != std::string_view::npos) {
      end = inner;
      if (end > pos + slen && list_separator(t[end - 1])) --end;
    }
    std::string_view url = t.substr(pos, end - pos);
    // Trailing punctuation that ends sentences and lists rather than URLs.
    while (!url.empty() && (url.back() == '.' || url.back() == ',' || url.back() == ';' || url.back() == ')' ||
                            url.back() == '@' || url.back() == '!' || url.back() == '*' || url.back() == ']'))
      url.remove_suffix(1);
    std::string_view rest = url.substr(slen);
    std::size_t hend = 0;
    while (hend < rest.size() && rest[hend] != '/' && rest[hend] != '?' && rest[hend] != '#') ++hend;
    std::string_view authority = rest.substr(0, hend);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
    std::string_view host = authority.substr(0, authority.find(':'));
    bool ok = !host.empty();
    for (char ch : host)
      if (!host_char(ch)) ok = false;
    if (ok && valid_host(host)) {
      c.add("url", std::string(url));
      spans.emplace_back(pos, pos + url.size());
    }
    pos = end > pos ? end : pos + 1;
  }
}

bool inside(const std::vector<std::pair<std::size_t, std::size_t>>& spans, std::size_t a, std::size_t b) {
  for (const auto& [s, e] : spans)
    if (a >= s && b <= e) return true;
  return false;
}

void find_ipv4(std::string_view t, Collector& c, const std::vector<std::pair<std::size_t, std::size_t>>& spans) {
  std::size_t i = 0;
  while (i < t.size()) {
    if (!is_digit(t[i]) || (i > 0 && (is_digit(t[i - 1]) || t[i - 1] == '.' || is_alpha(t[i - 1])))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < t.size() && (is_digit(t[j]) || t[j] == '.')) ++j;
    std::string_view cand = t.substr(i, j - i);
    while (!cand.empty() && cand.back() == '.') cand.remove_suffix(1);
    const bool tail_ok = i + cand.size() >= t.size() || !is_alpha(t[i + cand.size()]);
    if (tail_ok && valid_ipv4(cand) && cand.front() != '0' && !inside(spans, i, i + cand.size()))
      c.add("ip", std::string(cand));
    i = j;
  }
}

// Bare domains: labels of letters, digits and '-', a known TLD, one letter case, not followed by '(' or '=' (a
// call or an assignment in code) and not part of a URL already reported.
void find_domains(std::string_view t, Collector& c, const std::vector<std::pair<std::size_t, std::size_t>>& spans) {
  std::size_t i = 0;
  while (i < t.size()) {
    if (!is_alnum(t[i]) || (i > 0 && (host_char(t[i - 1]) || t[i - 1] == '_' || t[i - 1] == '@' || t[i - 1] == '\\' ||
                                      t[i - 1] == '$' || t[i - 1] == '/'))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < t.size() && host_char(t[j])) ++j;
    std::string_view cand = t.substr(i, j - i);
    while (!cand.empty() && (cand.back() == '.' || cand.back() == '-')) cand.remove_suffix(1);
    const std::size_t end = i + cand.size();
    i = j > i ? j : i + 1;
    const std::size_t dot = cand.rfind('.');
    if (dot == std::string_view::npos || dot == 0) continue;
    if (!is_tld(cand.substr(dot + 1))) continue;
    // "a.b" where a is one character is usually code (x.Run) or an initial.
    const std::size_t first_dot = cand.find('.');
    if (first_dot < 2) continue;
    bool has_lower = false, has_upper = false, digits_only_label = false;
    for (char ch : cand) {
      has_lower |= ch >= 'a' && ch <= 'z';
      has_upper |= ch >= 'A' && ch <= 'Z';
    }
    if (has_lower && has_upper) continue;
    if (is_digit(cand.back())) digits_only_label = true;
    if (digits_only_label) continue;
    if (end < t.size()) {
      if (t[end] == '_' || t[end] == '$') continue;  // an identifier goes on
      std::size_t k = end;
      while (k < t.size() && t[k] == ' ') ++k;
      if (k < t.size() && (t[k] == '(' || t[k] == '=')) continue;
    }
    if (inside(spans, end - cand.size(), end)) continue;
    c.add("domain", to_lower(cand));
  }
}

bool path_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u < 0x20) return false;
  switch (c) {
    case '"': case '\'': case '<': case '>': case '|': case '*': case '?': case ';': case ',': return false;
    default: return true;
  }
}

// C:\dir\file, %APPDATA%\dir\file, \\server\share\file. A path ends at a quote, a control character, or a space
// that is followed by an argument-looking token ("C:\x\y.exe /c ..."): spaces inside directory names are kept
// when the next character continues a name.
void find_paths(std::string_view t, Collector& c, const std::vector<std::pair<std::size_t, std::size_t>>& spans) {
  std::size_t i = 0;
  while (i < t.size()) {
    std::size_t start = std::string_view::npos, body = 0;
    if (is_alpha(t[i]) && i + 2 < t.size() && t[i + 1] == ':' && t[i + 2] == '\\' && (i == 0 || !is_alnum(t[i - 1]))) {
      start = i;
      body = i + 3;
    } else if (t[i] == '%' && (i == 0 || t[i - 1] != '%')) {
      std::size_t j = i + 1;
      while (j < t.size() && j - i < 40 && (is_alnum(t[j]) || t[j] == '_')) ++j;
      if (j < t.size() && t[j] == '%' && j > i + 1 && j + 1 < t.size() && t[j + 1] == '\\') {
        start = i;
        body = j + 2;
      }
    } else if (t[i] == '\\' && i + 2 < t.size() && t[i + 1] == '\\' && is_alnum(t[i + 2]) && (i == 0 || t[i - 1] != '\\')) {
      start = i;
      body = i + 2;
    }
    if (start == std::string_view::npos) {
      ++i;
      continue;
    }
    std::size_t j = body;
    while (j < t.size() && path_char(t[j])) {
      if (t[j] == ' ') {
        // "C:\Program Files\x" keeps its space; "C:\x.exe /c" and "C:\x.exe -e" stop before it.
        const char n = j + 1 < t.size() ? t[j + 1] : '\0';
        if (n == '/' || n == '-' || n == ' ' || n == '\0') break;
        const std::size_t sep = t.substr(start, j - start).rfind('\\');
        const std::string_view last = t.substr(start + sep + 1, j - start - sep - 1);
        if (last.find('.') != std::string_view::npos) break;  // a file name already ended
      }
      ++j;
    }
    std::string_view p = t.substr(start, j - start);
    while (!p.empty() && (p.back() == ' ' || p.back() == '.' || p.back() == ')')) p.remove_suffix(1);
    if (p.size() > body - start && !inside(spans, start, start + p.size())) c.add("path", std::string(p));
    i = j > i ? j : i + 1;
  }
}

// Programs whose invocation is reported as a command line.
constexpr std::string_view kPrograms[] = {"powershell", "pwsh",     "cmd",      "mshta",   "rundll32",
                                                        "regsvr32",   "wscript",  "cscript",  "certutil", "bitsadmin",
                                                        "msiexec",    "schtasks", "wmic",     "curl"};

constexpr std::string_view kProgramStarts = "pcmrwbs";  // the first letters of kPrograms

void find_commands(std::string_view t, Collector& c) {
  constexpr std::size_t kMaxCommand = 4096;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!is_alpha(t[i])) continue;
    if (i > 0 && (is_alnum(t[i - 1]) || t[i - 1] == '_' || t[i - 1] == '.' || t[i - 1] == '-')) continue;
    // Each word is tried against the programs that start with its letter only (fourteen comparisons a word before).
    const char first = lower(t[i]);
    if (kProgramStarts.find(first) == std::string_view::npos) continue;
    for (std::string_view prog : kPrograms) {
      if (prog[0] != first) continue;
      if (t.size() - i < prog.size() || !iequals(t.substr(i, prog.size()), prog)) continue;
      std::size_t j = i + prog.size();
      if (j + 4 <= t.size() && iequals(t.substr(j, 4), ".exe")) j += 4;
      // An invocation: the name, then whitespace and an argument that starts like a switch or a value.
      if (j >= t.size() || (t[j] != ' ' && t[j] != '\t')) break;
      std::size_t k = j;
      while (k < t.size() && (t[k] == ' ' || t[k] == '\t')) ++k;
      if (k >= t.size()) break;
      const char a = t[k];
      if (!(a == '/' || a == '-' || a == '"' || a == '\'' || a == '%' || is_alnum(a) || a == '\\' || a == '$'))
        break;
      // The first argument must look like one, or "cmd window" and "a powershell session" in prose would be
      // command lines: shells take a switch or a script, the others a switch or a file/URL.
      std::size_t k_end = k;
      while (k_end < t.size() && !is_space(t[k_end])) ++k_end;
      const std::string_view first = t.substr(k, k_end - k);
      const bool switch_like = a == '/' || a == '-';
      bool plausible = switch_like;
      if (prog == "powershell" || prog == "pwsh")
        plausible = switch_like || a == '"' || a == '\'' || a == '$' || a == '&' || a == '(' || a == '.' ||
                    ifind(first, "iex") == 0 || ifind(first, "invoke-") == 0;
      else if (prog != "cmd" && prog != "curl" && prog != "wmic")
        plausible = switch_like || a == '"' || a == '%' || first.find('.') != std::string_view::npos ||
                    first.find('\\') != std::string_view::npos;
      if (!plausible) break;
      std::size_t e = k;
      while (e < t.size() && t[e] != '\r' && t[e] != '\n' && t[e] != '\0') ++e;
      std::string v(t.substr(i, std::min(e - i, kMaxCommand)));
      while (!v.empty() && (v.back() == ' ' || v.back() == '"' || v.back() == '\'' || v.back() == ')')) {
        // Keep a closing quote that closes an argument opened inside the command.
        if ((v.back() == '"' && std::count(v.begin(), v.end(), '"') % 2 == 0) ||
            (v.back() == '\'' && std::count(v.begin(), v.end(), '\'') % 2 == 0) ||
            (v.back() == ')' && std::count(v.begin(), v.end(), '(') >= std::count(v.begin(), v.end(), ')')))
          break;
        v.pop_back();
      }
      // Only switches ("powershell -e" cut before its argument) is not a command line worth reporting.
      bool has_value = false;
      for (std::size_t p = prog.size(); p < v.size(); ++p)
        if (!is_space(v[p]) && (is_space(v[p - 1]) || v[p - 1] == '"') && v[p] != '-' && v[p] != '/') has_value = true;
      if (has_value) c.add("command", v);
      i = e;
      break;
    }
  }
}

}  // namespace

std::vector<engine::Ioc> iocs_from_text(std::string_view text, std::string_view where) {
  std::vector<engine::Ioc> out;
  if (text.size() > limits::max_text_scan) text = text.substr(0, limits::max_text_scan);
  Collector c{out, where};
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  find_urls(text, c, spans);
  // Reversed URLs ("moc.elpmaxe//:ptth") read forwards.
  if (text.find("//:ptth") != std::string_view::npos || text.find("//:sptth") != std::string_view::npos) {
    const std::string rev(text.rbegin(), text.rend());
    std::vector<std::pair<std::size_t, std::size_t>> rspans;
    find_urls(rev, c, rspans);
  }
  find_ipv4(text, c, spans);
  find_domains(text, c, spans);
  find_paths(text, c, spans);
  find_commands(text, c);
  return out;
}

void merge_iocs(std::vector<engine::Ioc>& into, const std::vector<engine::Ioc>& more) {
  for (const auto& m : more) {
    if (into.size() >= limits::max_iocs) return;
    bool seen = false;
    for (const auto& i : into)
      if (i.type == m.type && i.value == m.value) {
        seen = true;
        break;
      }
    if (!seen) into.push_back(m);
  }
}

}  // namespace mamori::analysis
