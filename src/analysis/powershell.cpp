// PowerShell (and cmd) command decoding: -EncodedCommand, FromBase64String payloads with optional Deflate/GZip,
// and a token rewriter that folds the string tricks droppers use ('ht'+'tp', [char]104, "{1}{0}" -f 'b','a',
// 'x'.replace('a','b'), 'lmth'[-1..-4] -join ''). Each step that changes the text is one layer; the caller scans
// every layer for IOCs.
#include <zlib.h>

#include <algorithm>
#include <string>

#include "analysis/iocs.hpp"
#include "analysis/text_util.hpp"
#include "common/bytes.hpp"
#include "common/codepage.hpp"

namespace mamori::analysis {

// ---- shared helpers (declared in text_util.hpp) ----

std::string replace_all(std::string_view s, std::string_view from, std::string_view to, bool icase) {
  if (from.empty()) return std::string(s);
  std::string r;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t p = icase ? ifind(s, from, i) : s.find(from, i);
    if (p == std::string_view::npos) break;
    r.append(s.substr(i, p - i));
    r.append(to);
    if (r.size() > limits::max_string) return r;
    i = p + from.size();
  }
  r.append(s.substr(std::min(i, s.size())));
  return r;
}

std::optional<std::string> utf16le_text(const std::vector<std::uint8_t>& b) {
  if (b.size() < 4) return std::nullopt;
  std::size_t zero_hi = 0;
  const std::size_t units = b.size() / 2;
  for (std::size_t i = 0; i < units; ++i)
    if (b[2 * i + 1] == 0) ++zero_hi;
  if (zero_hi * 10 < units * 8) return std::nullopt;
  return utf16le_to_utf8(ByteView(b.data(), units * 2), units);
}

bool mostly_printable(std::string_view s, double ratio) {
  if (s.empty()) return false;
  std::size_t ok = 0;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 0x20 && u < 0x7F) || c == '\r' || c == '\n' || c == '\t') ++ok;
  }
  return static_cast<double>(ok) >= ratio * static_cast<double>(s.size());
}

std::optional<std::vector<std::uint8_t>> inflate_bytes(const std::vector<std::uint8_t>& in, int window_bits,
                                                       std::size_t max_out) {
  z_stream z{};
  if (inflateInit2(&z, window_bits) != Z_OK) return std::nullopt;
  std::vector<std::uint8_t> out;
  std::uint8_t buf[16384];
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), 1u << 30));
  int rc = Z_OK;
  while (rc == Z_OK && out.size() < max_out) {
    z.next_out = buf;
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    const std::size_t got = sizeof buf - z.avail_out;
    out.insert(out.end(), buf, buf + std::min(got, max_out - out.size()));
    if (got == 0 && rc == Z_OK) break;  // no progress: truncated input
  }
  inflateEnd(&z);
  if (out.empty()) return std::nullopt;
  return out;
}

// ---- escapes ----

std::string strip_shell_escapes(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if ((c == '^' || c == '`') && i + 1 < s.size()) {
      r.push_back(s[++i]);  // "^^" and "``" keep one
      continue;
    }
    r.push_back(c);
  }
  return r;
}

namespace {

// ---- -EncodedCommand ----

// "-e", "-ec", "-en", "-enc", ..., "-encodedcommand" (any case, '-' or '/'), then the base64 argument.
std::optional<std::string> encoded_command(std::string_view s) {
  for (std::size_t i = 0; i + 2 < s.size(); ++i) {
    if (s[i] != '-' && s[i] != '/') continue;
    if (i > 0 && !is_space(s[i - 1]) && s[i - 1] != '"' && s[i - 1] != '\'') continue;
    std::size_t j = i + 1;
    while (j < s.size() && is_alpha(s[j])) ++j;
    const std::string flag = to_lower(s.substr(i + 1, j - i - 1));
    static constexpr std::string_view kFull = "encodedcommand";
    const bool is_flag = flag == "ec" || (!flag.empty() && flag.size() <= kFull.size() && kFull.substr(0, flag.size()) == flag);
    if (!is_flag || j >= s.size() || !is_space(s[j])) continue;
    while (j < s.size() && (is_space(s[j]) || s[j] == '"' || s[j] == '\'')) ++j;
    std::size_t k = j;
    while (k < s.size() && (is_alnum(s[k]) || s[k] == '+' || s[k] == '/' || s[k] == '=')) ++k;
    if (k - j < 16) continue;
    auto bytes = base64_decode(s.substr(j, k - j), limits::max_string);
    if (!bytes) continue;
    if (auto t = utf16le_text(*bytes)) return t;
    const std::string raw(bytes->begin(), bytes->end());
    if (mostly_printable(raw)) return raw;
  }
  return std::nullopt;
}

// ---- the token rewriter ----

struct Tok {
  enum Kind : std::uint8_t { str, word, num, punct, space } kind;
  std::string text;  // for str: the value (unquoted); otherwise the source text
};

std::vector<Tok> tokenize(std::string_view s) {
  std::vector<Tok> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '<' && i + 1 < s.size() && s[i + 1] == '#') {  // <# block comment #>: droppers hide decoy URLs in them
      const std::size_t e = s.find("#>", i + 2);
      i = e == std::string_view::npos ? s.size() : e + 2;
      out.push_back({Tok::space, " "});
      continue;
    }
    if (c == '\'' || c == '"') {
      std::string v;
      std::size_t j = i + 1;
      bool closed = false;
      while (j < s.size()) {
        if (s[j] == c) {
          if (j + 1 < s.size() && s[j + 1] == c) {  // '' or "" inside
            v.push_back(c);
            j += 2;
            continue;
          }
          closed = true;
          break;
        }
        v.push_back(s[j++]);
      }
      if (!closed) {
        out.push_back({Tok::punct, std::string(s.substr(i))});
        break;
      }
      out.push_back({Tok::str, std::move(v)});
      i = j + 1;
    } else if (is_space(c)) {
      std::size_t j = i;
      while (j < s.size() && is_space(s[j])) ++j;
      out.push_back({Tok::space, std::string(s.substr(i, j - i))});
      i = j;
    } else if (is_digit(c)) {
      std::size_t j = i;
      if (c == '0' && i + 1 < s.size() && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        j = i + 2;
        while (j < s.size() && is_xdigit(s[j])) ++j;
      } else {
        while (j < s.size() && is_digit(s[j])) ++j;
      }
      out.push_back({Tok::num, std::string(s.substr(i, j - i))});
      i = j;
    } else if (is_alpha(c) || c == '_' || c == '$' || c == '-') {
      std::size_t j = i + 1;
      while (j < s.size() && (is_alnum(s[j]) || s[j] == '_' || s[j] == ':' || s[j] == '.')) {
        if (s[j] == '.' && (c == '-' || j + 1 >= s.size() || !is_alpha(s[j + 1]))) break;
        ++j;
      }
      out.push_back({j == i + 1 && c == '-' ? Tok::punct : Tok::word, std::string(s.substr(i, j - i))});
      i = j;
    } else {
      out.push_back({Tok::punct, std::string(1, c)});
      ++i;
    }
  }
  return out;
}

std::string quote(std::string_view v) {
  std::string r = "'";
  for (char c : v) {
    if (c == '\'') r.push_back('\'');
    r.push_back(c);
  }
  r.push_back('\'');
  return r;
}

std::string serialize(const std::vector<Tok>& t) {
  std::string r;
  for (const auto& x : t) r += x.kind == Tok::str ? quote(x.text) : x.text;
  return r;
}

// Index of the next non-space token at or after i.
std::size_t skip(const std::vector<Tok>& t, std::size_t i) {
  while (i < t.size() && t[i].kind == Tok::space) ++i;
  return i;
}
bool is_p(const std::vector<Tok>& t, std::size_t i, char c) {
  return i < t.size() && t[i].kind == Tok::punct && t[i].text.size() == 1 && t[i].text[0] == c;
}
bool is_w(const std::vector<Tok>& t, std::size_t i, std::string_view w) {
  return i < t.size() && t[i].kind == Tok::word && iequals(t[i].text, w);
}

std::optional<long long> num_value(const Tok& t) {
  if (t.kind != Tok::num || t.text.empty() || t.text.size() > 12) return std::nullopt;
  if (t.text.size() > 2 && (t.text[1] == 'x' || t.text[1] == 'X')) return std::stoll(t.text.substr(2), nullptr, 16);
  return std::stoll(t.text);
}

// A -replace pattern read as a literal when it has no regex syntax beyond backslash escapes.
std::optional<std::string> regex_literal(std::string_view p) {
  std::string r;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      r.push_back(p[++i]);
      continue;
    }
    if (std::string_view("[](){}.*+?^$|").find(c) != std::string_view::npos) return std::nullopt;
    r.push_back(c);
  }
  return r;
}

// The value of "-f" applied to format string `f` with `args`, or nullopt when an index is missing.
std::optional<std::string> format_op(const std::string& f, const std::vector<std::string>& args) {
  std::string r;
  for (std::size_t p = 0; p < f.size(); ++p) {
    if (f[p] == '{' && p + 1 < f.size() && f[p + 1] == '{') { r.push_back('{'); ++p; continue; }
    if (f[p] == '}' && p + 1 < f.size() && f[p + 1] == '}') { r.push_back('}'); ++p; continue; }
    if (f[p] != '{') { r.push_back(f[p]); continue; }
    std::size_t q = p + 1, idx = 0;
    while (q < f.size() && is_digit(f[q]) && idx < 100000) idx = idx * 10 + static_cast<std::size_t>(f[q++] - '0');
    if (q >= f.size() || f[q] != '}' || q == p + 1 || idx >= args.size()) return std::nullopt;
    r += args[idx];
    if (r.size() > limits::max_string) return std::nullopt;
    p = q;
  }
  return r;
}

bool word_starting_minus(const std::vector<Tok>& t, std::size_t i) {
  return i < t.size() && ((t[i].kind == Tok::word && !t[i].text.empty() && t[i].text[0] == '-') || is_p(t, i, '-'));
}

// Operations applied to the literal `v` that starts at t[i]: '+' literal, .replace('a','b'), -replace 'a','b',
// -f 'x','y', [-1..-n] -join ''. Returns the index after what was consumed (i + 1 when nothing was).
std::size_t fold_literal(const std::vector<Tok>& t, std::size_t i, std::string& v) {
  std::size_t j = i + 1;
  for (int guard = 0; guard < 100000; ++guard) {
    const std::size_t op = skip(t, j);
    // 'a' + 'b'
    if (is_p(t, op, '+')) {
      const std::size_t rhs = skip(t, op + 1);
      if (rhs < t.size() && t[rhs].kind == Tok::str && v.size() + t[rhs].text.size() <= limits::max_string) {
        v += t[rhs].text;
        j = rhs + 1;
        continue;
      }
      break;
    }
    // .replace('a','b')
    if (op == j && is_p(t, op, '.') && is_w(t, op + 1, "replace") && is_p(t, op + 2, '(')) {
      const std::size_t a = skip(t, op + 3), comma = skip(t, a + 1), b = skip(t, comma + 1), close = skip(t, b + 1);
      if (a < t.size() && t[a].kind == Tok::str && is_p(t, comma, ',') && b < t.size() && t[b].kind == Tok::str &&
          is_p(t, close, ')')) {
        v = replace_all(v, t[a].text, t[b].text, false);
        j = close + 1;
        continue;
      }
      break;
    }
    // -replace 'a','b'
    if (is_w(t, op, "-replace") || is_w(t, op, "-creplace") || is_w(t, op, "-ireplace")) {
      const std::size_t a = skip(t, op + 1), comma = skip(t, a + 1), b = skip(t, comma + 1);
      if (a < t.size() && t[a].kind == Tok::str) {
        const auto lit = regex_literal(t[a].text);
        if (!lit) break;
        std::string to;
        std::size_t end = a + 1;
        if (is_p(t, comma, ',') && b < t.size() && t[b].kind == Tok::str) {
          to = t[b].text;
          end = b + 1;
        }
        v = replace_all(v, *lit, to, !is_w(t, op, "-creplace"));
        j = end;
        continue;
      }
      break;
    }
    // "{1}{0}" -f 'a','b'
    if (is_w(t, op, "-f") && v.find('{') != std::string::npos) {
      std::vector<std::string> args;
      std::size_t k = skip(t, op + 1), end = k;
      while (k < t.size() && t[k].kind == Tok::str && args.size() < 256) {
        args.push_back(t[k].text);
        end = k + 1;
        const std::size_t c = skip(t, k + 1);
        if (!is_p(t, c, ',')) break;
        k = skip(t, c + 1);
      }
      auto r = args.empty() ? std::nullopt : format_op(v, args);
      if (!r) break;
      v = std::move(*r);
      j = end;
      continue;
    }
    // 'lmth'[-1..-4] -join ''
    if (op == j && is_p(t, op, '[') && word_starting_minus(t, op + 1)) {
      std::size_t k = op + 1;
      while (k < t.size() && k < op + 12 && !is_p(t, k, ']')) ++k;
      const std::size_t jn = skip(t, k + 1);
      if (is_p(t, k, ']') && is_w(t, jn, "-join")) {
        const std::size_t sep = skip(t, jn + 1);
        j = sep < t.size() && t[sep].kind == Tok::str && t[sep].text.empty() ? sep + 1 : jn + 1;
        v.assign(v.rbegin(), v.rend());
        continue;
      }
      break;
    }
    break;
  }
  return j;
}

// One pass over the tokens, building the folded list; true when something changed. Linear in the tokens, so a
// script of many thousands of pieces folds in a few passes.
bool rewrite_pass(std::vector<Tok>& t) {
  std::vector<Tok> out;
  out.reserve(t.size());
  bool changed = false;
  auto last_non_space = [&]() -> const Tok* {
    for (std::size_t k = out.size(); k-- > 0;)
      if (out[k].kind != Tok::space) return &out[k];
    return nullptr;
  };
  std::size_t i = 0;
  while (i < t.size()) {
    // [char]NN, [char]0xNN, [char](NN)
    if (is_p(t, i, '[') && is_w(t, i + 1, "char") && is_p(t, i + 2, ']')) {
      const std::size_t j = i + 3;
      std::optional<long long> v;
      std::size_t end = 0;
      if (j < t.size() && t[j].kind == Tok::num) {
        v = num_value(t[j]);
        end = j + 1;
      } else if (is_p(t, j, '(') && j + 1 < t.size() && t[j + 1].kind == Tok::num && is_p(t, j + 2, ')')) {
        v = num_value(t[j + 1]);
        end = j + 3;
      }
      if (v && *v > 0 && *v < 0x110000) {
        out.push_back({Tok::str, utf8_of(static_cast<std::uint32_t>(*v))});
        i = end;
        changed = true;
        continue;
      }
    }
    // ('literal') -> 'literal', unless the parentheses are a call's: name('x') stays.
    if (is_p(t, i, '(')) {
      const std::size_t s = skip(t, i + 1);
      const std::size_t close = s < t.size() && t[s].kind == Tok::str ? skip(t, s + 1) : t.size();
      const Tok* prev = last_non_space();
      const bool call = prev != nullptr && out.back().kind != Tok::space && (prev->kind == Tok::word || (prev->kind == Tok::punct && prev->text == "]"));
      if (is_p(t, close, ')') && !call) {
        out.push_back({Tok::str, t[s].text});
        i = close + 1;
        changed = true;
        continue;
      }
    }
    if (t[i].kind == Tok::str) {
      std::string v = t[i].text;
      const std::size_t next = fold_literal(t, i, v);
      if (next != i + 1) changed = true;
      out.push_back({Tok::str, std::move(v)});
      i = next;
      continue;
    }
    out.push_back(std::move(t[i]));
    ++i;
  }
  t = std::move(out);
  return changed;
}

std::string fold_script(std::string_view s) {
  auto t = tokenize(s);
  for (int pass = 0; pass < 32 && rewrite_pass(t); ++pass) {
  }
  return serialize(t);
}

// [Convert]::FromBase64String('...') with an optional Deflate/GZip stream around it.
std::optional<std::string> from_base64_payload(std::string_view s) {
  const std::size_t p = ifind(s, "FromBase64String");
  if (p == std::string_view::npos) return std::nullopt;
  std::size_t q = p + 16;
  while (q < s.size() && (is_space(s[q]) || s[q] == '(')) ++q;
  if (q >= s.size() || (s[q] != '\'' && s[q] != '"')) return std::nullopt;
  const char quote_char = s[q];
  const std::size_t end = s.find(quote_char, q + 1);
  if (end == std::string_view::npos) return std::nullopt;
  auto bytes = base64_decode(s.substr(q + 1, end - q - 1), limits::max_string);
  if (!bytes || bytes->empty()) return std::nullopt;
  std::vector<std::uint8_t> plain = *bytes;
  const bool deflate = ifind(s, "DeflateStream") != std::string_view::npos;
  const bool gzip = ifind(s, "GZipStream") != std::string_view::npos;
  if (deflate || gzip) {
    auto inflated = inflate_bytes(*bytes, gzip ? 31 : -15, limits::max_inflate);
    if (!inflated) inflated = inflate_bytes(*bytes, 47, limits::max_inflate);  // zlib or gzip, auto-detected
    if (inflated) plain = std::move(*inflated);
  }
  if (auto u = utf16le_text(plain)) return u;
  std::string raw(plain.begin(), plain.end());
  if (mostly_printable(raw, 0.85)) return raw;
  return std::nullopt;
}

// One layer down, or nullopt.
std::optional<std::string> peel(std::string_view text) {
  const std::string unescaped = strip_shell_escapes(text);
  if (auto e = encoded_command(unescaped)) return e;
  if (auto b = from_base64_payload(unescaped)) return b;
  std::string folded = fold_script(unescaped);
  if (folded != text) return folded;
  return std::nullopt;
}

}  // namespace

std::vector<std::string> decode_powershell(std::string_view command) {
  std::vector<std::string> layers;
  std::string cur(command.substr(0, std::min(command.size(), limits::max_string)));
  for (std::uint32_t n = 0; n < limits::max_ps_layers; ++n) {
    auto next = peel(cur);
    if (!next || *next == cur) break;
    if (std::find(layers.begin(), layers.end(), *next) != layers.end()) break;
    layers.push_back(*next);
    cur = std::move(*next);
  }
  return layers;
}

}  // namespace mamori::analysis
