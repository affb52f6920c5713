// RTF documents, read for the embedded objects that exploit documents carry, written for hostile input.
//
// rtf::parse(bytes) is one bounded pass of a tokenizer over the bytes: groups ({ }), control words (\word-123 with
// its optional space delimiter), control symbols (\*, \', \\) and \binN raw runs. It keeps a destination stack
// (bounded by limits::max_group_depth) so that it knows when it is inside an \object group, its \objclass and its
// \objdata. Object data is decoded the way Word reads it: hex digits are collected wherever they appear, so
// whitespace, control words (\par, or \abcdef12 that swallows hex-looking letters), ignorable groups, \'hh and
// \bin runs mixed into the hex are skipped (and counted as obfuscation), and an odd trailing nibble is dropped.
//
// The decoded bytes are unwrapped as an OLE1 ObjectHeader + EmbeddedObject/LinkedObject ([MS-OLEDS] 2.2.4-2.2.6):
// OLEVersion, FormatID, ClassName, TopicName, ItemName, NativeDataSize, NativeData. Native data that is a compound
// file is parsed (src/formats/ole2) for its root CLSID and stream names; a "Package" object's native data is read
// for its file name, source path, temporary path and payload.
//
// parse() fails only when the bytes do not start with "{\rt". Everything else (groups nested past the cap,
// oversized control words or parameters, unbalanced braces, data after the closing brace, objdata that is not
// OLE1) becomes an Anomaly and parsing goes on.
//
// Lifetime: Document owns everything (object data is copied, bounded by limits::max_object_bytes).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace mamori::rtf {

namespace limits {
// Group nesting tracked. Word gives up far earlier on real documents; exploits nest thousands deep to hide data.
inline constexpr std::uint32_t max_group_depth = 1024;
// Letters in a control word (the RTF spec says 32; longer ones are read whole and flagged).
inline constexpr std::uint32_t max_control_word = 32;
// Digits of a numeric parameter (the spec allows a signed 16-bit value; Word reads more).
inline constexpr std::uint32_t max_param_digits = 10;
// Objects (\object groups, or stray \objdata) kept.
inline constexpr std::uint32_t max_objects = 256;
// Decoded bytes kept per object, and for all objects together.
inline constexpr std::uint64_t max_object_bytes = 64ull << 20;
inline constexpr std::uint64_t max_total_object_bytes = 256ull << 20;
// Characters kept of \objclass and other short text destinations.
inline constexpr std::uint32_t max_class_name = 256;
// Streams listed per embedded compound file.
inline constexpr std::uint32_t max_streams_listed = 64;
// Field instructions (\fldinst) whose text is kept, and characters kept of each; later fields are only counted.
inline constexpr std::uint32_t max_fields = 4096;
inline constexpr std::uint32_t max_field_text = 4096;
}  // namespace limits

/// Structural oddities. The numeric values are stable: they become feature indices.
enum class Anomaly : std::uint8_t {
  header_variant = 0,          // starts "{\rt" but not "{\rtf1" (Word accepts it)
  group_too_deep,              // nesting above limits::max_group_depth; detail = offset
  control_word_too_long,       // more than 32 letters; detail = offset
  parameter_too_long,          // more than 10 digits; detail = offset
  unclosed_groups,             // the input ends inside groups; detail = open groups
  extra_closing_brace,         // a '}' with no open group; detail = offset
  data_after_end,              // non-whitespace after the document's closing brace; detail = bytes
  objdata_obfuscated,          // control words, groups, \' or \bin inside object hex data
  objdata_odd_nibbles,         // an odd number of hex digits (the last one is dropped)
  objdata_non_hex,             // characters that are not hex digits inside object data
  objdata_truncated_by_limit,
  objects_truncated_by_limit,
  objdata_without_object,      // \objdata outside any \object group
  ole1_header_invalid,         // decoded data is not an OLE1 ObjectHeader (OLEVersion/FormatID)
  ole1_truncated,              // a length or the native data runs past the decoded bytes
  native_size_mismatch,        // NativeDataSize disagrees with the bytes that follow
  native_ole2_malformed,       // native data starts with the CFB signature but does not parse
  package_malformed,           // a Package whose fields run past its native data
  package_executable,          // a Package carrying a file with an executable extension; detail = object index
  equation_editor,             // an Equation Editor object (CVE-2017-11882 / CVE-2018-0802 family)
  ole_link,                    // \objlink / \objautlink, or an OLE1 linked object
  bin_run_truncated,           // \binN longer than the rest of the file
  nul_in_control_word,         // reserved
  kCount
};
inline constexpr std::size_t anomaly_count = static_cast<std::size_t>(Anomaly::kCount);
static_assert(anomaly_count <= 64, "anomaly_bits is 64 bits wide");
const char* anomaly_name(Anomaly a) noexcept;

struct AnomalyRecord {
  Anomaly code;
  std::uint64_t detail;
};

enum class ObjectKind : std::uint8_t { unknown, embedded, link, autolink, html, ocx };

/// [MS-OLEDS] Package ("Package" class) native data: the file a user double-clicks.
struct Package {
  std::string file_name;      // the label ("invoice.exe")
  std::string source_path;    // where it was packaged from
  std::string temp_path;      // where Office writes it when opened
  std::uint32_t payload_size_declared = 0;
  std::vector<std::uint8_t> payload;  // the file's bytes (bounded by limits::max_object_bytes)
  bool executable = false;    // the file name has an executable or script extension
};

struct Object {
  std::uint64_t offset = 0;            // where \object (or the stray \objdata) starts in the RTF
  ObjectKind kind = ObjectKind::unknown;  // from \objemb / \objlink / \objautlink / \objhtml / \objocx
  bool update = false;                 // \objupdate: refreshed when the document opens (no click needed)
  std::string objclass;                // \objclass text
  bool has_objdata = false;
  std::uint64_t objdata_bytes = 0;     // decoded bytes (before the cap)
  // OLE1 wrapper, when the data has one.
  bool ole1 = false;
  std::uint32_t ole_version = 0, format_id = 0;  // FormatID 1 linked, 2 embedded
  std::string class_name, topic_name, item_name;  // topic_name holds the link source for linked objects
  std::uint32_t native_size_declared = 0;
  std::vector<std::uint8_t> native;    // NativeData (or the whole decoded data when there is no OLE1 wrapper)
  bool native_is_ole2 = false;
  std::optional<std::array<std::uint8_t, 16>> clsid;  // root entry CLSID of an OLE2 native
  std::string clsid_text;              // "0002CE02-0000-0000-C000-000000000046"
  std::vector<std::string> ole2_streams;  // stream paths of an OLE2 native (bounded)
  std::optional<Package> package;
  bool equation_editor = false;
  bool link = false;
};

struct Counts {
  std::uint64_t groups = 0, control_words = 0, control_symbols = 0, max_depth = 0;
  std::uint64_t bin_runs = 0, bin_bytes = 0;
  std::uint32_t objects = 0, objdata = 0, ole2_objects = 0, equation_objects = 0, package_objects = 0,
                executable_packages = 0, links = 0, objupdate = 0;
  std::uint64_t objdata_interruptions = 0;  // control words / groups / \' / \bin seen inside object hex
  std::uint64_t objdata_whitespace = 0;     // whitespace characters inside object hex
  std::uint64_t objdata_bytes = 0;
  std::uint64_t extra_closing_braces = 0;   // '}' with no open group
  std::uint64_t fields = 0;                 // \fldinst destinations (all of them; Document::fields keeps the text)
  std::uint32_t pict = 0;                   // \pict groups
  std::uint64_t bytes_after_end = 0;
};

struct Document {
  bool header_variant = false;   // "{\rt" without "f1"
  std::uint64_t end_offset = 0;  // offset after the document's closing brace (file size when unclosed)
  std::vector<Object> objects;
  /// Field instructions (\fldinst text: "DDEAUTO c:\\windows\\system32\\cmd.exe ...", "HYPERLINK ..."), control
  /// words dropped, \'hh decoded, nested groups included; at most limits::max_fields of limits::max_field_text.
  std::vector<std::string> fields;
  Counts counts;
  std::vector<AnomalyRecord> anomalies;
  std::uint64_t anomaly_bits = 0;
  bool has(Anomaly a) const noexcept { return (anomaly_bits >> static_cast<unsigned>(a)) & 1u; }
  void add(Anomaly a, std::uint64_t detail = 0);
};

/// True when the bytes start with "{\rt" (what Word requires).
bool sniff(ByteView bytes) noexcept;

/// Parses an RTF document. Errors: not_this_format when the bytes do not start with "{\rt".
Result<Document> parse(ByteView bytes);

/// Unwraps decoded object data (an OLE1 ObjectHeader + EmbeddedObject, or raw native data) into `obj`: class
/// names, native data, OLE2 CLSID and streams, Package fields, Equation Editor and executable flags. Exposed for
/// callers that find OLE1 data elsewhere (\x01Ole10Native streams carry the same Package layout after a size).
void unwrap_object_data(std::vector<std::uint8_t> data, Object& obj, Document& doc);

/// Reads a Package native data block ([MS-OLEDS] Packager layout) at the start of `native`.
std::optional<Package> parse_package(ByteView native);

/// True for file names whose extension runs code when opened (exe, scr, js, hta, lnk, ...).
bool executable_name(std::string_view file_name) noexcept;

/// The Equation Editor 3.0 CLSID {0002CE02-0000-0000-C000-000000000046}.
inline constexpr std::array<std::uint8_t, 16> kEquationClsid = {0x02, 0xCE, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
                                                                 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};

/// "0002CE02-0000-0000-C000-000000000046" from the 16 bytes of a CLSID as stored (little-endian first fields).
std::string clsid_to_string(const std::array<std::uint8_t, 16>& c);

}  // namespace mamori::rtf
