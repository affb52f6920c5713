// libFuzzer target for the emocheck process-list parser (tasklist / Export-Csv / wmic CSV in UTF-8 or UTF-16).
//
// Checks: parsing never exceeds process_list_limits, each anomaly is listed once, every string is valid UTF-8 (the
// report is JSON), a field never exceeds its cap except a wmic command line re-joined from its pieces, and the
// decoded text is never larger than the input could produce.
#include <cstddef>
#include <cstdint>
#include <set>

#include <nlohmann/json.hpp>

#include "emocheck/process_list.hpp"
#include "check.hpp"

namespace emo = mamori::emocheck;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mamori::ByteView in(data, size);
  std::string enc;
  bool bad = false, odd = false;
  const std::string text = emo::decode_text(in, &enc, &bad, &odd);
  // UTF-8 input grows at most 3x (a bad byte becomes U+FFFD); UTF-16 at most 1.5x.
  check(text.size() <= size * 3);
  auto r = emo::parse_process_list(in);
  if (!r.ok()) return 0;
  const emo::ProcessList& pl = *r;
  check(pl.processes.size() <= emo::process_list_limits::max_rows);
  std::set<emo::ProcessListAnomaly> seen;
  for (auto a : pl.anomalies) {
    check(seen.insert(a).second);
    check(emo::process_list_anomaly_name(a)[0] != '?');
  }
  nlohmann::json j = nlohmann::json::array();
  std::size_t total = 0;
  for (const auto& p : pl.processes) {
    check(p.name.size() <= emo::process_list_limits::max_field_bytes);
    check(p.image_path.size() <= emo::process_list_limits::max_field_bytes);
    if (pl.format != emo::ProcessListFormat::wmic_csv)
      check(p.command_line.size() <= emo::process_list_limits::max_field_bytes);
    total += p.name.size() + p.image_path.size() + p.command_line.size();
    j.push_back({{"name", p.name}, {"path", p.image_path}, {"cmd", p.command_line}});
  }
  check(total <= text.size() * 2 + 16);
  try {
    (void)j.dump();  // strict: throws on invalid UTF-8
  } catch (const std::exception&) {
    check(false);
  }
  return 0;
}
