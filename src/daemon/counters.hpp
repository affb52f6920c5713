// Counters that STATS reports beyond clamd's pool lines. Written by the on-access threads and the workers, read by
// STATS; relaxed atomics, because each is a plain tally and STATS is a snapshot, not a transaction.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace mamori::daemon {

struct Counters {
  using N = std::atomic<std::uint64_t>;
  // On-access (docs/onaccess.md, "STATS").
  bool onaccess_on = false;
  N oa_events{0};      // fanotify events from other processes: opens, executions, close-writes
  N oa_allowed{0};     // permission events answered FAN_ALLOW (clean, cached, unscanned, fail-open, errors)
  N oa_denied{0};      // permission events answered FAN_DENY
  N oa_cache_hits{0};  // opens answered from the clean-verdict cache
  N oa_fail_open{0};   // permission events allowed because the scan outlasted OnAccessTimeout
  N oa_unscanned{0};   // allowed without a scan because a queue bound was reached (or dup failed)
  N oa_scans{0};       // scans finished
  N oa_found{0};       // scans that found something
  // Quarantine (MamoriQuarantine, MamoriQuarantineStreams).
  bool quarantine_on = false;
  N q_moved{0};   // files moved into the vault
  N q_stored{0};  // streams / unnamed descriptors stored in the vault
  N q_failed{0};  // moves or stores that failed or were refused (the file stays where it was)

  static std::uint64_t get(const N& n) noexcept { return n.load(std::memory_order_relaxed); }
  static void bump(N& n) noexcept { n.fetch_add(1, std::memory_order_relaxed); }

  /// The lines STATS adds before END, "KEY: name value ..." like clamd's own, so clamdtop skips them.
  std::string stats_lines() const {
    std::string s;
    if (onaccess_on)
      s += "ONACCESS: events " + std::to_string(get(oa_events)) + " allowed " + std::to_string(get(oa_allowed)) +
           " denied " + std::to_string(get(oa_denied)) + " cache-hits " + std::to_string(get(oa_cache_hits)) +
           " fail-open " + std::to_string(get(oa_fail_open)) + " unscanned " + std::to_string(get(oa_unscanned)) +
           " scans " + std::to_string(get(oa_scans)) + " found " + std::to_string(get(oa_found)) + "\n";
    if (quarantine_on)
      s += "QUARANTINE: moved " + std::to_string(get(q_moved)) + " stored " + std::to_string(get(q_stored)) +
           " failed " + std::to_string(get(q_failed)) + "\n";
    return s;
  }
};

}  // namespace mamori::daemon
