// Byte statistics shared by parsers and features.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "common/bytes.hpp"

namespace mamori {

using ByteHistogram = std::array<std::uint64_t, 256>;

/// Adds the byte counts of `b` to `h`. Four interleaved tables break the store-to-load dependency on runs of the
/// same byte, which is exactly what padded files are made of.
void add_histogram(ByteView b, ByteHistogram& h) noexcept;

/// Shannon entropy (bits per byte, 0..8) of a histogram.
double entropy_of(const ByteHistogram& h) noexcept;

/// Shannon entropy (bits per byte) of a byte range.
double entropy(ByteView b) noexcept;

}  // namespace mamori
