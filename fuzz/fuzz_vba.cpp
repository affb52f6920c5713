// libFuzzer target for the VBA layer: vba::decompress on the raw input (the [MS-OVBA] RLE, which runs on every dir
// stream and module), then, when the input is a compound file, find_projects + extract on every project in it.
//
// Checks: decompression never exceeds its cap, a clean status means the whole container was consumed, extract
// respects vba::limits, the anomaly list matches the bit set, and a module's p-code size never exceeds its stream.
#include <cstddef>
#include <cstdint>

#include "formats/ole2/ole2.hpp"
#include "formats/vba/vba.hpp"
#include "check.hpp"

namespace {

namespace ole2 = mamori::ole2;
namespace vba = mamori::vba;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mamori::ByteView in(data, size);
  std::size_t sum = 0;
  constexpr std::uint64_t cap = 1u << 20;
  const auto d = vba::decompress(in, cap);
  check(d.bytes.size() <= cap);
  // Each chunk header is at least 2 bytes and yields at most 4096 bytes.
  check(d.bytes.size() <= (std::uint64_t{d.chunks}) * 4096);
  for (auto b : d.bytes) sum += b;

  auto f = ole2::parse(in);
  if (f.ok()) {
    for (const auto& storage : vba::find_projects(*f)) {
      auto p = vba::extract(*f, storage);
      check(p.ok());  // find_projects only names storages with a dir stream
      check(p->modules.size() <= vba::limits::max_modules);
      std::uint64_t bits = 0;
      for (const auto& a : p->anomalies) {
        check(a.code < vba::Anomaly::kCount);
        bits |= std::uint64_t{1} << static_cast<unsigned>(a.code);
      }
      check(bits == p->anomaly_bits);
      for (const auto& m : p->modules) {
        check(m.pcode_size <= m.stream_size);
        check(m.source_raw_size <= vba::limits::max_decompressed);
        check(m.code_lines + m.attribute_lines <= m.lines);
        sum += m.source.size();
      }
    }
  }
  volatile std::size_t keep = sum;
  (void)keep;
  return 0;
}
