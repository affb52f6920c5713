// The vault's operations: move in, restore, delete, and recovery of operations a killed process left half done.
// The journal is the state column of the database; docs/quarantine.md draws the state machine.
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>

#include "quarantine/internal.hpp"

namespace mamori::quarantine {

using detail::Fd;
using detail::errno_text;
using detail::crash_point;

const char* state_name(State s) noexcept {
  switch (s) {
    case State::moving: return "moving";
    case State::copied: return "copied";
    case State::quarantined: return "quarantined";
    case State::restoring: return "restoring";
    case State::restored: return "restored";
    case State::deleting: return "deleting";
    case State::deleted: return "deleted";
  }
  return "?";
}

bool is_file_origin(const std::string& original_path) noexcept {
  return !original_path.empty() && original_path[0] == '/';
}

std::string default_dir() {
  const char* e = std::getenv("MAMORI_QUARANTINE_DIR");
  return e && *e ? std::string(e) : std::string("/var/lib/mamori/quarantine");
}

struct Vault::Impl {
  std::string dir;
  Fd dirfd, filesfd, lockfd;
  detail::Db db;
  detail::Key key{};
  std::mutex m;
  Recovery last;

  explicit Impl(detail::Db d) : db(std::move(d)) {}
};

namespace {

std::string current_user() {
  const uid_t uid = ::getuid();
  std::string name = std::to_string(uid);
  struct passwd pw{}, *res = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res) name = pw.pw_name;
  std::string s = name + " (uid " + std::to_string(uid) + ")";
  if (const char* su = std::getenv("SUDO_USER"); su && *su && uid == 0) s += " via sudo from " + std::string(su);
  return s;
}

Status fsync_fd(int fd, const std::string& what) {
  if (::fsync(fd) != 0) return make_error(ErrorCode::io, "fsync " + what + ": " + errno_text(errno));
  return {};
}

std::string random_name() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) return {};
  static constexpr char h[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s.push_back(h[c >> 4]);
    s.push_back(h[c & 15]);
  }
  return s;
}

Result<std::string> hash_fd(int fd) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return make_error(ErrorCode::internal, "OpenSSL");
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<unsigned char> buf(detail::kChunk);
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      EVP_MD_CTX_free(ctx);
      return make_error(ErrorCode::io, "read: " + errno_text(errno));
    }
    if (n == 0) break;
    EVP_DigestUpdate(ctx, buf.data(), static_cast<std::size_t>(n));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static constexpr char h[] = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s.push_back(h[md[i] >> 4]);
    s.push_back(h[md[i] & 15]);
  }
  return s;
}

// The sha256 of the regular file `leaf` in `dir` (not following a symlink), or nullopt when there is none.
std::optional<std::string> hash_at(int dir, const std::string& leaf, struct stat* st_out = nullptr) {
  Fd f(::openat(dir, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!f) return std::nullopt;
  struct stat st{};
  if (::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  if (st_out) *st_out = st;
  auto h = hash_fd(f.get());
  if (!h.ok()) return std::nullopt;
  return *h;
}

bool exists_at(int dir, const std::string& leaf) {
  struct stat st{};
  return ::fstatat(dir, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

std::string dirname_of(const std::string& p) {
  const auto slash = p.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? std::string("/") : p.substr(0, slash);
}

// Checks a vault folder: a real folder (not a symlink), ours, closed to group and others.
Status check_private_dir(int fd, const std::string& path) {
  struct stat st{};
  if (::fstat(fd, &st) != 0) return make_error(ErrorCode::io, "stat " + path + ": " + errno_text(errno));
  if (st.st_uid != ::geteuid())
    return make_error(ErrorCode::invalid_argument, "refused: quarantine folder " + path + " belongs to uid " +
                                                       std::to_string(st.st_uid) + ", not to this user");
  if ((st.st_mode & 077) != 0) {
    char m[8];
    std::snprintf(m, sizeof m, "%04o", st.st_mode & 07777);
    return make_error(ErrorCode::invalid_argument, "refused: quarantine folder " + path + " is open to group/others (mode " +
                                                       m + "); chmod 700 it");
  }
  return {};
}

Result<Fd> open_private_dir(int at, const std::string& name, const std::string& path) {
  if (::mkdirat(at, name.c_str(), 0700) != 0 && errno != EEXIST)
    return make_error(ErrorCode::io, "cannot create quarantine folder " + path + ": " + errno_text(errno) +
                                         (errno == EACCES ? " (run as root, or choose another with --quarantine-dir or "
                                                            "MAMORI_QUARANTINE_DIR)"
                                                          : ""));
  Fd fd(::openat(at, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    const int e = errno;
    if (e == ELOOP || e == ENOTDIR)
      return make_error(ErrorCode::invalid_argument, "refused: quarantine folder " + path + " is a symlink or not a folder");
    return make_error(ErrorCode::io, "cannot open quarantine folder " + path + ": " + errno_text(e));
  }
  MAMORI_TRY(check_private_dir(fd.get(), path));
  return fd;
}

Status load_or_create_key(Vault::Impl& v, bool has_live_entries) {
  const std::string path = v.dir + "/vault.key";
  Fd f(::openat(v.dirfd.get(), "vault.key", O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (f) {
    struct stat st{};
    if (::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != static_cast<off_t>(detail::kKeySize))
      return make_error(ErrorCode::truncated, "vault key " + path + " is damaged (expected " +
                                                  std::to_string(detail::kKeySize) + " bytes)");
    std::size_t got = 0;
    while (got < v.key.size()) {
      const ssize_t n = ::read(f.get(), v.key.data() + got, v.key.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return make_error(ErrorCode::io, "cannot read vault key " + path);
      got += static_cast<std::size_t>(n);
    }
    return {};
  }
  if (errno != ENOENT) return make_error(ErrorCode::io, "cannot open vault key " + path + ": " + errno_text(errno));
  if (has_live_entries)
    return make_error(ErrorCode::truncated, "vault key " + path + " is missing but the vault holds entries: they "
                                            "cannot be restored without it");
  if (RAND_bytes(v.key.data(), static_cast<int>(v.key.size())) != 1)
    return make_error(ErrorCode::internal, "RAND_bytes failed");
  // Written under a temporary name and renamed, so a crash never leaves a short key behind.
  ::unlinkat(v.dirfd.get(), "vault.key.tmp", 0);
  Fd t(::openat(v.dirfd.get(), "vault.key.tmp", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!t) return make_error(ErrorCode::io, "cannot create vault key: " + errno_text(errno));
  if (::write(t.get(), v.key.data(), v.key.size()) != static_cast<ssize_t>(v.key.size()))
    return make_error(ErrorCode::io, "cannot write vault key: " + errno_text(errno));
  MAMORI_TRY(fsync_fd(t.get(), "vault key"));
  if (::renameat(v.dirfd.get(), "vault.key.tmp", v.dirfd.get(), "vault.key") != 0)
    return make_error(ErrorCode::io, "cannot install vault key: " + errno_text(errno));
  return fsync_fd(v.dirfd.get(), v.dir);
}

// Holds the in-process mutex and the cross-process flock for one operation.
class OpLock {
 public:
  explicit OpLock(Vault::Impl& v) : v_(v), lk_(v.m) {
    while (::flock(v_.lockfd.get(), LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~OpLock() { ::flock(v_.lockfd.get(), LOCK_UN); }
  OpLock(const OpLock&) = delete;
  OpLock& operator=(const OpLock&) = delete;

 private:
  Vault::Impl& v_;
  std::unique_lock<std::mutex> lk_;
};

std::string entry_label(const Entry& e) { return "entry " + std::to_string(e.id) + " (" + e.original_path + ")"; }

// Removes every trace of a move that did not complete: the partial and the whole vault file, and the row.
Status roll_back_move(Vault::Impl& v, const Entry& e) {
  ::unlinkat(v.filesfd.get(), (e.vault_name + ".part").c_str(), 0);
  ::unlinkat(v.filesfd.get(), e.vault_name.c_str(), 0);
  MAMORI_TRY(fsync_fd(v.filesfd.get(), v.dir + "/files"));
  return v.db.remove(e.id);
}

// The error that stopped a move, with word of the rollback when that failed too.
Error rolled_back(Vault::Impl& v, const Entry& e, Error err) {
  const Status rb = roll_back_move(v, e);
  if (!rb.ok()) err.message += " (and the rollback failed: " + rb.error().message + ")";
  return err;
}

Status recover_one(Vault::Impl& v, Entry e) {
  auto& notes = v.last.notes;
  switch (e.state) {
    case State::moving:
      // Stored data (a stream) has no original to fall back on: once its vault file is in place (renamed after
      // fsync) and holds the recorded content, finishing keeps it; anything less is dropped.
      if (!is_file_origin(e.original_path) && !e.sha256.empty() && exists_at(v.filesfd.get(), e.vault_name)) {
        Fd f(::openat(v.filesfd.get(), e.vault_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        auto r = f ? detail::unseal(f.get(), -1, v.key) : Result<detail::CopyResult>(make_error(ErrorCode::io, "open"));
        if (r.ok() && r->sha256 == e.sha256 && r->size == e.size) {
          ::unlinkat(v.filesfd.get(), (e.vault_name + ".part").c_str(), 0);
          e.state = State::quarantined;
          MAMORI_TRY(v.db.update(e));
          notes.push_back(entry_label(e) + ": interrupted store finished; the data is whole in the vault");
          return {};
        }
      }
      // The original was never unlinked in this state, so dropping the copy loses nothing.
      MAMORI_TRY(roll_back_move(v, e));
      if (!is_file_origin(e.original_path)) {
        notes.push_back(entry_label(e) + ": interrupted store rolled back (the data never reached the vault whole)");
        return {};
      }
      notes.push_back(entry_label(e) + ": interrupted quarantine rolled back; the file was left in place");
      return {};
    case State::copied: {
      // The vault copy is whole and verified; finish by removing the original, but only if the path still holds
      // the very file and content that were copied.
      auto parent = detail::open_parent(e.original_path);
      std::string what = "the original was already gone";
      if (!is_file_origin(e.original_path)) {
        what = "it had no file";
      } else if (!parent.ok()) {
        what = "the original's folder cannot be opened safely (" + parent.error().message + "), left alone";
      } else if (exists_at(parent->dir.get(), parent->leaf)) {
        struct stat st{};
        const auto h = hash_at(parent->dir.get(), parent->leaf, &st);
        if (h && *h == e.sha256 && st.st_dev == e.dev && st.st_ino == e.ino) {
          if (::unlinkat(parent->dir.get(), parent->leaf.c_str(), 0) != 0)
            return make_error(ErrorCode::io, entry_label(e) + ": cannot remove the original: " + errno_text(errno));
          MAMORI_TRY(fsync_fd(parent->dir.get(), dirname_of(e.original_path)));
          what = "the original was removed";
        } else {
          what = "the path now holds another file, left alone";
        }
      }
      e.state = State::quarantined;
      MAMORI_TRY(v.db.update(e));
      notes.push_back(entry_label(e) + ": interrupted quarantine finished; " + what);
      return {};
    }
    case State::restoring: {
      auto parent = detail::open_parent(e.restore_tmp);
      const std::string tmp_leaf = parent.ok() ? parent->leaf : std::string();
      // Only a name restore() makes is ever removed: a damaged row must not be able to name any other file.
      const std::string suffix = ".mamori-restore-" + e.vault_name.substr(0, 8);
      const bool ours = tmp_leaf.size() > suffix.size() && tmp_leaf[0] == '.' &&
                        tmp_leaf.compare(tmp_leaf.size() - suffix.size(), suffix.size(), suffix) == 0;
      if (parent.ok() && ours && exists_at(parent->dir.get(), tmp_leaf)) {
        ::unlinkat(parent->dir.get(), tmp_leaf.c_str(), 0);
        MAMORI_TRY(fsync_fd(parent->dir.get(), dirname_of(e.restore_tmp)));
      } else {
        auto tparent = detail::open_parent(e.restore_target);
        if (tparent.ok()) {
          const auto h = hash_at(tparent->dir.get(), tparent->leaf);
          if (h && *h == e.sha256) {
            // The restored file was placed; only the vault copy and the row were left.
            ::unlinkat(v.filesfd.get(), e.vault_name.c_str(), 0);
            MAMORI_TRY(fsync_fd(v.filesfd.get(), v.dir + "/files"));
            e.state = State::restored;
            e.restored_to = e.restore_target;
            e.finished_at = std::time(nullptr);
            e.restore_tmp.clear();
            e.restore_target.clear();
            MAMORI_TRY(v.db.update(e));
            notes.push_back(entry_label(e) + ": interrupted restore finished (to " + e.restored_to + ")");
            return {};
          }
        }
      }
      e.state = exists_at(v.filesfd.get(), e.vault_name) ? State::quarantined : State::deleted;
      e.restore_tmp.clear();
      e.restore_target.clear();
      MAMORI_TRY(v.db.update(e));
      notes.push_back(entry_label(e) + (e.state == State::quarantined
                                            ? ": interrupted restore rolled back; the file stays in the vault"
                                            : ": vault file missing after an interrupted restore; marked deleted"));
      return {};
    }
    case State::deleting:
      ::unlinkat(v.filesfd.get(), e.vault_name.c_str(), 0);
      MAMORI_TRY(fsync_fd(v.filesfd.get(), v.dir + "/files"));
      e.state = State::deleted;
      MAMORI_TRY(v.db.update(e));
      notes.push_back(entry_label(e) + ": interrupted delete finished");
      return {};
    default: return {};
  }
}

Status recover(Vault::Impl& v) {
  v.last.notes.clear();
  auto pending = v.db.select({State::moving, State::copied, State::restoring, State::deleting});
  if (!pending.ok()) return pending.error();
  for (auto& e : *pending) MAMORI_TRY(recover_one(v, e));
  return {};
}

// A new entry is journalled as `moving` before any byte is written, so that recovery can always find what to undo.
// The caller has filled in what describes the content: its path or origin, owner, mode, times, size and hash.
Status journal_new_entry(Vault::Impl& v, Entry& e, const Detection& d) {
  e.state = State::moving;
  e.vault_name = random_name();
  if (e.vault_name.size() != 32) return make_error(ErrorCode::internal, "RAND_bytes failed");
  e.verdict = d.verdict;
  e.signature = d.signature;
  e.reasons = d.reasons;
  e.quarantined_by = current_user();
  e.quarantined_by_uid = ::getuid();
  e.via = d.via;
  auto id = v.db.insert(e);
  if (!id.ok()) return id.error();
  e.id = *id;
  crash_point("journal");
  return {};
}

// Seals the content into `out`, calling `after_chunk` after each chunk; it may refuse what it sealed.
using SealInto = std::function<Result<detail::CopyResult>(int out, const std::function<void(std::uint64_t)>& after_chunk)>;

// Writes the vault file under a .part name and renames it into place only once it is whole and durable, so a crash
// leaves a .part that recovery removes, never a torn vault file under the real name.
Result<detail::CopyResult> write_vault_file(Vault::Impl& v, const std::string& vault_name, const SealInto& seal_into) {
  const std::string part = vault_name + ".part";
  Fd out(::openat(v.filesfd.get(), part.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out) return make_error(ErrorCode::io, "cannot create vault file: " + errno_text(errno));
  bool first = true;
  auto sealed = seal_into(out.get(), [&](std::uint64_t) {
    if (first) crash_point("partial-copy");
    first = false;
  });
  if (!sealed.ok()) return sealed;
  MAMORI_TRY(fsync_fd(out.get(), "vault file"));
  out.reset();
  crash_point("copy-fsync");
  if (::renameat(v.filesfd.get(), part.c_str(), v.filesfd.get(), vault_name.c_str()) != 0)
    return make_error(ErrorCode::io, "cannot rename vault file: " + errno_text(errno));
  MAMORI_TRY(fsync_fd(v.filesfd.get(), v.dir + "/files"));
  crash_point("vault-rename");
  return sealed;
}

// The journal's last word on a move: from here the entry is quarantined and recovery leaves it alone.
Result<QuarantineOutcome> finish_move(Vault::Impl& v, Entry& e, std::string vault_path) {
  e.state = State::quarantined;
  MAMORI_TRY(v.db.update(e));
  crash_point("db-done");
  QuarantineOutcome res;
  res.entry = e;
  res.vault_file = std::move(vault_path);
  return res;
}

}  // namespace

Vault::Vault(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Vault::~Vault() = default;
const std::string& Vault::dir() const noexcept { return impl_->dir; }
const Recovery& Vault::last_recovery() const noexcept { return impl_->last; }
std::string Vault::vault_file(const Entry& e) const { return impl_->dir + "/files/" + e.vault_name; }

Result<std::unique_ptr<Vault>> Vault::open(const std::string& dir_in) {
  namespace fs = std::filesystem;
  if (dir_in.empty()) return make_error(ErrorCode::invalid_argument, "no quarantine folder given");
  std::error_code ec;
  const std::string dir = fs::absolute(dir_in, ec).lexically_normal().string();
  if (ec) return make_error(ErrorCode::io, "bad quarantine folder " + dir_in + ": " + ec.message());
  std::string clean = dir;
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  // Parents are ordinary folders (e.g. /var/lib/mamori); only the vault itself is private.
  const std::string up = dirname_of(clean);
  fs::create_directories(up, ec);
  Fd upfd(::open(up.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!upfd)
    return make_error(ErrorCode::io, "cannot open " + up + ": " + errno_text(errno) +
                                         " (run as root, or choose another folder with --quarantine-dir or "
                                         "MAMORI_QUARANTINE_DIR)");
  const std::string leaf = clean.substr(clean.find_last_of('/') + 1);
  auto dfd = open_private_dir(upfd.get(), leaf, clean);
  if (!dfd.ok()) return dfd.error();
  auto ffd = open_private_dir(dfd->get(), "files", clean + "/files");
  if (!ffd.ok()) return ffd.error();
  Fd lock(::openat(dfd->get(), "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!lock) return make_error(ErrorCode::io, "cannot open " + clean + "/lock: " + errno_text(errno));
  while (::flock(lock.get(), LOCK_EX) != 0 && errno == EINTR) {
  }
  auto db = detail::Db::open(clean + "/quarantine.db");
  if (!db.ok()) return db.error();
  auto impl = std::make_unique<Impl>(std::move(db).value());
  impl->dir = clean;
  impl->dirfd = std::move(dfd).value();
  impl->filesfd = std::move(ffd).value();
  impl->lockfd = std::move(lock);
  auto live = impl->db.select({State::moving, State::copied, State::quarantined, State::restoring, State::deleting});
  if (!live.ok()) return live.error();
  MAMORI_TRY(load_or_create_key(*impl, !live->empty()));
  const Status st = recover(*impl);
  ::flock(impl->lockfd.get(), LOCK_UN);
  if (!st.ok()) return st.error();
  return std::unique_ptr<Vault>(new Vault(std::move(impl)));
}

Result<QuarantineOutcome> Vault::quarantine(const std::string& path, const Detection& d) {
  Impl& v = *impl_;
  OpLock lk(v);
  MAMORI_TRY(recover(v));
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr)
    return make_error(ErrorCode::io, "cannot resolve " + path + ": " + errno_text(errno));
  const std::string canon = resolved;
  if (canon == v.dir || canon.rfind(v.dir + "/", 0) == 0)
    return make_error(ErrorCode::invalid_argument, "refused: " + canon + " is inside the quarantine folder");
  auto parent = detail::open_parent(canon);
  if (!parent.ok()) return parent.error();
  Fd in(::openat(parent->dir.get(), parent->leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!in) {
    const int e = errno;
    if (e == ELOOP) return make_error(ErrorCode::invalid_argument, "refused: " + canon + " became a symlink");
    return make_error(ErrorCode::io, "cannot open " + canon + ": " + errno_text(e));
  }
  struct stat st{};
  if (::fstat(in.get(), &st) != 0) return make_error(ErrorCode::io, "stat " + canon + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) return make_error(ErrorCode::invalid_argument, "refused: " + canon + " is not a regular file");
  if ((d.dev && *d.dev != static_cast<std::uint64_t>(st.st_dev)) || (d.ino && *d.ino != static_cast<std::uint64_t>(st.st_ino)))
    return make_error(ErrorCode::invalid_argument, "refused: " + canon + " is no longer the file that was scanned");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (d.size && *d.size != size)
    return make_error(ErrorCode::invalid_argument, "refused: " + canon + " changed since it was scanned (" +
                                                       std::to_string(*d.size) + " bytes then, " +
                                                       std::to_string(size) + " now)");

  Entry e;
  e.original_path = canon;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.mode = st.st_mode & 07777;
  e.atime = {st.st_atim.tv_sec, st.st_atim.tv_nsec};
  e.mtime = {st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
  e.ctime = {st.st_ctim.tv_sec, st.st_ctim.tv_nsec};
  e.dev = st.st_dev;
  e.ino = st.st_ino;
  e.nlink = st.st_nlink;
  e.size = size;
  e.sha256 = d.sha256;
  e.quarantined_at = std::time(nullptr);
  MAMORI_TRY(journal_new_entry(v, e, d));

  auto fail = [&](Error err) { return rolled_back(v, e, std::move(err)); };
  auto copied = write_vault_file(v, e.vault_name, [&](int out, const auto& after_chunk) -> Result<detail::CopyResult> {
    auto c = detail::seal(in.get(), out, v.key, size, after_chunk);
    if (!c.ok()) return c;
    if (!d.sha256.empty() && c->sha256 != d.sha256)
      return make_error(ErrorCode::invalid_argument, "refused: " + canon + " changed since it was scanned (sha256 " +
                                                         d.sha256 + " scanned, " + c->sha256 + " now)");
    struct stat after{};
    if (::fstat(in.get(), &after) != 0 || after.st_size != st.st_size || after.st_mtim.tv_sec != st.st_mtim.tv_sec ||
        after.st_mtim.tv_nsec != st.st_mtim.tv_nsec || after.st_ctim.tv_sec != st.st_ctim.tv_sec ||
        after.st_ctim.tv_nsec != st.st_ctim.tv_nsec)
      return make_error(ErrorCode::invalid_argument, "refused: " + canon + " was modified while it was copied");
    return c;
  });
  if (!copied.ok()) return fail(std::move(copied).error());
  e.sha256 = copied->sha256;
  e.state = State::copied;
  if (Status s = v.db.update(e); !s.ok()) return fail(s.error());
  crash_point("db-copied");

  // Only the very file that was copied is unlinked: same inode under the name, unchanged since the copy.
  struct stat now{};
  if (::fstatat(parent->dir.get(), parent->leaf.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 || now.st_dev != st.st_dev ||
      now.st_ino != st.st_ino || now.st_ctim.tv_sec != st.st_ctim.tv_sec || now.st_ctim.tv_nsec != st.st_ctim.tv_nsec)
    return fail(make_error(ErrorCode::invalid_argument,
                           "refused: " + canon + " was replaced or modified during the move; nothing was moved"));
  if (::unlinkat(parent->dir.get(), parent->leaf.c_str(), 0) != 0)
    return fail(make_error(ErrorCode::io, "cannot remove " + canon + ": " + errno_text(errno)));
  // From here the vault copy is the only one: no rollback any more, only forward.
  MAMORI_TRY(fsync_fd(parent->dir.get(), dirname_of(canon)));
  crash_point("unlink");
  auto out_res = finish_move(v, e, vault_file(e));
  if (!out_res.ok()) return out_res;
  if (st.st_nlink > 1)
    out_res->warnings.push_back(std::to_string(st.st_nlink - 1) +
                               " other hard link(s) to this content remain elsewhere on the file system");
  return out_res;
}

Result<QuarantineOutcome> Vault::store(const std::uint8_t* data, std::size_t size, const std::string& origin,
                                       const Detection& d) {
  Impl& v = *impl_;
  OpLock lk(v);
  MAMORI_TRY(recover(v));
  if (is_file_origin(origin) || origin.empty())
    return make_error(ErrorCode::invalid_argument, "store: '" + origin + "' is a path, not an origin; use quarantine()");
  if (d.size && *d.size != size)
    return make_error(ErrorCode::invalid_argument, "refused: " + std::to_string(size) + " bytes to store but " +
                                                       std::to_string(*d.size) + " were scanned");
  // The hash is journalled before any byte is written, so that recovery can tell a whole vault file from a torn one.
  std::string sha = d.sha256;
  if (sha.empty()) {
    const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull < 0) return make_error(ErrorCode::io, "open /dev/null: " + errno_text(errno));
    Fd sink(devnull);
    auto h = detail::seal_bytes(data, size, sink.get(), v.key);
    if (!h.ok()) return h.error();
    sha = h->sha256;
  }
  Entry e;
  e.original_path = origin;
  e.uid = ::geteuid();
  e.gid = ::getegid();
  e.mode = 0600;
  struct timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  e.atime = e.mtime = e.ctime = {now.tv_sec, now.tv_nsec};
  e.nlink = 0;
  e.size = size;
  e.sha256 = sha;
  e.quarantined_at = now.tv_sec;
  MAMORI_TRY(journal_new_entry(v, e, d));

  auto copied = write_vault_file(v, e.vault_name, [&](int out, const auto& after_chunk) -> Result<detail::CopyResult> {
    auto c = detail::seal_bytes(data, size, out, v.key, after_chunk);
    if (c.ok() && c->sha256 != sha)
      return make_error(ErrorCode::invalid_argument, "refused: the data to store is not what was scanned");
    return c;
  });
  if (!copied.ok()) return rolled_back(v, e, std::move(copied).error());
  return finish_move(v, e, vault_file(e));
}

Result<std::vector<Entry>> Vault::list(bool all) {
  OpLock lk(*impl_);
  MAMORI_TRY(recover(*impl_));
  if (all) return impl_->db.select({});
  return impl_->db.select({State::quarantined});
}

Result<std::optional<Entry>> Vault::get(std::int64_t id) {
  OpLock lk(*impl_);
  MAMORI_TRY(recover(*impl_));
  return impl_->db.get(id);
}

namespace {

// Finishes what an earlier process left half done first, so that the entry's state is its last word. The caller
// holds the OpLock.
Result<Entry> live_entry(Vault::Impl& v, std::int64_t id) {
  MAMORI_TRY(recover(v));
  auto e = v.db.get(id);
  if (!e.ok()) return e.error();
  if (!*e) return make_error(ErrorCode::invalid_argument, "no quarantine entry " + std::to_string(id));
  if ((*e)->state != State::quarantined)
    return make_error(ErrorCode::invalid_argument, "entry " + std::to_string(id) + " is " + state_name((*e)->state) +
                                                       ", not in the vault");
  return **e;
}

Result<Fd> open_vault_file(Vault::Impl& v, const Entry& e) {
  Fd f(::openat(v.filesfd.get(), e.vault_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!f) return make_error(ErrorCode::io, "vault file for entry " + std::to_string(e.id) + " (" + v.dir + "/files/" +
                                               e.vault_name + "): " + errno_text(errno));
  return f;
}

}  // namespace

Status Vault::verify(std::int64_t id) {
  Impl& v = *impl_;
  OpLock lk(v);
  auto e = live_entry(v, id);
  if (!e.ok()) return e.error();
  auto f = open_vault_file(v, *e);
  if (!f.ok()) return f.error();
  auto r = detail::unseal(f->get(), -1, v.key);
  if (!r.ok()) return make_error(r.error().code, "entry " + std::to_string(id) + ": " + r.error().message);
  if (r->sha256 != e->sha256 || r->size != e->size)
    return make_error(ErrorCode::truncated, "entry " + std::to_string(id) + ": vault file content does not match its "
                                            "recorded sha256 (damaged vault file or key)");
  return {};
}

Result<RestoreOutcome> Vault::restore(std::int64_t id, const RestoreOptions& opt) {
  namespace fs = std::filesystem;
  Impl& v = *impl_;
  OpLock lk(v);
  auto got = live_entry(v, id);
  if (!got.ok()) return got.error();
  Entry e = std::move(got).value();

  std::string target = e.original_path;
  if (!is_file_origin(e.original_path) && opt.to.empty())
    return make_error(ErrorCode::invalid_argument, "entry " + std::to_string(id) + " came from " + e.original_path +
                                                       " and has no original path: restore it with --to PATH");
  if (!opt.to.empty()) {
    std::error_code ec;
    target = fs::absolute(opt.to, ec).string();
    if (ec) return make_error(ErrorCode::invalid_argument, "bad --to path " + opt.to + ": " + ec.message());
    while (target.size() > 1 && target.back() == '/') target.pop_back();  // "--to DIR/" names DIR
    // --to an existing folder means "into that folder, under the original name".
    struct stat ts{};
    if (::lstat(target.c_str(), &ts) == 0 && S_ISDIR(ts.st_mode))
      target += "/" + (is_file_origin(e.original_path) ? e.original_path.substr(e.original_path.find_last_of('/') + 1)
                                                        : e.original_path + "-" + std::to_string(e.id));
  }
  auto parent = detail::open_parent(target);
  if (!parent.ok()) return parent.error();
  const std::string& leaf = parent->leaf;
  const int pdir = parent->dir.get();
  struct stat existing{};
  if (::fstatat(pdir, leaf.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(existing.st_mode))
      return make_error(ErrorCode::invalid_argument, "refused: " + target + " is a folder");
    if (!opt.force)
      return make_error(ErrorCode::invalid_argument, "refused: " + target + " exists (use --force to replace it)");
  }
  auto vf = open_vault_file(v, e);
  if (!vf.ok()) return vf.error();

  const std::string tmp_leaf = "." + leaf.substr(0, 64) + ".mamori-restore-" + e.vault_name.substr(0, 8);
  e.state = State::restoring;
  e.restore_target = target;
  e.restore_tmp = dirname_of(target) + (dirname_of(target) == "/" ? "" : "/") + tmp_leaf;
  MAMORI_TRY(v.db.update(e));
  crash_point("restore-journal");

  auto back = [&](Error err, bool remove_tmp) -> Error {
    if (remove_tmp) ::unlinkat(pdir, tmp_leaf.c_str(), 0);
    e.state = State::quarantined;
    e.restore_tmp.clear();
    e.restore_target.clear();
    const Status s = v.db.update(e);
    if (!s.ok()) err.message += " (and the journal update failed: " + s.error().message + ")";
    return err;
  };
  Fd out(::openat(pdir, tmp_leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out) return back(make_error(ErrorCode::io, "cannot create " + e.restore_tmp + ": " + errno_text(errno)), false);
  bool first = true;
  auto r = detail::unseal(vf->get(), out.get(), v.key, [&](std::uint64_t) {
    if (first) crash_point("restore-partial");
    first = false;
  });
  if (!r.ok())
    return back(make_error(r.error().code, "vault file for entry " + std::to_string(id) + ": " + r.error().message), true);
  // The restored bytes are checked before they are given the original's name.
  if (r->sha256 != e.sha256 || r->size != e.size)
    return back(make_error(ErrorCode::truncated, "vault file for entry " + std::to_string(id) +
                                                     " does not match its recorded sha256 (damaged vault file or "
                                                     "key); nothing restored"),
                true);
  RestoreOutcome res;
  res.path = target;
  if (::fchown(out.get(), e.uid, e.gid) != 0) {
    if (::geteuid() == 0)
      return back(make_error(ErrorCode::io, "cannot restore the owner of " + target + ": " + errno_text(errno)), true);
    if (e.uid != ::geteuid() || e.gid != ::getegid())
      res.warnings.push_back("owner " + std::to_string(e.uid) + ":" + std::to_string(e.gid) +
                             " not restored (needs root); the file belongs to uid " + std::to_string(::geteuid()));
  }
  // After chown, which clears set-id bits.
  if (::fchmod(out.get(), e.mode & 07777) != 0)
    return back(make_error(ErrorCode::io, "cannot restore the mode of " + target + ": " + errno_text(errno)), true);
  const struct timespec times[2] = {{e.atime.sec, e.atime.nsec}, {e.mtime.sec, e.mtime.nsec}};
  if (::futimens(out.get(), times) != 0)
    return back(make_error(ErrorCode::io, "cannot restore the times of " + target + ": " + errno_text(errno)), true);
  if (Status s = fsync_fd(out.get(), target); !s.ok()) return back(s.error(), true);
  out.reset();
  crash_point("restore-fsync");
  int rc;
  if (opt.force) {
    rc = ::renameat(pdir, tmp_leaf.c_str(), pdir, leaf.c_str());
  } else {
    rc = ::renameat2(pdir, tmp_leaf.c_str(), pdir, leaf.c_str(), RENAME_NOREPLACE);
    if (rc != 0 && errno == EINVAL) {  // a file system without RENAME_NOREPLACE: link() refuses to replace too
      rc = ::linkat(pdir, tmp_leaf.c_str(), pdir, leaf.c_str(), 0);
      if (rc == 0) ::unlinkat(pdir, tmp_leaf.c_str(), 0);
    }
  }
  if (rc != 0) {
    const int err = errno;
    if (err == EEXIST)
      return back(make_error(ErrorCode::invalid_argument, "refused: " + target + " appeared during the restore (use --force)"),
                  true);
    return back(make_error(ErrorCode::io, "cannot place " + target + ": " + errno_text(err)), true);
  }
  MAMORI_TRY(fsync_fd(pdir, dirname_of(target)));
  crash_point("restore-placed");
  ::unlinkat(v.filesfd.get(), e.vault_name.c_str(), 0);
  MAMORI_TRY(fsync_fd(v.filesfd.get(), v.dir + "/files"));
  e.state = State::restored;
  e.finished_at = std::time(nullptr);
  e.finished_by = current_user();
  e.restored_to = target;
  e.restore_tmp.clear();
  e.restore_target.clear();
  MAMORI_TRY(v.db.update(e));
  return res;
}

Status Vault::remove(std::int64_t id) {
  Impl& v = *impl_;
  OpLock lk(v);
  auto got = live_entry(v, id);
  if (!got.ok()) return got.error();
  Entry e = std::move(got).value();
  e.state = State::deleting;
  MAMORI_TRY(v.db.update(e));
  crash_point("delete-journal");
  if (::unlinkat(v.filesfd.get(), e.vault_name.c_str(), 0) != 0 && errno != ENOENT)
    return make_error(ErrorCode::io, "cannot remove vault file: " + errno_text(errno));
  MAMORI_TRY(fsync_fd(v.filesfd.get(), v.dir + "/files"));
  crash_point("delete-unlink");
  e.state = State::deleted;
  e.finished_at = std::time(nullptr);
  e.finished_by = current_user();
  return v.db.update(e);
}

}  // namespace mamori::quarantine
