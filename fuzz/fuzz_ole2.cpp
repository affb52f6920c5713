// libFuzzer target for ole2::parse and stream reading, the calls an Office scan makes on every compound file.
//
// Besides the sanitizers, it checks the promises ole2.hpp makes: the anomaly list matches the bit set, every cap
// in ole2::limits holds, find() returns the entry a path came from, and no stream read exceeds its claimed size.
// A broken promise aborts, so the fuzzer keeps the input as a crash.
#include <cstddef>
#include <cstdint>

#include "formats/ole2/ole2.hpp"
#include "check.hpp"

namespace {

namespace ole2 = mamori::ole2;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = ole2::parse(mamori::ByteView(data, size));
  if (!r.ok()) return 0;
  const ole2::File& f = r.value();
  check(f.file_size == size);
  check(f.entries.size() <= ole2::limits::max_directory_entries);
  check(f.mini_stream.size() <= ole2::limits::max_stream_size);
  std::uint64_t bits = 0;
  for (const auto& a : f.anomalies) {
    check(a.code < ole2::Anomaly::kCount);
    bits |= std::uint64_t{1} << static_cast<unsigned>(a.code);
  }
  check(bits == f.anomaly_bits && f.anomalies.size() <= ole2::anomaly_count);
  std::size_t sum = 0;
  std::uint32_t orphans = 0;
  for (std::uint32_t i = 0; i < f.entries.size(); ++i) {
    const auto& e = f.entries[i];
    if (!e.reachable && e.type != ole2::EntryType::unused) ++orphans;
    if (!e.reachable) continue;
    // Entry 0 is walked as the root whatever its type (root_entry_invalid says when it is not one).
    if (i != 0) check(e.parent == 0 || (e.parent < f.entries.size() && f.entries[e.parent].is_storage()));
    if (!e.path.empty()) {
      const auto* found = f.find(e.path);
      check(found != nullptr && ole2::path_equal(found->path, e.path));
    }
    if (!e.is_stream()) continue;
    const auto d = f.read_stream(e);
    check(d.bytes.size() <= e.size && d.bytes.size() <= ole2::limits::max_stream_size);
    if (d.complete) check(d.bytes.size() == e.size);
    for (auto b : d.bytes) sum += b;
  }
  check(orphans == f.orphan_count);
  for (std::uint32_t i = 0; i < f.entries.size() && i < 64; ++i) sum += f.children(i).size();
  sum += f.summary.author.size() + f.summary.template_name.size();
  volatile std::size_t keep = sum;
  (void)keep;
  return 0;
}
