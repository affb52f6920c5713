#include "daemon/spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace mamori::daemon {

StreamSpool::~StreamSpool() { reset(); }

StreamSpool::StreamSpool(StreamSpool&& o) noexcept { *this = std::move(o); }

StreamSpool& StreamSpool::operator=(StreamSpool&& o) noexcept {
  if (this != &o) {
    reset();
    threshold_ = o.threshold_;
    keep_ = o.keep_;
    discarding_ = o.discarding_;
    dir_ = std::move(o.dir_);
    mem_ = std::move(o.mem_);
    fd_ = o.fd_;
    size_ = o.size_;
    o.mem_.clear();
    o.fd_ = -1;
    o.size_ = 0;
  }
  return *this;
}

void StreamSpool::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::vector<std::uint8_t>().swap(mem_);
  size_ = 0;
}

Status StreamSpool::write_all(const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return make_error(ErrorCode::io, "cannot write the temporary file in " + dir_ + ": " + std::strerror(errno));
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return {};
}

Status StreamSpool::append(const std::uint8_t* p, std::size_t n) {
  if (n == 0) return {};
  if (discarding_ || size_ + n > keep_) {
    const std::uint64_t total = size_ + n;
    reset();
    discarding_ = true;
    size_ = total;
    return {};
  }
  if (fd_ < 0 && size_ + n <= threshold_) {
    mem_.insert(mem_.end(), p, p + n);
    size_ += n;
    return {};
  }
  if (fd_ < 0) {
    fd_ = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
      // A file system without O_TMPFILE: a named file, unlinked at once.
      std::string tmpl = dir_ + "/mamorid-stream-XXXXXX";
      fd_ = ::mkostemp(tmpl.data(), O_CLOEXEC);
      if (fd_ >= 0) ::unlink(tmpl.c_str());
    }
    if (fd_ < 0)
      return make_error(ErrorCode::io, "cannot create a temporary file in " + dir_ + " (TemporaryDirectory): " + std::strerror(errno));
    if (auto st = write_all(mem_.data(), mem_.size()); !st.ok()) return st;
    std::vector<std::uint8_t>().swap(mem_);
  }
  MAMORI_TRY(write_all(p, n));
  size_ += n;
  return {};
}

Result<MappedFile> StreamSpool::take() {
  if (discarding_) return make_error(ErrorCode::limit_exceeded, "stream larger than the kept size, data discarded");
  if (fd_ < 0) {
    auto m = MappedFile::from_vector(std::move(mem_));
    reset();
    return m;
  }
  auto m = MappedFile::from_fd(fd_, "stream", size_ + 1);
  reset();  // the mapping keeps the file alive; closing the descriptor frees it once unmapped
  return m;
}

}  // namespace mamori::daemon
