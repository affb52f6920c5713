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

/// For a pass that reads forward through a buffer but not in fixed chunks (a lexer, a tokenizer): call
/// `behind(i)` as the cursor `i` moves on, and the pages more than `kMargin` bytes behind it are released in steps
/// of `kStep` (see release_pages; nothing happens for memory that is not a large file mapping). Reading behind the
/// cursor later is still correct: released pages come back from the page cache.
class ForwardRelease {
 public:
  static constexpr std::uint64_t kStep = 8u << 20, kMargin = 1u << 20;
  explicit ForwardRelease(const std::uint8_t* base) noexcept : base_(base) {}
  void behind(std::uint64_t i) noexcept {
    if (i < done_ + kStep + kMargin) return;
    const std::uint64_t upto = (i - kMargin) & ~(kStep - 1);
    release_pages(base_ + done_, upto - done_);
    done_ = upto;
  }

 private:
  const std::uint8_t* base_;
  std::uint64_t done_ = 0;
};

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
