// Small value helpers shared by the evidence backends and the methods.
#include "emocheck/evidence.hpp"

#include "common/bytes.hpp"
#include "common/codepage.hpp"

namespace mamori::emocheck {

std::optional<std::string> RegValue::text() const {
  if (type != reg_sz && type != reg_expand_sz) return std::nullopt;
  return utf16le_to_utf8(ByteView(data.data(), data.size()), data.size() / 2);
}

std::optional<std::uint32_t> RegValue::dword() const {
  if (type != reg_dword || data.size() < 4) return std::nullopt;
  return ByteView(data.data(), data.size()).u32(0);
}

std::string RegRoot::prefix() const {
  switch (hive) {
    case Hive::system: return "HKLM\\SYSTEM";
    case Hive::software: return "HKLM\\SOFTWARE";
    case Hive::user: return "HKCU";
  }
  return "";
}

std::string lower_ascii(std::string_view s) {
  std::string o(s);
  for (char& c : o)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return o;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string normalize_command(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    if (c == '"') continue;
    if (c == '/') c = '\\';
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == ' ' && !o.empty() && o.back() == ' ') continue;
    o.push_back(c);
  }
  return o;
}

std::string win_join(std::string_view dir, std::string_view name) {
  std::string o(dir);
  if (!o.empty() && o.back() != '\\') o.push_back('\\');
  o.append(name);
  return o;
}

std::string_view win_basename(std::string_view path) {
  const std::size_t at = path.find_last_of("\\/");
  return at == std::string_view::npos ? path : path.substr(at + 1);
}

}  // namespace mamori::emocheck
