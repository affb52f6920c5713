// libFuzzer target for rtf::parse (the tokenizer, \objdata decoding, OLE1/Package unwrapping and the OLE2 native
// check), plus unwrap_object_data and parse_package on the raw input.
// Checks: anomaly list and bits agree, caps from rtf::limits hold, counts agree with the objects returned.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "check.hpp"
#include "formats/rtf/rtf.hpp"

namespace rtf = mamori::rtf;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mamori::ByteView in(data, size);
  auto d = rtf::parse(in);
  if (d.ok()) {
    std::uint64_t bits = 0;
    for (const auto& a : d->anomalies) {
      check(a.code < rtf::Anomaly::kCount);
      bits |= std::uint64_t{1} << static_cast<unsigned>(a.code);
    }
    check(bits == d->anomaly_bits);
    check(d->objects.size() <= rtf::limits::max_objects);
    check(d->counts.objects == d->objects.size());
    check(d->end_offset <= size);
    std::uint32_t eq = 0;
    for (const auto& o : d->objects) {
      check(o.native.size() <= rtf::limits::max_object_bytes);
      check(o.objclass.size() <= rtf::limits::max_class_name);
      check(o.ole2_streams.size() <= rtf::limits::max_streams_listed);
      check(o.offset < size);
      if (o.equation_editor) ++eq;
    }
    check(eq == d->counts.equation_objects);
  }
  rtf::Document doc;
  rtf::Object obj;
  rtf::unwrap_object_data(std::vector<std::uint8_t>(data, data + size), obj, doc);
  check(obj.native.size() <= size);
  if (auto p = rtf::parse_package(in)) check(p->payload.size() <= size);
  return 0;
}
