// libFuzzer target for the Excel 5/95 VBA reader (vba::read_excel5_streams) without a compound file around it.
// Input: u16 dir length, the dir bytes, then module streams, each a u16 length and its bytes (the last one takes
// what is left). Seeds: make_ole2_seeds writes them from tests/support/excel5_builder.
//
// Checks: the anomaly list matches the bit set, vba::limits hold (identifiers, modules, lines, literals, listing
// size), a module's p-code block never exceeds its stream, and code lines never exceed lines.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "formats/vba/vba.hpp"
#include "check.hpp"

namespace vba = mamori::vba;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mamori::ByteView in(data, size);
  const std::uint16_t dir_len = in.le_or<std::uint16_t>(0, 0);
  const mamori::ByteView dir = in.clamp(2, dir_len);
  std::uint64_t at = 2 + dir.size();
  std::vector<std::string> names;
  std::vector<mamori::ByteView> bytes;
  while (at < in.size() && bytes.size() < 16) {
    const std::uint16_t n = in.le_or<std::uint16_t>(at, 0xFFFF);
    bytes.push_back(in.clamp(at + 2, n));
    names.push_back("m" + std::to_string(bytes.size()));
    at += 2 + bytes.back().size();
  }
  std::vector<vba::Excel5Stream> modules;
  for (std::size_t i = 0; i < bytes.size(); ++i) modules.push_back({names[i], bytes[i]});
  const auto p = vba::read_excel5_streams("_VBA_PROJECT", dir, modules);
  check(p.excel5);
  check(p.identifiers.size() <= vba::limits::max_identifiers);
  check(p.modules.size() == modules.size());
  std::uint64_t bits = 0;
  for (const auto& a : p.excel5_anomalies) {
    check(a.code < vba::Excel5Anomaly::kCount);
    bits |= std::uint64_t{1} << static_cast<unsigned>(a.code);
  }
  check(bits == p.excel5_anomaly_bits);
  std::size_t sum = 0;
  for (const auto& m : p.modules) {
    check(m.recovered);
    check(m.pcode_size <= m.stream_size);
    check(m.pcode_lines <= vba::limits::max_excel5_lines);
    check(m.literals <= vba::limits::max_excel5_literals);
    check(m.source.size() <= vba::limits::max_excel5_listing + 512);  // + the two header lines
    check(m.code_lines + m.attribute_lines <= m.lines);
    sum += m.source.size();
  }
  volatile std::size_t keep = sum;
  (void)keep;
  return 0;
}
