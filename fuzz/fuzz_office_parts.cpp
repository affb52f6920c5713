// libFuzzer target for the OOXML part helpers that need no zip (features/office_parts.hpp): the longest hex string of
// a PostScript program (EPS images), relationship targets resolved to part names, altChunk part names.
// Checks: a hex string never decodes to more than half the input; a resolved name is relative, has no empty, "." or
// ".." segment and is lower case.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "features/office_parts.hpp"

namespace office = mamori::features::office;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check(office::longest_ps_hex_string(in) <= (size + 1) / 2);
  // First line: the relationships part's name; the rest: the target.
  const std::size_t nl = in.find('\n');
  const std::string_view rels = nl == std::string_view::npos ? std::string_view{} : in.substr(0, nl);
  const std::string_view target = nl == std::string_view::npos ? in : in.substr(nl + 1);
  const std::string part = office::resolve_part_target(rels, target);
  if (!part.empty()) {
    check(part.front() != '/' && part.back() != '/');
    check(part.find("//") == std::string::npos);
    check(part != ".." && part.rfind("../", 0) != 0 && part.find("/../") == std::string::npos);
    check(part.find("/./") == std::string::npos && part.rfind("./", 0) != 0);
    for (char c : part) check(!(c >= 'A' && c <= 'Z'));
    (void)office::chunk_part_name(part);
  }
  (void)office::chunk_part_name(in);
  return 0;
}
