// libFuzzer target for dotnet::parse_metadata and the PE vector's "dotnet" group built on it.
//
// The input is the metadata (what the CLR header's MetaData directory points at); the same bytes serve as the CLR
// resources directory, so ManifestResource offsets land somewhere readable. Besides the sanitizers it checks the
// promises metadata.hpp makes: every string_view points into the input, every decoded table respects its cap, and
// the anomaly list matches the bits.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "features/pe_features.hpp"
#include "formats/dotnet/metadata.hpp"

namespace dotnet = mamori::dotnet;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mamori::ByteView bytes(data, size);
  auto r = dotnet::parse_metadata(bytes, bytes);
  if (r.ok()) {
    const dotnet::Metadata& m = r.value();
    const char* begin = reinterpret_cast<const char*>(data);
    std::size_t sum = 0;
    auto view = [&](std::string_view s) {
      check(s.empty() || (s.data() >= begin && s.size() <= size &&
                          s.data() - begin <= static_cast<std::ptrdiff_t>(size - s.size())));
      for (char c : s) sum += static_cast<unsigned char>(c);
    };
    view(m.version);
    view(m.assembly_name);
    for (const auto& t : m.type_refs) view(t.ns), view(t.name);
    for (const auto& x : m.member_refs) {
      check(x.type_ref < m.type_refs.size());
      view(x.name);
    }
    for (auto s : m.type_def_names) view(s);
    for (auto s : m.method_def_names) view(s);
    for (auto s : m.assembly_refs) view(s);
    for (auto s : m.module_refs) view(s);
    for (const auto& p : m.pinvokes) view(p.module), view(p.entry);
    for (const auto& res : m.resources) {
      view(res.name);
      check(res.size < 0 || static_cast<std::uint64_t>(res.size) <= size);
      check(res.entropy <= 8.0);
    }
    check(m.type_refs.size() <= dotnet::limits::max_decoded_rows);
    check(m.member_refs.size() <= dotnet::limits::max_decoded_rows);
    check(m.type_def_names.size() <= dotnet::limits::max_decoded_rows);
    check(m.method_def_names.size() <= dotnet::limits::max_decoded_rows);
    check(m.pinvokes.size() <= dotnet::limits::max_decoded_rows);
    check(m.resources.size() <= dotnet::limits::max_resources);
    check(m.stream_count <= dotnet::limits::max_streams);
    check(m.user_strings.count <= dotnet::limits::max_user_strings);
    for (auto n : m.rows) check(n <= dotnet::limits::max_rows);
    std::uint64_t bits = 0;
    for (const auto& a : m.anomalies) {
      check(a.code < dotnet::Anomaly::kCount && std::string_view(dotnet::anomaly_name(a.code)) != "unknown");
      bits |= std::uint64_t{1} << static_cast<unsigned>(a.code);
    }
    check(bits == m.anomaly_bits && m.anomalies.size() <= dotnet::anomaly_count);
    volatile std::size_t keep = sum;
    (void)keep;
  }

  // The feature group over the same bytes, as if a PE's CLR header pointed at them.
  mamori::pe::PeFile pe;
  pe.file_size = size;
  pe.clr.present = true;
  pe.clr.metadata = bytes;
  pe.clr.resources = bytes;
  std::vector<float> x;
  mamori::features::extract_pe(pe, mamori::features::ByteStats{}, x);
  check(x.size() == mamori::features::pe_schema().features.size());
  for (float v : x) check(!std::isinf(v));
  return 0;
}
