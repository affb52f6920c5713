#include "features/byte_scan.hpp"

#include <emmintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <vector>

#include "common/mapped_file.hpp"

namespace mamori::features {

const char* pattern_name(StringPattern p) noexcept {
  static constexpr const char* names[pat_count] = {
      "http", "https", "drive_path", "registry", "mz", "exe", "dll", "cmd", "powershell", "appdata", "run_key",
      "wscript", "virtualalloc", "kernel32", "ntdll", "bitcoin", "crypt", "user_agent", "temp"};
  return p < pat_count ? names[p] : "unknown";
}

namespace {

constexpr bool printable(std::uint8_t c) { return c >= 0x20 && c < 0x7f; }
constexpr std::uint8_t lower(std::uint8_t c) { return (c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c + 32) : c; }

bool istarts(const std::uint8_t* p, const std::uint8_t* end, const char* lit) {
  for (; *lit != 0; ++lit, ++p) {
    if (p == end || lower(*p) != static_cast<std::uint8_t>(*lit)) return false;
  }
  return true;
}

// Checks the patterns that can start at p (inside the string s..end). Dispatches on the first character.
void match_at(const std::uint8_t* s, const std::uint8_t* p, const std::uint8_t* end,
              std::array<std::uint32_t, pat_count>& pats) {
  switch (lower(*p)) {
      case 'h':
        if (istarts(p, end, "https://")) ++pats[pat_https];
        else if (istarts(p, end, "http://")) ++pats[pat_http];
        else if (istarts(p, end, "hkey_")) ++pats[pat_registry];
        break;
      case 'm':
        if (*p == 'M' && p + 1 < end && p[1] == 'Z') ++pats[pat_mz];
        else if (istarts(p, end, "mozilla/")) ++pats[pat_user_agent];
        break;
      case '.':
        if (istarts(p, end, ".exe")) ++pats[pat_exe];
        else if (istarts(p, end, ".dll")) ++pats[pat_dll];
        break;
      case 'c':
        if (istarts(p, end, "cmd.exe") || istarts(p, end, "cmd /c")) ++pats[pat_cmd];
        else if (istarts(p, end, "crypt")) ++pats[pat_crypt];
        else if (istarts(p, end, "currentversion\\run")) ++pats[pat_run_key];
        break;
      case 'p':
        if (istarts(p, end, "powershell")) ++pats[pat_powershell];
        break;
      case 'a':
        if (istarts(p, end, "appdata")) ++pats[pat_appdata];
        break;
      case 'w':
        if (istarts(p, end, "wscript")) ++pats[pat_wscript];
        break;
      case 'v':
        if (istarts(p, end, "virtualalloc")) ++pats[pat_virtualalloc];
        break;
      case 'k':
        if (istarts(p, end, "kernel32")) ++pats[pat_kernel32];
        break;
      case 'n':
        if (istarts(p, end, "ntdll")) ++pats[pat_ntdll];
        break;
      case 'b':
        if (istarts(p, end, "bitcoin")) ++pats[pat_bitcoin];
        break;
      case 's':
        if (istarts(p, end, "software\\")) ++pats[pat_registry];
        break;
      case 't':
        if (istarts(p, end, "temp\\") || istarts(p, end, "tmp\\")) ++pats[pat_temp];
        break;
      case ':':
        if (p > s && p + 1 < end && p[1] == '\\' && ((p[-1] | 0x20) >= 'a' && (p[-1] | 0x20) <= 'z')) ++pats[pat_drive_path];
        break;
      default: break;
  }
}

// The first two bytes of every pattern, in every letter case, as a 64 Ki-bit set. Most positions in most strings
// start no pattern; one table lookup rejects them without the dispatch. Keep in step with match_at.
struct PairFilter {
  std::array<std::uint64_t, 1024> bits{};
  void add(char a, char b) {
    for (int ua = 0; ua < 2; ++ua)
      for (int ub = 0; ub < 2; ++ub) {
        auto cs = [](char c, int up) {
          return static_cast<std::uint8_t>(up && c >= 'a' && c <= 'z' ? c - 32 : c);
        };
        const unsigned key = cs(a, ua) | (static_cast<unsigned>(cs(b, ub)) << 8);
        bits[key >> 6] |= 1ull << (key & 63);
      }
  }
  bool has(const std::uint8_t* p) const {
    const unsigned key = p[0] | (static_cast<unsigned>(p[1]) << 8);
    return (bits[key >> 6] >> (key & 63)) & 1;
  }
  PairFilter() {
    for (const char* lit : {"https://", "http://", "hkey_", "mozilla/", ".exe", ".dll", "cmd.exe", "cmd /c", "crypt",
                            "currentversion\\run", "powershell", "appdata", "wscript", "virtualalloc", "kernel32",
                            "ntdll", "bitcoin", "software\\", "temp\\", "tmp\\", ":\\"})
      add(lit[0], lit[1]);
    add('M', 'Z');  // case-sensitive in match_at; the extra cases cost only a failed check
  }
};
const PairFilter kPairs;

// Counts patterns in one string.
void match_patterns(const std::uint8_t* s, std::size_t n, std::array<std::uint32_t, pat_count>& pats) {
  if (n < 2) return;
  const std::uint8_t* end = s + n;
  for (const std::uint8_t* p = s; p + 1 < end; ++p)
    if (kPairs.has(p)) match_at(s, p, end, pats);
}

class Scanner {
 public:
  explicit Scanner(ByteStats& s) : s_(s) {}

  // Ordinary content: histogram, strings, entropy windows.
  //
  // Why it is written this way: in machine code printable and non-printable bytes alternate unpredictably, so the
  // obvious loop (one branch per byte on "printable?") spent most of the scan mispredicting. Here each 64 bytes
  // become two bit masks (printable, NUL) computed with SSE2, ASCII strings are found from the printable mask with
  // bit tricks, and the byte-at-a-time UTF-16 state machine runs only on the stretches where a wide string can be:
  // it needs a printable byte followed by a NUL, or a string carried in from before. The results are exactly those
  // of the byte-by-byte rules (tests/byte_scan_test.cpp checks them against a plain implementation).
  void content(const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
      const std::size_t take = std::min<std::size_t>(n, kBlock - block_fill_);
      std::size_t i = 0;
      for (; i + 64 <= take; i += 64) chunk64(p + i);
      for (; i < take; ++i) byte(p + i);
      histogram(p, take);
      p += take;
      n -= take;
      block_fill_ += take;
      if (block_fill_ == kBlock) flush_block();
    }
  }

  // A padding run: measured, excluded from statistics, and a string boundary.
  void padding(std::uint64_t n) {
    end_string();
    end_wide();
    s_.padding_bytes += n;
    ++s_.padding_runs;
    if (n > s_.largest_padding_run) s_.largest_padding_run = n;
  }

  void finish() {
    end_string();
    end_wide();
    if (block_fill_ > 0) flush_block();
    fold();
  }

  // Adds the count of every byte value handed to content() so far, including the block not yet flushed.
  void add_counts(ByteHistogram& h) const {
    for (std::size_t c = 0; c < 256; ++c)
      h[c] += s_.histogram[c] + counts_[0][c] + counts_[1][c] + counts_[2][c] + counts_[3][c];
  }

 private:
  void histogram(const std::uint8_t* p, std::size_t n) {
    // Four tables so that repeated bytes do not serialise on one counter; fold() adds them up.
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      ++counts_[0][p[i]];
      ++counts_[1][p[i + 1]];
      ++counts_[2][p[i + 2]];
      ++counts_[3][p[i + 3]];
    }
    for (; i < n; ++i) ++counts_[0][p[i]];
  }

  // One byte through both string rules (the tail of a block, under 64 bytes).
  void byte(const std::uint8_t* at) {
    const std::uint8_t c = *at;
    const bool pr = printable(c);
    if (pr) {
      if (run_len_ == 0) run_start_ = at;
      ++run_len_;
    } else {
      end_string();
    }
    wide_step(c, pr, wide_len_, wide_expect_zero_);
  }

  /// Steps the wide-string state (`len`, `expect_zero`: the caller's copy, kept in registers in the hot loop) by
  /// one byte. Returns whether the string in progress ended at this byte.
  bool wide_step(std::uint8_t c, bool pr, std::uint64_t& len, bool& expect_zero) {
    // UTF-16LE strings: (printable, NUL) pairs. After a pair's printable byte a NUL completes the character;
    // anything else ends the string, and a printable byte there starts a new one.
    const bool pair_done = expect_zero && c == 0;
    const bool ends = !pair_done && (expect_zero || !pr);
    if (ends && len >= 5) report_wide(len);
    len = pair_done ? len : (expect_zero ? std::uint64_t{pr} : (pr ? len + 1 : 0));
    expect_zero = !pair_done && pr;
    return ends;
  }

  // 64 bytes at `p`.
  void chunk64(const std::uint8_t* p) {
    std::uint64_t pm = 0, zm = 0;
    for (int k = 0; k < 4; ++k) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
      // printable: 0x20 <= c < 0x7f, as one signed compare after shifting the range to the bottom of int8.
      const __m128i t = _mm_add_epi8(v, _mm_set1_epi8(0x60));
      const __m128i pr = _mm_cmplt_epi8(t, _mm_set1_epi8(-33));
      const __m128i z = _mm_cmpeq_epi8(v, _mm_setzero_si128());
      pm |= static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(pr))) << (16 * k);
      zm |= static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(z))) << (16 * k);
    }
    ascii64(p, pm);
    wide64(pm, zm);
  }

  // UTF-16LE strings in 64 bytes from their printable and NUL masks, as wide_step would find them byte by byte.
  //
  // Why this works: a pair is a printable byte followed by a NUL, and a string is a chain of pairs two bytes apart
  // plus, optionally, one printable byte that is not followed by a NUL. Every pair belongs to the chain that
  // reaches it (its printable byte either continues a chain or, ending the previous one, starts a new one), so the
  // strings are exactly the maximal runs of pairs at a stride of two, each with the printable byte after it if
  // there is one. Only runs of four pairs or more can reach five characters; they are few, and each is measured
  // with a count of one bits. The string still open at the end of the 64 bytes is carried into the next bytes in
  // wide_len_ / wide_expect_zero_ like wide_step's state.
  void wide64(std::uint64_t pm, std::uint64_t zm) {
    constexpr std::uint64_t kOddBits = 0xAAAAAAAAAAAAAAAAull, kEvenBits = 0x5555555555555555ull;
    const std::uint64_t pairs = pm & (zm >> 1);  // the NUL lies in these bytes (so never at bit 63)
    int pos = 0;                                  // bytes before pos are accounted for
    // Pairs at pos, pos + 2, ... continuing a string of `len` characters: reports it if it ends in these bytes
    // (and sets pos after its ending byte), else leaves it in the carried state. Returns whether it is still open.
    auto chain = [&](int at, std::uint64_t len) {
      const int m = at >= 64 ? 0 : std::countr_one((pairs >> at) | kOddBits) / 2;
      const int t = at + 2 * m;  // first byte after the pairs
      len += static_cast<std::uint64_t>(m);
      if (t >= 64) {
        wide_len_ = len;
        wide_expect_zero_ = false;
        return true;
      }
      if ((pm >> t) & 1) {
        ++len;  // a printable byte: the last character, unless a NUL follows
        if (t == 63) {
          wide_len_ = len;
          wide_expect_zero_ = true;
          return true;
        }
      }
      if (len >= 5) report_wide(len);
      pos = t + 1;
      return false;
    };
    // The carried string: after a printable byte only a NUL continues it; after a pair, the next pair does.
    if (wide_expect_zero_) {
      if (zm & 1) {
        if (chain(1, wide_len_)) return;
      } else if (wide_len_ >= 5) {
        report_wide(wide_len_);
      }
    } else if (wide_len_ > 0) {
      if (chain(0, wide_len_)) return;
    }
    const std::uint64_t rest = pos >= 64 ? 0 : pairs & (~0ull << pos);
    std::uint64_t starts = rest & ~(rest << 2) & (rest >> 2) & (rest >> 4) & (rest >> 6);
    while (starts != 0) {
      if (chain(std::countr_zero(starts), 0)) return;
      starts &= pos >= 64 ? 0 : ~0ull << pos;
    }
    // No long string is open at the end; a short one may be, and may grow in the next bytes. It ends with the pair
    // at 61 and the printable byte 63, or with the pair at 62; otherwise a printable last byte starts one.
    const std::uint64_t open = pos >= 64 ? 0 : pairs & (~0ull << pos);
    auto run_back = [&](int e) { return std::countl_one((open << (63 - e)) | kEvenBits) / 2; };
    if ((pm >> 63) & 1 && (open >> 61) & 1) {
      chain(61 - 2 * (run_back(61) - 1), 0);
    } else if ((open >> 62) & 1) {
      chain(62 - 2 * (run_back(62) - 1), 0);
    } else {
      const bool last = pos < 64 && ((pm >> 63) & 1);
      wide_len_ = last ? 1 : 0;
      wide_expect_zero_ = last;
    }
  }

  // ASCII strings from the printable mask of 64 bytes at p.
  void ascii64(const std::uint8_t* p, std::uint64_t pm) {
    if (run_len_ > 0) {
      const int l0 = std::countr_one(pm);
      run_len_ += static_cast<std::uint64_t>(l0);
      if (l0 == 64) return;
      end_string();
      pm &= ~((1ull << l0) - 1);
    }
    // The run that reaches the last byte may go on in the next bytes: carry it instead of reporting it.
    int top = 0;
    if (pm >> 63) {
      top = std::countl_one(pm);
      pm = top == 64 ? 0 : pm & ((1ull << (64 - top)) - 1);
    }
    // Bit i of m5 is set when bytes i..i+4 are all printable: the runs worth reporting.
    std::uint64_t m5 = pm & (pm >> 1) & (pm >> 2) & (pm >> 3) & (pm >> 4);
    while (m5 != 0) {
      const int st = std::countr_zero(m5);
      const int len = std::countr_one(pm >> st);
      report_string(p + st, static_cast<std::uint64_t>(len));
      m5 &= st + len >= 64 ? 0 : ~0ull << (st + len);
    }
    if (top > 0) {
      run_start_ = p + 64 - top;
      run_len_ = static_cast<std::uint64_t>(top);
    }
  }

  void report_string(const std::uint8_t* start, std::uint64_t len) {
    ++s_.strings;
    s_.string_bytes += len;
    std::size_t b = 0;
    for (std::uint64_t l = len >> 3; l > 0 && b < 7; l >>= 1) ++b;
    ++s_.string_length_log2[b];
    match_patterns(start, len, s_.patterns);
  }
  void report_wide(std::uint64_t len) {
    ++s_.wide_strings;
    s_.wide_string_chars += len;
  }
  // A run that continues across content() calls is contiguous in the caller's buffer (content is handed over in
  // file order and padding ends every string first), so run_start_ stays valid.
  void end_string() {
    if (run_len_ >= 5) report_string(run_start_, run_len_);
    run_len_ = 0;
  }
  void end_wide() {
    if (wide_len_ >= 5) report_wide(wide_len_);
    wide_len_ = 0;
    wide_expect_zero_ = false;
  }

  // The counts of each high nibble in counts_, summed with SSE2 (four 32-bit lanes; a group is 16 byte values).
  std::array<std::uint32_t, 16> nibble_totals() const {
    std::array<std::uint32_t, 16> out;
    for (std::size_t g = 0; g < 16; ++g) {
      __m128i acc = _mm_setzero_si128();
      for (const auto& t : counts_)
        for (std::size_t j = 0; j < 16; j += 4)
          acc = _mm_add_epi32(acc, _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data() + g * 16 + j)));
      acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0x4e));
      acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0xb1));
      out[g] = static_cast<std::uint32_t>(_mm_cvtsi128_si32(acc));
    }
    return out;
  }

  // The counters run on across blocks (a block's nibble counts are the difference of the totals at its ends), so
  // a block costs a few hundred additions instead of clearing and folding four 256-entry tables.
  void flush_block() {
    const auto totals = nibble_totals();
    std::array<std::uint32_t, 16> nib;
    for (std::size_t i = 0; i < 16; ++i) nib[i] = totals[i] - nibble_totals_[i];
    nibble_totals_ = totals;
    // Window = this block + the previous one (2 KiB window, 1 KiB step).
    std::array<std::uint32_t, 16> win{};
    std::uint32_t total = 0;
    for (std::size_t i = 0; i < 16; ++i) {
      win[i] = nib[i] + prev_nib_[i];
      total += win[i];
    }
    const std::size_t bin = window_bin(win, total);
    for (std::size_t i = 0; i < 16; ++i) s_.entropy_histogram[bin][i] += win[i];
    ++s_.windows;
    prev_nib_ = nib;
    block_fill_ = 0;
    if (++blocks_unfolded_ == kFoldBlocks) fold();
  }

  // The counters into the 64-bit histogram, before any of them could overflow (each sees at most kFoldBlocks KiB).
  void fold() {
    for (std::size_t c = 0; c < 256; ++c)
      s_.histogram[c] += std::uint64_t{counts_[0][c]} + counts_[1][c] + counts_[2][c] + counts_[3][c];
    for (auto& t : counts_) t.fill(0);
    nibble_totals_ = {};
    blocks_unfolded_ = 0;
  }

  // Entropy bin (nibble entropy in quarter bits, 0..15) of a window of `total` bytes with high-nibble counts `win`.
  static std::size_t window_bin(const std::array<std::uint32_t, 16>& win, std::uint32_t total) {
    // The definition is h = -sum q log2 q with q = c / total, binned as floor(4h). The same h is log2(total) -
    // sum(c log2 c) / total, which two table lookups per count give without calling log2. The two differ by
    // rounding only (far below 1e-9), so whenever 4h is not within 1e-9 of a bin edge the bins agree; at an edge
    // (uniform or two-valued windows land exactly on one) the definition decides.
    const auto& t = log_tables();
    if (total < t.lg.size()) {
      double sum = 0;
      for (auto c : win) sum += t.clog[c];
      const double x = (t.lg[total] - sum / total) * 4.0;
      if (std::abs(x - std::nearbyint(x)) > 1e-9) return std::min<std::size_t>(15, static_cast<std::size_t>(std::max(x, 0.0)));
    }
    double h = 0;
    for (auto c : win) {
      if (c == 0) continue;
      const double q = static_cast<double>(c) / total;
      h -= q * std::log2(q);
    }
    return std::min<std::size_t>(15, static_cast<std::size_t>(h * 4.0));  // nibble entropy is 0..4 bits
  }
  struct LogTables {
    std::array<double, 2 * kBlock + 1> clog{}, lg{};  // c * log2(c) and log2(c); a window holds at most 2 KiB
    LogTables() {
      for (std::size_t c = 1; c < clog.size(); ++c) {
        lg[c] = std::log2(static_cast<double>(c));
        clog[c] = static_cast<double>(c) * lg[c];
      }
    }
  };
  static const LogTables& log_tables() {
    static const LogTables t;
    return t;
  }

  static constexpr std::uint32_t kFoldBlocks = 1u << 20;  // 1 GiB of content: a counter stays below 2^30

  ByteStats& s_;
  std::array<std::array<std::uint32_t, 256>, 4> counts_{};  // byte values since the last fold()
  std::array<std::uint32_t, 16> nibble_totals_{};           // their high-nibble totals at the last block end
  std::uint32_t blocks_unfolded_ = 0;
  std::array<std::uint32_t, 16> prev_nib_{};
  std::size_t block_fill_ = 0;
  const std::uint8_t* run_start_ = nullptr;
  std::uint64_t run_len_ = 0;
  std::uint64_t wide_len_ = 0;
  bool wide_expect_zero_ = false;
};

// Length of the run of `p[0]` starting at p.
std::uint64_t uniform_run(const std::uint8_t* p, std::uint64_t n) {
  return n == 0 ? 0 : run_length(p, static_cast<std::size_t>(n), p[0]);
}

struct RangeEvent {
  std::uint64_t at;     // file offset
  std::uint32_t range;  // index into the caller's ranges
  bool end;             // one past the range's last byte (else its first byte)
};
// Called with an event and the count of each byte value before its offset.
using EventFn = std::function<void(const RangeEvent&, const ByteHistogram&)>;

void scan(ByteView b, ByteStats& out, std::span<const RangeEvent> events, const EventFn& on_event);

}  // namespace

void scan_bytes(ByteView b, ByteStats& out) noexcept { scan(b, out, {}, {}); }

void scan_bytes(ByteView b, ByteStats& out, std::span<RangeEntropy> ranges) {
  // Each range becomes two events, at its first byte and one past its last. At an event the pass takes the count of
  // every byte value before that offset (content and padding alike); a range's histogram is the difference between
  // the counts at its two events, which is the histogram entropy() would build by reading the range again.
  std::vector<RangeEvent> events;
  const std::size_t fused = std::min(ranges.size(), kMaxScanRanges);
  events.reserve(2 * fused);
  for (std::size_t i = 0; i < fused; ++i) {
    const std::uint64_t start = std::min(ranges[i].offset, b.size());
    const std::uint64_t end = start + std::min(ranges[i].size, b.size() - start);
    ranges[i].entropy = 0.0;  // what entropy() says of no bytes
    if (end == start) continue;
    events.push_back({start, static_cast<std::uint32_t>(i), false});
    events.push_back({end, static_cast<std::uint32_t>(i), true});
  }
  std::sort(events.begin(), events.end(), [](const RangeEvent& x, const RangeEvent& y) { return x.at < y.at; });
  std::vector<ByteHistogram> at_start(fused);
  scan(b, out, events, [&](const RangeEvent& e, const ByteHistogram& before) {
    if (!e.end) {
      at_start[e.range] = before;
      return;
    }
    ByteHistogram h;
    for (std::size_t c = 0; c < 256; ++c) h[c] = before[c] - at_start[e.range][c];
    ranges[e.range].entropy = entropy_of(h);
  });
  for (std::size_t i = fused; i < ranges.size(); ++i) ranges[i].entropy = entropy(b.clamp(ranges[i].offset, ranges[i].size));
}

namespace {

void scan(ByteView b, ByteStats& out, std::span<const RangeEvent> events, const EventFn& on_event) {
  out = ByteStats{};
  out.file_size = b.size();
  Scanner sc(out);
  const std::uint8_t* p = b.data();
  const std::uint64_t n = b.size();
  std::uint64_t pos = 0;      // next byte to classify
  std::uint64_t pending = 0;  // start of content not yet handed to the scanner
  ByteHistogram padded{};     // byte values of the padding runs before `pending`
  std::size_t next_event = 0;
  // The count of each byte value before offset `at`, which lies `into_run` bytes into a padding run of `value`
  // (0: at a content boundary).
  auto fire = [&](std::size_t i, std::uint8_t value, std::uint64_t into_run) {
    ByteHistogram before = padded;
    sc.add_counts(before);
    before[value] += into_run;
    on_event(events[i], before);
  };
  // Content is handed over and its pages released every kFlush bytes, so the resident set stays small however
  // large the file (release_pages is a no-op for memory that is not a file mapping).
  constexpr std::uint64_t kFlush = 8u << 20;
  auto hand_over = [&](std::uint64_t upto) {
    const std::uint64_t from = pending;
    // Content up to each event offset first, so that the counts the event takes end exactly there.
    for (; next_event < events.size() && events[next_event].at <= upto; ++next_event) {
      const std::uint64_t at = events[next_event].at;
      if (at > pending) {
        sc.content(p + pending, static_cast<std::size_t>(at - pending));
        pending = at;
      }
      fire(next_event, 0, 0);
    }
    if (upto > pending) sc.content(p + pending, static_cast<std::size_t>(upto - pending));
    release_pages(p + from, upto - from);
    pending = upto;
  };
  // The extent of a uniform run, released as it goes: a 500 MB run of zeros is read once and never held.
  auto run_from = [&](std::uint64_t at) {
    std::uint64_t len = 0;
    for (;;) {
      const std::uint64_t chunk = std::min<std::uint64_t>(kFlush, n - (at + len));
      const std::uint64_t r = uniform_run(p + at + len, chunk);
      // Compare across the chunk seam: the run continues only with the same byte value.
      if (len > 0 && r > 0 && p[at + len] != p[at]) break;
      len += r;
      if (r < chunk || at + len >= n) break;
      if (len > kFlush) release_pages(p + at + len - kFlush, kFlush);
    }
    return len;
  };
  // Look for padding only at block-aligned probes: a probe that starts a long uniform run marks padding from the
  // run's true start (found by walking back) to its end. Everything else is content.
  while (pos < n) {
    const std::uint64_t probe_len = std::min<std::uint64_t>(kBlock, n - pos);
    if (uniform_run(p + pos, probe_len) == probe_len) {
      std::uint64_t start = pos;
      while (start > pending && p[start - 1] == p[pos]) --start;
      const std::uint64_t len = (pos - start) + run_from(pos);
      if (len >= kPaddingRun) {
        hand_over(start);
        for (; next_event < events.size() && events[next_event].at <= start + len; ++next_event)
          fire(next_event, p[start], events[next_event].at - start);
        padded[p[start]] += len;
        sc.padding(len);
        if (start + len == n) out.tail_padding = len;
        release_pages(p + start, len);
        pos = start + len;
        pending = pos;
        continue;
      }
      pos = start + len;  // a short run: ordinary content, skip past it
      continue;
    }
    pos += probe_len;
    if (pos - pending >= kFlush) hand_over(pos);
  }
  hand_over(n);
  sc.finish();
  out.content_size = out.file_size - out.padding_bytes;
}

}  // namespace

}  // namespace mamori::features
