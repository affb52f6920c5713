// Synthesizes OneNote sections for the OneNote tests: the .one file-format GUID, filler standing in for the
// revision store, UTF-16 file names, and FileDataStoreObjects ([MS-ONESTORE] 2.6.13). Written from the spec.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mamori::test {

struct OneObject {
  std::vector<std::uint8_t> data;
  std::uint64_t declared_size = UINT64_MAX;  // UINT64_MAX: data.size()
  bool footer = true;
};

struct OneSpec {
  std::vector<std::string> names;  // written as UTF-16 property strings before the objects
  std::vector<OneObject> objects;
  bool header = true;
};

std::vector<std::uint8_t> build_one(const OneSpec& spec);
std::vector<std::uint8_t> text_bytes(const std::string& s);

}  // namespace mamori::test
