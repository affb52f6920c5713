// ScanContext: the per-file budget that every level of a container scan draws on, and the recursion into members.
#include "engine/context.hpp"

#include <algorithm>
#include <chrono>

#include "common/hash.hpp"
#include "engine/filetype.hpp"
#include "engine/scanner.hpp"

namespace mamori::engine {

const Limits& ScanContext::limits() const noexcept { return scanner_.options().limits; }

void ScanContext::exceeded(ScanResult& r, std::string_view name, const std::string& why) const {
  r.anomalies.push_back("limit_exceeded." + std::string(name) + ": " + why);
  if (limits().limits_are_suspicious) raise_verdict(r, Verdict::suspicious, "Mamori.Limits.Exceeded." + std::string(name));
}

bool ScanContext::charge_bytes(ScanResult& parent, std::uint64_t n, std::uint64_t content, std::uint64_t decompressed) {
  if (content > n) content = n;
  if (decompressed > remaining_decompressed()) {
    exceeded(parent, decompressed_limit_name(), decompressed_why());
    return false;
  }
  if (budget_.extracted_bytes + n > limits().max_extracted_bytes) {
    exceeded(parent, "Size", "more than " + std::to_string(limits().max_extracted_bytes) + " bytes extracted");
    return false;
  }
  if (limits().max_ratio > 0) {
    const double cap = limits().max_ratio * static_cast<double>(budget_.top_size) + static_cast<double>(limits().ratio_slack);
    if (static_cast<double>(budget_.content_bytes + content) > cap) {
      exceeded(parent, "Ratio", "members expand to more than " + std::to_string(static_cast<long long>(limits().max_ratio)) +
                                    " times the file's size (padding excluded)");
      return false;
    }
  }
  budget_.extracted_bytes += n;
  budget_.content_bytes += content;
  budget_.decompressed_bytes += decompressed;
  return true;
}

std::uint64_t ScanContext::remaining_members() const noexcept {
  return budget_.members >= limits().max_members ? 0 : limits().max_members - budget_.members;
}

std::uint64_t ScanContext::remaining_bytes() const noexcept {
  return budget_.extracted_bytes >= limits().max_extracted_bytes ? 0 : limits().max_extracted_bytes - budget_.extracted_bytes;
}

namespace {

// a x b + c in bytes, saturating (a huge file with a huge ratio is no limit).
std::uint64_t scaled(double ratio, std::uint64_t size, std::uint64_t slack) {
  const double v = ratio * static_cast<double>(size) + static_cast<double>(slack);
  return v >= 1.8e19 ? UINT64_MAX : static_cast<std::uint64_t>(v);
}

std::uint64_t left(std::uint64_t budget, std::uint64_t used) { return budget > used ? budget - used : 0; }

}  // namespace

std::uint64_t ScanContext::remaining_content() const noexcept {
  if (limits().max_ratio <= 0) return UINT64_MAX;
  return left(scaled(limits().max_ratio, budget_.top_size, limits().ratio_slack), budget_.content_bytes);
}

const char* ScanContext::decompressed_limit_name() const noexcept {
  const Limits& l = limits();
  if (l.max_decompressed_ratio <= 0) return "Size";
  return scaled(l.max_decompressed_ratio, budget_.top_size, l.decompressed_slack) < l.max_decompressed_bytes ? "Ratio"
                                                                                                             : "Size";
}

std::uint64_t ScanContext::remaining_decompressed() const noexcept {
  const Limits& l = limits();
  std::uint64_t cap = l.max_decompressed_bytes;
  if (l.max_decompressed_ratio > 0) cap = std::min(cap, scaled(l.max_decompressed_ratio, budget_.top_size, l.decompressed_slack));
  return left(cap, budget_.decompressed_bytes);
}

std::string ScanContext::decompressed_why() const {
  if (std::string_view(decompressed_limit_name()) == "Ratio")
    return "more than " + std::to_string(static_cast<long long>(limits().max_decompressed_ratio)) +
           " times the file's size decompressed, padding included";
  return "more than " + std::to_string(limits().max_decompressed_bytes) + " bytes decompressed, padding included";
}

bool ScanContext::scan_member(ScanResult& parent, std::string_view name, ByteView data, std::uint64_t collapsed_padding) {
  const auto t0 = std::chrono::steady_clock::now();
  if (depth_ + 1 > limits().max_depth) {
    exceeded(parent, "Depth", "members nested deeper than " + std::to_string(limits().max_depth) + " levels");
    return false;
  }
  if (budget_.members + 1 > limits().max_members) {
    exceeded(parent, "Members", "more than " + std::to_string(limits().max_members) + " members");
    return false;
  }
  if (out_of_time()) {
    exceeded(parent, "Time", "scan took longer than " + std::to_string(limits().max_seconds) + " s");
    return false;
  }
  ++budget_.members;
  ScanResult m;
  m.path = parent.path + "!" + std::string(name);
  m.size = data.size();
  m.sha256 = sha256_hex(data);
  if (m.sha256 == parent.sha256 || std::find(ancestors_.begin(), ancestors_.end(), m.sha256) != ancestors_.end()) {
    // A member identical to an enclosing container would unfold forever (zip quines); depth would stop it late.
    m.type = detect_type(data);
    m.verdict = Verdict::unsupported;
    m.anomalies.push_back("member_repeats_container: identical to an enclosing container, not opened again");
    exceeded(m, "Depth", "member is identical to an enclosing container (self-including archive)");
    add_member(parent, std::move(m));
    return false;
  }
  ScanContext child(scanner_, budget_, depth_ + 1);
  child.passwords_ = passwords_;
  child.ancestors_ = ancestors_;
  child.ancestors_.push_back(parent.sha256);
  child.collapsed_padding_ = collapsed_padding;
  scanner_.dispatch(data, m, child);
  m.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  add_member(parent, std::move(m));
  return true;
}

}  // namespace mamori::engine
