// libFuzzer target for pe::parse, the call the scanner makes on every PE.
//
// Besides the sanitizers, it checks the promises pe.hpp makes about a parsed file: every string_view points into
// the input, every table respects its cap in pe::limits, and the overlay ends at the end of the file. A broken
// promise aborts, so the fuzzer keeps the input as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "formats/pe/pe.hpp"

namespace {

namespace pe = mamori::pe;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = pe::parse(mamori::ByteView(data, size));
  if (!r.ok()) return 0;
  const pe::PeFile& f = r.value();

  const char* begin = reinterpret_cast<const char*>(data);
  std::size_t sum = 0;
  auto view = [&](std::string_view s) {
    check(s.empty() ||
          (s.data() >= begin && s.size() <= size && s.data() - begin <= static_cast<std::ptrdiff_t>(size - s.size())));
    for (char c : s) sum += static_cast<unsigned char>(c);  // ASan sees the reads
  };
  for (const auto& s : f.sections) view(s.name);
  for (const auto& d : f.imports) {
    view(d.name);
    for (const auto& fn : d.functions) view(fn.name);
  }
  view(f.export_dll_name);
  for (const auto& e : f.exports) {
    view(e.name);
    view(e.forwarder);
  }
  view(f.pdb_path);
  view(f.clr.runtime_version);

  check(f.file_size == size);
  check(f.sections.size() <= pe::limits::max_sections);
  check(f.imports.size() <= 2 * pe::limits::max_import_dlls);       // regular and delay-load each
  check(f.import_function_count() <= 2 * pe::limits::max_imports_total);
  check(f.exports.size() <= pe::limits::max_exports);
  check(f.resources.size() <= pe::limits::max_resources);
  check(f.tls_callbacks.size() <= pe::limits::max_tls_callbacks);
  check(f.debug.size() <= pe::limits::max_debug_entries);
  check(f.rich.size() <= pe::limits::max_rich_entries);
  check(f.version_info.size() <= pe::limits::max_version_strings);
  check(f.overlay_size == 0 || f.overlay_offset + f.overlay_size == size);
  std::uint64_t bits = 0;
  for (const auto& a : f.anomalies) {
    check(a.code < pe::Anomaly::kCount && std::string_view(pe::anomaly_name(a.code)) != "unknown");
    bits |= std::uint64_t{1} << static_cast<unsigned>(a.code);
  }
  check(bits == f.anomaly_bits && f.anomalies.size() <= pe::anomaly_count);
  for (const auto& s : f.sections) {
    if (auto off = f.rva_to_offset(s.virtual_address)) check(*off < size);
  }
  for (const auto& res : f.resources) sum += res.type_name.size();

  volatile std::size_t keep = sum;
  (void)keep;
  return 0;
}
