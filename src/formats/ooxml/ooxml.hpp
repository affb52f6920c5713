// OOXML packages (docx/xlsx/pptx, their macro-enabled forms, XLSB): the zip walk every document reader shares.
//
// ooxml::for_each_part(bytes, opt, want, visit) walks the package's zip entries in order with libarchive over the
// caller's bytes (no temporary files). Every entry is reported to `want` with its name and declared size; only the
// parts `want` accepts are inflated and handed to `visit`, so a package full of images costs one header walk.
// Unlike archive::for_each_entry (built for containers: passwords, padding collapse, ratio bombs), this reader is
// for packages whose parts are parsed in place: parts are byte-exact, entries past a cap are not visited, and a
// part larger than its cap is handed over cut (truncated = true) rather than dropped.
//
// Zip oddities are recorded in the Summary (enum-coded anomalies plus the counters the document features use) and
// the walk goes on; the call fails only when libarchive cannot open the bytes as a zip at all.
//
// Lifetime: the ByteView passed to `visit` lives only for that call.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace mamori::ooxml {

namespace limits {
// Zip entries looked at per package. Real documents have tens to a few thousand (one per image or sheet).
inline constexpr std::uint64_t max_entries = 20000;
// Bytes inflated per part, and for the whole package.
inline constexpr std::uint64_t max_part_bytes = 64ull << 20;
inline constexpr std::uint64_t max_package_bytes = 512ull << 20;
}  // namespace limits

/// Structural oddities. The numeric values are stable.
enum class Anomaly : std::uint8_t {
  header_fatal = 0,           // libarchive gave up on an entry header; the walk ends there
  header_warning,             // an entry header read with a warning (bad extra field, CRC of the local header...)
  data_error,                 // a part's data could not be inflated (counted, the walk goes on)
  entries_truncated_by_limit,
  part_truncated_by_limit,    // a part above max_part_bytes, or the package above max_package_bytes
  duplicate_name,             // two entries with one name (parsers disagree on which one wins)
  path_traversal,             // ".." in an entry name
  absolute_path,              // an entry name starting with '/' or '\'
  encrypted_entry,            // a zip-encrypted entry (Office never writes them; not inflated)
  kCount
};
inline constexpr std::size_t anomaly_count = static_cast<std::size_t>(Anomaly::kCount);
const char* anomaly_name(Anomaly a) noexcept;

struct Part {
  std::uint64_t index = 0;       // position in the zip
  std::string name;              // as stored ("word/document.xml"); not normalised
  std::string lower;             // name in ASCII lower case, for matching part paths
  std::int64_t declared_size = -1;  // uncompressed size the header claims; -1 when unknown
  bool encrypted = false;
};

struct Summary {
  std::uint64_t entries = 0;           // entries visited (at most limits::max_entries)
  double declared_bytes = 0;           // sum of positive declared sizes
  std::uint64_t inflated_bytes = 0;    // bytes of the parts handed to `visit`
  std::uint64_t zip_errors = 0;        // header warnings, data errors and a fatal header, together
  std::uint64_t duplicate_names = 0, dotdot_paths = 0, absolute_paths = 0, encrypted_entries = 0;
  std::uint64_t truncated_parts = 0;
  std::uint64_t anomaly_bits = 0;
  bool has(Anomaly a) const noexcept { return (anomaly_bits >> static_cast<unsigned>(a)) & 1u; }
};

struct Options {
  std::uint64_t max_entries = limits::max_entries;
  std::uint64_t max_part_bytes = limits::max_part_bytes;
  std::uint64_t max_package_bytes = limits::max_package_bytes;
};

/// Which parts to inflate (called for every entry that is not encrypted).
using Want = std::function<bool(const Part&)>;
/// Receives each wanted part; `truncated` is true when a cap cut it. Return false to stop the walk.
using Visitor = std::function<bool(const Part&, ByteView data, bool truncated)>;

/// Walks the package. Errors: not_this_format when libarchive cannot open the bytes as a zip.
Result<Summary> for_each_part(ByteView package, const Options& opt, const Want& want, const Visitor& visit);

}  // namespace mamori::ooxml
