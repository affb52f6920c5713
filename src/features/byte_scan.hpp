// The byte-level pass: one sweep over a file that yields the byte histogram, the byte-entropy histogram, string
// statistics and padding statistics, without allocating per byte or per string.
//
// Padding: runs of one byte value of at least `kPaddingRun` bytes (aligned to 1 KiB blocks) are measured and then
// left out of every other statistic, so a DLL inflated with 500 MB of zeros is described by what it pads, not by the
// zeros. This is how the 547 MB Emotet loader keeps the features of its 400 KB core.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "common/bytes.hpp"
#include "common/stats.hpp"

namespace mamori::features {

inline constexpr std::uint64_t kBlock = 1024;            // entropy-window step
inline constexpr std::uint64_t kPaddingRun = 64 * 1024;  // shorter uniform runs are ordinary content

/// Substrings counted inside printable strings (case-insensitive). Order is part of the feature schema.
enum StringPattern : std::uint8_t {
  pat_http, pat_https, pat_drive_path, pat_registry, pat_mz, pat_exe, pat_dll, pat_cmd, pat_powershell,
  pat_appdata, pat_run_key, pat_wscript, pat_virtualalloc, pat_kernel32, pat_ntdll, pat_bitcoin, pat_crypt,
  pat_user_agent, pat_temp, pat_count
};
const char* pattern_name(StringPattern p) noexcept;

struct ByteStats {
  std::uint64_t file_size = 0;
  std::uint64_t content_size = 0;  // file_size minus padding
  ByteHistogram histogram{};       // content only
  std::array<std::array<std::uint32_t, 16>, 16> entropy_histogram{};  // [window entropy bin][high nibble]
  std::uint64_t windows = 0;

  // Padding
  std::uint64_t padding_bytes = 0;
  std::uint64_t padding_runs = 0;
  std::uint64_t largest_padding_run = 0;
  std::uint64_t tail_padding = 0;  // uniform bytes at the very end of the file (appended inflation)

  // Strings (printable ASCII runs of >= 5 bytes) and UTF-16LE strings (>= 5 chars)
  std::uint64_t strings = 0;
  std::uint64_t string_bytes = 0;
  std::array<std::uint64_t, 8> string_length_log2{};  // 5-7, 8-15, ..., >=512
  std::uint64_t wide_strings = 0;
  std::uint64_t wide_string_chars = 0;
  std::array<std::uint32_t, pat_count> patterns{};
};

/// Scans `b` once. Safe on any input; cost is linear in the content and near-zero on padding.
void scan_bytes(ByteView b, ByteStats& out) noexcept;

/// A range of the scanned bytes (clamped to them) whose entropy the scan also measures: exactly
/// entropy(b.clamp(offset, size)) from common/stats.hpp, padding included, without a second read of the bytes.
struct RangeEntropy {
  std::uint64_t offset = 0, size = 0;
  double entropy = 0.0;  // output
};
inline constexpr std::size_t kMaxScanRanges = 1024;  // more ranges than this are measured separately

/// scan_bytes, plus the entropy of each of `ranges` (PE sections, overlay, resources).
void scan_bytes(ByteView b, ByteStats& out, std::span<RangeEntropy> ranges);

}  // namespace mamori::features
