// Recording anomalies on a parse result. Every format's result carries `anomalies` (records of {code, detail}) and
// `anomaly_bits` (one bit per code, so "has it happened" is one test); these two functions are the only writers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mamori {

/// Past this many records a repeated code only sets its bit (per-object anomalies repeat in hostile files).
inline constexpr std::size_t kMaxAnomalyRecords = 256;

/// Lists `a` once, at its first occurrence, with that occurrence's detail.
template <class Result, class Anomaly>
void flag_first(Result& r, Anomaly a, std::uint64_t detail) {
  const auto bit = std::uint64_t{1} << static_cast<unsigned>(a);
  if ((r.anomaly_bits & bit) == 0) r.anomalies.push_back({a, detail});
  r.anomaly_bits |= bit;
}

/// Lists every occurrence of `a` while fewer than kMaxAnomalyRecords are listed; a code's first occurrence is
/// always listed, and the bits are exact either way.
template <class Result, class Anomaly>
void flag_each(Result& r, Anomaly a, std::uint64_t detail) {
  const auto bit = std::uint64_t{1} << static_cast<unsigned>(a);
  if ((r.anomaly_bits & bit) && r.anomalies.size() >= kMaxAnomalyRecords) return;
  r.anomaly_bits |= bit;
  r.anomalies.push_back({a, detail});
}

}  // namespace mamori
