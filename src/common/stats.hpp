// Byte statistics shared by parsers and features.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "common/bytes.hpp"

namespace mamori {

using ByteHistogram = std::array<std::uint64_t, 256>;

/// Length of the run of byte value `c` starting at p[0], at most n. Word-at-a-time, 32 bytes a step: padding runs
/// are gigabytes long, and ordinary data fails on the first step. Inline, because the archive reader's padding sink
/// calls it once per run of 8 equal bytes.
inline std::size_t run_length(const std::uint8_t* p, std::size_t n, std::uint8_t c) noexcept {
  const std::uint64_t pattern = 0x0101010101010101ull * c;
  std::size_t i = 0;
  while (i + 32 <= n) {
    std::uint64_t w[4];
    std::memcpy(w, p + i, 32);
    if (((w[0] ^ pattern) | (w[1] ^ pattern) | (w[2] ^ pattern) | (w[3] ^ pattern)) != 0) break;
    i += 32;
  }
  while (i < n && p[i] == c) ++i;
  return i;
}

/// Adds the byte counts of `b` to `h`. Four interleaved tables break the store-to-load dependency on runs of the
/// same byte, which is exactly what padded files are made of.
void add_histogram(ByteView b, ByteHistogram& h) noexcept;

/// Shannon entropy (bits per byte, 0..8) of a histogram.
double entropy_of(const ByteHistogram& h) noexcept;

/// Shannon entropy (bits per byte) of a byte range.
double entropy(ByteView b) noexcept;

}  // namespace mamori
