#include "common/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <utility>

#include "common/unique_fd.hpp"

namespace mamori {

namespace {

// Mappings up to this size stay resident for their lifetime (see release_pages).
constexpr std::uint64_t kKeepResident = 32u << 20;

// A file truncated while it is mapped makes every read past the new end raise SIGBUS, which would kill the scanner
// (and a daemon serving everyone else). Live mappings are registered here; the SIGBUS handler maps a page of zeros
// over the faulting address when it lies inside one of them, so the scan finishes on zeros instead of crashing.
// Faults anywhere else are real bugs and get the default action.
struct MappingRegistry {
  static constexpr std::size_t kSlots = 1024;
  std::array<std::atomic<std::uintptr_t>, kSlots> start{};
  std::array<std::atomic<std::uintptr_t>, kSlots> end{};
};
MappingRegistry g_maps;
std::once_flag g_handler_once;
struct sigaction g_previous {};

void on_sigbus(int sig, siginfo_t* info, void* ctx) {
  const auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  for (std::size_t i = 0; i < MappingRegistry::kSlots; ++i) {
    const auto s = g_maps.start[i].load(std::memory_order_acquire);
    if (s != 0 && addr >= s && addr < g_maps.end[i].load(std::memory_order_acquire)) {
      const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
      void* at = reinterpret_cast<void*>(addr & ~(page - 1));
      if (::mmap(at, page, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0) != MAP_FAILED) return;
      break;
    }
  }
  // Not ours: behave as if we had never installed a handler.
  if (g_previous.sa_flags & SA_SIGINFO) {
    if (g_previous.sa_sigaction) return g_previous.sa_sigaction(sig, info, ctx);
  } else if (g_previous.sa_handler != SIG_IGN && g_previous.sa_handler != SIG_DFL && g_previous.sa_handler) {
    return g_previous.sa_handler(sig);
  }
  ::signal(SIGBUS, SIG_DFL);
  ::raise(SIGBUS);
}

void install_sigbus_handler() {
  std::call_once(g_handler_once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, &g_previous);
  });
}

void register_mapping(const void* p, std::uint64_t n) {
  install_sigbus_handler();
  const auto s = reinterpret_cast<std::uintptr_t>(p);
  for (std::size_t i = 0; i < MappingRegistry::kSlots; ++i) {
    std::uintptr_t expected = 0;
    if (g_maps.start[i].compare_exchange_strong(expected, s, std::memory_order_acq_rel)) {
      // Claim first, then publish the end: a fault in between finds end 0 and is not ours, which is safe because
      // nothing reads the mapping before open() returns.
      g_maps.end[i].store(s + n, std::memory_order_release);
      return;
    }
  }
  // More than kSlots concurrent mappings: this one goes unprotected, as every mapping did before.
}

void unregister_mapping(const void* p) {
  const auto s = reinterpret_cast<std::uintptr_t>(p);
  for (std::size_t i = 0; i < MappingRegistry::kSlots; ++i) {
    std::uintptr_t expected = s;
    if (g_maps.start[i].compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) {
      g_maps.end[i].store(0, std::memory_order_release);
      return;
    }
  }
}

}  // namespace

void release_pages(const void* p, std::uint64_t n) noexcept {
  const auto s = reinterpret_cast<std::uintptr_t>(p);
  for (std::size_t i = 0; i < MappingRegistry::kSlots; ++i) {
    const auto ms = g_maps.start[i].load(std::memory_order_acquire);
    const auto me = g_maps.end[i].load(std::memory_order_acquire);
    if (ms == 0 || s < ms || s + n > me) continue;
    // A small mapping stays resident until it is unmapped: dropping its pages saves little memory and makes the
    // next pass over the same bytes (hash, byte scan, section entropy) fault every page in again.
    if (me - ms <= kKeepResident) return;
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const std::uintptr_t first = (s + page - 1) & ~(page - 1);
    const std::uintptr_t last = (s + n) & ~(page - 1);
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
    return;
  }
}

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& o) noexcept { *this = std::move(o); }

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    release();
    owned_ = std::move(o.owned_);
    mapped_ = o.mapped_;
    size_ = o.size_;
    data_ = mapped_ ? o.data_ : owned_.data();
    o.data_ = nullptr;
    o.size_ = 0;
    o.mapped_ = false;
  }
  return *this;
}

void MappedFile::release() noexcept {
  if (mapped_ && data_ != nullptr) {
    unregister_mapping(data_);
    ::munmap(const_cast<std::uint8_t*>(data_), static_cast<std::size_t>(size_));
  }
  data_ = nullptr;
  size_ = 0;
  mapped_ = false;
  owned_.clear();
}

MappedFile MappedFile::from_vector(std::vector<std::uint8_t> v) {
  MappedFile m;
  m.owned_ = std::move(v);
  m.data_ = m.owned_.data();
  m.size_ = m.owned_.size();
  return m;
}

Result<MappedFile> MappedFile::open(const std::string& path, std::uint64_t max_read) {
  const UniqueFd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!f) return make_error(ErrorCode::io, path + ": " + std::strerror(errno));
  return from_fd(f.get(), path, max_read);
}

Result<MappedFile> MappedFile::from_fd(int fd, const std::string& path, std::uint64_t max_read) {
  struct stat st{};
  if (::fstat(fd, &st) != 0) return make_error(ErrorCode::io, path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return make_error(ErrorCode::io, path + ": is a directory");

  MappedFile m;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    // Every byte is read at least once (the hash), so a file that stays resident anyway (see release_pages) is
    // mapped in one go: one call instead of a page fault per few pages.
    const int populate = static_cast<std::uint64_t>(st.st_size) <= kKeepResident ? MAP_POPULATE : 0;
    void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE | populate, fd, 0);
    if (p != MAP_FAILED) {
      // Sequential hint: the byte pass reads each page once, so readahead is all that matters.
      ::madvise(p, static_cast<std::size_t>(st.st_size), MADV_SEQUENTIAL);
      register_mapping(p, static_cast<std::uint64_t>(st.st_size));
      m.data_ = static_cast<const std::uint8_t*>(p);
      m.size_ = static_cast<std::uint64_t>(st.st_size);
      m.mapped_ = true;
      return m;
    }
  }
  // Not mappable (empty, pipe, special file): read it.
  std::vector<std::uint8_t> buf;
  std::uint8_t chunk[65536];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::io, path + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    if (buf.size() + static_cast<std::size_t>(n) > max_read)
      return make_error(ErrorCode::limit_exceeded, path + ": larger than the read limit");
    buf.insert(buf.end(), chunk, chunk + n);
  }
  return from_vector(std::move(buf));
}

}  // namespace mamori
