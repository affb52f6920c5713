#include "common/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace mamori {

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
  if (mapped_ && data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), static_cast<std::size_t>(size_));
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

namespace {
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

Result<MappedFile> MappedFile::open(const std::string& path, std::uint64_t max_read) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
  if (f.fd < 0) return make_error(ErrorCode::io, path + ": " + std::strerror(errno));
  struct stat st{};
  if (::fstat(f.fd, &st) != 0) return make_error(ErrorCode::io, path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return make_error(ErrorCode::io, path + ": is a directory");

  MappedFile m;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, f.fd, 0);
    if (p != MAP_FAILED) {
      // Sequential hint: the byte pass reads each page once, so readahead is all that matters.
      ::madvise(p, static_cast<std::size_t>(st.st_size), MADV_SEQUENTIAL);
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
    ssize_t n = ::read(f.fd, chunk, sizeof chunk);
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
