// Pieces of the vault that the tests and the fuzz target reach directly: safe path walking, the vault file
// format and the database. Not for front ends (they use quarantine.hpp).
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "quarantine/quarantine.hpp"

namespace mamori::quarantine::detail {

using Fd = UniqueFd;

std::string errno_text(int e);

/// The folder holding a path's last component, opened by walking from "/" one component at a time with
/// O_NOFOLLOW, so a symlink anywhere in the chain is refused instead of followed (a parent swapped for a symlink
/// between two checks cannot redirect the operation). `..` components are refused outright.
struct Parent {
  Fd dir;
  std::string leaf;
};
Result<Parent> open_parent(const std::string& abs_path);

/// Test-only fault injection: when MAMORI_QUARANTINE_CRASH_AT names `step`, the process SIGKILLs itself here.
void crash_point(const char* step);

// ---- vault file format (docs/quarantine.md) ----
inline constexpr std::size_t kKeySize = 32;
inline constexpr std::size_t kIvSize = 16;
inline constexpr char kVaultMagic[8] = {'M', 'A', 'M', 'O', 'R', 'I', 'Q', '1'};
inline constexpr std::size_t kHeaderSize = sizeof(kVaultMagic) + kIvSize + 8;  // magic, IV, plaintext size (LE)
inline constexpr std::size_t kChunk = 64 * 1024;
using Key = std::array<std::uint8_t, kKeySize>;

struct CopyResult {
  std::string sha256;
  std::uint64_t size = 0;
};

/// Reads `in` to its end (at most `expected_size` + 1 bytes, so growth is seen), hashing the plaintext and writing
/// header + ciphertext to `out`. `after_chunk` runs after each chunk is written (the crash hook).
Result<CopyResult> seal(int in, int out, const Key& key, std::uint64_t expected_size,
                        const std::function<void(std::uint64_t written)>& after_chunk = {});
/// The same for data already in memory (streams): nothing can grow, so only the bytes given are sealed.
Result<CopyResult> seal_bytes(const std::uint8_t* data, std::size_t size, int out, const Key& key,
                              const std::function<void(std::uint64_t written)>& after_chunk = {});
/// Checks the header and the length of the vault file `in`, decrypts it into `out` (or nowhere when out < 0) and
/// returns the plaintext's hash and size. A truncated, padded or foreign file is an error, never a crash.
Result<CopyResult> unseal(int in, int out, const Key& key,
                          const std::function<void(std::uint64_t written)>& after_chunk = {});

// ---- database ----
class Db {
 public:
  Db() = default;
  ~Db();
  Db(Db&& o) noexcept : db_(o.db_), path_(std::move(o.path_)) { o.db_ = nullptr; }
  Db& operator=(Db&&) = delete;
  Db(const Db&) = delete;

  /// Opens or creates the database and checks it (quick_check); a corrupt file is an error that says so.
  static Result<Db> open(const std::string& path);

  Result<std::int64_t> insert(const Entry& e);
  Status update(const Entry& e);  // every mutable column, by id
  Status remove(std::int64_t id);
  Result<std::optional<Entry>> get(std::int64_t id);
  /// Rows whose state is one of `states` (all rows when empty), by id.
  Result<std::vector<Entry>> select(const std::vector<State>& states);

 private:
  Status exec(const char* sql);
  Error fail(const std::string& what) const;
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace mamori::quarantine::detail
