// libFuzzer target for onenote::scan, the call the scanner makes on every OneNote section.
//
// Checks the promises of onenote.hpp: every embedded file's bytes lie inside the input and within its declared
// length unless a footer further on ended it, the object and name lists stay under their caps, and the anomaly list matches the bit set.
#include <cstddef>
#include <cstdint>

#include "check.hpp"
#include "formats/onenote/onenote.hpp"

namespace onenote = mamori::onenote;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto s = onenote::scan(mamori::ByteView(data, size));
  std::uint64_t bits = 0;
  for (const auto& a : s.anomalies) {
    check(a.code < onenote::Anomaly::kCount);
    bits |= std::uint64_t{1} << static_cast<unsigned>(a.code);
  }
  check(bits == s.anomaly_bits);
  check(s.files.size() <= onenote::limits::max_embedded_files);
  check(s.names.size() <= onenote::limits::max_names);
  for (const auto& f : s.files) {
    check(f.offset < size);
    if (!f.footer_ok) check(f.data.size() <= f.declared_size);
    if (!f.data.empty()) check(f.data.data() >= data && f.data.data() + f.data.size() <= data + size);
  }
  return 0;
}
