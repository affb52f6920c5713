// Single-byte code pages to UTF-8, for the text that Office formats store in the writer's ANSI code page (VBA
// source, property set strings, MODULENAME records).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"

namespace mamori {

/// True for the code pages codepage_to_utf8 converts: 1252 (Western), 28591 (Latin-1), 20127 (US-ASCII),
/// 65001 (UTF-8) and 1251 (Cyrillic).
bool codepage_supported(std::uint32_t code_page) noexcept;

/// Converts `bytes` from `code_page` to UTF-8. For unsupported code pages the bytes are kept as they are (ASCII
/// stays readable, and nothing is guessed). For 20127 and 65001, bytes that are not valid become U+FFFD.
std::string codepage_to_utf8(std::string_view bytes, std::uint32_t code_page);

enum class Utf16Order { little, big };
/// What a NUL code unit does: end the text (strings in binary structures), or nothing (a stray NUL in a text export
/// must not hide what follows it).
enum class Utf16Nul { ends_text, skipped };

/// UTF-16 to UTF-8 over at most `max_units` code units. Lone surrogates become U+FFFD.
std::string utf16_to_utf8(ByteView b, std::size_t max_units, Utf16Order order, Utf16Nul nul);

/// UTF-16LE to UTF-8, stopping at NUL or after `max_units` code units. Lone surrogates become U+FFFD.
inline std::string utf16le_to_utf8(ByteView b, std::size_t max_units) {
  return utf16_to_utf8(b, max_units, Utf16Order::little, Utf16Nul::ends_text);
}

/// Appends code point `cp` to `out` as UTF-8.
void append_utf8(std::string& out, std::uint32_t cp);

/// UTF-8 to UTF-16, for passwords that arrive as UTF-8 (mail bodies, flags, config files) and that Office hashes
/// as UTF-16. Lenient, never reads past the end: a lead byte with too few bytes after it is read as a shorter
/// sequence, and a last byte as the code point of its own value.
std::u16string utf8_to_utf16(std::string_view s);

/// The code units of `s` as UTF-16LE bytes, the form Office's key derivations hash.
std::vector<std::uint8_t> utf16le_bytes(std::u16string_view s);

}  // namespace mamori
