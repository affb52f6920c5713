// PE/COFF parser (Microsoft PE/COFF specification, rev 11+), written for hostile input.
//
// pe::parse(bytes) returns an error only when the bytes are not a PE file at all (no MZ / no "PE\0\0") or the
// COFF header itself is cut off. Everything odd after that -- overlapping or truncated sections, tables that point
// outside the file, counts above our caps -- is recorded in PeFile::anomalies and parsing goes on with what is
// readable. Every table walk is bounded by a named cap in pe::limits.
//
// Lifetime: string_views in PeFile point into the parsed bytes (names, DLL names, PDB path). Strings that need
// decoding (UTF-16 version info, resource names) are owned std::strings.
#pragma once

#include <array>
#include <optional>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace mamori::pe {

namespace limits {
inline constexpr std::uint32_t max_sections = 96;        // Windows loader refuses more than 96.
inline constexpr std::uint32_t max_import_dlls = 1024;
inline constexpr std::uint32_t max_imports_total = 16384;
inline constexpr std::uint32_t max_exports = 65536;
inline constexpr std::uint32_t max_resources = 8192;     // leaf entries
inline constexpr std::uint32_t max_resource_dir_entries = 4096;  // per directory
inline constexpr std::uint32_t max_resource_entries_walked = 65536;  // all directories together (~8 per leaf)
inline constexpr std::uint32_t max_tls_callbacks = 256;
inline constexpr std::uint32_t max_reloc_blocks = 65536;
inline constexpr std::uint32_t max_debug_entries = 64;
inline constexpr std::uint32_t max_rich_entries = 256;
// MSVC decorated names run up to 4096 bytes (longer ones are replaced by a hash). 512 dropped real C++ exports
// in 8 of 3557 benign corpus files (tests/oracle, cross-checked with LIEF).
inline constexpr std::uint32_t max_name_len = 4096;
inline constexpr std::uint32_t max_version_strings = 64;
}  // namespace limits

/// Structural oddities. The numeric values are stable: they are feature indices in the model's schema.
enum class Anomaly : std::uint8_t {
  entry_point_outside_sections = 0,
  entry_point_in_non_exec_section,
  entry_point_zero_in_exe,
  sections_overlap,
  section_raw_beyond_file,          // raw data truncated by end of file
  section_count_zero,
  section_count_excessive,          // header claims more than limits::max_sections
  section_virtual_size_huge,        // virtual size far beyond raw size (unpacker stub space)
  section_writable_and_executable,
  section_name_non_printable,
  section_raw_misaligned,
  optional_header_size_invalid,
  size_of_headers_beyond_file,
  file_alignment_invalid,
  section_alignment_invalid,
  size_of_image_inconsistent,
  rva_count_invalid,               // NumberOfRvaAndSizes not 16
  data_directory_outside_image,
  imports_unreadable,
  imports_truncated_by_limit,
  exports_unreadable,
  exports_truncated_by_limit,
  resources_unreadable,
  resources_loop_or_depth,
  resources_truncated_by_limit,
  relocations_malformed,
  tls_malformed,
  debug_malformed,
  rich_checksum_mismatch,
  certificate_outside_file,
  certificate_not_at_end,
  checksum_zero,
  timestamp_in_future,
  timestamp_zero,
  header_in_overlay,                // PE header offset e_lfanew beyond first 4 KiB
  clr_malformed,
  no_imports,
  kCount
};
inline constexpr std::size_t anomaly_count = static_cast<std::size_t>(Anomaly::kCount);
const char* anomaly_name(Anomaly a) noexcept;

struct AnomalyRecord {
  Anomaly code;
  std::uint64_t detail;  // the offending value (an offset, a count, a section index)
};

struct Section {
  std::string_view name;  // up to 8 bytes, NUL-trimmed
  std::uint32_t virtual_address = 0;
  std::uint32_t virtual_size = 0;
  std::uint32_t raw_offset = 0;
  std::uint32_t raw_size = 0;
  std::uint32_t characteristics = 0;
  double entropy = 0.0;  // over the readable part of the raw data

  bool executable() const noexcept { return (characteristics & 0x20000000u) != 0; }
  bool writable() const noexcept { return (characteristics & 0x80000000u) != 0; }
  bool readable() const noexcept { return (characteristics & 0x40000000u) != 0; }
  bool code() const noexcept { return (characteristics & 0x00000020u) != 0; }
};

struct DataDirectory {
  std::uint32_t rva = 0;
  std::uint32_t size = 0;
};

enum DirectoryIndex : std::uint8_t {
  dir_export = 0, dir_import, dir_resource, dir_exception, dir_security, dir_basereloc, dir_debug,
  dir_architecture, dir_globalptr, dir_tls, dir_load_config, dir_bound_import, dir_iat, dir_delay_import,
  dir_clr, dir_reserved, dir_count
};

struct ImportedFunction {
  std::string_view name;  // empty when imported by ordinal
  std::uint16_t ordinal = 0;
  bool by_ordinal = false;
};

struct ImportedDll {
  std::string_view name;
  bool delay_load = false;
  std::vector<ImportedFunction> functions;
};

struct Export {
  std::string_view name;       // empty for ordinal-only exports
  std::uint32_t ordinal = 0;   // biased (Base + index)
  std::uint32_t rva = 0;
  std::string_view forwarder;  // "DLL.Func" when the RVA points inside the export directory
};

struct Resource {
  std::uint32_t type_id = 0;   // RT_* when numeric; 0 when named
  std::string type_name;       // when named
  std::uint32_t name_id = 0;
  std::uint32_t lang = 0;
  std::uint32_t rva = 0;
  std::uint32_t size = 0;
  double entropy = -1.0;       // -1 when the data is not inside the file
};

struct RichEntry {
  std::uint16_t product_id = 0;
  std::uint16_t build = 0;
  std::uint32_t count = 0;
};

struct DebugEntry {
  std::uint32_t type = 0;
  std::uint32_t size = 0;
};

struct ClrInfo {
  bool present = false;
  std::uint16_t major = 0, minor = 0;
  std::uint32_t flags = 0;            // COMIMAGE_FLAGS_*
  std::uint32_t metadata_size = 0;
  std::string_view runtime_version;   // "v4.0.30319" from the metadata root
  ByteView metadata;                  // the MetaData directory's bytes (clamped to the file), for dotnet::parse_metadata
  ByteView resources;                 // the Resources directory's bytes: embedded ManifestResources
};

struct Headers {
  // DOS
  std::uint32_t e_lfanew = 0;
  // COFF
  std::uint16_t machine = 0;
  std::uint16_t number_of_sections = 0;  // as claimed by the header
  std::uint32_t timestamp = 0;
  std::uint32_t pointer_to_symbol_table = 0;
  std::uint32_t number_of_symbols = 0;
  std::uint16_t size_of_optional_header = 0;
  std::uint16_t characteristics = 0;
  // Optional header
  std::uint16_t magic = 0;  // 0x10b PE32, 0x20b PE32+
  std::uint8_t major_linker = 0, minor_linker = 0;
  std::uint32_t size_of_code = 0, size_of_initialized_data = 0, size_of_uninitialized_data = 0;
  std::uint32_t entry_point = 0, base_of_code = 0;
  std::uint64_t image_base = 0;
  std::uint32_t section_alignment = 0, file_alignment = 0;
  std::uint16_t major_os = 0, minor_os = 0, major_image = 0, minor_image = 0, major_subsystem = 0, minor_subsystem = 0;
  std::uint32_t size_of_image = 0, size_of_headers = 0, checksum = 0;
  std::uint16_t subsystem = 0, dll_characteristics = 0;
  std::uint64_t stack_reserve = 0, stack_commit = 0, heap_reserve = 0, heap_commit = 0;
  std::uint32_t number_of_rva_and_sizes = 0;
};

/// A byte range of the file whose entropy PeFile reports: a section's raw data, the overlay, or a resource's data.
struct EntropyRange {
  enum class Of : std::uint8_t { section, overlay, resource };
  Of of = Of::section;
  std::uint32_t index = 0;  // into sections or resources
  std::uint64_t offset = 0, size = 0;  // inside the file
};

struct PeFile {
  Headers headers;
  std::array<DataDirectory, dir_count> directories{};
  std::vector<Section> sections;
  std::vector<ImportedDll> imports;   // regular imports first, then delay-load
  std::string_view export_dll_name;
  std::vector<Export> exports;
  std::vector<Resource> resources;
  std::vector<std::pair<std::string, std::string>> version_info;  // StringFileInfo key/value pairs
  std::vector<RichEntry> rich;
  bool rich_present = false;
  std::vector<std::uint64_t> tls_callbacks;  // VAs
  bool tls_present = false;
  std::uint32_t reloc_blocks = 0, reloc_entries = 0;
  std::vector<DebugEntry> debug;
  std::string_view pdb_path;
  std::uint32_t certificate_offset = 0, certificate_size = 0;  // security directory (a file offset, not an RVA)
  std::uint64_t overlay_offset = 0, overlay_size = 0;
  double overlay_entropy = 0.0;
  ClrInfo clr;
  std::uint64_t file_size = 0;
  /// Where every entropy value above comes from. parse() measures them itself unless told not to (ParseOptions),
  /// in which case a caller that already sweeps the whole file measures them there and calls set_entropy.
  std::vector<EntropyRange> entropy_ranges;

  std::vector<AnomalyRecord> anomalies;
  std::uint64_t anomaly_bits = 0;  // bit i set when Anomaly(i) was recorded

  bool is_pe32_plus() const noexcept { return headers.magic == 0x20b; }
  bool is_dll() const noexcept { return (headers.characteristics & 0x2000u) != 0; }
  bool is_driver() const noexcept { return headers.subsystem == 1; }
  bool is_efi() const noexcept { return headers.subsystem >= 10 && headers.subsystem <= 13; }
  bool is_dotnet() const noexcept { return clr.present; }
  bool has(Anomaly a) const noexcept { return (anomaly_bits >> static_cast<unsigned>(a)) & 1u; }
  std::size_t import_function_count() const noexcept;

  /// File offset of an RVA, or nullopt when no readable byte backs it.
  std::optional<std::uint64_t> rva_to_offset(std::uint32_t rva) const noexcept;
  /// Index of the section containing `rva`, or -1.
  int section_of(std::uint32_t rva) const noexcept;
  /// Stores the entropy of one of entropy_ranges where it belongs.
  void set_entropy(const EntropyRange& r, double e) noexcept;
};

struct ParseOptions {
  /// false: leave Section::entropy, overlay_entropy and Resource::entropy at their defaults and let the caller
  /// fill them from entropy_ranges (the feature extractor does, in its byte pass, instead of reading them again).
  bool entropy = true;
};

/// Parses a PE image. Errors: not_this_format (no MZ/PE signature), truncated (COFF or optional header cut off).
Result<PeFile> parse(ByteView bytes, ParseOptions options = {});

}  // namespace mamori::pe
