// VBA projects ([MS-OVBA]), read from a compound file written for hostile input.
//
// vba::extract(file, storage) reads the project stored in `storage` (the storage holding `dir`, `_VBA_PROJECT` and
// the module streams: "Macros/VBA" in Word, "_VBA_PROJECT_CUR/VBA" in Excel, "VBA" in a standalone vbaProject.bin).
// It returns an error only when there is no `dir` stream there (not a VBA project). A dir stream that does not
// decompress, records that run past their stream, modules whose streams are missing or whose source does not
// decompress, and the signs of VBA stomping are recorded in VbaProject::anomalies.
//
// Lifetime: everything in VbaProject is owned; it does not refer to the File or its bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "formats/ole2/ole2.hpp"

namespace mamori::vba {

namespace limits {
// Output of one decompression (dir stream or module source). Large real modules run to a few hundred KiB.
inline constexpr std::uint64_t max_decompressed = 16ull << 20;
// Modules read from the dir stream. Real projects have tens.
inline constexpr std::uint32_t max_modules = 4096;
// Records read from the dir stream (about 12 per module plus the references).
inline constexpr std::uint32_t max_dir_records = 200000;
// Lines kept from the PROJECT stream.
inline constexpr std::uint32_t max_project_lines = 10000;
// A module whose performance cache (p-code) is at least this big but whose source has no code line is reported
// as a stomping suspect. An empty module's cache is a few hundred bytes (see the corpus figures in the tests).
inline constexpr std::uint32_t stomp_min_pcode = 2048;
// Excel 5/95: names kept from the dir's identifier table (real projects: tens to a few hundred).
inline constexpr std::uint32_t max_identifiers = 65536;
// Excel 5/95: lines read from one module's line table (a 64 KiB module has a few thousand).
inline constexpr std::uint32_t max_excel5_lines = 65535;
// Excel 5/95: string literals kept per module, and bytes of one module's recovered listing.
inline constexpr std::uint32_t max_excel5_literals = 100000;
inline constexpr std::uint64_t max_excel5_listing = 4ull << 20;
}  // namespace limits

/// Why a decompression stopped, or was not clean. Everything but `ok` still returns the bytes produced so far;
/// `bad_chunk_signature` stops nothing (it is reported only when no error came after it).
enum class DecompressStatus : std::uint8_t {
  ok = 0,
  empty,                 // no bytes at all
  bad_signature,         // the container does not start with 0x01
  bad_chunk_signature,   // a chunk header's signature bits are not 0b011 (decoded anyway, as Office does)
  truncated,             // a chunk or token runs past the end of the container
  bad_copy_offset,       // a copy token reaches before the start of its chunk
  chunk_overflow,        // a chunk decompresses to more than 4096 bytes
  output_capped,         // the output reached the caller's cap
};
const char* decompress_status_name(DecompressStatus s) noexcept;

struct Decompressed {
  std::vector<std::uint8_t> bytes;
  DecompressStatus status = DecompressStatus::ok;
  std::uint32_t chunks = 0;
};

/// [MS-OVBA] 2.4.1 decompression of a CompressedContainer. Bounds-checked; output capped at `max_out`.
Decompressed decompress(ByteView container, std::uint64_t max_out = limits::max_decompressed);

/// Structural oddities and stomping signals. Stable numeric values.
enum class Anomaly : std::uint8_t {
  dir_decompress_failed = 0,     // the dir stream did not decompress cleanly
  dir_record_truncated,          // a record runs past the end of the dir stream
  dir_records_truncated_by_limit,
  dir_unexpected_record,         // an id outside [MS-OVBA] 2.3.4.2 where a record was expected
  module_count_mismatch,         // PROJECTMODULES count differs from the modules found
  modules_truncated_by_limit,
  module_stream_missing,         // MODULESTREAMNAME names no stream; detail = module index
  module_offset_beyond_stream,   // MODULEOFFSET past the end of the module stream
  module_decompress_failed,      // the source container did not decompress cleanly
  module_source_empty,           // no code line (only Attribute lines, or nothing) in the source
  pcode_without_source,          // a big performance cache (p-code) but no source code: VBA stomping
  source_without_pcode,          // source but MODULEOFFSET 0 (p-code stripped)
  module_not_in_project_stream,  // in dir but not declared in PROJECT: hidden from the VBA editor
  project_module_not_in_dir,     // declared in PROJECT but not in dir
  project_stream_missing,
  vba_project_stream_missing,    // no _VBA_PROJECT stream
  vba_project_stream_invalid,    // _VBA_PROJECT does not start with 0x61CC
  codepage_unsupported,          // PROJECTCODEPAGE outside codepage_supported(): source kept as bytes
  kCount
};
inline constexpr std::size_t anomaly_count = static_cast<std::size_t>(Anomaly::kCount);
static_assert(anomaly_count <= 64, "anomaly_bits is 64 bits wide");
const char* anomaly_name(Anomaly a) noexcept;

struct AnomalyRecord {
  Anomaly code;
  std::uint64_t detail;
};

enum class ModuleType : std::uint8_t { unknown = 0, procedural, document_or_class };

struct Module {
  std::string name;             // MODULENAME, UTF-8
  std::string name_unicode;     // MODULENAMEUNICODE, UTF-8
  std::string stream_name;      // MODULESTREAMNAME, UTF-8
  std::string stream_name_unicode;  // its Unicode form (the name looked up first)
  std::string doc_string;
  std::uint32_t text_offset = 0;  // MODULEOFFSET: where the compressed source starts in the module stream
  std::uint32_t help_context = 0;
  std::uint16_t cookie = 0;
  ModuleType type = ModuleType::unknown;
  bool read_only = false, private_module = false;

  bool stream_found = false;
  std::uint64_t stream_size = 0;
  std::uint64_t pcode_size = 0;     // bytes before MODULEOFFSET (the performance cache)
  std::uint64_t compressed_size = 0;
  std::string source;               // UTF-8 when the code page is supported, else the raw bytes
  std::uint64_t source_raw_size = 0;  // decompressed bytes
  DecompressStatus source_status = DecompressStatus::empty;
  std::uint32_t lines = 0, code_lines = 0, attribute_lines = 0;
  bool in_project_stream = false;
  bool stomp_suspect = false;        // pcode_without_source
  // Excel 5/95 projects store no source: `source` is then a listing recovered from the p-code (excel5.cpp), not
  // VBA, and says so in its first lines.
  bool recovered = false;
  std::uint32_t pcode_lines = 0;     // Excel 5/95: source lines that have p-code
  std::uint32_t literals = 0;        // Excel 5/95: string literals recovered from the p-code
};

struct Reference {
  std::string name;     // REFERENCENAME
  std::string libid;    // from REFERENCEREGISTERED / REFERENCEPROJECT / REFERENCECONTROL, when present
  std::uint16_t kind = 0;  // record id: 0x000D registered, 0x000E project, 0x002F control, 0x0033 original
};

// Excel 5/95 projects (a "_VBA_PROJECT" storage whose `dir` is not compressed). Stable numeric values.
enum class Excel5Anomaly : std::uint8_t {
  identifier_table_missing = 0,   // no name table found in dir
  identifiers_truncated_by_limit,
  identifier_unreadable,          // a name with control characters (dropped)
  line_table_missing,             // a module stream without a line table (0xCAFE) that fits it
  lines_truncated_by_limit,
  line_outside_pcode,             // a line's p-code range runs past the p-code block; detail = module index
  literal_truncated,              // a string literal or comment runs past its line
  literals_truncated_by_limit,
  modules_truncated_by_limit,
  record_table_missing,           // no record table before the identifier table: p-code names stay unresolved
  listing_truncated_by_limit,     // the recovered listing reached limits::max_excel5_listing
  kCount
};
inline constexpr std::size_t excel5_anomaly_count = static_cast<std::size_t>(Excel5Anomaly::kCount);
const char* excel5_anomaly_name(Excel5Anomaly a) noexcept;

struct Excel5AnomalyRecord {
  Excel5Anomaly code;
  std::uint64_t detail;
};

struct VbaProject {
  std::string storage;             // the storage read ("Macros/VBA")
  // PROJECTINFORMATION
  std::uint32_t sys_kind = 0;      // 0 Win16, 1 Win32, 2 Mac, 3 Win64
  std::uint32_t lcid = 0, lcid_invoke = 0;
  std::uint16_t code_page = 0;
  std::string name, doc_string, help_file, constants;
  std::uint32_t help_context = 0, lib_flags = 0;
  std::uint32_t version_major = 0;
  std::uint16_t version_minor = 0;
  std::vector<Reference> references;
  std::uint16_t declared_modules = 0;  // PROJECTMODULES count
  std::uint16_t project_cookie = 0;
  std::vector<Module> modules;
  std::uint64_t dir_size = 0;          // decompressed
  // _VBA_PROJECT
  bool vba_project_present = false;
  std::uint16_t vba_version = 0;       // identifies the VBA build that wrote the p-code
  // PROJECT stream (text, "key=value" lines; section headers as key "[Host Extender Info]" with empty value)
  bool project_stream_present = false;
  std::vector<std::pair<std::string, std::string>> project_lines;
  std::vector<std::string> project_modules;  // Module= / Document= / Class= / BaseClass= names

  std::vector<AnomalyRecord> anomalies;
  std::uint64_t anomaly_bits = 0;
  bool has(Anomaly a) const noexcept { return (anomaly_bits >> static_cast<unsigned>(a)) & 1u; }

  // Excel 5/95 layout: dir is an uncompressed 0x61CC structure, every other stream of the storage a module of
  // p-code. Module names are the stream names (the dir links them to identifiers we do not decode).
  bool excel5 = false;
  std::uint16_t excel5_version = 0;            // the u16 after 0x61CC
  std::vector<std::string> identifiers;        // the dir's name table: every name the project's code uses
  std::vector<Excel5AnomalyRecord> excel5_anomalies;
  std::uint64_t excel5_anomaly_bits = 0;
  bool has(Excel5Anomaly a) const noexcept { return (excel5_anomaly_bits >> static_cast<unsigned>(a)) & 1u; }
};

/// Storages in `file` that hold a VBA project: reachable storages with a `dir` stream and a `_VBA_PROJECT` stream
/// or the name "VBA". Paths as File::find takes them ("Macros/VBA").
std::vector<std::string> find_projects(const ole2::File& file);

/// Reads the VBA project in `storage`. Errors: not_this_format when `storage` has no `dir` stream. An Excel 5/95
/// project (its dir starts with 0x61CC instead of a compressed container) is read by read_excel5().
Result<VbaProject> extract(const ole2::File& file, std::string_view storage);

/// True when `dir` is the uncompressed Excel 5/95 dir (starts with 0x61CC; an [MS-OVBA] dir starts with 0x01).
bool is_excel5_dir(ByteView dir) noexcept;

/// Reads an Excel 5/95 project from `storage` whose dir bytes are `dir`: the identifier table, and for every module
/// stream its line table and a listing of the names and literals of each line's p-code (Module::recovered). Never fails; damage is recorded
/// in VbaProject::excel5_anomalies.
VbaProject read_excel5(const ole2::File& file, std::string_view storage, ByteView dir);

/// The same over bytes already in hand (the fuzz target's entry): `modules` are the storage's streams but `dir`.
struct Excel5Stream {
  std::string_view name;
  ByteView bytes;
};
VbaProject read_excel5_streams(std::string_view storage, ByteView dir, const std::vector<Excel5Stream>& modules);

/// Splits `source` into lines and counts code lines (not blank, not "Attribute ..."). Exposed for tests.
void count_lines(std::string_view source, std::uint32_t& lines, std::uint32_t& code_lines, std::uint32_t& attribute_lines);

}  // namespace mamori::vba
