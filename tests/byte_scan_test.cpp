#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "features/byte_scan.hpp"

using mamori::ByteView;
using mamori::features::ByteStats;
using mamori::features::scan_bytes;

namespace {

std::vector<std::uint8_t> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

ByteStats scan(const std::vector<std::uint8_t>& v) {
  ByteStats s;
  scan_bytes(ByteView(v.data(), v.size()), s);
  return s;
}

}  // namespace

TEST(ByteScan, PaddingIsMeasuredAndLeftOutOfTheContentStatistics) {
  const auto core = random_bytes(300000, 1);
  auto padded = core;
  padded.insert(padded.begin() + 150000, 5u << 20, 0x00);  // 5 MiB of zeros in the middle
  padded.insert(padded.end(), 3u << 20, 0xCC);               // 3 MiB of 0xCC appended
  const auto a = scan(core), b = scan(padded);
  EXPECT_EQ(b.padding_bytes, (5u << 20) + (3u << 20));
  EXPECT_EQ(b.padding_runs, 2u);
  EXPECT_EQ(b.largest_padding_run, 5u << 20);
  EXPECT_EQ(b.tail_padding, 3u << 20);
  EXPECT_EQ(b.content_size, core.size());
  EXPECT_EQ(a.histogram, b.histogram);  // the content is described exactly as without padding
  EXPECT_EQ(a.padding_bytes, 0u);
}

TEST(ByteScan, ShortUniformRunsAreContent) {
  std::vector<std::uint8_t> v(10000, 0);  // below the padding threshold
  const auto s = scan(v);
  EXPECT_EQ(s.padding_bytes, 0u);
  EXPECT_EQ(s.histogram[0], 10000u);
  EXPECT_EQ(s.content_size, 10000u);
}

TEST(ByteScan, PaddingRunFoundWhateverItsAlignment) {
  auto v = random_bytes(1000, 2);
  v.insert(v.end(), 70000 + 333, 0x41);  // 'A' padding starting at an odd offset, not block aligned
  auto tail = random_bytes(777, 3);
  v.insert(v.end(), tail.begin(), tail.end());
  const auto s = scan(v);
  EXPECT_EQ(s.padding_bytes, 70333u);
  EXPECT_EQ(s.padding_runs, 1u);
  EXPECT_EQ(s.tail_padding, 0u);
}

TEST(ByteScan, StringsAndPatterns) {
  std::string text = std::string("\x01\x02", 2) + "http://evil.example/x.exe" + std::string("\x00", 1) +
                     "abcd" + std::string("\x00", 1) + "C:\\Users\\x\\AppData\\Roaming" + std::string("\x03", 1) +
                     "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run";
  std::vector<std::uint8_t> v(text.begin(), text.end());
  // A UTF-16LE string "powershell".
  for (char c : std::string("powershell")) {
    v.push_back(static_cast<std::uint8_t>(c));
    v.push_back(0);
  }
  const auto s = scan(v);
  EXPECT_EQ(s.strings, 3u);  // "abcd" is too short
  EXPECT_EQ(s.wide_strings, 1u);
  using namespace mamori::features;
  EXPECT_EQ(s.patterns[pat_http], 1u);
  EXPECT_EQ(s.patterns[pat_exe], 1u);
  EXPECT_EQ(s.patterns[pat_drive_path], 1u);
  EXPECT_EQ(s.patterns[pat_appdata], 1u);
  EXPECT_GE(s.patterns[pat_registry], 1u);
  EXPECT_EQ(s.patterns[pat_run_key], 1u);
  EXPECT_EQ(s.patterns[pat_powershell], 0u);  // wide strings are counted, not pattern-matched
}

TEST(ByteScan, EntropyHistogramSeparatesRandomFromText) {
  const auto rnd = scan(random_bytes(64 * 1024, 4));
  std::string t;
  while (t.size() < 64 * 1024) t += "the quick brown fox jumps over the lazy dog ";
  const auto txt = scan(std::vector<std::uint8_t>(t.begin(), t.end()));
  auto high_bins = [](const ByteStats& s) {
    std::uint64_t hi = 0, all = 0;
    for (std::size_t b = 0; b < 16; ++b)
      for (auto c : s.entropy_histogram[b]) all += c, hi += b >= 14 ? c : 0;
    return static_cast<double>(hi) / static_cast<double>(all);
  };
  EXPECT_GT(high_bins(rnd), 0.9);
  EXPECT_LT(high_bins(txt), 0.1);
}

TEST(ByteScan, EmptyAndTinyInputs) {
  EXPECT_EQ(scan({}).content_size, 0u);
  EXPECT_EQ(scan({0x41}).histogram[0x41], 1u);
}

namespace {

// The string rules spelled out byte by byte, as plainly as possible, to check the optimised pass against.
struct ReferenceStrings {
  std::uint64_t strings = 0, string_bytes = 0, wide_strings = 0, wide_chars = 0;
  std::array<std::uint64_t, 8> log2{};
};

ReferenceStrings reference_strings(const std::vector<std::uint8_t>& v) {
  ReferenceStrings r;
  auto printable = [](std::uint8_t c) { return c >= 0x20 && c < 0x7f; };
  std::uint64_t run = 0;
  auto end_run = [&] {
    if (run >= 5) {
      ++r.strings;
      r.string_bytes += run;
      std::size_t b = 0;
      for (std::uint64_t l = run >> 3; l > 0 && b < 7; l >>= 1) ++b;
      ++r.log2[b];
    }
    run = 0;
  };
  std::uint64_t wlen = 0;
  bool expect_zero = false;
  auto end_wide = [&] {
    if (wlen >= 5) ++r.wide_strings, r.wide_chars += wlen;
    wlen = 0;
    expect_zero = false;
  };
  for (std::uint8_t c : v) {
    if (printable(c)) ++run;
    else end_run();
    if (expect_zero) {
      expect_zero = false;
      if (c != 0) {
        end_wide();
        if (printable(c)) expect_zero = true, wlen = 1;
      }
    } else if (printable(c)) {
      ++wlen;
      expect_zero = true;
    } else {
      end_wide();
    }
  }
  end_run();
  end_wide();
  return r;
}

// Text, UTF-16 text and binary interleaved at random lengths, so that runs cross the 1 KiB blocks and the 8 MiB
// hand-over boundaries at every phase.
std::vector<std::uint8_t> mixed_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> v;
  v.reserve(n);
  while (v.size() < n) {
    const std::size_t len = 1 + rng() % 40;
    switch (rng() % 4) {
      case 0: for (std::size_t i = 0; i < len; ++i) v.push_back(static_cast<std::uint8_t>(0x20 + rng() % 95)); break;
      case 1:
        for (std::size_t i = 0; i < len; ++i) {
          v.push_back(static_cast<std::uint8_t>(0x20 + rng() % 95));
          v.push_back(0);
        }
        break;
      case 2: for (std::size_t i = 0; i < len; ++i) v.push_back(static_cast<std::uint8_t>(rng())); break;
      default: for (std::size_t i = 0; i < len % 7; ++i) v.push_back(0); break;
    }
  }
  v.resize(n);
  return v;
}

}  // namespace

TEST(ByteScan, StringStatisticsMatchTheByteByByteRules) {
  for (unsigned seed = 1; seed <= 6; ++seed) {
    const auto v = mixed_bytes(seed == 6 ? (17u << 20) + 123 : 50000 + seed * 977, seed);
    const auto s = scan(v);
    const auto r = reference_strings(v);
    ASSERT_EQ(s.padding_bytes, 0u) << "the fixture must not contain padding runs";
    EXPECT_EQ(s.strings, r.strings) << "seed " << seed;
    EXPECT_EQ(s.string_bytes, r.string_bytes) << "seed " << seed;
    EXPECT_EQ(s.wide_strings, r.wide_strings) << "seed " << seed;
    EXPECT_EQ(s.wide_string_chars, r.wide_chars) << "seed " << seed;
    for (std::size_t b = 0; b < 8; ++b) EXPECT_EQ(s.string_length_log2[b], r.log2[b]) << "seed " << seed << " bucket " << b;
    std::array<std::uint64_t, 256> h{};
    for (auto c : v) ++h[c];
    for (std::size_t c = 0; c < 256; ++c) EXPECT_EQ(s.histogram[c], h[c]);
  }
}

namespace {

// The byte-entropy histogram spelled out plainly: content (no padding in the fixture) in 1 KiB blocks, each window
// the counts of high nibbles over a block and the one before it, binned by the window's nibble entropy.
std::array<std::array<std::uint32_t, 16>, 16> reference_entropy_histogram(const std::vector<std::uint8_t>& v) {
  std::array<std::array<std::uint32_t, 16>, 16> out{};
  std::array<std::uint32_t, 16> prev{};
  for (std::size_t at = 0; at < v.size(); at += 1024) {
    std::array<std::uint32_t, 16> nib{};
    for (std::size_t i = at; i < std::min(v.size(), at + 1024); ++i) ++nib[v[i] >> 4];
    std::array<std::uint32_t, 16> win{};
    std::uint32_t total = 0;
    for (std::size_t i = 0; i < 16; ++i) total += win[i] = nib[i] + prev[i];
    double h = 0;
    for (auto c : win)
      if (c) h -= static_cast<double>(c) / total * std::log2(static_cast<double>(c) / total);
    const std::size_t bin = std::min<std::size_t>(15, static_cast<std::size_t>(h * 4.0));
    for (std::size_t i = 0; i < 16; ++i) out[bin][i] += win[i];
    prev = nib;
  }
  return out;
}

void expect_same_stats(const ByteStats& a, const ByteStats& b) {
  EXPECT_EQ(a.file_size, b.file_size);
  EXPECT_EQ(a.content_size, b.content_size);
  EXPECT_EQ(a.histogram, b.histogram);
  EXPECT_EQ(a.entropy_histogram, b.entropy_histogram);
  EXPECT_EQ(a.windows, b.windows);
  EXPECT_EQ(a.padding_bytes, b.padding_bytes);
  EXPECT_EQ(a.padding_runs, b.padding_runs);
  EXPECT_EQ(a.largest_padding_run, b.largest_padding_run);
  EXPECT_EQ(a.tail_padding, b.tail_padding);
  EXPECT_EQ(a.strings, b.strings);
  EXPECT_EQ(a.string_bytes, b.string_bytes);
  EXPECT_EQ(a.string_length_log2, b.string_length_log2);
  EXPECT_EQ(a.wide_strings, b.wide_strings);
  EXPECT_EQ(a.wide_string_chars, b.wide_string_chars);
  EXPECT_EQ(a.patterns, b.patterns);
}

}  // namespace

TEST(ByteScan, EntropyHistogramMatchesThePlainWindowRule) {
  for (unsigned seed = 1; seed <= 4; ++seed) {
    auto v = mixed_bytes(200000 + seed * 4099, seed);
    // Stretches of one nibble and of two values, so that windows land on exact bin edges (entropy 0, 1, 2 bits).
    for (std::size_t i = 5000; i < 9096; ++i) v[i] = static_cast<std::uint8_t>(0x30 + (i & 1) * 0x10);
    for (std::size_t i = 20000; i < 30000; ++i) v[i] = static_cast<std::uint8_t>(0x40 + (i & 3) * 0x10);
    const auto s = scan(v);
    ASSERT_EQ(s.padding_bytes, 0u);
    EXPECT_EQ(s.entropy_histogram, reference_entropy_histogram(v)) << "seed " << seed;
    EXPECT_EQ(s.windows, (v.size() + 1023) / 1024);
  }
}

TEST(ByteScan, RangeEntropiesEqualEntropyOfTheRangeAndLeaveTheStatisticsAlone) {
  using mamori::features::RangeEntropy;
  auto v = mixed_bytes(600000, 11);
  v.insert(v.begin() + 100003, 200000, 0x00);  // padding runs, one inside the file and one at its end
  v.insert(v.end(), 70001, 0xCC);
  const ByteView b(v.data(), v.size());
  std::mt19937_64 rng(5);
  std::vector<RangeEntropy> ranges;
  for (int i = 0; i < 300; ++i) {
    const std::uint64_t off = rng() % (v.size() + 1000);  // some start past the end
    const std::uint64_t len = i % 10 == 0 ? 0 : rng() % (i % 3 == 0 ? v.size() : 5000);
    ranges.push_back({off, len});
  }
  ranges.push_back({0, v.size()});
  ranges.push_back({100003, 200000});             // exactly the padding run
  ranges.push_back({100003 + 7, 1000});           // inside it
  ranges.push_back({v.size() - 10, UINT64_MAX});  // size past every bound
  ByteStats with;
  scan_bytes(b, with, ranges);
  for (const auto& r : ranges)
    EXPECT_EQ(r.entropy, mamori::entropy(b.clamp(r.offset, r.size))) << r.offset << "+" << r.size;
  expect_same_stats(with, scan(v));  // content handed over in pieces at every range edge changes nothing
}

TEST(ByteScan, RangesBeyondTheFusedLimitAreStillMeasured) {
  using mamori::features::RangeEntropy;
  const auto v = random_bytes(50000, 9);
  const ByteView b(v.data(), v.size());
  std::vector<RangeEntropy> ranges;
  for (std::size_t i = 0; i < mamori::features::kMaxScanRanges + 10; ++i) ranges.push_back({i * 37, 100 + i});
  ByteStats s;
  scan_bytes(b, s, ranges);
  for (const auto& r : ranges) EXPECT_EQ(r.entropy, mamori::entropy(b.clamp(r.offset, r.size)));
}

TEST(ByteScan, WideStringsMatchTheByteByByteRulesOnDenseShortRuns) {
  // Short UTF-16 runs (1-8 characters, some without their last NUL), lone printable bytes, NULs and other bytes,
  // so that strings start, grow to exactly 4 and 5 characters and end at every offset of every 64-byte chunk.
  for (unsigned seed = 1; seed <= 8; ++seed) {
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> v;
    while (v.size() < 300000) {
      switch (rng() % 5) {
        case 0:
        case 1: {
          const std::size_t chars = 1 + rng() % 8;
          for (std::size_t i = 0; i < chars; ++i) {
            v.push_back(static_cast<std::uint8_t>(0x20 + rng() % 95));
            if (i + 1 < chars || rng() % 3 != 0) v.push_back(0);
          }
          break;
        }
        case 2: v.push_back(static_cast<std::uint8_t>(0x20 + rng() % 95)); break;
        case 3: v.push_back(0); break;
        default: v.push_back(static_cast<std::uint8_t>(0x80 + rng() % 0x80)); break;
      }
    }
    const auto s = scan(v);
    const auto r = reference_strings(v);
    ASSERT_EQ(s.padding_bytes, 0u);
    EXPECT_EQ(s.wide_strings, r.wide_strings) << "seed " << seed;
    EXPECT_EQ(s.wide_string_chars, r.wide_chars) << "seed " << seed;
    EXPECT_EQ(s.strings, r.strings) << "seed " << seed;
  }
}
