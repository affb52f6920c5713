#include "common/stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/mapped_file.hpp"

namespace mamori {

void add_histogram(ByteView b, ByteHistogram& h) noexcept {
  std::array<std::uint32_t, 256> t[4]{};
  const std::uint8_t* p = b.data();
  std::uint64_t n = b.size();
  // Flush the 32-bit tables before they can overflow.
  constexpr std::uint64_t kBlock = 1u << 30;
  while (n > 0) {
    std::uint64_t m = n < kBlock ? n : kBlock;
    std::uint64_t i = 0;
    for (; i + 4 <= m; i += 4) {
      ++t[0][p[i]];
      ++t[1][p[i + 1]];
      ++t[2][p[i + 2]];
      ++t[3][p[i + 3]];
    }
    for (; i < m; ++i) ++t[0][p[i]];
    for (int k = 0; k < 256; ++k) {
      h[static_cast<std::size_t>(k)] += std::uint64_t{t[0][k]} + t[1][k] + t[2][k] + t[3][k];
      t[0][k] = t[1][k] = t[2][k] = t[3][k] = 0;
    }
    p += m;
    n -= m;
  }
}

double entropy_of(const ByteHistogram& h) noexcept {
  std::uint64_t total = 0;
  for (auto c : h) total += c;
  if (total == 0) return 0.0;
  double e = 0.0;
  const double inv = 1.0 / static_cast<double>(total);
  for (auto c : h) {
    if (c == 0) continue;
    const double p = static_cast<double>(c) * inv;
    e -= p * std::log2(p);
  }
  return e;
}

namespace {

// Whether all of b is one byte value. Non-uniform data fails on the first step, so the check is nearly free.
bool uniform(ByteView b) noexcept { return b.empty() || run_length(b.data(), b.size(), b.data()[0]) == b.size(); }

}  // namespace

double entropy(ByteView b) noexcept {
  ByteHistogram h{};
  // Padded overlays and sections are hundreds of megabytes of one byte: count those 64 KiB pieces without the
  // histogram loop.
  constexpr std::size_t kPiece = 64u << 10;
  for_each_chunk(b, 8u << 20, [&](ByteView c) {
    for (std::size_t off = 0; off < c.size(); off += kPiece) {
      const ByteView piece(c.data() + off, std::min(kPiece, c.size() - off));
      if (uniform(piece)) h[piece.data()[0]] += piece.size();
      else add_histogram(piece, h);
    }
  });
  return entropy_of(h);
}

}  // namespace mamori
