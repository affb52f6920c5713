// Synthesizes PE32 / PE32+ images in memory for the parser tests. No fixture files and no bytes from real samples:
// every byte is written here from the PE/COFF specification.
//
// Layout of a built image (by default section alignment 0x1000, file alignment 0x200):
//   DOS header, optional DOS stub, optional Rich header, "PE\0\0", COFF header, optional header, section table;
//   the caller's sections in order; then generated sections as needed:
//     .rdata  exports, debug (RSDS), TLS, CLR header + metadata root, delay imports, imports (lookup tables last)
//     .rsrc   the resource tree (plus RT_VERSION when version strings are given)
//     .reloc  base relocations
//   then the overlay, the certificate table (8-byte aligned) and any bytes to place after the certificate.
// Layout records where each structure landed so that tests can corrupt it on purpose.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"

namespace mamori::test {

struct SectionSpec {
  std::string name;                  // at most 8 bytes
  std::uint32_t characteristics = 0;
  std::vector<std::uint8_t> data;    // raw data; padded to the file alignment
  std::uint32_t virtual_size = 0;    // 0: data.size()
};

inline constexpr std::uint32_t scn_code = 0x60000020;   // CODE | EXECUTE | READ
inline constexpr std::uint32_t scn_data = 0xC0000040;   // INITIALIZED_DATA | READ | WRITE
inline constexpr std::uint32_t scn_rdata = 0x40000040;  // INITIALIZED_DATA | READ

struct ImportFn {
  std::string name;          // empty: imported by ordinal
  std::uint16_t ordinal = 0; // the ordinal, or the hint for a named import
  static ImportFn by_name(std::string n, std::uint16_t hint = 0) { return {std::move(n), hint}; }
  static ImportFn by_ordinal(std::uint16_t o) { return {{}, o}; }
};

struct ImportDllSpec {
  std::string name;
  std::vector<ImportFn> functions;
};

struct ExportSym {
  std::string name;       // empty: exported by ordinal only
  std::uint32_t ordinal = 0;  // biased (Base + index)
  std::uint32_t rva = 0;      // 0: an address in the first section
  std::string forwarder = {};  // "DLL.Func": the EAT entry points at this string inside the export directory
};

struct ExportSpec {
  std::string dll_name;
  std::uint32_t base = 1;
  std::vector<ExportSym> symbols;
};

struct ResourceSpec {
  std::uint32_t type_id = 0;  // used when type_name is empty
  std::string type_name;      // ASCII; a named type
  std::uint32_t name_id = 1;
  std::uint32_t lang = 0x409;
  std::vector<std::uint8_t> data;
};

struct RichSpec {
  std::uint16_t product_id, build;
  std::uint32_t count;
};

struct ClrSpec {
  std::string runtime_version = "v4.0.30319";
  std::uint16_t major = 2, minor = 5;
  std::uint32_t flags = 1;  // COMIMAGE_FLAGS_ILONLY
  std::vector<std::uint8_t> metadata;   // non-empty: written as the metadata instead of a stream-less root
  std::vector<std::uint8_t> resources;  // non-empty: the Resources directory (managed resources)
};

struct PeSpec {
  bool pe32_plus = false;
  bool dll = false;
  bool dos_stub = true;
  std::vector<RichSpec> rich;  // empty: no Rich header
  bool corrupt_rich_checksum = false;

  std::uint16_t machine = 0;  // 0: i386 for PE32, AMD64 for PE32+
  std::uint32_t timestamp = 0x60000000;
  std::uint8_t linker_major = 14, linker_minor = 29;
  std::uint64_t image_base = 0;  // 0: 0x400000 (exe), 0x10000000 (dll), 0x140000000 (PE32+)
  std::uint32_t section_alignment = 0x1000, file_alignment = 0x200;  // equal and < 0x1000: VA == file offset
  std::uint16_t os_major = 6, os_minor = 0, image_major = 0, image_minor = 0, subsystem_major = 6, subsystem_minor = 0;
  std::uint16_t subsystem = 2;  // WINDOWS_GUI
  std::uint16_t dll_characteristics = 0x8140;
  std::uint64_t stack_reserve = 0x100000, stack_commit = 0x1000, heap_reserve = 0x100000, heap_commit = 0x1000;
  std::optional<std::uint32_t> entry_point;  // unset: start of the first executable section (0 for none)

  std::vector<SectionSpec> sections;
  std::vector<ImportDllSpec> imports;
  std::vector<ImportDllSpec> delay_imports;
  std::optional<ExportSpec> exports;
  std::vector<ResourceSpec> resources;
  std::vector<std::pair<std::string, std::string>> version_strings;  // UTF-8; non-empty adds an RT_VERSION resource
  std::optional<std::vector<std::uint32_t>> tls_callbacks;            // RVAs; set (even empty) adds a TLS directory
  std::vector<std::uint32_t> relocations;                             // RVAs of absolute addresses
  std::string pdb_path;                                               // non-empty adds a CodeView (RSDS) debug entry
  std::optional<ClrSpec> clr;
  std::vector<std::uint8_t> certificate;  // non-empty: WIN_CERTIFICATE contents, referenced by the security directory
  std::vector<std::uint8_t> overlay;      // appended after the last section, before the certificate
  std::vector<std::uint8_t> after_certificate;
};

struct PlacedSection {
  std::uint32_t va, virtual_size, raw_offset, raw_size;
};

/// File offsets of the structures the builder wrote (0 when absent).
struct Layout {
  std::uint32_t e_lfanew = 0, rich = 0, optional_header = 0, data_directories = 0, section_table = 0;
  std::uint32_t size_of_headers = 0;
  std::vector<PlacedSection> sections;  // header order, generated sections included
  std::uint32_t import_descriptors = 0, delay_descriptors = 0, export_directory = 0, resource_root = 0;
  std::uint32_t tls_directory = 0, debug_directory = 0, clr_header = 0;
  std::vector<std::uint32_t> import_lookup_tables;  // per regular import DLL
  std::uint32_t sections_end = 0, overlay = 0, certificate = 0, certificate_size = 0;

  /// The builder's own RVA -> file offset mapping (independent of the parser under test).
  std::uint32_t offset_of(std::uint32_t rva) const;
};

struct BuiltPe {
  std::vector<std::uint8_t> bytes;
  Layout layout;
  ByteView view() const { return ByteView(bytes.data(), bytes.size()); }
};

BuiltPe build_pe(const PeSpec& spec);

/// A VS_VERSIONINFO block with a fixed-info value, a StringFileInfo table "040904b0" and a VarFileInfo block.
std::vector<std::uint8_t> version_info_blob(const std::vector<std::pair<std::string, std::string>>& strings);

// Little-endian patching helpers for corruption tests.
void put16(std::vector<std::uint8_t>& b, std::size_t off, std::uint16_t v);
void put32(std::vector<std::uint8_t>& b, std::size_t off, std::uint32_t v);
std::uint32_t get32(const std::vector<std::uint8_t>& b, std::size_t off);

}  // namespace mamori::test
