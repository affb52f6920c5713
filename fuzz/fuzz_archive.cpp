// libFuzzer target for archive::for_each_entry and read_entry, the calls a scan makes on every zip, 7z, rar, cab,
// tar, iso and compressed stream (libarchive underneath, our bounds and padding sink on top).
//
// Promises checked: the walk honours max_entries, max_total_bytes and the decompression budgets (its own and the
// shared one, which shrinks as entries are visited, like a scan's tree budget), every visited view is no larger than
// max_entry_bytes, padding accounting adds up, and read_entry never returns more than asked for.
#include <cstddef>
#include <cstdint>

#include "check.hpp"
#include "formats/archive/archive.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ar = mamori::archive;
  const mamori::ByteView in(data, size);
  ar::ReadOptions opt;
  opt.max_entries = 64;
  opt.max_entry_bytes = 1 << 20;
  opt.max_raw_entry_bytes = 8 << 20;
  opt.max_total_bytes = 4 << 20;
  opt.max_raw_total = 16 << 20;
  std::uint64_t shared_raw = 12 << 20;
  opt.shared = [&] { return ar::ReadOptions::Shared{shared_raw, 6 << 20, UINT64_MAX}; };
  opt.exact_padding_cap = 1 << 20;
  opt.passwords = {"infected", "password"};
  opt.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::uint64_t visited = 0, total = 0;
  auto r = ar::for_each_entry(in, opt, [&](const ar::Entry& e, mamori::ByteView d) {
    ++visited;
    total += d.size();
    check(e.raw_bytes <= shared_raw);
    shared_raw -= e.raw_bytes;
    check(e.padding_bytes <= e.raw_bytes);
    check(e.collapsed_bytes <= e.padding_bytes);
    check(d.size() <= opt.max_entry_bytes);
    check(e.raw_bytes <= opt.max_raw_entry_bytes);
    check(e.name.size() <= ar::limits::max_name_length + 4);
    check(e.name.find('!') == std::string::npos);
    return true;
  });
  if (r.ok()) {
    check(visited <= opt.max_entries);
    check(r->entries == visited);
    check(total <= opt.max_total_bytes);
    check(r->raw_bytes <= opt.max_raw_total);
    check(r->extracted_bytes <= opt.max_total_bytes);
    check(r->collapsed_bytes <= r->padding_bytes);
    for (const auto& a : r->anomalies) check(std::string(ar::anomaly_name(a.code)) != "unknown");
  }
  auto part = ar::read_entry(in, "word/document.xml", 1 << 16);
  if (part.ok()) check(part->size() <= (1u << 16));
  return 0;
}
