// What one scan may spend, and the state that recursion into containers carries with it.
//
// A container (archive, e-mail, document with embedded objects) hands each member to ScanContext::scan_member,
// which runs the same dispatch as a top-level file. Limits are counted per top-level file across the whole tree,
// so that a zip bomb, a deep nest or a slow member cannot blind or stall the scanner. Hitting a limit is never a
// silent OK: it leaves a result named after the limit (Mamori.Limits.Exceeded.<Name>), suspicious by default.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "engine/verdict.hpp"

namespace mamori::engine {

class Scanner;

struct Limits {
  /// Files larger than this are not read. They get verdict `suspicious` with signature
  /// Mamori.Limits.Exceeded.FileSize, never a silent OK. Padding is skipped cheaply, so the default is generous.
  std::uint64_t max_file_size = 4ull << 30;
  /// Containers nested deeper than this are not opened (the top-level file is depth 0). Limit name: Depth.
  unsigned max_depth = 10;
  /// Members scanned per top-level file, all levels together. Limit name: Members.
  std::uint64_t max_members = 10000;
  /// Bytes extracted from containers per top-level file, all levels together, after padding is collapsed.
  /// Limit name: Size.
  std::uint64_t max_extracted_bytes = 1ull << 30;
  /// One member may not expand to more than this many times its compressed size (padding runs excluded).
  /// Limit name: Ratio.
  double max_ratio = 1000;
  /// Bytes any file may expand to regardless of the ratio, so that small archives of compressible text pass.
  std::uint64_t ratio_slack = 1ull << 20;
  /// Work bound: bytes decompressed per top-level file, all levels together, padding included. Decompression is
  /// what a bomb costs, and padding is cheap to hold but not to inflate. Hitting the ratio part is Ratio, the
  /// absolute part Size. Deflate cannot expand more than 1032:1, so one zip layer of a padded document stays under
  /// the default ratio; nested layers (zero-filled 42.zip) and near-uniform data in stronger codecs do not.
  double max_decompressed_ratio = 1100;
  std::uint64_t decompressed_slack = 64ull << 20;
  std::uint64_t max_decompressed_bytes = 4ull << 30;
  /// Wall-clock budget per top-level file; members not reached in time are reported. Limit name: Time.
  double max_seconds = 60;
  /// Whether a limit hit counts as suspicious (true) or is only reported in anomalies (false).
  bool limits_are_suspicious = true;
};

/// The budget shared by every level of one top-level scan.
struct Budget {
  std::uint64_t members = 0;
  std::uint64_t extracted_bytes = 0;
  /// Extracted bytes that are not padding runs, and the top-level file's size: their quotient, over the whole
  /// tree, is what max_ratio bounds (42.zip is 42 KB; every layer alone looks harmless).
  std::uint64_t content_bytes = 0;
  /// Bytes decompressed, padding included (the work bound).
  std::uint64_t decompressed_bytes = 0;
  std::uint64_t top_size = 0;
  std::chrono::steady_clock::time_point deadline;
};

class ScanContext {
 public:
  ScanContext(const Scanner& scanner, Budget& budget, unsigned depth) : scanner_(scanner), budget_(budget), depth_(depth) {}

  const Scanner& scanner() const noexcept { return scanner_; }
  const Limits& limits() const noexcept;
  unsigned depth() const noexcept { return depth_; }

  /// Scans `data` as a member named `name` of `parent` and adds the result to parent.members. Returns false when a
  /// limit (depth, member count, extracted bytes, time) stops the container's walk; the limit is then recorded on
  /// `parent`. `data` need only live for the duration of the call. `collapsed_padding`: bytes of padding the
  /// container's reader dropped from the member (archive::Entry::collapsed_bytes), so that handlers can describe
  /// the member as it was rather than as it was kept.
  bool scan_member(ScanResult& parent, std::string_view name, ByteView data, std::uint64_t collapsed_padding = 0);
  /// For a member: padding bytes its container's reader dropped from it (0 at top level).
  std::uint64_t collapsed_padding() const noexcept { return collapsed_padding_; }

  /// Accounts `n` more extracted bytes (of which `content` are not padding; default all), produced by
  /// decompressing `decompressed` bytes (padding included; 0 when nothing was decompressed), before a container
  /// hands them to scan_member; false (and the limit recorded on `parent`) when that would pass
  /// max_extracted_bytes (Size), max_ratio x the top-level file's size plus ratio_slack (Ratio) or the
  /// decompression budget (Ratio or Size, see decompressed_limit_name).
  bool charge_bytes(ScanResult& parent, std::uint64_t n, std::uint64_t content = UINT64_MAX, std::uint64_t decompressed = 0);
  bool out_of_time() const noexcept { return std::chrono::steady_clock::now() > budget_.deadline; }
  std::chrono::steady_clock::time_point deadline() const noexcept { return budget_.deadline; }
  /// What is left of the per-file budget, for containers that bound their own readers with it.
  std::uint64_t remaining_members() const noexcept;
  std::uint64_t remaining_bytes() const noexcept;
  /// Non-padding bytes the ratio bound still allows, over the whole tree.
  std::uint64_t remaining_content() const noexcept;
  /// Bytes that may still be decompressed, padding included, and which limit that is ("Ratio" when
  /// max_decompressed_ratio x the file's size binds, "Size" when max_decompressed_bytes does).
  std::uint64_t remaining_decompressed() const noexcept;
  const char* decompressed_limit_name() const noexcept;
  /// Human-readable why for a decompression budget hit.
  std::string decompressed_why() const;

  /// Records that limit `name` (Depth, Members, Size, Ratio, Time, ...) was hit, with a human-readable why.
  void exceeded(ScanResult& r, std::string_view name, const std::string& why) const;

  /// Passwords to try on encrypted members, best first: words harvested from an enclosing e-mail, then the
  /// configured list. Containers push before scanning their members and pop after.
  std::vector<std::string>& passwords() noexcept { return passwords_; }

 private:
  const Scanner& scanner_;
  Budget& budget_;
  unsigned depth_;
  std::vector<std::string> passwords_;
  std::uint64_t collapsed_padding_ = 0;
  /// SHA-256 of every enclosing container, outermost first: a member equal to one of them is a self-including
  /// archive and is not opened again.
  std::vector<std::string> ancestors_;
};

}  // namespace mamori::engine
