// libFuzzer target for pdf::parse (the one-pass lexer, stream bounding, FlateDecode/ASCIIHex decoding, object
// streams, URI / Launch / JavaScript / embedded file extraction, the shape: link rectangles against the page, actions
// on open followed through references, content operators, JavaScript traits and exploit shapes, streams that a later
// /JS names decoded a second time, base64 TIFF images of XFA image fields). The input is also
// given to pdf::scan_exploit directly as JavaScript (escape sequences, sleds, `+` operands, bracket and comment
// skipping are easier to reach without a PDF around them).
// Checks: anomaly list and bits agree, caps from pdf::limits hold, obfuscated counts never exceed the counts, the
// shape's fractions stay in [0, 1] and its resolved counts never exceed what was seen.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "check.hpp"
#include "formats/pdf/pdf.hpp"

namespace pdf = mamori::pdf;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mamori::ByteView in(data, size);
  pdf::JsExploit x;
  pdf::scan_exploit(in, x);
  check(x.bytes == std::min<std::uint64_t>(size, pdf::limits::max_exploit_scan));
  check(x.longest_sled <= x.bytes && x.longest_code_list <= x.bytes && x.escapes <= x.bytes / 6 + 1);
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
  const pdf::Shape& sh = d->shape;
  check(sh.max_uri_link_fraction >= 0 && sh.max_uri_link_fraction <= 1);
  check(sh.uri_links <= sh.link_annots && sh.big_uri_links <= sh.uri_links);
  check(sh.page_area >= 0 && sh.page_area <= 1e12);
  check(sh.uri_links <= pdf::limits::max_links && sh.open_uri + sh.open_javascript <= 2 * pdf::limits::max_refs + size);
  check(d->js.bytes <= pdf::limits::max_js_scan_total);
  check(d->js.longest_string <= d->js.bytes);
  check(d->exploit.bytes <= pdf::limits::max_exploit_scan_total);
  // Streams a later /JS named are at most the streams remembered, and read within the same exploit budget.
  check(d->stats.js_streams_late <= pdf::limits::max_later_streams && d->stats.js_streams_late <= d->stats.streams);
  check(d->exploit.xfa_tiff_overlong + d->exploit.script_tiff <= 128ull * (d->stats.streams + 1));
  check(d->exploit.longest_sled <= 2 * d->exploit.bytes);
  check(d->header_offset < size);
  check(d->last_eof_offset <= size);
  return 0;
}
