// Archives (zip, 7z, rar, cab, tar, iso, gzip/bzip2/xz streams): every entry goes back through the scanner's
// dispatch as a member. The reader's bounds come from the scan's remaining budget, asked again before every entry
// and checked while the entry streams, so a bomb stops inside its first oversized entry at the limit that names it
// (Ratio, Size, Members, Time) and the container is reported, never passed silently. An entry cut by a budget is
// still scanned as far as it was read (the content in front of the padding), then the walk stops.
#include "engine/handlers.hpp"
#include "engine/scanner.hpp"
#include "formats/archive/archive.hpp"

namespace mamori::engine::handlers {

void archive(ByteView bytes, ScanResult& r, ScanContext& ctx) {
  const Limits& lim = ctx.limits();
  const Options& opt = ctx.scanner().options();
  mamori::archive::ReadOptions ro;
  // One more than the engine allows, so that the engine's own member check names the limit.
  ro.max_entries = ctx.remaining_members() + 1;
  ro.max_total_bytes = ctx.remaining_bytes();
  ro.max_entry_bytes = std::min<std::uint64_t>(ro.max_entry_bytes, lim.max_extracted_bytes);
  ro.max_ratio = lim.max_ratio;
  ro.ratio_slack = lim.ratio_slack;
  ro.deadline = ctx.deadline();
  ro.passwords = ctx.passwords();
  ro.shared = [&ctx] {
    return mamori::archive::ReadOptions::Shared{ctx.remaining_decompressed(), ctx.remaining_content(), ctx.remaining_bytes()};
  };

  std::uint64_t stopped_by_engine = 0;
  auto summary = mamori::archive::for_each_entry(bytes, ro, [&](const mamori::archive::Entry& e, ByteView data) {
    if (!e.regular || !e.opened) {
      // Work done on an entry that could not be read (a wrong password's garbage) still counts.
      if (e.raw_bytes > 0 && !ctx.charge_bytes(r, 0, 0, e.raw_bytes)) {
        ++stopped_by_engine;
        return false;
      }
      return true;
    }
    // The reader checks the ratio between slices, so an entry it cut may pass the budget by one slice; the limit
    // is reported from its stop reason, not here.
    const std::uint64_t content = std::min(e.raw_bytes - std::min(e.raw_bytes, e.padding_bytes), ctx.remaining_content());
    if (!ctx.charge_bytes(r, data.size(), content, e.raw_bytes)) {
      ++stopped_by_engine;
      return false;
    }
    if (!ctx.scan_member(r, e.name, data, e.collapsed_bytes)) {
      ++stopped_by_engine;
      return false;
    }
    auto& m = r.members.back();
    if (!e.password.empty()) m.context.emplace_back("archive.password", e.password);
    if (e.padding_bytes > 0) m.context.emplace_back("padding_bytes", std::to_string(e.padding_bytes));
    if (e.collapsed_bytes > 0) m.anomalies.push_back("padding_collapsed: " + std::to_string(e.collapsed_bytes) + " bytes");
    if (e.truncated) m.anomalies.push_back("member_truncated_by_limit");
    return true;
  });
  if (!summary.ok()) {
    r.anomalies.push_back("archive_unreadable: " + summary.error().message);
    return;
  }
  const auto& s = *summary;
  if (r.verdict == Verdict::unsupported && s.entries == 0) r.verdict = Verdict::clean;
  r.context.emplace_back("archive.format", s.format);
  if (!s.filters.empty()) {
    std::string f;
    for (const auto& x : s.filters) f += (f.empty() ? "" : ",") + x;
    r.context.emplace_back("archive.filters", f);
  }
  r.context.emplace_back("archive.entries", std::to_string(s.entries));
  if (!s.password.empty()) r.context.emplace_back("archive.password", s.password);
  if (s.padding_bytes > 0) r.context.emplace_back("padding_bytes", std::to_string(s.padding_bytes));
  for (const auto& a : s.anomalies) {
    std::string line = std::string("archive.") + mamori::archive::anomaly_name(a.code);
    if (!a.detail.empty()) line += ": " + a.detail;
    r.anomalies.push_back(std::move(line));
  }
  switch (s.stop) {
    case mamori::archive::Stop::none:
    case mamori::archive::Stop::visitor: break;
    case mamori::archive::Stop::entries:
      ctx.exceeded(r, "Members", "more than " + std::to_string(lim.max_members) + " members");
      break;
    case mamori::archive::Stop::total_bytes:
      ctx.exceeded(r, "Size", "more than " + std::to_string(lim.max_extracted_bytes) + " bytes extracted");
      break;
    case mamori::archive::Stop::raw_bytes:
      ctx.exceeded(r, ctx.decompressed_limit_name(), ctx.decompressed_why());
      break;
    case mamori::archive::Stop::ratio:
      ctx.exceeded(r, "Ratio", "members expand to more than " + std::to_string(static_cast<long long>(lim.max_ratio)) +
                                   " times the file's or the archive's size (padding excluded)");
      break;
    case mamori::archive::Stop::time:
      ctx.exceeded(r, "Time", "scan took longer than " + std::to_string(lim.max_seconds) + " s");
      break;
  }
  if (s.unopened_encrypted > 0) {
    r.context.emplace_back("archive.encrypted_unopened", std::to_string(s.unopened_encrypted));
    r.anomalies.push_back("encrypted archive: " + std::to_string(s.unopened_encrypted) +
                          " entries could not be opened with any known password");
    if (opt.encrypted_is_suspicious) raise_verdict(r, Verdict::suspicious, "Mamori.Encrypted.Archive");
  }
}

}  // namespace mamori::engine::handlers
