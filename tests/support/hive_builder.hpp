// Registry hives for the emocheck tests, written at test time. libhivex cannot create a hive from nothing, so
// empty_hive() lays out the smallest hive the regf format allows (a base block, one hbin holding a root key and its
// security descriptor), and write_hive() opens that template with libhivex and adds keys and values through
// hivex_node_add_child / hivex_node_set_values / hivex_commit. Nothing here is copied from a real hive.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mamori::test {

/// An empty hive: base block ("regf", sequence numbers 1/1, version 1.3, root at hbin offset 0x20, checksum over the
/// first 508 bytes) followed by one 4 KiB hbin with the root nk cell, an sk cell and one free cell.
std::vector<std::uint8_t> empty_hive(std::string_view root_name = "ROOT");

struct HiveValue {
  std::string name;
  std::uint32_t type = 1;  // REG_SZ
  std::vector<std::uint8_t> data;
};

HiveValue sz_value(std::string name, std::string_view utf8_ascii, std::uint32_t type = 1);
HiveValue dword_value(std::string name, std::uint32_t v);
HiveValue binary_value(std::string name, std::vector<std::uint8_t> data);

/// Key path ("Software\Microsoft\...", backslashes) -> the values it holds. Intermediate keys are created.
using HiveSpec = std::map<std::string, std::vector<HiveValue>>;

/// Writes a hive holding `spec` to `path`. Returns false (with a message in *why) when libhivex refuses.
bool write_hive(const std::string& path, const HiveSpec& spec, std::string* why = nullptr);

}  // namespace mamori::test
