// Read-only access to a registry hive file through libhivex. Hives are hostile input; libhivex validates the regf
// structure when it opens a file, and this wrapper caps what one key may return.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "emocheck/evidence.hpp"

namespace mamori::emocheck {

namespace hive_limits {
inline constexpr std::size_t max_values_per_key = 16384;
inline constexpr std::size_t max_subkeys_per_key = 65536;
/// Value data above this is not read (Emotet's values are tens of bytes; Run commands a few hundred).
inline constexpr std::size_t max_value_bytes = 1u << 20;
/// Path components followed in one lookup.
inline constexpr std::size_t max_path_depth = 64;
/// Hive files above this are not opened (a SOFTWARE hive is typically 50-150 MB).
inline constexpr std::uint64_t max_hive_bytes = 2ull << 30;
}  // namespace hive_limits

class HiveFile {
 public:
  /// Opens `path` read-only. Errors: missing file, over max_hive_bytes, or not a hive libhivex accepts.
  static Result<HiveFile> open(const std::string& path);

  /// The key at `path` ("Software\Microsoft\...", case-insensitive; "" is the root).
  std::optional<RegKey> key(std::string_view path) const;

  const std::string& path() const noexcept { return path_; }

 private:
  struct Closer {
    void operator()(void* h) const noexcept;
  };
  std::unique_ptr<void, Closer> h_;
  std::string path_;
};

}  // namespace mamori::emocheck
