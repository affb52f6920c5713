// libFuzzer target for lnk::parse and lnk::assess, the calls the scanner makes on every shell link.
//
// Besides the sanitizers, it checks the promises of lnk.hpp: the anomaly list matches the bit set, the ID list and
// extra-data walks stay under their caps, no string passes limits::max_string_bytes, and the appended bytes lie
// inside the input at its end.
#include <cstddef>
#include <cstdint>

#include "check.hpp"
#include "formats/lnk/lnk.hpp"
#include "formats/lnk/rules.hpp"

namespace lnk = mamori::lnk;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = lnk::parse(mamori::ByteView(data, size));
  if (!r.ok()) return 0;
  const lnk::Link& l = r.value();
  std::uint64_t bits = 0;
  for (const auto& a : l.anomalies) {
    check(a.code < lnk::Anomaly::kCount);
    bits |= std::uint64_t{1} << static_cast<unsigned>(a.code);
  }
  check(bits == l.anomaly_bits && l.anomalies.size() <= lnk::anomaly_count);
  check(l.idlist.size() <= lnk::limits::max_idlist_items);
  check(l.extra.size() <= lnk::limits::max_extra_blocks);
  for (const auto& it : l.idlist) check(it.strings.size() <= lnk::limits::max_item_strings);
  for (const auto* s : {&l.name, &l.relative_path, &l.working_dir, &l.arguments, &l.icon_location, &l.env_target,
                        &l.idlist_path, &l.link_info.local_base_path})
    check(s->size() <= lnk::limits::max_string_bytes);
  if (!l.appended.empty()) check(l.appended.data() + l.appended.size() == data + size);
  const auto a = lnk::assess(l);
  check(a.points >= 0);
  for (const auto& f : a.findings) check(f.points > 0);
  check(a.indicators.size() <= 257);
  return 0;
}
