#include "features/byte_scan.hpp"

#include <cmath>
#include <cstring>

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

// Counts patterns in one string. Dispatches on the first character so each position costs one switch.
void match_patterns(const std::uint8_t* s, std::size_t n, std::array<std::uint32_t, pat_count>& pats) {
  const std::uint8_t* end = s + n;
  for (const std::uint8_t* p = s; p < end; ++p) {
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
}

class Scanner {
 public:
  explicit Scanner(ByteStats& s) : s_(s) {}

  // Ordinary content: histogram, strings, entropy windows.
  void content(const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
      const std::size_t take = std::min<std::size_t>(n, kBlock - block_fill_);
      for (std::size_t i = 0; i < take; ++i) {
        const std::uint8_t c = p[i];
        ++block_[c];
        // ASCII strings
        if (printable(c)) {
          if (run_len_ == 0) run_start_ = p + i;
          ++run_len_;
        } else {
          end_string();
        }
        // UTF-16LE strings: printable, NUL, printable, NUL...
        if (wide_expect_zero_) {
          wide_expect_zero_ = false;
          if (c != 0) {
            end_wide();
            if (printable(c)) wide_expect_zero_ = true, wide_len_ = 1;
          }
        } else if (printable(c)) {
          ++wide_len_;
          wide_expect_zero_ = true;
        } else {
          end_wide();
        }
      }
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
  }

 private:
  void end_string() {
    if (run_len_ >= 5) {
      ++s_.strings;
      s_.string_bytes += run_len_;
      std::size_t b = 0;
      for (std::uint64_t l = run_len_ >> 3; l > 0 && b < 7; l >>= 1) ++b;
      ++s_.string_length_log2[b];
      // Strings never span a block boundary in memory terms: run_start_ stays valid because it points into the
      // caller's buffer, not into our block.
      match_patterns(run_start_, run_len_, s_.patterns);
    }
    run_len_ = 0;
  }
  void end_wide() {
    if (wide_len_ >= 5) {
      ++s_.wide_strings;
      s_.wide_string_chars += wide_len_;
    }
    wide_len_ = 0;
    wide_expect_zero_ = false;
  }

  void flush_block() {
    std::array<std::uint32_t, 16> nib{};
    for (int c = 0; c < 256; ++c) {
      s_.histogram[static_cast<std::size_t>(c)] += block_[static_cast<std::size_t>(c)];
      nib[static_cast<std::size_t>(c >> 4)] += block_[static_cast<std::size_t>(c)];
    }
    // Window = this block + the previous one (2 KiB window, 1 KiB step).
    std::array<std::uint32_t, 16> win{};
    std::uint32_t total = 0;
    for (std::size_t i = 0; i < 16; ++i) {
      win[i] = nib[i] + prev_nib_[i];
      total += win[i];
    }
    double h = 0;
    for (auto c : win) {
      if (c == 0) continue;
      const double q = static_cast<double>(c) / total;
      h -= q * std::log2(q);
    }
    const std::size_t bin = std::min<std::size_t>(15, static_cast<std::size_t>(h * 4.0));  // nibble entropy is 0..4 bits
    for (std::size_t i = 0; i < 16; ++i) s_.entropy_histogram[bin][i] += win[i];
    ++s_.windows;
    prev_nib_ = nib;
    block_.fill(0);
    block_fill_ = 0;
  }

  ByteStats& s_;
  std::array<std::uint32_t, 256> block_{};
  std::array<std::uint32_t, 16> prev_nib_{};
  std::size_t block_fill_ = 0;
  const std::uint8_t* run_start_ = nullptr;
  std::uint64_t run_len_ = 0;
  std::uint64_t wide_len_ = 0;
  bool wide_expect_zero_ = false;
};

// Length of the run of `p[0]` starting at p, checking 8 bytes at a time.
std::uint64_t uniform_run(const std::uint8_t* p, std::uint64_t n) {
  if (n == 0) return 0;
  std::uint64_t pattern;
  std::memset(&pattern, p[0], sizeof pattern);
  std::uint64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w != pattern) break;
  }
  while (i < n && p[i] == p[0]) ++i;
  return i;
}

}  // namespace

void scan_bytes(ByteView b, ByteStats& out) noexcept {
  out = ByteStats{};
  out.file_size = b.size();
  Scanner sc(out);
  const std::uint8_t* p = b.data();
  const std::uint64_t n = b.size();
  std::uint64_t pos = 0;      // next byte to classify
  std::uint64_t pending = 0;  // start of content not yet handed to the scanner
  // Content is handed over and its pages released every kFlush bytes, so the resident set stays small however
  // large the file (release_pages is a no-op for memory that is not a file mapping).
  constexpr std::uint64_t kFlush = 8u << 20;
  auto hand_over = [&](std::uint64_t upto) {
    sc.content(p + pending, static_cast<std::size_t>(upto - pending));
    release_pages(p + pending, upto - pending);
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

}  // namespace mamori::features
