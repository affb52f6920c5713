// CLI metadata reader (ECMA-335 6th ed., partition II.24), written for hostile input.
//
// A .NET assembly's native PE view is nearly empty (one import, mscoree!_CorExeMain), so what the program does is
// only visible here: the types and members it references (System.Net.WebClient::DownloadData), the assemblies it
// links, its P/Invoke imports (kernel32!VirtualAlloc), its user strings and its managed resources.
//
// dotnet::parse_metadata(md) returns an error only when `md` does not start with the "BSJB" metadata root or the
// root is cut off. Everything odd after that -- streams outside the metadata, heap indexes out of range, tables cut
// off, row counts above our caps, unknown tables -- is recorded in Metadata::anomalies and reading goes on with what
// is readable. Every table walk and heap walk is bounded by a named cap in dotnet::limits.
//
// Lifetime: every string_view in Metadata points into the bytes given to parse_metadata (the #Strings heap).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace mamori::dotnet {

namespace limits {
inline constexpr std::uint32_t max_streams = 16;              // a compiler writes 5; more is an obfuscator's trick
inline constexpr std::uint32_t max_rows = 1u << 24;           // the row field of a metadata token is 24 bits
inline constexpr std::uint32_t max_decoded_rows = 65536;      // per decoded table (TypeRef, MemberRef, ...)
inline constexpr std::uint32_t max_name_len = 1024;           // #Strings entry
inline constexpr std::uint32_t max_user_strings = 1u << 20;   // #US entries walked
inline constexpr std::uint32_t max_resources = 4096;          // ManifestResource rows read
inline constexpr std::uint64_t max_resource_bytes_measured = 64ull << 20;  // entropy over all resources together
}  // namespace limits

/// Metadata oddities. The numeric values are stable: they are feature indices in the PE model's schema.
enum class Anomaly : std::uint8_t {
  version_length_invalid = 0,   // root's version string length beyond the metadata or above 255
  stream_headers_truncated,     // fewer stream headers readable than the root claims
  streams_excessive,            // more than limits::max_streams
  stream_outside_metadata,      // a stream's offset/size is not inside the metadata
  stream_duplicate,             // two streams of one name (the runtime reads one; tools may read the other)
  stream_unknown,               // a name that is none of #~ #- #Strings #US #Blob #GUID #Pdb #JTD
  tables_missing,               // no #~ / #- stream
  tables_truncated,             // the table stream ends before its rows do
  table_unknown,                // a Valid bit for a table ECMA-335 does not define
  rows_excessive,               // a table claims more than limits::max_rows rows
  string_index_invalid,         // a #Strings index beyond the heap, or a name without a terminator
  coded_index_invalid,          // a coded index whose tag names no table, or whose row is beyond its table
  user_strings_malformed,       // a #US entry whose length runs past the heap
  resource_outside,             // a ManifestResource offset/length outside the CLR resources directory
  decode_truncated_by_limit,    // a decoded table had more rows than limits::max_decoded_rows
  kCount
};
inline constexpr std::size_t anomaly_count = static_cast<std::size_t>(Anomaly::kCount);
const char* anomaly_name(Anomaly a) noexcept;

struct AnomalyRecord {
  Anomaly code;
  std::uint64_t detail;
};

/// Table numbers (II.22) this reader decodes or counts.
enum Table : std::uint8_t {
  t_module = 0x00, t_type_ref = 0x01, t_type_def = 0x02, t_field = 0x04, t_method_def = 0x06, t_param = 0x08,
  t_member_ref = 0x0A, t_custom_attribute = 0x0C, t_decl_security = 0x0E, t_standalone_sig = 0x11, t_event = 0x14,
  t_property = 0x17, t_module_ref = 0x1A, t_type_spec = 0x1B, t_impl_map = 0x1C, t_field_rva = 0x1D,
  t_assembly = 0x20, t_assembly_ref = 0x23, t_file = 0x26, t_exported_type = 0x27, t_manifest_resource = 0x28,
  t_nested_class = 0x29, t_generic_param = 0x2A, t_method_spec = 0x2B, t_generic_param_constraint = 0x2C,
  table_count = 64
};

struct TypeRef {
  std::string_view ns, name;
};

/// A member reference whose parent is a TypeRef (calls into other assemblies: the framework API a program uses).
/// References to TypeSpecs (generic instantiations), MethodDefs or ModuleRefs are counted, not listed.
struct MemberRef {
  std::uint32_t type_ref = 0;  // index into Metadata::type_refs
  std::string_view name;
};

struct PInvoke {
  std::string_view module;  // ModuleRef name, e.g. "kernel32.dll"; empty when the scope is unreadable
  std::string_view entry;   // ImportName
};

struct ManifestResource {
  std::string_view name;
  bool embedded = false;       // Implementation is nil: the data is in this file's CLR resources directory
  std::int64_t size = -1;      // -1 when not embedded or not readable
  double entropy = -1.0;       // -1 when not measured
};

struct UserStringStats {
  std::uint32_t count = 0;           // non-empty entries
  std::uint64_t chars = 0;           // UTF-16 code units over all entries
  std::uint32_t max_chars = 0;
  std::uint32_t base64_like = 0;     // 64+ characters, all from the base64 alphabet
  std::uint32_t urls = 0;            // contain "http://" or "https://"
  std::uint32_t non_ascii = 0;       // any code unit above 0x7F
  double entropy = 0.0;              // over the low bytes of all code units (bits per byte)
};

struct Metadata {
  std::uint16_t major = 0, minor = 0;
  std::string_view version;          // "v4.0.30319"
  bool uncompressed_tables = false;  // "#-" (edit-and-continue layout, rare outside obfuscators)
  std::uint32_t stream_count = 0;
  std::uint32_t strings_size = 0, us_size = 0, blob_size = 0, guid_size = 0, tables_size = 0;
  std::uint8_t heap_sizes = 0;
  std::uint64_t valid = 0, sorted = 0;
  std::array<std::uint32_t, table_count> rows{};  // as claimed (capped at limits::max_rows)
  bool tables_read = false;                       // row layout computed and table data reachable

  std::string_view assembly_name;
  std::vector<TypeRef> type_refs;
  std::vector<MemberRef> member_refs;             // parent is a TypeRef
  std::uint32_t member_refs_other_parent = 0;
  std::vector<std::string_view> type_def_names;   // without the <Module> row
  std::vector<std::string_view> method_def_names;
  std::vector<std::string_view> assembly_refs;
  std::vector<std::string_view> module_refs;
  std::vector<PInvoke> pinvokes;
  std::vector<ManifestResource> resources;
  UserStringStats user_strings;

  std::vector<AnomalyRecord> anomalies;
  std::uint64_t anomaly_bits = 0;
  bool has(Anomaly a) const noexcept { return (anomaly_bits >> static_cast<unsigned>(a)) & 1u; }
};

/// Reads the metadata at `md` (what the CLR header's MetaData directory points at). `resources` is the CLR header's
/// Resources directory, where embedded ManifestResources live (may be empty).
/// Errors: not_this_format (no "BSJB"), truncated (the root is cut off before its stream count).
Result<Metadata> parse_metadata(ByteView md, ByteView resources = {});

}  // namespace mamori::dotnet
