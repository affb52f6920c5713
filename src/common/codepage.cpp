#include "common/codepage.hpp"

#include <array>

namespace mamori {

namespace {

// Windows-1252 0x80..0x9F (the rest is Latin-1). Undefined slots map to the C1 control of the same value, as
// Windows' MultiByteToWideChar does.
constexpr std::array<std::uint16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

// Windows-1251 0x80..0xBF (0xC0..0xFF is U+0410..U+044F).
constexpr std::array<std::uint16_t, 64> kCp1251High = {
    0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021, 0x20AC, 0x2030, 0x0409, 0x2039, 0x040A, 0x040C, 0x040B, 0x040F,
    0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x0098, 0x2122, 0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F,
    0x00A0, 0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6, 0x00A7, 0x0401, 0x00A9, 0x0404, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x0407,
    0x00B0, 0x00B1, 0x0406, 0x0456, 0x0491, 0x00B5, 0x00B6, 0x00B7, 0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457};


// Copies valid UTF-8 sequences and replaces every byte that does not start one with U+FFFD.
std::string sanitize_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    const auto b0 = static_cast<unsigned char>(in[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0, min = 0;
    if (b0 < 0x80) {
      out.push_back(static_cast<char>(b0));
      ++i;
      continue;
    } else if ((b0 & 0xE0) == 0xC0) {
      n = 1, cp = b0 & 0x1Fu, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      n = 2, cp = b0 & 0x0Fu, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      n = 3, cp = b0 & 0x07u, min = 0x10000;
    } else {
      append_utf8(out, 0xFFFD);
      ++i;
      continue;
    }
    bool ok = in.size() - i > n;  // the n continuation bytes are there
    for (std::size_t k = 1; ok && k <= n; ++k) {
      const auto b = static_cast<unsigned char>(in[i + k]);
      if ((b & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (b & 0x3Fu);
    }
    if (!ok || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      append_utf8(out, 0xFFFD);
      ++i;
      continue;
    }
    out.append(in.substr(i, n + 1));
    i += n + 1;
  }
  return out;
}

}  // namespace

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool codepage_supported(std::uint32_t code_page) noexcept {
  return code_page == 1252 || code_page == 28591 || code_page == 20127 || code_page == 65001 || code_page == 1251;
}

std::string codepage_to_utf8(std::string_view bytes, std::uint32_t code_page) {
  if (!codepage_supported(code_page)) return std::string(bytes);
  if (code_page == 65001) return sanitize_utf8(bytes);
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 8);
  // Runs of ASCII (nearly all of a macro's source) are copied whole; only the bytes above 0x7F are converted.
  for (std::size_t i = 0; i < bytes.size();) {
    std::size_t j = i;
    while (j < bytes.size() && static_cast<unsigned char>(bytes[j]) < 0x80) ++j;
    out.append(bytes.data() + i, j - i);
    if (j == bytes.size()) break;
    const auto b = static_cast<unsigned char>(bytes[j]);
    i = j + 1;
    std::uint32_t cp = b;
    switch (code_page) {
      case 20127: cp = 0xFFFD; break;
      case 1252: if (b < 0xA0) cp = kCp1252High[b - 0x80u]; break;
      case 1251: cp = b < 0xC0 ? kCp1251High[b - 0x80u] : 0x0410u + (b - 0xC0u); break;
      default: break;  // 28591: the byte is the code point
    }
    append_utf8(out, cp);
  }
  return out;
}

std::string utf16_to_utf8(ByteView b, std::size_t max_units, Utf16Order order, Utf16Nul nul) {
  std::string out;
  const std::uint64_t units = b.size() / 2;
  auto unit = [&](std::uint64_t i) -> std::uint32_t {
    const std::uint32_t v = b.le_or<std::uint16_t>(i * 2, 0);
    return order == Utf16Order::big ? ((v & 0xFF) << 8 | v >> 8) : v;
  };
  for (std::uint64_t i = 0; i < units && i < max_units; ++i) {
    std::uint32_t cp = unit(i);
    if (cp == 0) {
      if (nul == Utf16Nul::ends_text) break;
      continue;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < units) {
      const std::uint32_t lo = unit(i + 1);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        ++i;
      } else {
        cp = 0xFFFD;
      }
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      cp = 0xFFFD;
    }
    append_utf8(out, cp);
  }
  return out;
}

std::u16string utf8_to_utf16(std::string_view s) {
  std::u16string o;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<std::uint8_t>(s[i]);
    std::uint32_t cp = c;
    std::size_t n = 1;
    if (c >= 0xF0 && i + 3 < s.size()) cp = (c & 0x07u) << 18 | (s[i + 1] & 0x3Fu) << 12 | (s[i + 2] & 0x3Fu) << 6 | (s[i + 3] & 0x3Fu), n = 4;
    else if (c >= 0xE0 && i + 2 < s.size()) cp = (c & 0x0Fu) << 12 | (s[i + 1] & 0x3Fu) << 6 | (s[i + 2] & 0x3Fu), n = 3;
    else if (c >= 0xC0 && i + 1 < s.size()) cp = (c & 0x1Fu) << 6 | (s[i + 1] & 0x3Fu), n = 2;
    i += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      o += static_cast<char16_t>(0xD800 + (cp >> 10));
      o += static_cast<char16_t>(0xDC00 + (cp & 0x3FF));
    } else {
      o += static_cast<char16_t>(cp);
    }
  }
  return o;
}

std::vector<std::uint8_t> utf16le_bytes(std::u16string_view s) {
  std::vector<std::uint8_t> b;
  b.reserve(s.size() * 2);
  for (char16_t c : s) {
    b.push_back(static_cast<std::uint8_t>(c & 0xFF));
    b.push_back(static_cast<std::uint8_t>(c >> 8));
  }
  return b;
}

}  // namespace mamori
