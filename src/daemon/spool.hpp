// Where one INSTREAM's data waits for its scan: in memory up to a threshold, then in an unlinked temporary file
// (O_TMPFILE in TemporaryDirectory), which is mapped for the scan. Without it, MaxQueue clients each streaming up
// to StreamMaxLength would hold MaxQueue x StreamMaxLength bytes of RAM; with it, at most MaxQueue x threshold.
// The file has no name, so nothing is left behind when the daemon dies.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/mapped_file.hpp"
#include "common/result.hpp"

namespace mamori::daemon {

class StreamSpool {
 public:
  StreamSpool() = default;
  /// Data past `keep` bytes in total is counted, not stored: a stream over MaxFileSize is reported from its size
  /// alone, so storing it would only fill the disk.
  StreamSpool(std::uint64_t threshold, std::string dir, std::uint64_t keep = UINT64_MAX)
      : threshold_(threshold), keep_(keep), dir_(std::move(dir)) {}
  ~StreamSpool();
  StreamSpool(StreamSpool&& o) noexcept;
  StreamSpool& operator=(StreamSpool&& o) noexcept;
  StreamSpool(const StreamSpool&) = delete;
  StreamSpool& operator=(const StreamSpool&) = delete;

  /// Adds bytes; moves everything to a temporary file the first time the total passes the threshold. An error
  /// (no temporary directory, disk full) leaves the spool unusable.
  Status append(const std::uint8_t* p, std::size_t n);
  std::uint64_t size() const noexcept { return size_; }
  /// Whether the data lives in a temporary file.
  bool spooled() const noexcept { return fd_ >= 0; }
  /// The data as one buffer: the memory itself, or a read-only map of the file. Empties the spool. An error when
  /// more than `keep` bytes came (only their count was kept).
  Result<MappedFile> take();

 private:
  Status write_all(const std::uint8_t* p, std::size_t n);
  void reset() noexcept;

  std::uint64_t threshold_ = 8ull << 20;
  std::uint64_t keep_ = UINT64_MAX;
  bool discarding_ = false;
  std::string dir_ = "/tmp";
  std::vector<std::uint8_t> mem_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace mamori::daemon
