// PDF structure counts and the active content analysts look for, in one bounded pass (our own pdfid-style
// scanner, not a full PDF parser: no xref resolution, no object graph).
//
// pdf::parse(bytes) lexes the file once: comments (%%EOF markers), names (with #xx escapes decoded, so that
// /J#61vaScript counts as /JavaScript and also as obfuscated), literal and hex strings, words (obj, endobj, stream,
// endstream, xref, trailer, startxref) and numbers. It keeps a little per-object state (the object number, its
// /Type, /Filter, /Length, the names seen) so that:
//   - stream data is skipped rather than lexed as PDF (by /Length when it checks out, else up to "endstream"),
//     and FlateDecode / ASCIIHexDecode streams are decoded (bounded) to look for JavaScript, to read object streams
//     (/ObjStm: their objects are lexed as well, so names hidden in them are counted) and to return embedded file
//     payloads (/Type /EmbeddedFile) so the engine can scan them as members;
//   - /URI strings and /Launch commands (/F, /P, /Win) are returned as strings for IOCs.
//
// parse() fails only when there is no "%PDF-" header anywhere. Everything else becomes an Anomaly.
//
// Lifetime: Document owns everything it returns.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace mamori::pdf {

namespace limits {
// Decoded bytes per stream and in total (decompression bombs stop here).
inline constexpr std::uint64_t max_stream_decoded = 16ull << 20;
inline constexpr std::uint64_t max_total_decoded = 128ull << 20;
// Streams decoded per file (the rest are counted, not decoded).
inline constexpr std::uint32_t max_streams_decoded = 4096;
// Strings returned per list (URIs, launch commands, JavaScript snippets) and bytes per string.
inline constexpr std::uint32_t max_list = 1024;
inline constexpr std::uint32_t max_string = 4096;
// Embedded files returned, and bytes per file.
inline constexpr std::uint32_t max_embedded_files = 256;
inline constexpr std::uint64_t max_embedded_size = 64ull << 20;
// Characters of one name token kept for matching (longer names are counted but never match a keyword).
inline constexpr std::uint32_t max_name = 128;
// Nesting of object streams lexed (an object stream cannot hold streams, so 1 is the spec; this stops loops).
inline constexpr std::uint32_t max_objstm_depth = 1;
}  // namespace limits

/// The keywords counted, pdfid's set. Stable numeric values.
enum class Key : std::uint8_t {
  obj = 0, endobj, stream, endstream, xref, trailer, startxref,
  page, encrypt, objstm, js, javascript, aa, openaction, acroform, jbig2decode, richmedia, launch, embeddedfile,
  xfa, uri, submitform, gotor, colors_gt_2_24,
  kCount
};
inline constexpr std::size_t key_count = static_cast<std::size_t>(Key::kCount);
/// "obj", "/Page", "/JavaScript", "/Colors > 2^24".
const char* key_name(Key k) noexcept;

/// Structural oddities. Stable numeric values.
enum class Anomaly : std::uint8_t {
  header_not_at_start = 0,     // "%PDF-" after offset 0 (readers accept it within 1024 bytes); detail = offset
  header_late,                 // "%PDF-" beyond the first 1024 bytes
  eof_missing,                 // no %%EOF
  data_after_eof,              // non-whitespace bytes after the last %%EOF; detail = bytes
  name_obfuscated,             // a keyword spelled with #xx escapes; detail = key
  stream_unterminated,         // stream without endstream; detail = offset
  stream_length_mismatch,      // /Length does not end at endstream
  stream_decode_error,         // FlateDecode data that does not inflate cleanly; detail = object number
  stream_decode_truncated_by_limit,
  streams_truncated_by_limit,  // more streams than limits::max_streams_decoded
  unsupported_filter,          // a filter we do not decode (LZW, ASCII85, DCT, JBIG2, Crypt...) on a stream we wanted
  obj_endobj_mismatch,         // obj and endobj counts differ
  encrypted,                   // /Encrypt in the trailer: strings and streams cannot be read
  list_truncated_by_limit,
  embedded_truncated_by_limit,
  string_unterminated,         // a literal or hex string runs to the end of the file
  kCount
};
inline constexpr std::size_t anomaly_count = static_cast<std::size_t>(Anomaly::kCount);
static_assert(anomaly_count <= 64, "anomaly_bits is 64 bits wide");
const char* anomaly_name(Anomaly a) noexcept;

struct AnomalyRecord {
  Anomaly code;
  std::uint64_t detail;
};

struct EmbeddedFile {
  std::uint32_t object = 0;            // object number of the /EmbeddedFile stream
  std::vector<std::uint8_t> bytes;     // decoded (or raw, when it has no filter we decode)
  bool decoded = false;                // a filter was applied
  bool complete = true;                // false: decoding failed part way or hit the cap
};

struct Stats {
  std::uint32_t streams = 0, streams_decoded = 0, decode_errors = 0, undecoded_filters = 0;
  std::uint32_t js_streams = 0;        // decoded streams whose content looks like JavaScript
  std::uint32_t objstm_decoded = 0;    // object streams whose objects were lexed
  std::uint32_t names_obfuscated = 0;  // names written with #xx escapes (any name)
  std::uint64_t decoded_bytes = 0;
};

struct Document {
  std::uint64_t header_offset = 0;
  std::string version;                 // "1.7"
  std::array<std::uint32_t, key_count> counts{};      // occurrences, obfuscated spellings included
  std::array<std::uint32_t, key_count> obfuscated{};  // occurrences spelled with #xx escapes
  std::uint32_t eof_markers = 0;
  std::uint64_t last_eof_offset = 0;   // offset after the last "%%EOF"
  std::uint64_t bytes_after_eof = 0;   // non-whitespace bytes after it
  std::vector<std::string> uris;       // /URI targets
  std::vector<std::string> launches;   // /Launch commands: "F P" (file and parameters)
  std::vector<std::string> javascript; // JavaScript from /JS strings and JavaScript-looking streams (snippets)
  std::vector<std::string> file_names; // /F and /UF of file specifications (embedded file names)
  std::vector<EmbeddedFile> embedded_files;
  Stats stats;
  std::vector<AnomalyRecord> anomalies;
  std::uint64_t anomaly_bits = 0;

  std::uint32_t count(Key k) const noexcept { return counts[static_cast<std::size_t>(k)]; }
  bool has(Anomaly a) const noexcept { return (anomaly_bits >> static_cast<unsigned>(a)) & 1u; }
  void add(Anomaly a, std::uint64_t detail = 0);
};

/// True when "%PDF-" appears within the first 1024 bytes.
bool sniff(ByteView bytes) noexcept;

/// Scans a PDF. Errors: not_this_format when there is no "%PDF-" header at all.
Result<Document> parse(ByteView bytes);

/// Bounded zlib inflate of a FlateDecode stream; `complete` is false when the data is corrupt or the cap is hit.
std::vector<std::uint8_t> flate_decode(ByteView data, std::uint64_t cap, bool& complete);

}  // namespace mamori::pdf
