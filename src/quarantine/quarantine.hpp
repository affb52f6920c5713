// The quarantine vault: detected files are moved out of reach, neutered at rest, and can be restored exactly.
//
// A vault is one root-only folder (0700):
//   quarantine.db   SQLite: one row per quarantined file (metadata, verdict) that is also the operations journal
//   vault.key       32 random bytes (0600): the AES-256 key that neuters vault files
//   lock            flock()ed for the length of each operation, so processes (mamori, mamorid) take turns
//   files/<name>    one vault file per entry (0600, 32 hex characters, no extension): header + AES-256-CTR bytes
//
// Every move, restore and delete is journalled in the database before it touches a file, and every operation
// first finishes or rolls back whatever a killed process left half done (see docs/quarantine.md for the states).
// So a crash at any point leaves each file either in place, untouched, or whole in the vault.
//
// Errors are values. A refusal for safety (the target exists, a parent folder is a symlink, the content changed
// since it was scanned) has ErrorCode::invalid_argument; everything else (I/O, a corrupt database or vault file)
// has another code.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace mamori::quarantine {

/// The vault used when none is given: $MAMORI_QUARANTINE_DIR, else /var/lib/mamori/quarantine.
std::string default_dir();

/// What the scan concluded about a file, recorded with it. `sha256`/`size` are what the scanner read: the move is
/// refused when the bytes it copies differ, so a file swapped after the scan is never quarantined in its place.
struct Detection {
  std::string verdict;    // "malicious", "suspicious"
  std::string signature;  // "Mamori.PE.Malicious"
  std::vector<std::string> reasons;  // human-readable, e.g. "imports.api_injection=3 (+0.81)"
  std::string sha256;     // empty when the scanner did not read the file (over a size limit)
  std::optional<std::uint64_t> size;
  std::string via = "mamori scan";  // the front end that asked
  /// The file the scanner read, when it read it through a descriptor (FILDES, on-access): the move is refused
  /// when the path now names another file (renamed over, replaced).
  std::optional<std::uint64_t> dev, ino;
};

/// True for an entry's original_path that names a file; false for the origin of stored data that had no file
/// ("stream", "fildes"): such entries are restored only with RestoreOptions::to.
bool is_file_origin(const std::string& original_path) noexcept;

enum class State : std::uint8_t {
  moving,       // journalled; the vault copy may be partial; the original is untouched
  copied,       // the vault copy is whole, verified and durable; the original may still be there
  quarantined,  // the original is gone; the vault file is the only copy
  restoring,    // a restore is under way (restore_tmp / restore_target say where)
  restored,     // history: put back, the vault file is gone
  deleting,     // a delete is under way
  deleted,      // history: removed for good
};
const char* state_name(State s) noexcept;

struct Timespec {
  std::int64_t sec = 0;
  std::int64_t nsec = 0;
};

struct Entry {
  std::int64_t id = 0;
  State state = State::moving;
  std::string vault_name;  // file name under files/
  std::string original_path;
  std::uint32_t uid = 0, gid = 0, mode = 0;
  Timespec atime, mtime, ctime;
  std::uint64_t dev = 0, ino = 0, nlink = 1;
  std::uint64_t size = 0;
  std::string sha256;  // of the content in the vault, checked before any restore
  std::string verdict, signature;
  std::vector<std::string> reasons;
  std::int64_t quarantined_at = 0;  // unix seconds
  std::string quarantined_by;       // "alice (uid 1000)"
  std::uint32_t quarantined_by_uid = 0;
  std::string via;
  std::int64_t finished_at = 0;  // restored/deleted at
  std::string finished_by;
  std::string restored_to;
  std::string restore_tmp, restore_target;  // while restoring
};

/// What recovery did with operations a killed process left half done.
struct Recovery {
  std::vector<std::string> notes;  // one line per entry: "entry 7: quarantine rolled back (original untouched)"
};

struct RestoreOptions {
  std::string to;      // empty: the original path
  bool force = false;  // replace an existing file at the target
};

struct RestoreOutcome {
  std::string path;
  std::vector<std::string> warnings;  // e.g. the owner could not be restored (not root)
};

struct QuarantineOutcome {
  Entry entry;
  std::string vault_file;  // full path of the neutered copy
  std::vector<std::string> warnings;
};

/// One open vault. Thread-safe: operations take turns inside the process (a mutex) and across processes (flock).
class Vault {
 public:
  /// Opens (creating it when missing) the vault at `dir`, then finishes or rolls back interrupted operations.
  /// Refuses a folder that is a symlink, not owned by this user, or open to group/others.
  static Result<std::unique_ptr<Vault>> open(const std::string& dir);
  ~Vault();
  Vault(const Vault&) = delete;
  Vault& operator=(const Vault&) = delete;

  const std::string& dir() const noexcept;
  std::string vault_file(const Entry& e) const;

  /// Moves `path` into the vault (see the header comment). Symlinks in the path are resolved first; the file
  /// actually opened must be a regular file.
  Result<QuarantineOutcome> quarantine(const std::string& path, const Detection& d);
  /// Stores data that has no file (an INSTREAM stream, an unnamed descriptor) as a new entry whose original_path
  /// is `origin` (not a path: "stream", "fildes"), owned by this user, mode 0600, dated now. Journalled like a
  /// move: a crash leaves the entry either whole (recovery finishes it once the vault file is in place) or absent.
  Result<QuarantineOutcome> store(const std::uint8_t* data, std::size_t size, const std::string& origin,
                                  const Detection& d);
  /// Entries in the vault now (state quarantined), or every row ever (`all`), oldest first.
  Result<std::vector<Entry>> list(bool all = false);
  /// nullopt when there is no such entry.
  Result<std::optional<Entry>> get(std::int64_t id);
  Result<RestoreOutcome> restore(std::int64_t id, const RestoreOptions& opt);
  /// Removes the vault file for good; the row stays as history (state deleted).
  Status remove(std::int64_t id);
  /// Decrypts and hashes an entry's vault file without writing it anywhere.
  Status verify(std::int64_t id);

  /// What the last operation's recovery pass did (empty when nothing was pending).
  const Recovery& last_recovery() const noexcept;

  struct Impl;

 private:
  explicit Vault(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mamori::quarantine
