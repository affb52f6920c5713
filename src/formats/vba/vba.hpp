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
}  // namespace limits

/// Why a decompression stopped. Everything but `ok` still returns the bytes produced so far.
enum class DecompressStatus : std::uint8_t {
  ok = 0,
  empty,                 // no bytes at all
  bad_signature,         // the container does not start with 0x01
  bad_chunk_signature,   // a chunk header's signature bits are not 0b011
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
};

struct Reference {
  std::string name;     // REFERENCENAME
  std::string libid;    // from REFERENCEREGISTERED / REFERENCEPROJECT / REFERENCECONTROL, when present
  std::uint16_t kind = 0;  // record id: 0x000D registered, 0x000E project, 0x002F control, 0x0033 original
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
};

/// Storages in `file` that hold a VBA project: reachable storages with a `dir` stream and a `_VBA_PROJECT` stream
/// or the name "VBA". Paths as File::find takes them ("Macros/VBA").
std::vector<std::string> find_projects(const ole2::File& file);

/// Reads the VBA project in `storage`. Errors: not_this_format when `storage` has no `dir` stream.
Result<VbaProject> extract(const ole2::File& file, std::string_view storage);

/// Splits `source` into lines and counts code lines (not blank, not "Attribute ..."). Exposed for tests.
void count_lines(std::string_view source, std::uint32_t& lines, std::uint32_t& code_lines, std::uint32_t& attribute_lines);

}  // namespace mamori::vba
