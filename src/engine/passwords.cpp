#include "engine/passwords.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace mamori::engine {

namespace {

struct Keyword {
  std::string_view word;
  bool needs_separator;  // short words ("pass") count only when a ':' or '=' follows
};

constexpr std::array<Keyword, 14> kKeywords = {{{"password", false},
                                                {"passwort", false},
                                                {"passcode", false},
                                                {"pass", true},
                                                {"pwd", true},
                                                {"\xE3\x83\x91\xE3\x82\xB9\xE3\x83\xAF\xE3\x83\xBC\xE3\x83\x89", false},  // パスワード
                                                {"\xE6\x9A\x97\xE8\xA8\xBC\xE7\x95\xAA\xE5\x8F\xB7", false},  // 暗証番号
                                                {"\xE5\xAF\x86\xE7\xA0\x81", false},                          // 密码
                                                {"\xD0\xBF\xD0\xB0\xD1\x80\xD0\xBE\xD0\xBB\xD1\x8C", false},  // пароль
                                                {"contrase\xC3\xB1" "a", false},
                                                {"mot de passe", false},
                                                {"senha", false},
                                                {"wachtwoord", false},
                                                {"kennwort", false}}};

// Separators between the keyword and the password, longest first.
constexpr std::array<std::string_view, 16> kSeparators = {
    "\xEF\xBC\x9A" /* ： */, "\xE3\x81\xAF" /* は */, "\xE3\x80\x8C" /* 「 */, "\xE2\x80\x9C" /* “ */,
    "\xE3\x80\x80" /* ideographic space */, "is", "for", "of", "the", "zip", "archive", ":", "=", "-", "\"", "'"};

// Where a candidate ends: ASCII blanks and punctuation that cannot close a password, and CJK punctuation.
constexpr std::array<std::string_view, 9> kEnders = {"\xE3\x80\x81" /* 、 */, "\xE3\x80\x82" /* 。 */,
                                                     "\xE3\x80\x8D" /* 」 */, "\xE2\x80\x9D" /* ” */,
                                                     "\xE3\x80\x80", "\xEF\xBC\x89" /* ） */, "\xEF\xBC\x8C" /* ， */,
                                                     "\xE3\x81\xA7\xE3\x81\x99" /* です */, "<"};

std::string lower_ascii(std::string_view s) {
  std::string o(s);
  std::transform(o.begin(), o.end(), o.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return o;
}

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

std::vector<std::string> harvest_passwords(std::string_view text) {
  if (text.size() > limits::max_password_text) text = text.substr(0, limits::max_password_text);
  const std::string low = lower_ascii(text);
  std::vector<std::pair<std::size_t, std::string>> found;  // (position, candidate)
  auto add = [&](std::size_t pos, std::string c) {
    while (!c.empty() && std::string_view(".,;:!?)]}>\"'").find(c.back()) != std::string_view::npos) c.pop_back();
    while (!c.empty() && std::string_view("([{<\"'").find(c.front()) != std::string_view::npos) c.erase(c.begin());
    if (c.empty() || c.size() > 64) return;
    found.emplace_back(pos, std::move(c));
  };
  for (const auto& k : kKeywords) {
    for (std::size_t p = 0; (p = low.find(k.word, p)) != std::string::npos; p += k.word.size()) {
      // A word of its own: not the tail of a longer ASCII word ("bypass").
      if (p > 0 && std::isalpha(static_cast<unsigned char>(low[p - 1]))) continue;
      std::size_t i = p + k.word.size();
      // Skip the rest of an ASCII word ("passwords", "password(s)") and separators.
      while (i < low.size() && std::isalpha(static_cast<unsigned char>(low[i])) && static_cast<unsigned char>(k.word[0]) < 0x80 &&
             !k.needs_separator)
        ++i;
      bool separated = false;
      for (int guard = 0; guard < 8 && i < low.size(); ++guard) {
        while (i < low.size() && blank(low[i])) ++i;
        bool hit = false;
        for (std::string_view sep : kSeparators) {
          if (low.compare(i, sep.size(), sep) != 0) continue;
          // Word separators ("is", "for") only as whole words.
          if (std::isalpha(static_cast<unsigned char>(sep[0])) && i + sep.size() < low.size() &&
              std::isalnum(static_cast<unsigned char>(low[i + sep.size()])))
            continue;
          separated |= sep == ":" || sep == "=" || sep == "\xEF\xBC\x9A";
          i += sep.size();
          hit = true;
          break;
        }
        if (!hit) break;
      }
      if (k.needs_separator && !separated) continue;
      // Up to two words after it: "Password: 2024 Invoice" needs both; the first is tried first.
      for (int w = 0; w < 2 && i < text.size(); ++w) {
        while (i < text.size() && blank(text[i])) ++i;
        std::size_t e = i;
        while (e < text.size() && !blank(text[e])) {
          bool end = false;
          for (std::string_view en : kEnders)
            if (text.compare(e, en.size(), en) == 0) end = true;
          if (end) break;
          ++e;
        }
        if (e > i) add(i, std::string(text.substr(i, e - i)));
        if (e < text.size() && !blank(text[e])) break;  // punctuation ended the password
        if (e > i && std::string_view(".!?;,").find(text[e - 1]) != std::string_view::npos) break;  // so did a sentence
        // The second word must be on the same line.
        std::size_t j = e;
        while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
        if (j < text.size() && (text[j] == '\r' || text[j] == '\n')) break;
        i = e;
      }
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& [pos, c] : found) {
    if (out.size() >= limits::max_password_candidates) break;
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(std::move(c));
  }
  return out;
}

}  // namespace mamori::engine
