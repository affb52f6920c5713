#include "common/base64.hpp"

namespace mamori {

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view s, std::size_t max_out) {
  std::vector<std::uint8_t> out;
  std::uint32_t acc = 0;
  int bits = 0, n = 0, pad = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else if (c == '=') { ++pad; continue; }
    else if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') continue;
    else return std::nullopt;
    if (pad) return std::nullopt;  // data after padding
    ++n;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (out.size() >= max_out) return out;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xFF));
    }
  }
  if (n % 4 == 1) return std::nullopt;
  return out;
}

}  // namespace mamori
