// The evidence backend for collected evidence: a folder that is the root of a Windows volume (a mounted image) or a
// triage copy of one, plus an optional exported process list. C:\ maps to the folder; each path component is
// matched case-insensitively, because triage tools do not agree on "Windows\System32" vs "windows\system32".
//
// Safety: nothing outside the folder is ever read. A symlink component is followed only when its target resolves
// inside the folder, folder listings report symlinks without following them, and every listing is capped.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "emocheck/evidence.hpp"
#include "emocheck/hive.hpp"
#include "emocheck/process_list.hpp"

namespace mamori::emocheck {

namespace offline_limits {
/// Entries read from one folder while matching a path component or listing it.
inline constexpr std::size_t max_dir_entries = 200'000;
/// Path components resolved for one Windows path.
inline constexpr std::size_t max_components = 64;
/// Root-level text files searched for `vol` output, and bytes read from each.
inline constexpr std::size_t max_vol_files = 32;
inline constexpr std::size_t max_vol_bytes = 64 * 1024;
}  // namespace offline_limits

class OfflineEvidence final : public Evidence {
 public:
  /// `root`: the evidence folder. `process_list`: a path, or empty for none. Errors: the root is not a folder, or
  /// a process list was named but cannot be read or recognised.
  static Result<std::unique_ptr<OfflineEvidence>> open(const std::string& root, const std::string& process_list);

  std::vector<std::string> users() const override;
  bool has_hive(const RegRoot& root) const override;
  std::optional<RegKey> reg_key(const RegRoot& root, std::string_view path) const override;
  std::optional<FileInfo> stat(std::string_view win_path) const override;
  std::optional<std::vector<FileInfo>> list_dir(std::string_view win_path, std::size_t max_entries) const override;
  std::vector<std::uint8_t> read_head(std::string_view win_path, std::size_t n) const override;
  std::optional<std::string> local_path(std::string_view win_path) const override;
  const std::vector<ProcessInfo>* processes() const override;
  std::optional<VolumeSerial> volume_serial() const override;
  std::vector<std::string> problems() const override;

  /// The process list as parsed (format, encoding, anomalies), when one was given.
  const std::optional<ProcessList>& process_list() const noexcept { return plist_; }
  /// The host path `win_path` resolves to inside the root (exists, symlinks checked); nullopt otherwise.
  std::optional<std::string> resolve(std::string_view win_path) const;

 private:
  OfflineEvidence() = default;
  const HiveFile* hive(const RegRoot& root) const;
  bool inside_root(const std::string& real) const;

  std::string root_;       // as given, without a trailing slash
  std::string root_real_;  // realpath of root_
  std::optional<ProcessList> plist_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::optional<HiveFile>> hives_;  // keyed by hive path; nullopt: failed to open
  mutable std::vector<std::string> problems_;
};

}  // namespace mamori::emocheck
