// libFuzzer target for features::scan_payload and decode_executable. Checks: every kept executable lies inside the
// input and decodes to "MZ"; the counts agree with what was kept; a second pass over the same bytes doubles the
// counts (the scan keeps no state between calls but the distinct-hash set, which is per call).
#include <cstddef>
#include <cstdint>

#include "check.hpp"
#include "features/payload_scan.hpp"

namespace f = mamori::features;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mamori::ByteView in(data, size);
  f::PayloadStats s;
  f::scan_payload(in, s);
  check(s.n_encoded <= s.encoded.size());
  check(s.n_encoded <= s.xor1_stubs + s.xor4_stubs);
  for (std::size_t i = 0; i < s.n_encoded; ++i) {
    const auto& e = s.encoded[i];
    check(e.key_len == 1 || e.key_len == 4);
    check(e.mz_offset + 2 <= size);
    const auto exe = f::decode_executable(in, e, 1u << 20);
    check(exe.size() >= 2 && exe[0] == 'M' && exe[1] == 'Z');
  }
  f::PayloadStats twice = s;
  twice.n_encoded = 0;
  f::scan_payload(in, twice);
  check(twice.peb_access == 2 * s.peb_access && twice.get_pc == 2 * s.get_pc && twice.dos_stubs == 2 * s.dos_stubs);
  check(twice.api_hashes == 2 * s.api_hashes && twice.nop_sleds == 2 * s.nop_sleds);
  return 0;
}
