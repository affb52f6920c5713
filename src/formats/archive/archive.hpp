// A bounded archive reader over bytes in memory, built on libarchive: zip (stored, deflate, ZipCrypto and WinZip
// AES entries), 7z, rar, cab, tar, iso9660, and single-stream gzip/bzip2/xz (the decompressed stream becomes one
// entry named "data" when it holds no archive). No temporary files: libarchive reads from the caller's ByteView.
//
// Hostile archives are the point, so every walk is bounded by ReadOptions: entries visited, bytes materialised per
// entry and in total, the ratio of extracted bytes to archive bytes, decompression work per entry and a deadline.
// Hitting a bound stops the walk (Summary::stop says which) or truncates one entry (Entry::truncated); it is never
// an error. An error is returned only when libarchive cannot recognise the bytes as any archive at all.
//
// Padding. Inflated malware appends or inserts hundreds of megabytes of one byte value to dodge size limits. While
// streaming an entry out of libarchive, runs of one byte value of ReadOptions::padding_run (64 KiB) or more are
// counted (Entry::padding_bytes). They are kept byte-exact while the entry stays below exact_padding_cap, so that
// offsets inside the member (PE sections, OLE sectors) do not move for ordinary files; past that cap a run is
// collapsed to collapsed_run_keep bytes (Entry::collapsed_bytes counts what was dropped). Collapsing is lossless for
// trailing padding but shifts everything after an inner run, so a member collapsed mid-stream may parse with
// anomalies; that is the price of never holding 2 GB of zeros. The ratio bound counts bytes that are not padding,
// so a padded but real document is scanned rather than called a bomb.
//
// Work. Decompression is the cost of a bomb, so ReadOptions::max_raw_total bounds the bytes libarchive produces
// over the whole walk, padding included, and every budget (raw bytes, the ratio of non-padding bytes, materialised
// bytes, time) is checked while an entry streams, in slices of at most stream_slice bytes: a bomb stops inside its
// first oversized entry, not after it. An entry cut by a budget of the walk is still visited (truncated = true), so
// the real content in front of the padding is scanned, and then the walk stops. CRC-32 is checked, and a mismatch
// is a data_error anomaly on an entry that is still scanned, until limits::crc_checked_bytes have been decompressed
// (or the next entry declares more): checking costs as much as inflating, and a bomb or a padded document should not
// pay it twice. From the first encrypted entry on it is checked again, because a wrong ZipCrypto password is only
// caught by the checksum.
//
// Passwords. For encrypted zip entries the passwords are offered in order through libarchive's passphrase callback;
// Entry::password names the one that opened the entry. ZipCrypto checks a password with a single byte, so about one
// wrong password in 256 passes the check and then fails on the data: the entry is then retried with the passwords
// after the false match. 7z and rar encryption cannot be decrypted by libarchive; such entries come out with
// encrypted = true and opened = false.
//
// Lifetime: the ByteView passed to a visitor lives only for that call.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace mamori::archive {

namespace limits {
// Entries visited per archive (directories included). 42.zip has 16 per level; real archives rarely pass a few
// thousand.
inline constexpr std::uint64_t default_max_entries = 10000;
// Bytes materialised for one entry after padding collapse.
inline constexpr std::uint64_t default_max_entry_bytes = 512ull << 20;
// Bytes libarchive may decompress for one entry, padding included: a work bound, not a memory bound.
inline constexpr std::uint64_t default_max_raw_entry_bytes = 8ull << 30;
// Longest entry name kept (longer names are cut and flagged).
inline constexpr std::size_t max_name_length = 1024;
// A run of one byte value at least this long is padding.
inline constexpr std::uint64_t padding_run = 64ull << 10;
// Bytes handed to the padding sink between two budget checks: a budget is passed by at most this much.
inline constexpr std::size_t stream_slice = 1u << 20;
// CRC-32 of unencrypted zip entries is checked while the bytes decompressed by the walk, counting the next entry's
// declared size, stay under this; past it the walk goes on without (it costs as much as inflating).
inline constexpr std::uint64_t crc_checked_bytes = 64ull << 20;
}  // namespace limits

/// Why a walk ended before the archive's last entry.
enum class Stop : std::uint8_t {
  none,          // read to the end (or to the first unreadable header, see Summary::anomalies)
  entries,       // max_entries reached
  total_bytes,   // max_total_bytes reached
  ratio,         // extracted non-padding bytes passed max_ratio x archive size
  raw_bytes,     // max_raw_total reached (bytes decompressed, padding included)
  time,          // deadline passed
  visitor,       // the visitor returned false
};
const char* stop_name(Stop s) noexcept;

/// Structural oddities met while walking. Stable values.
enum class AnomalyCode : std::uint8_t {
  header_unreadable = 0,    // libarchive gave up on an entry header; the walk ends there
  data_error,               // an entry's data could not be read (CRC, corrupt stream); detail = libarchive's message
  entry_truncated_by_limit, // entry longer than max_entry_bytes or max_raw_entry_bytes
  name_truncated,           // entry name longer than max_name_length
  name_suspicious,          // absolute path or ".." component
  encrypted_unopened,       // an encrypted entry no password opened
  padding_collapsed,        // a run of padding was collapsed (offsets after it moved)
  size_mismatch,            // declared size differs from the bytes read
  duplicate_name,           // two entries with one name (overlapping-entry bombs, zip smuggling)
};
const char* anomaly_name(AnomalyCode c) noexcept;

struct Anomaly {
  AnomalyCode code;
  std::string detail;
};

struct Entry {
  std::uint64_t index = 0;         // position in the walk
  std::string name;                // UTF-8 when the archive says so; control characters replaced by '?'
  bool regular = true;             // false for directories, links, devices (no data is visited for those)
  bool size_known = false;
  std::uint64_t declared_size = 0; // what the header claims
  bool encrypted = false;
  bool opened = true;              // data was read (false when encrypted and no password worked, or data_error)
  bool truncated = false;          // materialised bytes stop at a limit
  std::string error;               // libarchive's message when the data could not be read
  std::string password;            // the password that opened it, when encrypted
  std::uint64_t raw_bytes = 0;     // bytes libarchive produced, padding included
  std::uint64_t padding_bytes = 0; // bytes in runs of >= padding_run of one value
  std::uint64_t collapsed_bytes = 0;  // padding bytes dropped from the materialised data
};

struct ReadOptions {
  std::uint64_t max_entries = limits::default_max_entries;
  std::uint64_t max_entry_bytes = limits::default_max_entry_bytes;
  std::uint64_t max_raw_entry_bytes = limits::default_max_raw_entry_bytes;
  /// Materialised bytes over all entries of this walk.
  std::uint64_t max_total_bytes = 1ull << 30;
  /// Bytes decompressed over all entries of this walk, padding included: the work bound (Stop::raw_bytes). Never
  /// passed.
  std::uint64_t max_raw_total = UINT64_MAX;
  /// Budgets shared with the caller's wider work (a scan's whole member tree, which nested walks draw on too),
  /// asked before every entry: bytes that may still be decompressed (Stop::raw_bytes), non-padding bytes that may
  /// still be extracted (Stop::ratio) and bytes that may still be materialised (Stop::total_bytes). Charging visited
  /// entries against them is the caller's business. Optional.
  struct Shared {
    std::uint64_t raw = UINT64_MAX;
    std::uint64_t content = UINT64_MAX;
    std::uint64_t bytes = UINT64_MAX;
  };
  std::function<Shared()> shared;
  /// Extracted non-padding bytes may not pass max_ratio x the archive's size (plus ratio_slack, so that a small
  /// archive of very compressible text is not a bomb). 0 disables.
  double max_ratio = 1000;
  std::uint64_t ratio_slack = 1ull << 20;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::vector<std::string> passwords;
  bool collapse_padding = true;
  /// Padding stays byte-exact while the entry's materialised size stays under this.
  std::uint64_t exact_padding_cap = 64ull << 20;
  /// What is kept of a collapsed run: more than features::kPaddingRun (64 KiB) plus a block, so that the member's
  /// own scan still sees the kept part as padding, and the bytes dropped are a multiple of 1 KiB, so that the
  /// 1 KiB blocks of the byte pass keep their alignment after the run.
  std::uint64_t collapsed_run_keep = 128 * 1024;
  /// Also open bytes that are a bare gzip/bzip2/xz/... stream as one entry named "data".
  bool raw_streams = true;
};

struct Summary {
  std::string format;               // libarchive's format name ("ZIP 2.0 (deflation)", "7-Zip", "RAW", ...)
  std::vector<std::string> filters; // outer compression filters, outermost first ("gzip", "xz")
  std::uint64_t entries = 0;         // entries visited
  std::uint64_t encrypted_entries = 0;
  std::uint64_t unopened_encrypted = 0;
  std::uint64_t extracted_bytes = 0;   // materialised
  std::uint64_t raw_bytes = 0;         // decompressed, padding included
  std::uint64_t content_bytes = 0;     // decompressed, padding excluded
  std::uint64_t padding_bytes = 0;
  std::uint64_t collapsed_bytes = 0;
  std::string password;                // the last password that opened an entry
  Stop stop = Stop::none;
  std::vector<Anomaly> anomalies;
};

using Visitor = std::function<bool(const Entry&, ByteView data)>;

/// Walks every entry of `archive`, calling `visit` for each (non-regular entries and unopened encrypted ones get
/// an empty view). Errors only when libarchive recognises no archive format at all (ErrorCode::not_this_format).
Result<Summary> for_each_entry(ByteView archive, const ReadOptions& opt, const Visitor& visit);

/// The bytes of one entry, byte-exact (no padding collapse), for part lookup in OOXML and similar zips. `name` is
/// compared case-insensitively, ignoring a leading '/'. Errors: not_this_format, limit_exceeded (the entry is
/// larger than max_bytes), truncated (no such entry or unreadable data).
Result<std::vector<std::uint8_t>> read_entry(ByteView zip, std::string_view name, std::uint64_t max_bytes = 64ull << 20);

/// Entry names in order (at most max_entries).
Result<std::vector<std::string>> list_entries(ByteView archive, std::uint64_t max_entries = limits::default_max_entries);

/// Run-collapsing sink: what for_each_entry streams each entry through. Exposed for tests and the bench.
class PaddingSink {
 public:
  PaddingSink(std::uint64_t run, std::uint64_t exact_cap, std::uint64_t keep, bool collapse)
      : run_(run), exact_cap_(exact_cap), keep_(keep), collapse_(collapse) {}
  void write(const std::uint8_t* p, std::size_t n);
  /// Flushes a pending run (end of entry).
  void finish();
  std::vector<std::uint8_t>& data() noexcept { return out_; }
  std::uint64_t raw_bytes() const noexcept { return raw_; }
  std::uint64_t padding_bytes() const noexcept { return padding_; }
  std::uint64_t collapsed_bytes() const noexcept { return collapsed_; }
  /// Bytes that are not padding: what ratio limits count.
  std::uint64_t content_bytes() const noexcept { return raw_ - padding_; }
  void clear();

 private:
  void flush_pending();
  std::uint64_t run_, exact_cap_, keep_;
  bool collapse_;
  std::vector<std::uint8_t> out_;
  std::uint64_t raw_ = 0, padding_ = 0, collapsed_ = 0;
  int last_ = -1;             // value of the current run
  std::uint64_t run_len_ = 0; // its length so far (in out_ or pending)
  std::uint64_t pending_ = 0; // bytes of the current run held back (not in out_) once it reached run_
};

}  // namespace mamori::archive
