// libFuzzer target for what the quarantine reads back from disk: vault files and the SQLite database.
//
// The first input byte picks the target: even bytes make the rest a vault file (header + AES-CTR data) that is
// unsealed with a fixed key; odd bytes make it the vault's quarantine.db, which is then opened, listed, read and
// verified entry by entry. Both must end in a value (an error or a result), never a crash, a hang or a sanitizer
// report. The vault lives in /dev/shm so fsync costs nothing.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "quarantine/internal.hpp"
#include "quarantine/quarantine.hpp"

namespace {

namespace q = mamori::quarantine;

void check(bool ok) {
  if (!ok) std::abort();
}

const std::string& vault_dir() {
  static const std::string dir = [] {
    std::string d = "/dev/shm/mamori-fuzz-quarantine-" + std::to_string(::getpid());
    std::filesystem::remove_all(d);
    ::mkdir(d.c_str(), 0700);
    ::mkdir((d + "/files").c_str(), 0700);
    const int fd = ::open((d + "/vault.key").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const std::string key(q::detail::kKeySize, 'k');
    check(::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()));
    ::close(fd);
    return d;
  }();
  return dir;
}

void write_file(const std::string& path, const std::uint8_t* data, std::size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0);
  check(::write(fd, data, size) == static_cast<ssize_t>(size));
  ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool database = (data[0] & 1) != 0;
  ++data;
  --size;
  if (!database) {
    const int fd = ::memfd_create("vault-file", MFD_CLOEXEC);
    check(fd >= 0);
    check(::write(fd, data, size) == static_cast<ssize_t>(size));
    ::lseek(fd, 0, SEEK_SET);
    q::detail::Key key{};
    key.fill(0x6b);
    auto r = q::detail::unseal(fd, -1, key);
    ::close(fd);
    if (r.ok()) check(r->size + q::detail::kHeaderSize == size && r->sha256.size() == 64);
    else check(!r.error().message.empty());
    return 0;
  }
  const std::string& dir = vault_dir();
  // A stale journal from the previous input would be replayed onto this one; each input stands alone.
  ::unlink((dir + "/quarantine.db-journal").c_str());
  write_file(dir + "/quarantine.db", data, size);
  auto v = q::Vault::open(dir);
  if (!v.ok()) {
    check(!v.error().message.empty());
    return 0;
  }
  auto l = (*v)->list(true);
  if (!l.ok()) return 0;
  for (const auto& e : *l) {
    check(e.vault_name.size() == 32);
    (*v)->get(e.id).ignore();
    (*v)->verify(e.id).ignore();
  }
  return 0;
}
