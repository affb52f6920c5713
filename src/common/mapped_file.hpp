// Owning input buffer: a read-only mmap of a regular file, or an in-memory copy (stdin, clamd INSTREAM, members
// of containers). Every ByteView and string_view a parser returns borrows from this object and dies with it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace mamori {

class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  /// Maps `path` read-only. Files that cannot be mapped (pipes, procfs) are read into memory up to `max_read` bytes.
  static Result<MappedFile> open(const std::string& path, std::uint64_t max_read = 1ull << 32);
  /// Maps (or reads) an already open descriptor, which stays the caller's: the daemon scans descriptors it was
  /// handed (FILDES, fanotify events, spooled INSTREAM data) without opening the file again. `name` is for errors.
  static Result<MappedFile> from_fd(int fd, const std::string& name, std::uint64_t max_read = 1ull << 32);
  static MappedFile from_vector(std::vector<std::uint8_t> v);

  ByteView view() const noexcept { return ByteView(data_, size_); }
  std::uint64_t size() const noexcept { return size_; }

 private:
  void release() noexcept;
  const std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
  bool mapped_ = false;
  std::vector<std::uint8_t> owned_;
};

/// Tells the kernel that a pass over [p, p+n) is done with those pages. When the range lies in a file mapping made
/// by MappedFile, whole pages inside it are dropped from this process's resident set (they are re-read from the
/// page cache if touched again); for any other memory, and for mappings of 32 MB or less (which stay resident until
/// unmapped, so later passes do not fault them in again), this does nothing. Long sequential passes call it every
/// few MB so that scanning a 500 MB file does not make the scanner 500 MB large.
void release_pages(const void* p, std::uint64_t n) noexcept;

/// Runs `fn(chunk)` over `b` in chunks of `chunk_size` bytes, releasing each chunk's pages after it.
template <class F>
void for_each_chunk(ByteView b, std::uint64_t chunk_size, F&& fn) {
  for (std::uint64_t off = 0; off < b.size(); off += chunk_size) {
    const ByteView c = b.clamp(off, chunk_size);
    fn(c);
    release_pages(c.data(), c.size());
  }
}

}  // namespace mamori
