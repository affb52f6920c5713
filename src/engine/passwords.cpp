#include "engine/passwords.hpp"

#include <algorithm>
#include <cstring>

namespace mamori::engine {

namespace {

struct Keyword {
  std::string_view text;
  bool ascii;           // must start at an ASCII word boundary
  bool needs_separator; // short cues: only when ':', '=', '：' or 'は' follows ("pass the test" is no cue)
};

// Longest first where one cue starts another ("password" before "pass", "パスワード" before "パス").
constexpr Keyword kKeywords[] = {
    {"password", true, false},
    {"passwort", true, false},
    {"passcode", true, false},
    {"passwd", true, false},
    {"kennwort", true, false},
    {"contrase\xc3\xb1" "a", true, false},
    {"senha", true, false},
    {"mot de passe", true, false},
    {"wachtwoord", true, false},
    {"\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c", false, false},  // пароль
    {"\xe3\x83\x91\xe3\x82\xb9\xe3\x83\xaf\xe3\x83\xbc\xe3\x83\x89", false, false},  // パスワード
    {"\xe6\x9a\x97\xe8\xa8\xbc\xe7\x95\xaa\xe5\x8f\xb7", false, false},  // 暗証番号
    {"\xe5\xaf\x86\xe7\xa0\x81", false, false},                          // 密码
    {"pass", true, true},
    {"pwd", true, true},
    {"pw", true, true},
    {"\xe3\x83\x91\xe3\x82\xb9", false, true},  // パス
    {"\xe8\xa7\xa3\xe5\x87\x8d", false, true},  // 解凍 (extract)
};

// What may follow a short cue for it to count.
constexpr std::string_view kCueSeparators[] = {":", "=", "\xef\xbc\x9a" /* ： */, "\xe3\x81\xaf" /* は */};

// Token delimiters: blanks, ASCII punctuation around a word, CJK brackets and punctuation.
constexpr std::string_view kDelims[] = {
    " ", "\t", "\r", "\n", ":", ";", ",", "=", "\"", "'", "`", "(", ")", "<", ">", "[", "]", "{", "}",
    "\xef\xbc\x9a",                                                  // ：
    "\xe3\x80\x8c", "\xe3\x80\x8d", "\xe3\x80\x8e", "\xe3\x80\x8f",  // 「」『』
    "\xe3\x80\x81", "\xe3\x80\x82",                                  // 、。
    "\xe3\x80\x90", "\xe3\x80\x91", "\xef\xbc\x88", "\xef\xbc\x89",  // 【】（）
    "\xef\xbc\x8c",                                                  // ，
    "\xe2\x80\x9c", "\xe2\x80\x9d",                                  // “”
    "\xe3\x80\x80",                                                  // ideographic space
};

// Words between a cue and its password that are never the password (compared lower-cased).
constexpr std::string_view kFiller[] = {
    "is", "are", "the", "for", "to", "zip", "file", "files", "archive", "attached", "attachment", "of", "below",
    "as", "follows", "here", "und", "ist", "lautet", "le", "est", "es", "this", "your", "our", "open", "and",
    "use", "please", "-", "--", "pass", "password", "pw",
    "\xe3\x81\xaf",                          // は
    "\xe3\x81\xa7\xe3\x81\x99",              // です
    "\xe3\x81\x93\xe3\x81\xa1\xe3\x82\x89",  // こちら
    "\xe4\xb8\x8b\xe8\xa8\x98",              // 下記
    "\xe4\xbb\xa5\xe4\xb8\x8b",              // 以下
    "\xe3\x81\xae",                          // の
    "\xe3\x82\x92",                          // を
    "\xe3\x81\xab",                          // に
};

// Japanese endings glued to a password ("abc123です"), longest first.
constexpr std::string_view kSuffixes[] = {
    "\xe3\x81\xa7\xe3\x81\x94\xe3\x81\x96\xe3\x81\x84\xe3\x81\xbe\xe3\x81\x99",  // でございます
    "\xe3\x81\xa8\xe3\x81\xaa\xe3\x82\x8a\xe3\x81\xbe\xe3\x81\x99",              // となります
    "\xe3\x81\xab\xe3\x81\xaa\xe3\x82\x8a\xe3\x81\xbe\xe3\x81\x99",              // になります
    "\xe3\x81\xa7\xe3\x81\x99",                                                  // です
    "\xe3\x81\xa7\xe3\x81\x82\xe3\x82\x8b",                                      // である
    "\xe3\x81\xa7",                                                              // で
};

bool ascii_alnum(unsigned char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); }
bool ascii_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
bool sentence_end(char c) { return c == '.' || c == '!' || c == '?'; }

std::string lower_ascii(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return r;
}

bool starts_with_at(std::string_view s, std::size_t i, std::string_view w) {
  return i <= s.size() && s.size() - i >= w.size() && s.compare(i, w.size(), w) == 0;
}

std::size_t delim_at(std::string_view s, std::size_t i) {
  for (std::string_view d : kDelims)
    if (starts_with_at(s, i, d)) return d.size();
  return 0;
}

std::vector<std::string> tokens(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < s.size();) {
    if (const std::size_t d = delim_at(s, i)) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
      i += d;
      continue;
    }
    cur += s[i++];
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

bool is_filler(const std::string& t) {
  const std::string l = lower_ascii(t);
  return std::find(std::begin(kFiller), std::end(kFiller), l) != std::end(kFiller);
}

void strip_glue(std::string& t) {
  static constexpr std::string_view ha = "\xe3\x81\xaf";  // は
  if (t.size() > ha.size() && t.compare(0, ha.size(), ha) == 0) t.erase(0, ha.size());
  for (bool again = true; again;) {
    again = false;
    for (std::string_view sfx : kSuffixes) {
      if (t.size() > sfx.size() && t.compare(t.size() - sfx.size(), sfx.size(), sfx) == 0) {
        t.resize(t.size() - sfx.size());
        again = true;
      }
    }
  }
}

// Tokens of one line that could be a password: filler and glue gone.
std::vector<std::string> candidates_in(std::string_view line) {
  std::vector<std::string> toks = tokens(line);
  toks.erase(std::remove_if(toks.begin(), toks.end(),
                            [](std::string& t) {
                              strip_glue(t);
                              return t.empty() || is_filler(t);
                            }),
             toks.end());
  return toks;
}

// Length of the cue at `i` of the lower-cased text, 0 when none starts there.
std::size_t cue_at(std::string_view low, std::size_t i) {
  // Every cue starts with one of these bytes ('m' for "mot de passe"; the lead bytes of the Cyrillic, Japanese and
  // Chinese cues): most positions are rejected here.
  const unsigned char c = static_cast<unsigned char>(low[i]);
  if (c != 'p' && c != 'k' && c != 'c' && c != 's' && c != 'm' && c != 'w' && c != 0xd0 && c != 0xe3 && c != 0xe6 &&
      c != 0xe5 && c != 0xe8)
    return 0;
  for (const Keyword& k : kKeywords) {
    if (!starts_with_at(low, i, k.text)) continue;
    if (k.ascii && i > 0 && ascii_alnum(static_cast<unsigned char>(low[i - 1]))) continue;
    std::size_t end = i + k.text.size();
    if (k.needs_separator) {
      // "pass" inside "passport", "pw" inside "pwned": a short cue is a whole word followed by a separator.
      if (k.ascii && end < low.size() && ascii_alnum(static_cast<unsigned char>(low[end]))) continue;
      std::size_t j = end;
      while (j < low.size() && (low[j] == ' ' || low[j] == '\t')) ++j;
      bool separated = false;
      for (std::string_view sep : kCueSeparators) separated |= starts_with_at(low, j, sep);
      if (!separated) continue;
      return k.text.size();
    }
    // "passwords", "Passwortes": the rest of the word belongs to the cue.
    if (k.ascii)
      while (end < low.size() && ascii_alpha(static_cast<unsigned char>(low[end]))) ++end;
    return end - i;
  }
  return 0;
}

}  // namespace

std::vector<std::string> harvest_passwords(std::string_view text) {
  if (text.size() > limits::max_password_text) text = text.substr(0, limits::max_password_text);
  std::vector<std::string> out;
  auto add = [&](const std::string& c) {
    if (c.empty() || c.size() > limits::max_password_length || out.size() >= limits::max_password_candidates) return;
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  };
  const std::string low = lower_ascii(text);
  for (std::size_t i = 0; i < low.size() && out.size() < limits::max_password_candidates;) {
    const std::size_t klen = cue_at(low, i);
    if (klen == 0) {
      ++i;
      continue;
    }
    const std::size_t start = i + klen;
    const std::size_t eol = text.find('\n', start);
    std::vector<std::string> toks =
        candidates_in(text.substr(start, (eol == std::string_view::npos ? text.size() : eol) - start));
    if (toks.empty() && eol != std::string_view::npos) {
      const std::size_t next = text.find('\n', eol + 1);
      const std::size_t len = (next == std::string_view::npos ? text.size() : next) - eol - 1;
      toks = candidates_in(text.substr(eol + 1, std::min(len, limits::max_password_next_line)));
    }
    for (std::size_t k = 0; k < toks.size() && k < 2; ++k) {
      std::string t = toks[k];
      std::string bare = t;
      while (!bare.empty() && sentence_end(bare.back())) bare.pop_back();
      add(bare);
      // "x9Y-77." most likely ends a sentence, but a password may end in a full stop too: offer it second.
      add(t);
      if (bare.size() != t.size()) break;
    }
    i = start;
  }
  return out;
}

}  // namespace mamori::engine
