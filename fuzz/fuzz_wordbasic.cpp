// libFuzzer target for the Word 6/95 macro reader: vba::wordbasic::read on the input as a WordDocument stream, and
// detokenize on the input as a macro body.
//
// Checks: read respects wordbasic::limits, the anomaly list matches the bit set, every body it decoded lies inside
// the stream, and detokenize stays within its text cap.
#include <cstddef>
#include <cstdint>

#include "formats/vba/wordbasic.hpp"
#include "check.hpp"

namespace wb = mamori::vba::wordbasic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mamori::ByteView in(data, size);
  std::size_t sum = 0;
  constexpr std::size_t cap = 64u << 10;
  const auto d = wb::detokenize(in, cap);
  check(d.text.size() <= cap);
  check(d.builtin_calls + d.unnamed_keywords <= d.tokens);
  sum += d.text.size();

  auto p = wb::read(in);
  if (p.ok()) {
    check(p->macros.size() <= wb::limits::max_macros);
    std::uint64_t bits = 0;
    for (const auto& a : p->anomalies) {
      check(a.code < wb::Anomaly::kCount);
      bits |= std::uint64_t{1} << static_cast<unsigned>(a.code);
    }
    check(bits == p->anomaly_bits);
    std::size_t total = 0;
    for (const auto& m : p->macros) {
      check(m.text.size() <= wb::limits::max_macro_text);
      if (!m.text.empty()) check(std::uint64_t{m.offset} + m.size <= size);
      total += m.text.size();
    }
    check(total <= wb::limits::max_total_text);
    sum += total;
  }
  volatile std::size_t keep = sum;
  (void)keep;
  return 0;
}
