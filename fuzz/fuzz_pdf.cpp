// libFuzzer target for pdf::parse (the one-pass lexer, stream bounding, FlateDecode/ASCIIHex decoding, object
// streams, URI / Launch / JavaScript / embedded file extraction).
// Checks: anomaly list and bits agree, caps from pdf::limits hold, obfuscated counts never exceed the counts.
#include <cstddef>
#include <cstdint>

#include "check.hpp"
#include "formats/pdf/pdf.hpp"

namespace pdf = mamori::pdf;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mamori::ByteView in(data, size);
  auto d = pdf::parse(in);
  if (!d.ok()) return 0;
  std::uint64_t bits = 0;
  for (const auto& a : d->anomalies) {
    check(a.code < pdf::Anomaly::kCount);
    bits |= std::uint64_t{1} << static_cast<unsigned>(a.code);
  }
  check(bits == d->anomaly_bits);
  for (std::size_t k = 0; k < pdf::key_count; ++k) check(d->obfuscated[k] <= d->counts[k]);
  check(d->uris.size() <= pdf::limits::max_list && d->launches.size() <= pdf::limits::max_list &&
        d->javascript.size() <= pdf::limits::max_list);
  for (const auto& s : d->uris) check(s.size() <= pdf::limits::max_string);
  check(d->embedded_files.size() <= pdf::limits::max_embedded_files);
  for (const auto& e : d->embedded_files) check(e.bytes.size() <= pdf::limits::max_embedded_size);
  check(d->stats.decoded_bytes <= pdf::limits::max_total_decoded);
  check(d->header_offset < size);
  check(d->last_eof_offset <= size);
  return 0;
}
