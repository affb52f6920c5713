// Safe path walking, the crash hook and the vault file format (seal/unseal).
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "quarantine/internal.hpp"

namespace mamori::quarantine::detail {

std::string errno_text(int e) {
  char buf[256];
  // GNU strerror_r returns the message (maybe not in buf).
  return ::strerror_r(e, buf, sizeof buf);
}

namespace {
// A path deeper than this is refused rather than walked (PATH_MAX allows about 2048 one-letter components).
constexpr std::size_t kMaxComponents = 4096;
}  // namespace

Result<Parent> open_parent(const std::string& abs_path) {
  if (abs_path.empty() || abs_path[0] != '/')
    return make_error(ErrorCode::invalid_argument, "'" + abs_path + "' is not an absolute path");
  if (abs_path.find('\0') != std::string::npos) return make_error(ErrorCode::invalid_argument, "path holds a NUL byte");
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i < abs_path.size()) {
    while (i < abs_path.size() && abs_path[i] == '/') ++i;
    std::size_t j = i;
    while (j < abs_path.size() && abs_path[j] != '/') ++j;
    if (j > i) {
      std::string c = abs_path.substr(i, j - i);
      if (c == "..")
        return make_error(ErrorCode::invalid_argument, "refused: '" + abs_path + "' contains '..' (path traversal)");
      if (c != ".") parts.push_back(std::move(c));
      if (parts.size() > kMaxComponents) return make_error(ErrorCode::invalid_argument, "path too deep");
    }
    i = j;
  }
  if (parts.empty()) return make_error(ErrorCode::invalid_argument, "'" + abs_path + "' names no file");
  Fd dir(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return make_error(ErrorCode::io, "cannot open /: " + errno_text(errno));
  std::string walked;
  for (std::size_t k = 0; k + 1 < parts.size(); ++k) {
    walked += "/" + parts[k];
    const int fd = ::openat(dir.get(), parts[k].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      const int e = errno;
      if (e == ELOOP || e == ENOTDIR) {
        struct stat st{};
        if (::fstatat(dir.get(), parts[k].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
          return make_error(ErrorCode::invalid_argument, "refused: parent folder " + walked + " is a symlink");
        return make_error(ErrorCode::invalid_argument, "refused: " + walked + " is not a folder");
      }
      return make_error(ErrorCode::io, "cannot open folder " + walked + ": " + errno_text(e));
    }
    dir.reset(fd);
  }
  return Parent{std::move(dir), parts.back()};
}

void crash_point(const char* step) {
  static const char* const want = std::getenv("MAMORI_QUARANTINE_CRASH_AT");
  if (want != nullptr && std::strcmp(want, step) == 0) ::kill(::getpid(), SIGKILL);
}

namespace {

struct CipherCtx {
  EVP_CIPHER_CTX* p = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(p); }
};
struct DigestCtx {
  EVP_MD_CTX* p = EVP_MD_CTX_new();
  ~DigestCtx() { EVP_MD_CTX_free(p); }
};

std::string hex(const unsigned char* d, unsigned n) {
  static constexpr char h[] = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) {
    s.push_back(h[d[i] >> 4]);
    s.push_back(h[d[i] & 15]);
  }
  return s;
}

Status write_all(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::io, "write: " + errno_text(errno));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return {};
}

// Reads up to n bytes (fewer only at end of file).
Result<std::size_t> read_full(int fd, std::uint8_t* p, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, p + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::io, "read: " + errno_text(errno));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

}  // namespace

namespace {

// The vault file writer behind seal() and seal_bytes(): `read(buf, want)` fills up to `want` bytes and returns how
// many (0 at the end). One byte past the expected size is asked for, so a source that grew is noticed.
Result<CopyResult> seal_from(const std::function<Result<std::size_t>(std::uint8_t*, std::size_t)>& read, int out,
                             const Key& key, std::uint64_t expected_size,
                             const std::function<void(std::uint64_t)>& after_chunk) {
  std::array<std::uint8_t, kHeaderSize> header{};
  std::memcpy(header.data(), kVaultMagic, sizeof kVaultMagic);
  std::uint8_t* iv = header.data() + sizeof kVaultMagic;
  if (RAND_bytes(iv, static_cast<int>(kIvSize)) != 1) return make_error(ErrorCode::internal, "RAND_bytes failed");
  for (int b = 0; b < 8; ++b) header[sizeof kVaultMagic + kIvSize + static_cast<std::size_t>(b)] =
      static_cast<std::uint8_t>(expected_size >> (8 * b));
  CipherCtx c;
  DigestCtx d;
  if (!c.p || !d.p || EVP_EncryptInit_ex(c.p, EVP_aes_256_ctr(), nullptr, key.data(), iv) != 1 ||
      EVP_DigestInit_ex(d.p, EVP_sha256(), nullptr) != 1)
    return make_error(ErrorCode::internal, "OpenSSL initialisation failed");
  MAMORI_TRY(write_all(out, header.data(), header.size()));
  std::vector<std::uint8_t> plain(kChunk), enc(kChunk + 32);
  CopyResult res;
  while (res.size <= expected_size) {
    const std::uint64_t left = expected_size + 1 - res.size;
    const std::size_t want = left < kChunk ? static_cast<std::size_t>(left) : kChunk;
    auto got = read(plain.data(), want);
    if (!got.ok()) return got.error();
    if (*got == 0) break;
    int outl = 0;
    EVP_DigestUpdate(d.p, plain.data(), *got);
    if (EVP_EncryptUpdate(c.p, enc.data(), &outl, plain.data(), static_cast<int>(*got)) != 1)
      return make_error(ErrorCode::internal, "encryption failed");
    MAMORI_TRY(write_all(out, enc.data(), static_cast<std::size_t>(outl)));
    res.size += *got;
    if (after_chunk) after_chunk(res.size);
    if (*got < want) break;
  }
  if (res.size != expected_size)
    return make_error(ErrorCode::invalid_argument, "refused: the file changed size while it was copied (" +
                                                       std::to_string(expected_size) + " bytes before, " +
                                                       (res.size > expected_size ? "more" : std::to_string(res.size)) +
                                                       " after)");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(d.p, md, &len);
  res.sha256 = hex(md, len);
  return res;
}

}  // namespace

Result<CopyResult> seal(int in, int out, const Key& key, std::uint64_t expected_size,
                        const std::function<void(std::uint64_t)>& after_chunk) {
  return seal_from([in](std::uint8_t* p, std::size_t n) { return read_full(in, p, n); }, out, key, expected_size,
                   after_chunk);
}

Result<CopyResult> seal_bytes(const std::uint8_t* data, std::size_t size, int out, const Key& key,
                              const std::function<void(std::uint64_t)>& after_chunk) {
  std::size_t off = 0;
  return seal_from(
      [&](std::uint8_t* p, std::size_t n) -> Result<std::size_t> {
        const std::size_t take = std::min(n, size - off);
        if (take > 0) std::memcpy(p, data + off, take);
        off += take;
        return take;
      },
      out, key, size, after_chunk);
}

Result<CopyResult> unseal(int in, int out, const Key& key, const std::function<void(std::uint64_t)>& after_chunk) {
  struct stat st{};
  if (::fstat(in, &st) != 0) return make_error(ErrorCode::io, "stat: " + errno_text(errno));
  std::array<std::uint8_t, kHeaderSize> header{};
  auto got = read_full(in, header.data(), header.size());
  if (!got.ok()) return got.error();
  if (*got < header.size() || std::memcmp(header.data(), kVaultMagic, sizeof kVaultMagic) != 0)
    return make_error(ErrorCode::not_this_format, "not a mamori vault file (bad or missing header)");
  std::uint64_t size = 0;
  for (int b = 7; b >= 0; --b) size = (size << 8) | header[sizeof kVaultMagic + kIvSize + static_cast<std::size_t>(b)];
  const auto on_disk = static_cast<std::uint64_t>(st.st_size);
  if (on_disk < kHeaderSize || on_disk - kHeaderSize != size)
    return make_error(ErrorCode::truncated, "vault file is " + std::to_string(on_disk) + " bytes but its header says " +
                                                std::to_string(size) + " bytes of content follow " +
                                                std::to_string(kHeaderSize) + " header bytes (truncated or damaged)");
  CipherCtx c;
  DigestCtx d;
  if (!c.p || !d.p ||
      EVP_DecryptInit_ex(c.p, EVP_aes_256_ctr(), nullptr, key.data(), header.data() + sizeof kVaultMagic) != 1 ||
      EVP_DigestInit_ex(d.p, EVP_sha256(), nullptr) != 1)
    return make_error(ErrorCode::internal, "OpenSSL initialisation failed");
  std::vector<std::uint8_t> enc(kChunk), plain(kChunk + 32);
  CopyResult res;
  while (res.size < size) {
    const std::uint64_t left = size - res.size;
    const std::size_t want = left < kChunk ? static_cast<std::size_t>(left) : kChunk;
    auto n = read_full(in, enc.data(), want);
    if (!n.ok()) return n.error();
    if (*n < want) return make_error(ErrorCode::truncated, "vault file ended early (shrunk while read)");
    int outl = 0;
    if (EVP_DecryptUpdate(c.p, plain.data(), &outl, enc.data(), static_cast<int>(*n)) != 1)
      return make_error(ErrorCode::internal, "decryption failed");
    EVP_DigestUpdate(d.p, plain.data(), static_cast<std::size_t>(outl));
    if (out >= 0) MAMORI_TRY(write_all(out, plain.data(), static_cast<std::size_t>(outl)));
    res.size += *n;
    if (after_chunk) after_chunk(res.size);
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(d.p, md, &len);
  res.sha256 = hex(md, len);
  return res;
}

}  // namespace mamori::quarantine::detail
