// On-access protection inside mamorid: fanotify permission events on the configured folders, answered from the
// scanner's verdict (see docs/onaccess.md).
//
// Threads and who does what:
//  - The event thread reads fanotify events and is the only thread that writes responses or closes event
//    descriptors. It never opens a file: it answers events from mamorid itself at once (a SCAN of a protected
//    file, the log file, the models), answers from the clean-verdict cache, and otherwise hands a dup() of the
//    descriptor fanotify opened to a worker. An event still unanswered after OnAccessTimeout ms is allowed
//    (fail-open) and logged, so a slow scan never wedges the process that opened the file.
//  - OnAccessMaxThreads workers map the descriptor (no second open), scan it with the shared engine and post the
//    result back; a result that arrives after its events were allowed is still logged and cached.
//
// Bounds: kMaxPendingEvents unanswered events and kMaxQueuedScans queued scans (beyond them an event is allowed
// unscanned, with a warning); kMaxMarkedDirs folders marked per start; kCacheEntries cached clean verdicts.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
#include "daemon/config.hpp"
#include "daemon/log.hpp"
#include "daemon/server.hpp"

namespace mamori::daemon {

/// Clean verdicts by file identity. A hit needs the same (device, inode) and the same (mtime, ctime, size) as at
/// scan time, so a file changed behind a missed event is rescanned; FAN_CLOSE_WRITE also drops the entry. Only the
/// event thread uses it (no locking). Least recently used entries go first beyond `capacity`.
class VerdictCache {
 public:
  struct Key {
    std::uint64_t dev = 0, ino = 0;
    bool operator==(const Key&) const = default;
  };
  struct Stamp {
    std::int64_t mtime_ns = 0, ctime_ns = 0;
    std::uint64_t size = 0;
    bool operator==(const Stamp&) const = default;
  };
  explicit VerdictCache(std::size_t capacity) : capacity_(capacity) {}

  bool is_clean(const Key& k, const Stamp& s);
  void put_clean(const Key& k, const Stamp& s);
  void invalidate(const Key& k);
  void clear();
  std::size_t size() const noexcept { return map_.size(); }

 private:
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept { return std::hash<std::uint64_t>()(k.ino * 0x9E3779B97F4A7C15ull ^ k.dev); }
  };
  struct Entry {
    Key key;
    Stamp stamp;
  };
  std::size_t capacity_;
  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> map_;
};

/// True when `path` is `prefix` or lies below it (whole components: /data/x is not below /data/xy).
bool path_under(const std::string& path, const std::string& prefix);

/// What to mark: include paths that are mount points get one mount mark; other included folders and every folder
/// below them (not crossing symlinks, skipping excluded ones) get a directory mark with FAN_EVENT_ON_CHILD, which
/// covers the files directly inside. `truncated` when `max_dirs` stopped the walk. Without `mount_marks` mount
/// points are walked like any folder (see own_mount_namespace).
struct MarkPlan {
  std::vector<std::string> mounts;
  std::vector<std::string> dirs;
  std::vector<std::string> errors;  // include paths that do not exist or are not folders
  bool truncated = false;
};
MarkPlan plan_marks(const std::vector<std::string>& include, const std::vector<std::string>& exclude,
                    std::size_t max_dirs, bool mount_marks = true);

/// True when this process has a mount namespace of its own, not its parent's (or PID 1's) (systemd's ProtectSystem=, ProtectHome=,
/// PrivateTmp=, ReadWritePaths= create one; so does `unshare -m`). Mount marks made there are on copies of the
/// mounts and miss every open made through the originals; directory marks are on inodes and see them all.
/// False when it cannot be told (no /proc, neither namespace readable).
bool own_mount_namespace();

class OnAccess {
 public:
  using EngineGetter = std::function<EnginePtr()>;
  /// Moves a detected file into the quarantine (Server::quarantine_found); called from a scanning worker after the
  /// verdict was posted, so the open it answers is not held by the move.
  using Quarantiner = std::function<void(const std::string& path, const engine::ScanResult& r, Server::Identity scanned)>;

  static constexpr std::size_t kMaxPendingEvents = 4096;
  static constexpr std::size_t kMaxQueuedScans = 1024;
  static constexpr std::size_t kMaxMarkedDirs = 65536;
  static constexpr std::size_t kCacheEntries = 65536;

  /// `counters` (may be null) receives the STATS tallies; `quarantine` (may be empty) is called for detections
  /// when OnAccessPrevention is on (a logging-only setup moves nothing).
  OnAccess(Config cfg, Log& log, EngineGetter engine, Counters* counters = nullptr, Quarantiner quarantine = {});
  ~OnAccess();
  OnAccess(const OnAccess&) = delete;
  OnAccess& operator=(const OnAccess&) = delete;

  /// fanotify_init, the marks, the threads. Fails (with the reason) when fanotify is unavailable or no path can
  /// be marked; mamorid then refuses to start rather than run unprotected while configured to protect.
  Status start();
  /// Stops the threads; events still pending are allowed (closing the group allows them too).
  void stop();

 private:
  struct Scan;
  struct Job {
    std::uint64_t id = 0;
    int fd = -1;  // a dup of the event's descriptor, owned by the job
    std::string path;
  };
  struct Done {
    std::uint64_t id = 0;
    bool found = false;
    bool error = false;
    bool cacheable = false;  // clean, and the file did not change while it was scanned
    std::string signature;   // or the error text
    double ms = 0;
  };

  void event_loop();
  void worker_loop();
  bool mark_dir(const std::string& dir);
  void read_new_dirs();
  void handle_event(int fd, std::uint64_t mask, pid_t pid);
  void handle_done(const Done& d);
  void expire(std::int64_t now_ms);
  void respond(int fd, bool allow);
  void allow_open(int fd, bool perm);  // answers ALLOW when it is a permission event, then closes fd
  void wake();
  std::int64_t next_deadline() const;

  Config cfg_;
  Log& log_;
  EngineGetter engine_;
  Counters own_counters_;  // when the caller passes none
  Counters& n_;
  Quarantiner quarantine_;
  bool test_delay_ = false;
  pid_t self_ = 0;
  int fan_ = -1;
  int ino_ = -1;                 // inotify: folders created under marked folders get marked too
  std::uint64_t dir_mask_ = 0;   // what directory marks ask for
  std::size_t marked_dirs_ = 0;
  std::unordered_map<int, std::string> watch_dirs_;  // inotify watch -> folder
  int wake_r_ = -1, wake_w_ = -1;
  bool prevention_ = false;

  std::atomic<bool> stop_{false};
  std::thread events_;
  std::vector<std::thread> workers_;

  // Event thread only.
  VerdictCache cache_{kCacheEntries};
  const Engine* cache_engine_ = nullptr;  // the engine the cached verdicts came from
  std::map<std::uint64_t, std::unique_ptr<Scan>> scans_;  // by id, running or queued
  std::size_t pending_events_ = 0;
  std::uint64_t next_id_ = 1;

  std::mutex m_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;   // to workers
  std::deque<Done> done_;  // from workers
};

}  // namespace mamori::daemon
