// Small ASCII and encoding helpers shared by the analysis files (locale-free on purpose: the input is hostile bytes,
// and <cctype> is undefined for negative chars).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base64.hpp"

namespace mamori::analysis {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
inline bool is_xdigit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
inline char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
inline char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

inline std::string to_lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = lower(c);
  return r;
}
inline std::string to_upper(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = upper(c);
  return r;
}
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}
inline std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t from = 0) {
  if (needle.empty()) return from <= hay.size() ? from : std::string_view::npos;
  // Candidates are strings of up to a MiB searched for several words each: the whole comparison is made only where
  // the first character stands, in either case.
  const char first = lower(needle[0]), first_up = upper(first);
  for (std::size_t i = from; i + needle.size() <= hay.size(); ++i) {
    if (hay[i] != first && hay[i] != first_up) continue;
    if (iequals(hay.substr(i, needle.size()), needle)) return i;
  }
  return std::string_view::npos;
}

/// One code point as UTF-8 (invalid ones as U+FFFD).
inline std::string utf8_of(std::uint32_t cp) {
  std::string r;
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    r.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    r.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    r.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    r.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    r.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    r.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    r.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    r.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    r.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    r.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return r;
}

using mamori::base64_decode;

/// `s` with every `from` replaced by `to` (ASCII case-insensitively when `icase`); the result stops growing past
/// limits::max_string, so chained replacements cannot blow up.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to, bool icase);

/// Bytes as UTF-16LE when every other byte looks like it (mostly zero high bytes), converted to UTF-8; else nullopt.
std::optional<std::string> utf16le_text(const std::vector<std::uint8_t>& b);

/// True when at least `ratio` of the bytes are printable ASCII or whitespace.
bool mostly_printable(std::string_view s, double ratio = 0.9);

/// Raw deflate (window bits -15), zlib (15) or gzip (31) inflate, capped at `max_out`; nullopt when not valid.
std::optional<std::vector<std::uint8_t>> inflate_bytes(const std::vector<std::uint8_t>& in, int window_bits,
                                                       std::size_t max_out);

}  // namespace mamori::analysis
