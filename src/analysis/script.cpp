// Script rules (script.hpp): text preparation, decoded layers, and the named rules with their points.
#include "analysis/script.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>

#include "analysis/iocs.hpp"
#include "analysis/text_util.hpp"

namespace mamori::analysis::script {

const char* lang_name(Lang l) noexcept {
  switch (l) {
    case Lang::js: return "js";
    case Lang::vbs: return "vbs";
    case Lang::vba: return "vba";
    case Lang::ps1: return "ps1";
    case Lang::bat: return "bat";
    case Lang::hta: return "hta";
    case Lang::wsf: return "wsf";
    case Lang::sct: return "sct";
    case Lang::html: return "html";
    case Lang::unknown: break;
  }
  return "unknown";
}

namespace {

std::string_view extension(std::string_view name) {
  // Members are named "outer.zip!inner.js": the last component counts.
  const auto bang = name.rfind('!');
  if (bang != std::string_view::npos) name = name.substr(bang + 1);
  const auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name = name.substr(slash + 1);
  const auto dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
}

Lang lang_of_extension(std::string_view name) {
  const std::string e = to_lower(extension(name));
  if (e == "js" || e == "jse" || e == "mjs" || e == "cjs") return Lang::js;
  if (e == "vbs" || e == "vbe") return Lang::vbs;
  if (e == "vba" || e == "bas" || e == "cls" || e == "frm") return Lang::vba;
  if (e == "ps1" || e == "psm1" || e == "psd1") return Lang::ps1;
  if (e == "bat" || e == "cmd") return Lang::bat;
  if (e == "hta") return Lang::hta;
  if (e == "wsf" || e == "wsh") return Lang::wsf;
  if (e == "sct" || e == "wsc") return Lang::sct;
  if (e == "htm" || e == "html" || e == "xhtml") return Lang::html;
  return Lang::unknown;
}

}  // namespace

bool has_script_extension(std::string_view name) {
  const Lang l = lang_of_extension(name);
  return l != Lang::unknown && l != Lang::html;
}

Lang language_of(std::string_view subtype, std::string_view name, std::string_view text) {
  if (const Lang e = lang_of_extension(name); e != Lang::unknown) return e;
  // VBA modules exported as text (Attribute VB_Name, Sub ... End Sub) read to the type detector like JScript when
  // they declare variables with "var"-like words; their own markers decide.
  const std::string_view head = text.substr(0, std::min<std::size_t>(text.size(), 8192));
  if (ifind(head, "attribute vb_name") != std::string_view::npos ||
      (ifind(head, "end sub") != std::string_view::npos && ifind(head, "sub ") != std::string_view::npos &&
       subtype != "script-ps1" && subtype != "script-hta" && subtype != "script-html"))
    return subtype == "script-vbs" ? Lang::vbs : Lang::vba;
  if (subtype == "script-js") return Lang::js;
  if (subtype == "script-vbs") return Lang::vbs;
  if (subtype == "script-ps1") return Lang::ps1;
  if (subtype == "script-bat") return Lang::bat;
  if (subtype == "script-hta") return Lang::hta;
  if (subtype == "script-html") return Lang::html;
  return Lang::unknown;
}

namespace {

// ---------------------------------------------------------------------------------------------------------------
// Text preparation

struct Layer {
  std::string text;    // prepared like the main text (lower case, joins removed)
  std::string origin;  // "powershell", "evaluated", "char codes", "base64"
};

struct Prepared {
  std::string orig;                         // the input as text (UTF-16 converted), capped
  std::vector<std::size_t> orig_lines;      // offset of each line in orig
  std::string text;                         // prepared, lower case
  std::vector<std::size_t> lines;           // offset in text where each original line starts
  std::vector<Layer> layers;
  std::size_t layer_bytes = 0;
};

std::string as_text(std::string_view b, std::vector<std::string>& notes) {
  std::string_view s = b.substr(0, std::min(b.size(), limits::max_script_bytes * 2));
  bool utf16 = s.size() >= 2 && static_cast<unsigned char>(s[0]) == 0xFF && static_cast<unsigned char>(s[1]) == 0xFE;
  if (!utf16 && s.size() >= 8) {
    // No BOM: mostly zero high bytes in the first KiB say UTF-16LE all the same.
    std::size_t zeros = 0, n = std::min<std::size_t>(s.size() / 2, 512);
    for (std::size_t i = 0; i < n; ++i) zeros += s[2 * i + 1] == 0 && s[2 * i] != 0;
    utf16 = zeros * 10 >= n * 9;
  }
  std::string out;
  if (utf16) {
    notes.push_back("utf-16le text");
    std::size_t i = (static_cast<unsigned char>(s[0]) == 0xFF) ? 2 : 0;
    out.reserve(s.size() / 2);
    for (; i + 1 < s.size() && out.size() < limits::max_script_bytes; i += 2) {
      const unsigned cu = static_cast<unsigned char>(s[i]) | (static_cast<unsigned>(static_cast<unsigned char>(s[i + 1])) << 8);
      out.push_back(cu < 0x80 ? static_cast<char>(cu) : '?');
    }
  } else {
    if (s.size() >= 3 && s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
    out.assign(s.substr(0, std::min(s.size(), limits::max_script_bytes)));
  }
  if (out.size() >= limits::max_script_bytes) notes.push_back("analysed the first " + std::to_string(limits::max_script_bytes) + " bytes");
  return out;
}

int hexval(char c) {
  if (is_digit(c)) return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Lower case; string joins ("ab" + "cd", "ab" & _ <newline> "cd"), carets, backticks removed; \xHH and \uHHHH
// escapes of printable characters decoded. `line_starts` (optional) receives where each input line starts.
std::string prepare(std::string_view s, std::vector<std::size_t>* line_starts) {
  std::string out;
  out.reserve(s.size());
  if (line_starts) line_starts->push_back(0);
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[i];
    if (c == '\n') {
      out.push_back('\n');
      if (line_starts) line_starts->push_back(out.size());
      continue;
    }
    if (c == '^' || c == '`') continue;
    if (c == '"' || c == '\'') {
      // A join: the quote, blanks, + or &, blanks (and VBScript's " _" line continuation), the same quote.
      std::size_t j = i + 1;
      std::size_t newlines = 0;
      while (j < n && (s[j] == ' ' || s[j] == '\t')) ++j;
      if (j < n && (s[j] == '+' || s[j] == '&')) {
        ++j;
        for (std::size_t guard = 0; j < n && guard < 64; ++guard) {
          if (s[j] == ' ' || s[j] == '\t' || s[j] == '\r') ++j;
          else if (s[j] == '_' && j + 1 < n && (s[j + 1] == '\r' || s[j + 1] == '\n')) ++j;
          else if (s[j] == '\n') ++j, ++newlines;
          else break;
        }
        if (j < n && s[j] == c) {
          for (std::size_t k = 0; k < newlines; ++k)
            if (line_starts) line_starts->push_back(out.size());
          i = j;
          continue;
        }
      }
      out.push_back(c);
      continue;
    }
    if (c == '\\' && i + 3 < n && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
      const int a = hexval(s[i + 2]), b = hexval(s[i + 3]);
      if (a >= 0 && b >= 0 && a * 16 + b >= 0x20 && a * 16 + b < 0x7f) {
        out.push_back(lower(static_cast<char>(a * 16 + b)));
        i += 3;
        continue;
      }
    }
    if (c == '\\' && i + 5 < n && s[i + 1] == 'u') {
      const int a = hexval(s[i + 2]), b = hexval(s[i + 3]), d = hexval(s[i + 4]), e = hexval(s[i + 5]);
      if (a == 0 && b == 0 && d >= 0 && e >= 0 && d * 16 + e >= 0x20 && d * 16 + e < 0x7f) {
        out.push_back(lower(static_cast<char>(d * 16 + e)));
        i += 5;
        continue;
      }
    }
    out.push_back(lower(c));
  }
  return out;
}

// Comment lines (and PowerShell <# #> and JScript /* */ blocks) become blanks in the prepared text, keeping every
// offset: a command that a comment mentions is not one the script runs.
void blank_comments(std::string& t, Lang lang) {
  const bool ps = lang == Lang::ps1, bat = lang == Lang::bat, js = lang == Lang::js,
             vb = lang == Lang::vbs || lang == Lang::vba || lang == Lang::unknown;
  auto blank = [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e && i < t.size(); ++i)
      if (t[i] != '\n') t[i] = ' ';
  };
  if (ps || js) {
    const std::string_view open = ps ? "<#" : "/*", close = ps ? "#>" : "*/";
    for (std::size_t pos = 0, guard = 0; guard < 65536; ++guard) {
      const auto b = t.find(open, pos);
      if (b == std::string::npos) break;
      auto e = t.find(close, b + 2);
      e = e == std::string::npos ? t.size() : e + 2;
      blank(b, e);
      pos = e;
    }
  }
  for (std::size_t i = 0; i < t.size();) {
    std::size_t e = t.find('\n', i);
    if (e == std::string::npos) e = t.size();
    std::size_t k = i;
    while (k < e && (t[k] == ' ' || t[k] == '\t' || t[k] == '@')) ++k;
    const std::string_view l = std::string_view(t).substr(k, e - k);
    const bool rem = l.size() >= 3 && l.substr(0, 3) == "rem" && (l.size() == 3 || l[3] == ' ' || l[3] == '\r');
    if ((ps && l.starts_with("#")) || (bat && (l.starts_with("::") || rem)) || (js && l.starts_with("//")) ||
        (vb && (l.starts_with("'") || rem)))
      blank(k, e);
    i = e + 1;
  }
}

void add_layer(Prepared& p, std::string_view raw, std::string origin) {
  if (raw.size() < 4 || p.layers.size() >= limits::max_layers || p.layer_bytes + raw.size() > limits::max_layer_bytes) return;
  std::string t = prepare(raw, nullptr);
  for (const auto& l : p.layers)
    if (l.text == t) return;
  p.layer_bytes += t.size();
  p.layers.push_back({std::move(t), std::move(origin)});
}

// ---------------------------------------------------------------------------------------------------------------
// Decoders for JScript: String.fromCharCode with literal numbers, and long literal number arrays.

struct NumberRun {
  std::size_t start = 0, count = 0;
  std::string decoded;  // when every number is a printable character code
};

// Reads comma-separated integers (decimal or 0x hex) from text[i]; stops at anything else. Bounded by `max`.
NumberRun read_numbers(std::string_view t, std::size_t i, std::size_t max) {
  NumberRun r;
  r.start = i;
  bool printable = true;
  while (i < t.size() && r.count < max) {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n')) ++i;
    std::uint64_t v = 0;
    std::size_t d = 0;
    if (i + 1 < t.size() && t[i] == '0' && t[i + 1] == 'x') {
      i += 2;
      while (i < t.size() && hexval(t[i]) >= 0 && d < 8) v = v * 16 + static_cast<unsigned>(hexval(t[i])), ++i, ++d;
    } else {
      while (i < t.size() && is_digit(t[i]) && d < 9) v = v * 10 + static_cast<unsigned>(t[i] - '0'), ++i, ++d;
    }
    if (d == 0) break;
    ++r.count;
    if (printable) {
      if ((v >= 0x20 && v < 0x7f) || v == '\n' || v == '\r' || v == '\t') r.decoded.push_back(static_cast<char>(v));
      else printable = false;
    }
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t')) ++i;
    if (i >= t.size() || t[i] != ',') break;
    ++i;
  }
  if (!printable) r.decoded.clear();
  return r;
}

struct JsStats {
  std::size_t from_char_code = 0;   // String.fromCharCode( calls
  std::size_t longest_numbers = 0;  // longest run of comma-separated numbers
  std::size_t longest_literal = 0;  // longest string literal
  std::size_t escapes = 0;          // \xHH and \uHHHH escapes in the input
};

void js_decode(std::string_view orig, Prepared& p, JsStats& st) {
  const std::string_view t = orig;
  // fromCharCode with literal numbers (case as written: the prepared text is lower case, the numbers are not).
  for (std::size_t pos = 0, guard = 0; guard < 4096; ++guard) {
    pos = ifind(t, "fromcharcode(", pos);
    if (pos == std::string_view::npos) break;
    ++st.from_char_code;
    pos += 13;
    NumberRun r = read_numbers(t, pos, 1u << 16);
    if (r.decoded.size() >= 4) add_layer(p, r.decoded, "char codes");
  }
  // Long runs of numbers anywhere (arrays of char codes, often shifted by a key: only their length is measured).
  std::string joined;
  for (std::size_t i = 0, guard = 0; i < t.size() && guard < (1u << 20); ++guard) {
    const char c = t[i];
    if ((c == '[' || c == '(' || c == ',') && i + 1 < t.size()) {
      std::size_t j = i + 1;
      while (j < t.size() && (t[j] == ' ' || t[j] == '\n' || t[j] == '\r' || t[j] == '\t')) ++j;
      if (j < t.size() && is_digit(t[j])) {
        NumberRun r = read_numbers(t, j, 1u << 20);
        st.longest_numbers = std::max(st.longest_numbers, r.count);
        if (r.count >= 32 && r.decoded.size() >= 32) add_layer(p, r.decoded, "char codes");
        i = std::max(j + 1, r.start + 1);
        // skip past the run
        while (i < t.size() && (is_digit(t[i]) || t[i] == ',' || t[i] == ' ' || t[i] == 'x' || is_xdigit(t[i]))) ++i;
        continue;
      }
    }
    ++i;
  }
  // String literals and escapes.
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\\' && i + 1 < t.size() && (t[i + 1] == 'x' || t[i + 1] == 'u')) ++st.escapes;
    if (t[i] == '"' || t[i] == '\'') {
      const char q = t[i];
      std::size_t j = i + 1;
      while (j < t.size() && t[j] != q && t[j] != '\n') j += (t[j] == '\\') ? 2 : 1;
      st.longest_literal = std::max(st.longest_literal, std::min(j, t.size()) - i - 1);
      i = std::min(j, t.size());
    }
  }
}

// Long base64 literals that decode to text (a command, a script) become layers. Data URIs are images and fonts.
void base64_layers(std::string_view orig, Prepared& p) {
  std::size_t tried = 0;
  for (std::size_t i = 0; i < orig.size() && tried < limits::max_base64_literals;) {
    const char c = orig[i];
    if (!(is_alnum(c) || c == '+' || c == '/')) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < orig.size() && (is_alnum(orig[j]) || orig[j] == '+' || orig[j] == '/' || orig[j] == '=')) ++j;
    if (j - i >= limits::min_base64_literal) {
      const bool data_uri = i >= 7 && iequals(orig.substr(i - 7, 7), "base64,");
      if (!data_uri) {
        ++tried;
        std::string_view lit = orig.substr(i, j - i);
        if (lit.size() % 4 != 0) lit = lit.substr(0, lit.size() - lit.size() % 4);
        if (auto bytes = base64_decode(lit, 1u << 20)) {
          if (auto u = utf16le_text(*bytes)) {
            add_layer(p, *u, "base64");
          } else {
            std::string s(bytes->begin(), bytes->end());
            if (mostly_printable(s, 0.95)) add_layer(p, s, "base64");
          }
        }
      }
    }
    i = j + 1;
  }
}

// <script ...> blocks of an HTML application, scriptlet or Windows Script File, with whether each is VBScript.
struct Block {
  std::string_view code;
  bool vbscript = false;
};

std::vector<Block> script_blocks(std::string_view orig) {
  std::vector<Block> out;
  for (std::size_t pos = 0; out.size() < 256;) {
    const std::size_t open = ifind(orig, "<script", pos);
    if (open == std::string_view::npos) break;
    const std::size_t gt = orig.find('>', open);
    if (gt == std::string_view::npos) break;
    const std::string_view tag = orig.substr(open, gt - open);
    std::size_t close = ifind(orig, "</script", gt);
    if (close == std::string_view::npos) close = orig.size();
    std::string_view code = orig.substr(gt + 1, close - gt - 1);
    // CDATA wrappers of .wsf/.sct files.
    if (const auto cd = code.find("<![CDATA["); cd != std::string_view::npos && cd < 64) code.remove_prefix(cd + 9);
    out.push_back({code, ifind(tag, "vbscript") != std::string_view::npos || ifind(tag, "vbs") != std::string_view::npos});
    pos = close + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Searching

struct Hit {
  bool found = false;
  std::size_t offset = 0;     // in the main text, or in the layer
  std::size_t layer = SIZE_MAX;  // SIZE_MAX: the main text
};

// A list of words to look for: a braced list at the call, or one of the k* arrays below.
struct Needles {
  const std::string_view* first = nullptr;
  std::size_t n = 0;
  Needles() = default;
  // The list lives until the end of the call that it is an argument of, which is as long as a Needles is used.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
  Needles(std::initializer_list<std::string_view> l) : first(l.begin()), n(l.size()) {}
#pragma GCC diagnostic pop
  template <std::size_t N>
  Needles(const std::string_view (&a)[N]) : first(a), n(N) {}  // NOLINT: implicit on purpose
  const std::string_view* begin() const { return first; }
  const std::string_view* end() const { return first + n; }
  std::size_t size() const { return n; }
};

struct Searcher {
  const Prepared& p;

  std::string_view where(std::size_t layer) const {
    return layer == SIZE_MAX ? std::string_view(p.text) : std::string_view(p.layers[layer].text);
  }

  Hit find_in(std::size_t layer, Needles ns) const {
    const std::string_view t = where(layer);
    Hit best;
    for (auto n : ns) {
      const auto at = t.find(n);
      if (at != std::string_view::npos && (!best.found || at < best.offset)) best = {true, at, layer};
    }
    return best;
  }

  Hit main(Needles ns) const { return find_in(SIZE_MAX, ns); }

  Hit any(Needles ns) const {
    if (Hit h = main(ns); h.found) return h;
    return layers(ns);
  }

  Hit layers(Needles ns) const {
    for (std::size_t i = 0; i < p.layers.size(); ++i)
      if (Hit h = find_in(i, ns); h.found) return h;
    return {};
  }

  // The line (of the main text or of a layer) around `at`, bounded on each side.
  static std::string_view line_around(std::string_view t, std::size_t at) {
    const std::size_t lo = at > 4096 ? at - 4096 : 0;
    std::size_t b = t.rfind('\n', at);
    b = (b == std::string_view::npos || b < lo) ? lo : b + 1;
    std::size_t e = t.find('\n', at);
    e = std::min(e == std::string_view::npos ? t.size() : e, at + 4096);
    return t.substr(b, std::min(e, t.size()) - b);
  }

  static bool contains_any(std::string_view s, Needles ns) {
    for (auto n : ns)
      if (s.find(n) != std::string_view::npos) return true;
    return false;
  }

  // A line that holds one of `a` and one of `b` (and one of `c`, when given); main text first, then the layers.
  Hit line_with(Needles a, Needles b, Needles c = {}) const {
    auto scan = [&](std::size_t layer) -> Hit {
      const std::string_view t = where(layer);
      for (auto n : a) {
        std::size_t pos = 0;
        for (std::size_t guard = 0; guard < 2048; ++guard) {
          const auto at = t.find(n, pos);
          if (at == std::string_view::npos) break;
          const auto line = line_around(t, at);
          if (contains_any(line, b) && (c.size() == 0 || contains_any(line, c))) return {true, at, layer};
          pos = at + n.size();
        }
      }
      return {};
    };
    if (Hit h = scan(SIZE_MAX); h.found) return h;
    for (std::size_t i = 0; i < p.layers.size(); ++i)
      if (Hit h = scan(i); h.found) return h;
    return {};
  }

  // "line 12: <the line as written>" or "decoded (powershell): <the decoded line>".
  std::string show(const Hit& h) const {
    auto clip = [](std::string_view s) {
      while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
      while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
      std::string r(s.substr(0, limits::max_shown_line));
      for (char& ch : r)
        if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
      if (s.size() > limits::max_shown_line) r += "...";
      return r;
    };
    if (h.layer != SIZE_MAX) {
      const std::string_view t = where(h.layer);
      std::string_view line = line_around(t, h.offset);
      if (line.size() > limits::max_shown_line) line = t.substr(h.offset > 80 ? h.offset - 80 : 0, limits::max_shown_line);
      return "decoded (" + p.layers[h.layer].origin + "): " + clip(line);
    }
    const auto it = std::upper_bound(p.lines.begin(), p.lines.end(), h.offset);
    const std::size_t line = static_cast<std::size_t>(it - p.lines.begin());  // 1-based
    std::string_view text;
    if (line >= 1 && line - 1 < p.orig_lines.size()) {
      const std::size_t b = p.orig_lines[line - 1];
      const std::size_t e = line < p.orig_lines.size() ? p.orig_lines[line] : p.orig.size();
      text = std::string_view(p.orig).substr(b, e - b);
      if (text.size() > limits::max_shown_line * 4) {
        // A minified line: show the part around the match instead of its start.
        const std::size_t rel = h.offset - (line - 1 < p.lines.size() ? p.lines[line - 1] : 0);
        const std::size_t from = rel > 80 ? std::min(rel - 80, text.size()) : 0;
        text = text.substr(from);
      }
    }
    return "line " + std::to_string(line) + ": " + clip(text);
  }
};

// ---------------------------------------------------------------------------------------------------------------
// Needle sets

constexpr std::string_view kDownloadApi[] = {"msxml2.xmlhttp", "microsoft.xmlhttp", "msxml2.serverxmlhttp", "winhttprequest",
                                  "urldownloadtofile", "net.webclient", "downloadfile(", "downloadstring(",
                                  "downloaddata(", "downloadfileasync", "invoke-webrequest", "invoke-restmethod",
                                  "start-bitstransfer", "net.http.httpclient"};
constexpr std::string_view kWshShell[] = {"wscript.shell", "shell.application", "win32_process"};
constexpr std::string_view kRun[] = {".run ", ".run(", ".exec(", ".exec ", "shellexecute", ".create(", ".create "};
constexpr std::string_view kPsExec[] = {"start-process", "invoke-item", "diagnostics.process]::start", "invoke-expression",
                             "iex ", "iex(", "|iex", "| iex", "invoke-wmimethod"};
constexpr std::string_view kWrite[] = {"adodb.stream", "savetofile", "createtextfile", "writeallbytes", "-outfile", "out-file",
                            "set-content", ".responsebody", "copyfile"};
constexpr std::string_view kTempPath[] = {"%temp%", "%tmp%", "%appdata%", "%public%", "$env:temp", "$env:tmp",
                               "$env:appdata", "$env:public", "getspecialfolder(2)", "\\appdata\\",
                               "gettemppath"};
constexpr std::string_view kPowerShell[] = {"powershell", "pwsh"};
constexpr std::string_view kPsInvoke[] = {"iex", "invoke-expression", "scriptblock]::create", ".invoke("};
constexpr std::string_view kPsDownload[] = {"downloadstring", "downloaddata", "downloadfile", "invoke-webrequest", "iwr ",
                                 "invoke-restmethod", "irm ", "net.webclient", "start-bitstransfer", "wget ", "curl ",
                                           "responsetext"};
constexpr std::string_view kHidden[] = {"-w hidden", "-windowstyle hidden", "-win hidden", "-window hidden", "-wi hidden",
                             "-w 1 ", "windowstyle hidden", "-nop -w", "-windowstyle 1"};
constexpr std::string_view kPersist[] = {"autoexec.bat", "currentversion\\run", "schtasks /create", "schtasks.exe /create", "schtasks /f /create",
                              "register-scheduledtask", "new-scheduledtasktrigger", "\\start menu\\programs\\startup",
                              "startup\\", "\\winlogon\\userinit", "image file execution options"};
// Words that, when no line of the script shows them but a decoded layer does, were hidden on purpose.
constexpr std::array<std::string_view, 22> kHiddenWords = {
    "wscript.shell", "shell.application", "powershell", "cmd.exe", "cmd /c", "mshta", "rundll32", "regsvr32",
    "downloadstring", "downloadfile", "net.webclient", "msxml2.xmlhttp", "winhttprequest", "adodb.stream",
    "invoke-expression", "frombase64string", "bitsadmin", "certutil", "schtasks", "activexobject",
    "urldownloadtofile", "start-process"};

// ---------------------------------------------------------------------------------------------------------------

struct Rules {
  const Prepared& p;
  Searcher s;
  Lang lang;
  Assessment& a;

  void add(const char* rule, int points, const Hit& h, std::string_view prefix = {}) {
    std::string d(prefix);
    if (h.found) d += (d.empty() ? "" : "; ") + s.show(h);
    a.findings.push_back({std::string("script.") + rule, points, std::move(d)});
  }
  bool has(std::string_view rule) const {
    for (const auto& f : a.findings)
      if (f.rule.size() > 7 && std::string_view(f.rule).substr(7) == rule) return true;
    return false;
  }
};

bool wsh_lang(Lang l) {
  return l == Lang::js || l == Lang::vbs || l == Lang::vba || l == Lang::hta || l == Lang::wsf || l == Lang::sct;
}

std::string camel(std::string_view rule) {
  std::string r;
  bool up = true;
  for (char c : rule.substr(rule.find('.') + 1)) {
    if (c == '_') {
      up = true;
      continue;
    }
    r.push_back(up ? upper(c) : c);
    up = false;
  }
  return r;
}

}  // namespace

Assessment assess(std::string_view bytes, Lang lang) {
  Assessment a;
  a.lang = lang;
  Prepared p;
  p.orig = as_text(bytes, a.notes);
  p.orig_lines.push_back(0);
  for (std::size_t i = 0; i < p.orig.size(); ++i)
    if (p.orig[i] == '\n') p.orig_lines.push_back(i + 1);
  p.text = prepare(p.orig, &p.lines);
  blank_comments(p.text, lang);
  const std::string_view orig = p.orig;
  const std::string_view text = p.text;

  // --- Decoded layers -------------------------------------------------------------------------------------------
  const bool vb_like = lang == Lang::vbs || lang == Lang::vba ||
                       (lang == Lang::unknown && text.find("createobject(") != std::string_view::npos);
  auto evaluate = [&](std::string_view code) {
    const Evaluation ev = evaluate_vba(code.substr(0, std::min(code.size(), limits::max_evaluated_bytes)), "script");
    for (const auto& d : ev.strings) add_layer(p, d.value, "evaluated");
    merge_iocs(a.iocs, ev.iocs);
    if (ev.limits_hit) a.notes.push_back("evaluator limits hit: " + std::to_string(ev.limits_hit));
  };
  JsStats js;
  if (vb_like) evaluate(orig);
  if (lang == Lang::hta || lang == Lang::wsf || lang == Lang::sct || lang == Lang::html) {
    for (const auto& b : script_blocks(orig)) {
      if (b.vbscript) evaluate(b.code);
      else js_decode(b.code, p, js);
    }
  }
  if (lang == Lang::js || lang == Lang::unknown) js_decode(orig, p, js);
  // PowerShell: the lines that start it (any language), and a PowerShell script's own encodings.
  {
    std::size_t lines = 0;
    for (auto n : kPowerShell) {
      for (std::size_t pos = 0; lines < limits::max_powershell_lines;) {
        const auto at = text.find(n, pos);
        if (at == std::string_view::npos) break;
        ++lines;
        const auto it = std::upper_bound(p.lines.begin(), p.lines.end(), at);
        const std::size_t line = static_cast<std::size_t>(it - p.lines.begin());
        const std::size_t b = p.orig_lines[line - 1];
        const std::size_t e = line < p.orig_lines.size() ? p.orig_lines[line] : orig.size();
        for (auto& layer : decode_powershell(orig.substr(b, std::min(e - b, limits::max_evaluated_bytes)))) {
          a.decoded.push_back(layer.substr(0, 4096));
          add_layer(p, layer, "powershell");
        }
        pos = line < p.lines.size() ? std::max(p.lines[line], at + 1) : text.size();
      }
    }
    if (lang == Lang::ps1 && Searcher::contains_any(text, {"frombase64string", "[char]", "-join", "-bxor", "deflatestream",
                                                          "gzipstream", "-split", ".replace("}))
      for (auto& layer : decode_powershell(orig.substr(0, std::min(orig.size(), limits::max_evaluated_bytes)))) {
        a.decoded.push_back(layer.substr(0, 4096));
        add_layer(p, layer, "powershell");
      }
  }
  if (lang != Lang::js && lang != Lang::html) base64_layers(orig, p);
  else if (Searcher::contains_any(text, {"atob(", "frombase64string", "base64decode", "decodebase64"})) base64_layers(orig, p);

  // --- Rules ----------------------------------------------------------------------------------------------------
  Rules r{p, Searcher{p}, lang, a};
  const Searcher& s = r.s;

  // Encoded with the Script Encoder (.jse/.vbe): only the script engine reads it, and only malware still uses it.
  // (The markers hold carets, which the prepared text drops: looked for in the input.)
  if (const auto at = orig.find("#@~^"); at != std::string_view::npos && orig.find("^#~@", at) != std::string_view::npos)
    r.add("encoded_script", 100, {}, "line " + std::to_string(std::upper_bound(p.orig_lines.begin(), p.orig_lines.end(), at) -
                                                              p.orig_lines.begin()) + ": Script Encoder marker #@~^");

  const Hit dl = s.any(kDownloadApi);
  const Hit shell = s.any(kWshShell);
  const Hit run = s.any(kRun);
  const Hit write = s.any(kWrite);
  const Hit temp = s.any(kTempPath);
  const bool wsh = wsh_lang(lang) || lang == Lang::unknown || s.any({"activexobject", "wscript."}).found;
  // Droppers run silently; administrators' scripts report what they did.
  const bool talks = s.main({"wscript.echo", "msgbox", ".stdout", "objout.", "write-host", "write-output", "echo "}).found;

  // A WSH script that fetches something and runs it: the dropper. Deployment scripts do the same, so the full
  // weight needs the dropper's shape too: silent, small or saving into the user's temporary folders.
  if (wsh && lang != Lang::ps1 && dl.found && shell.found && run.found) {
    r.add("download_execute", 60, dl, write.found ? "downloads, saves and runs" : "downloads and runs");
    // (Deployment frameworks are libraries of tens of thousands of lines; droppers are short.)
    if (write.found && orig.size() < 50000 && (temp.found || !talks || orig.size() < 6000)) {
      std::string why = temp.found ? "into a temporary folder" : !talks ? "silently" : "in a few lines";
      r.add("dropper_shape", 40, temp.found ? temp : write, why);
    }
  }

  // PowerShell download cradles: the fetched text is run as code. Installers do this too (the one-line installs
  // of package managers), so alone it is weak; a hidden window, plain http or an IP host add to it.
  const Hit cradle = s.line_with(kPsInvoke, kPsDownload);
  if (cradle.found) r.add("powershell_cradle", lang == Lang::ps1 ? 30 : 40, cradle);
  else if (lang != Lang::ps1)
    if (Hit h2 = s.line_with(kPowerShell, kPsDownload); h2.found) r.add("powershell_download", 30, h2);
  // -EncodedCommand with a literal base64 argument that decodes to UTF-16 text.
  {
    std::size_t lines = 0;
    for (std::size_t pos = 0; lines < limits::max_powershell_lines;) {
      const auto at = text.find(" -e", pos);
      if (at == std::string_view::npos) break;
      pos = at + 3;
      // the switch: -e, -ec, -en..., -encodedcommand; then blanks; then the argument
      std::size_t k = at + 2;
      while (k < text.size() && is_alpha(text[k])) ++k;
      const std::string_view sw = text.substr(at + 2, k - at - 2);
      if (!(sw == "e" || sw == "ec" || (sw.size() >= 2 && std::string_view("encodedcommand").starts_with(sw)))) continue;
      while (k < text.size() && (text[k] == ' ' || text[k] == '"' || text[k] == '\'')) ++k;
      std::size_t e = k;
      while (e < text.size() && (is_alnum(text[e]) || text[e] == '+' || text[e] == '/' || text[e] == '=')) ++e;
      if (e - k < 24) continue;
      ++lines;
      // Base64 is case-sensitive: read the argument from the input line, not the lower-case text.
      const auto it = std::upper_bound(p.lines.begin(), p.lines.end(), k);
      const std::size_t line = static_cast<std::size_t>(it - p.lines.begin());
      const std::size_t lb = p.orig_lines[line - 1];
      const std::size_t le = line < p.orig_lines.size() ? p.orig_lines[line] : orig.size();
      const std::string_view src = orig.substr(lb, le - lb);
      const std::size_t rel = ifind(src, text.substr(k, std::min<std::size_t>(e - k, 16)));
      if (rel == std::string_view::npos) continue;
      std::size_t re = rel;
      while (re < src.size() && (is_alnum(src[re]) || src[re] == '+' || src[re] == '/' || src[re] == '=')) ++re;
      std::string_view b64 = src.substr(rel, re - rel);
      b64 = b64.substr(0, b64.size() - b64.size() % 4);
      auto bytes = base64_decode(b64, 1u << 20);
      if (!bytes) continue;
      auto u = utf16le_text(*bytes);
      if (!u) continue;
      a.decoded.push_back(u->substr(0, 4096));
      add_layer(p, *u, "encoded command");
      r.add("encoded_powershell", 60, {true, at, SIZE_MAX});
      const std::string dec = to_lower(*u);
      for (std::string_view w : {"downloadstring", "downloaddata", "downloadfile", "net.webclient", "invoke-webrequest",
                                 "iwr ", "iex", "invoke-expression", "start-process", "frombase64string", "virtualalloc",
                                 "http://", "https://", "bitstransfer"})
        if (dec.find(w) != std::string::npos) {
          r.add("encoded_powershell_payload", 50, {}, "the encoded command holds \"" + std::string(w) + "\"");
          break;
        }
      break;
    }
  }

  // Batch files that fetch with curl/wget and start what they saved in the user's folders.
  if (lang == Lang::bat || lang == Lang::unknown) {
    if (Hit h = s.line_with({"curl", "wget"}, {"http"}); h.found) {
      r.add("batch_download", 30, h);
      if (Hit h2 = s.line_with({"start ", "call ", "cmd /c ", "rundll32 ", "regsvr32 ", "wscript ", "cscript ", "mshta "},
                               {"%temp%", "%tmp%", "%appdata%", "%public%"});
          h2.found)
        r.add("run_downloaded", 50, h2);
    }
  }

  // Living-off-the-land binaries that fetch or decode.
  if (Hit h = s.line_with({"certutil"}, {"urlcache", "verifyctl"}, {"http"}); h.found) r.add("certutil_download", 100, h);
  else if (Hit h2 = s.line_with({"certutil"}, {"-decode", "/decode"}); h2.found && !s.main({"-decodehex", "/decodehex"}).found)
    r.add("certutil_decode", 30, h2);
  if (Hit h = s.line_with({"bitsadmin"}, {"/transfer", "/addfile", "-transfer"}, {"http"}); h.found) r.add("bitsadmin_download", 50, h);
  if (Hit h = s.line_with({"mshta"}, {"http:", "https:"}); h.found) r.add("mshta_remote", 100, h);
  else if (Hit h2 = s.line_with({"mshta"}, {"vbscript:", "javascript:"}, {"wscript.shell", ".run", "powershell", "shell.application", "http"});
           h2.found)
    r.add("mshta_inline_run", 100, h2);
  if (Hit h = s.line_with({"regsvr32"}, {"/i:http", "-i:http"}); h.found) r.add("regsvr32_scriptlet", 100, h);
  if (Hit h = s.line_with({"rundll32"}, {"javascript:", "vbscript:", "mshtml,runhtmlapplication"}); h.found)
    r.add("rundll32_script", 100, h);

  // Words no line shows that a decoded layer does: hidden on purpose.
  for (auto w : kHiddenWords) {
    if (text.find(w) != std::string_view::npos) continue;
    for (std::size_t i = 0; i < p.layers.size(); ++i) {
      if (p.layers[i].origin == "powershell" || p.layers[i].origin == "encoded command") continue;  // said above
      if (Hit h = s.find_in(i, {w}); h.found) {
        r.add("hidden_command", 100, h, "\"" + std::string(w) + "\" appears only after decoding");
        break;
      }
    }
    if (r.has("hidden_command")) break;
  }

  // Code run from a string that was decoded at run time.
  {
    const Hit evalish = s.main({"eval(", "executeglobal", "execute(", "new function(", "scriptblock]::create",
                                "invoke-expression", "iex(", "iex "});
    const Hit decoder = s.main({"fromcharcode", "unescape(", "atob(", "charcodeat", "strreverse", "frombase64string",
                                "-bxor", ".reverse().join", "chrw(", "chr("});
    std::size_t chr_calls = 0;
    for (std::size_t pos = 0; chr_calls < 4096;) {
      pos = text.find("chr", pos);
      if (pos == std::string_view::npos) break;
      pos += 3;
      if (pos < text.size() && (text[pos] == '(' || (text[pos] == 'w' && pos + 1 < text.size() && text[pos + 1] == '('))) ++chr_calls;
    }
    const bool heavy = chr_calls >= 200 || js.longest_numbers >= 64 || js.from_char_code >= 8 || js.longest_literal >= 4096 || js.escapes >= 200;
    if (evalish.found && decoder.found && heavy) {
      r.add("obfuscated_eval", 60, evalish, "runs code it decodes");
      if (wsh && s.any({"activexobject", "createobject(", "wscript.", "getobject("}).found)
        r.add("obfuscated_wsh", 50, s.any({"activexobject", "createobject(", "wscript.", "getobject("}));
    }
  }

  // An executable carried inside the script (base64 "TVqQAA" is "MZ\x90\0", or the bytes as hex/decimal): a
  // dropper that needs no download. Writing it out makes it malicious.
  if (Hit h = s.main({"tvqqaa", "4d5a9000", "0x4d,0x5a,0x90", "77,90,144,0"}); h.found) {
    if (write.found || s.any({"writeallbytes", "set-content", "[io.file]", "savetofile", "writefile"}).found)
      r.add("embedded_executable", 100, h, "an executable image written out by the script");
    else
      r.add("embedded_executable_data", 30, h, "an executable image inside the script");
  }

  // Names built by calls at run time: obj[decode("key")](...) dozens of times, the shape of javascript-obfuscator
  // and of the word-salad JScript droppers; libraries name their members.
  {
    std::size_t computed = 0;
    for (std::size_t pos = 0; computed < 1000;) {
      pos = text.find('[', pos);
      if (pos == std::string_view::npos) break;
      std::size_t k = ++pos;
      while (k < text.size() && (is_alnum(text[k]) || text[k] == '_' || text[k] == '$')) ++k;
      if (k == pos || k + 2 >= text.size() || text[k] != '(' || (text[k + 1] != '"' && text[k + 1] != '\'')) continue;
      const char q = text[k + 1];
      const std::size_t close = text.find(q, k + 2);
      if (close == std::string_view::npos || close - k - 2 < 3 || close - k - 2 > 60) continue;
      if (text.substr(k + 2, close - k - 2).find('\n') != std::string_view::npos) continue;
      if (close + 2 < text.size() && text[close + 1] == ')' && text[close + 2] == ']') ++computed;
    }
    if (computed >= 16 && lang != Lang::ps1 && lang != Lang::bat && lang != Lang::vbs && lang != Lang::vba) {
      r.add("computed_names", 60, {}, std::to_string(computed) + " members named by decoding calls (obj[f(\"...\")])");
      if (wsh && !r.has("obfuscated_wsh") && s.any({"activexobject", "wscript", "createobject", "getobject("}).found)
        r.add("obfuscated_wsh", 50, s.any({"activexobject", "wscript", "createobject", "getobject("}));
    }
  }

  // PowerShell that loads code into memory.
  if (Hit h = s.line_with({"reflection.assembly]::load"}, {"frombase64string", "downloaddata", "readallbytes"}); h.found)
    r.add("reflective_load", 100, h);
  if (Hit h = s.any({"virtualalloc"}); h.found && s.any({"createthread", "getdelegateforfunctionpointer"}).found)
    r.add("shellcode_runner", 100, h);
  if (Hit h = s.any({"amsiinitfailed", "amsiutils", "amsiscanbuffer"}); h.found) r.add("amsi_bypass", 100, h);
  if (Hit h = s.line_with({"mppreference"}, {"exclusion", "disablerealtimemonitoring", "disableioavprotection"}); h.found)
    r.add("defender_tamper", 40, h);

  // Batch and VBScript viruses.
  if (lang == Lang::bat || lang == Lang::unknown) {
    const Hit self = s.line_with({"%0"}, {">>", "copy ", "type ", "find "});
    const Hit targets = s.line_with({"for "}, {"*.bat", "*.cmd", "*.com", "*.exe"});
    if (self.found && targets.found) r.add("batch_infector", 100, self);
    if (Hit h = s.main({"%0|%0", "%0 | %0"}); h.found) r.add("fork_bomb", 100, h);
  }
  if (Hit h = s.main({"format c:", "del /f /s /q c:\\", "del /s /q c:\\", "del /f /q /s c:\\", "rd /s /q c:\\",
                      "deltree /y c:\\", "vssadmin delete shadows", "vssadmin.exe delete shadows", "shadowcopy delete",
                      "wbadmin delete catalog", "recoveryenabled no"});
      h.found)
    r.add("destructive", 100, h);
  if (wsh) {
    if (Hit h = s.line_with({"scriptfullname"}, {"copyfile", ".copy ", ".copy("}); h.found) r.add("self_copy", 40, h);
    if (Hit h = s.any({"outlook.application"}); h.found && s.any({"attachments.add"}).found) {
      const bool harvest = s.any({"addresslists", "addressentries", "contacts"}).found;
      r.add(harvest ? "mass_mailer" : "mail_attachment", harvest ? 100 : 40, h);
    }
  }
  if (lang == Lang::vba || lang == Lang::vbs || lang == Lang::unknown) {
    const Hit trigger = s.main({"sub autoopen", "sub document_open", "sub workbook_open", "sub auto_open", "sub autoexec",
                                "sub document_close", "sub auto_close", "sub autoclose", "sub workbook_beforeclose",
                                "sub document_new", "sub autonew"});
    const Hit act = s.any({"shell ", "shell(", "wscript.shell", "urldownloadtofile", "xmlhttp", "adodb.stream",
                           "shell.application", "powershell", "winhttprequest", "win32_process"});
    if (trigger.found && act.found) r.add("macro_loader", 100, act);
  }

  // Additions: where it runs from and how quietly; none decides alone.
  const bool active = !a.findings.empty();
  if (active) {
    if (Hit h = s.any(kPersist); h.found) r.add("persistence", 30, h);
    if (Hit h = s.any(kHidden); h.found) r.add("hidden_window", 30, h);
    if (Hit h = s.line_with({"executionpolicy bypass", "-ep bypass", "-exec bypass", "-ex bypass"}, {"powershell", "-nop"});
        h.found)
      r.add("policy_bypass", 10, h);
  }
  a.points = 0;
  for (const auto& f : a.findings) a.points += f.points;
  // IOCs: what the script fetches or runs; the URLs of a clean library are not worth listing. A download whose URL
  // is plain http, names an IP address or an executable adds to the weight.
  if (active) {
    merge_iocs(a.iocs, iocs_from_text(orig, "script"));
    for (const auto& l : p.layers) merge_iocs(a.iocs, iocs_from_text(l.text, "script:" + l.origin));
    const bool fetches = dl.found || cradle.found || r.has("powershell_download") || r.has("encoded_powershell_payload") ||
                         r.has("bitsadmin_download");
    bool exe = false, ip = false, plain = false;
    for (const auto& i : a.iocs) {
      if (i.type != "url" || !fetches) continue;
      const std::string v = to_lower(i.value);
      // Only URLs the code fetches count: on a line that downloads (not in a comment, a log message or a
      // documentation link), or in a decoded layer.
      if (const auto at = text.find(v); at != std::string_view::npos) {
        const auto line = Searcher::line_around(text, at);
        if (!Searcher::contains_any(line, kDownloadApi) && !Searcher::contains_any(line, kPsDownload) &&
            !Searcher::contains_any(line, {".open", "urlcache", "bitsadmin", "/transfer", "mshta", "regsvr32"}))
          continue;
      } else if (!s.layers({v}).found) {
        continue;
      }
      // (.ps1 is what a cradle fetches by nature; the cradle rule weighs that.)
      for (std::string_view ext : {".exe", ".scr", ".dll", ".jar", ".hta", ".vbs", ".bat", ".msi", ".cmd", ".js", ".pif"})
        if (v.size() > ext.size() && std::string_view(v).ends_with(ext) && !exe) {
          exe = true;
          a.findings.push_back({"script.url_executable", 15, i.value});
        }
      if (!plain && v.starts_with("http://")) {
        plain = true;
        a.findings.push_back({"script.url_plain_http", 20, i.value});
      }
      const std::size_t h0 = v.find("://");
      if (!ip && h0 != std::string::npos && h0 + 3 < v.size() && is_digit(v[h0 + 3])) {
        std::size_t k = h0 + 3, dots = 0;
        while (k < v.size() && (is_digit(v[k]) || v[k] == '.')) dots += v[k++] == '.';
        if (dots == 3) {
          ip = true;
          a.findings.push_back({"script.url_ip_host", 40, i.value});
        }
      }
    }
    a.points = 0;
    for (const auto& f : a.findings) a.points += f.points;
  }
  if (a.points < kSuspiciousPoints) a.iocs.clear();
  // The verdict is named after the strongest rule that says what the script does; the additions (where, how
  // quietly, which URL) name it only when nothing else fired.
  auto addition = [](std::string_view rule) {
    for (std::string_view x : {"script.persistence", "script.hidden_window", "script.policy_bypass", "script.url_executable",
                               "script.url_plain_http", "script.url_ip_host", "script.dropper_shape", "script.obfuscated_wsh",
                               "script.encoded_powershell_payload"})
      if (rule == x) return true;
    return false;
  };
  for (int pass = 0; pass < 2 && a.top_rule.empty(); ++pass) {
    int best = 0;
    for (const auto& f : a.findings)
      if ((pass == 1 || !addition(f.rule)) && f.points > best) best = f.points, a.top_rule = camel(f.rule);
  }
  return a;
}

}  // namespace mamori::analysis::script
