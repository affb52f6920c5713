// Embedded files in OneNote sections (.one, [MS-ONESTORE]).
//
// A section stores each attached file as a FileDataStoreObject (2.6.13): the header GUID
// {BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC}, a 64-bit length, 12 reserved bytes, the file's bytes, zero padding to an
// 8-byte boundary and the footer GUID {71FBA722-0F79-4A0B-BB13-899256426B24}. Instead of walking the revision
// store (which a hostile writer can make arbitrarily deep), onenote::scan looks for the header GUID anywhere in the
// file and checks each hit against its length and footer; what does not check out is recorded as an anomaly and
// still handed over, cut at the end of the file. The walk is bounded by onenote::limits.
//
// Lifetime: EmbeddedFile::data borrows the scanned bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.hpp"

namespace mamori::onenote {

namespace limits {
// Embedded files taken from one section. Phishing sections carry a handful (a script and a decoy image or two).
inline constexpr std::uint32_t max_embedded_files = 256;
// File names (UTF-16 strings ending in an extension) collected from the section for reporting.
inline constexpr std::uint32_t max_names = 64;
// Bytes searched for those names, outside the embedded files. The property sets that hold them are a few KiB.
inline constexpr std::uint64_t max_name_scan_bytes = 16ull << 20;
}  // namespace limits

enum class Anomaly : std::uint8_t {
  header_not_onenote = 0,       // the file does not start with the .one section GUID
  file_data_truncated,          // a FileDataStoreObject's length runs past the end of the file; detail = offset
  file_data_footer_missing,     // no footer GUID after the data; detail = offset
  embedded_truncated_by_limit,  // more than limits::max_embedded_files
  file_data_length_mismatch,    // the footer is not where the length says; the data is cut at the footer found
  kCount
};
const char* anomaly_name(Anomaly a) noexcept;

struct AnomalyRecord {
  Anomaly code;
  std::uint64_t detail;
};

struct EmbeddedFile {
  std::uint64_t offset = 0;        // of the header GUID
  std::uint64_t declared_size = 0; // cbLength as stored
  ByteView data;                   // the file's bytes, cut at the end of the input when the length overruns it
  bool footer_ok = false;          // a footer closes the data (where the length says, or further on)
};

struct Section {
  std::vector<EmbeddedFile> files;
  std::vector<std::string> names;  // file names seen in the section's properties ("invoice.hta"), in order
  std::vector<AnomalyRecord> anomalies;
  std::uint64_t anomaly_bits = 0;
  bool has(Anomaly a) const noexcept { return (anomaly_bits >> static_cast<unsigned>(a)) & 1u; }
};

/// True when the bytes start with the OneNote section (.one) file format GUID.
bool sniff(ByteView bytes) noexcept;

/// Finds the embedded files. Never fails: a file without any yields an empty list.
Section scan(ByteView bytes);

}  // namespace mamori::onenote
