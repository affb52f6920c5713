// Base64 as malware writes it: the standard and URL-safe alphabets, whitespace and line breaks anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace mamori {

/// Standard or URL-safe base64, whitespace ignored; nullopt when a character is outside the alphabet, data follows
/// the padding, or the length cannot be base64. Output capped at `max_out` bytes (the rest is not decoded).
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view s, std::size_t max_out);

}  // namespace mamori
