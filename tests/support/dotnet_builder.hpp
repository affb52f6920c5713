// Synthesizes CLI metadata (ECMA-335 II.24) in memory for the .NET reader tests: the "BSJB" root, stream headers,
// a compressed table stream (#~) and the #Strings / #US / #Blob / #GUID heaps, plus a CLR resources directory.
// Every byte is written here from the specification; no bytes come from real assemblies.
//
// The tables written are Module, TypeRef, TypeDef, MethodDef, MemberRef, ModuleRef, ImplMap, Assembly, AssemblyRef
// and ManifestResource, with column widths chosen by the builder's own reading of II.24.2.6. BuiltMetadata records
// where things landed so that tests can corrupt them on purpose.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.hpp"

namespace mamori::test {

struct MetadataSpec {
  struct TypeRefSpec {
    std::string ns, name;
  };
  struct MemberRefSpec {
    std::uint32_t type_ref = 0;  // 0-based index into type_refs
    std::string name;
  };
  struct PInvokeSpec {
    std::uint32_t module_ref = 1;  // 1-based ModuleRef row (0: nil, out of range on purpose)
    std::string entry;
  };
  struct ResourceSpec {
    std::string name;
    std::vector<std::uint8_t> data;
    bool embedded = true;  // false: Implementation points at AssemblyRef 1 (a linked resource)
  };

  std::string version = "v4.0.30319";
  std::string assembly_name;  // empty: no Assembly row
  std::vector<std::string> assembly_refs;
  std::vector<TypeRefSpec> type_refs;  // resolution scope AssemblyRef 1
  std::vector<MemberRefSpec> member_refs;
  std::vector<std::string> type_defs;  // after the <Module> row
  std::vector<std::string> method_defs;
  std::vector<std::string> module_refs;
  std::vector<PInvokeSpec> pinvokes;   // MemberForwarded: MethodDef row i+1
  std::vector<std::u16string> user_strings;
  std::vector<ResourceSpec> resources;
  bool wide_heaps = false;             // 4-byte #Strings/#GUID/#Blob indexes (HeapSizes 0x07)
  std::string tables_name = "#~";
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> extra_streams;  // after the standard five
};

struct BuiltMetadata {
  std::vector<std::uint8_t> metadata;   // what the CLR header's MetaData directory points at
  std::vector<std::uint8_t> resources;  // the CLR header's Resources directory
  std::uint32_t stream_count_offset = 0, stream_headers = 0;  // offsets inside metadata
  std::uint32_t tables = 0, tables_size = 0, row_counts = 0, strings = 0, us = 0;
  ByteView md() const { return ByteView(metadata.data(), metadata.size()); }
  ByteView res() const { return ByteView(resources.data(), resources.size()); }
};

BuiltMetadata build_metadata(const MetadataSpec& spec);

}  // namespace mamori::test
