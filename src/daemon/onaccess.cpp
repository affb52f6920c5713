#include "daemon/onaccess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include "common/mapped_file.hpp"

namespace mamori::daemon {

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string errno_text(int e) { return std::strerror(e); }

VerdictCache::Key key_of(const struct stat& st) {
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

VerdictCache::Stamp stamp_of(const struct stat& st) {
  return {static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
          static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec,
          static_cast<std::uint64_t>(st.st_size)};
}

// The path an event's descriptor refers to, for exclusions and log lines. readlink on /proc/self/fd does not
// open the file, so it cannot raise another event.
std::string fd_path(int fd) {
  char buf[4096];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  if (n <= 0) return "fd:" + std::to_string(fd);
  return std::string(buf, static_cast<std::size_t>(n));
}

bool is_mount_point(const std::string& path) {
  struct stat self {}, parent {};
  if (::stat(path.c_str(), &self) != 0) return false;
  if (path == "/") return true;
  if (::stat((path + "/..").c_str(), &parent) != 0) return false;
  return self.st_dev != parent.st_dev || self.st_ino == parent.st_ino;
}

}  // namespace

// ---- cache ----

bool VerdictCache::is_clean(const Key& k, const Stamp& s) {
  const auto it = map_.find(k);
  if (it == map_.end()) return false;
  if (!(it->second->stamp == s)) {
    lru_.erase(it->second);
    map_.erase(it);
    return false;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return true;
}

void VerdictCache::put_clean(const Key& k, const Stamp& s) {
  if (capacity_ == 0) return;
  if (const auto it = map_.find(k); it != map_.end()) {
    it->second->stamp = s;
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  if (map_.size() >= capacity_) {
    map_.erase(lru_.back().key);
    lru_.pop_back();
  }
  lru_.push_front({k, s});
  map_[k] = lru_.begin();
}

void VerdictCache::invalidate(const Key& k) {
  if (const auto it = map_.find(k); it != map_.end()) {
    lru_.erase(it->second);
    map_.erase(it);
  }
}

void VerdictCache::clear() {
  map_.clear();
  lru_.clear();
}

// ---- marks ----

bool path_under(const std::string& path, const std::string& prefix) {
  if (prefix == "/") return !path.empty() && path[0] == '/';
  if (path.size() < prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

bool own_mount_namespace() {
  auto ns = [](const std::string& link) {
    char buf[128];
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  };
  const std::string self = ns("/proc/self/ns/mnt");
  if (self.empty()) return false;
  // The parent first: under systemd it is PID 1 itself, after `unshare -m` it is the launcher, and when mamorid
  // detached, whoever adopted it. PID 1 when the parent's cannot be read.
  std::string other = ns("/proc/" + std::to_string(::getppid()) + "/ns/mnt");
  if (other.empty()) other = ns("/proc/1/ns/mnt");
  return !other.empty() && other != self;
}

MarkPlan plan_marks(const std::vector<std::string>& include, const std::vector<std::string>& exclude,
                    std::size_t max_dirs, bool mount_marks) {
  namespace fs = std::filesystem;
  MarkPlan plan;
  auto excluded = [&](const std::string& p) {
    return std::any_of(exclude.begin(), exclude.end(), [&](const std::string& e) { return path_under(p, e); });
  };
  std::set<std::string> planned;  // an include path listed twice or below another is walked once
  for (const auto& inc : include) {
    std::error_code ec;
    if (!fs::is_directory(fs::symlink_status(inc, ec))) {
      plan.errors.push_back(inc + ": not a folder (or does not exist)");
      continue;
    }
    if (excluded(inc)) continue;
    if (mount_marks && is_mount_point(inc)) {
      plan.mounts.push_back(inc);
      continue;
    }
    // Breadth-first, so that the folders nearest the included path are the ones protected when the bound hits.
    std::deque<std::string> todo{inc};
    while (!todo.empty() && !plan.truncated) {
      std::string dir = std::move(todo.front());
      todo.pop_front();
      if (!planned.insert(dir).second) continue;
      if (plan.dirs.size() >= max_dirs) {
        plan.truncated = true;
        break;
      }
      plan.dirs.push_back(dir);
      fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
      for (; !ec && it != end; it.increment(ec)) {
        std::error_code e2;
        if (it->is_symlink(e2) || !it->is_directory(e2)) continue;
        const std::string sub = it->path().string();
        if (!excluded(sub)) todo.push_back(sub);
      }
    }
  }
  std::sort(plan.dirs.begin(), plan.dirs.end());
  plan.dirs.erase(std::unique(plan.dirs.begin(), plan.dirs.end()), plan.dirs.end());
  return plan;
}

// ---- the service ----

struct OnAccess::Scan {
  std::uint64_t id = 0;
  VerdictCache::Key key;
  VerdictCache::Stamp stamp;
  std::string path;
  bool on_close = false;  // OnAccessExtraScanning: nobody waits for this one
  struct Waiter {
    int fd;
    std::int64_t deadline;
  };
  std::vector<Waiter> waiters;  // permission events to answer with the verdict
};

OnAccess::OnAccess(Config cfg, Log& log, EngineGetter engine, Counters* counters, Quarantiner quarantine)
    : cfg_(std::move(cfg)),
      log_(log),
      engine_(std::move(engine)),
      n_(counters ? *counters : own_counters_),
      quarantine_(std::move(quarantine)) {}

OnAccess::~OnAccess() { stop(); }

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-conversion"
Status OnAccess::start() {
  self_ = ::getpid();
  prevention_ = cfg_.onaccess_prevention;
  if (cfg_.onaccess_test_delay_ms > 0) {
    const char* hooks = std::getenv("MAMORI_TEST_HOOKS");
    test_delay_ = hooks && std::string(hooks) == "1";
    log_.warning(test_delay_ ? "On-access: OnAccessTestDelayMs " + std::to_string(cfg_.onaccess_test_delay_ms) +
                                   " (test hook): every on-access scan is slowed down"
                             : "On-access: OnAccessTestDelayMs is a test hook, ignored without MAMORI_TEST_HOOKS=1");
  }
  // Permission events need FAN_CLASS_CONTENT; the descriptors fanotify opens for us are read-only and never
  // raise events themselves.
  fan_ = ::fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
  if (fan_ < 0)
    return make_error(ErrorCode::io, "On-access: fanotify_init failed: " + errno_text(errno) +
                                         " (needs Linux fanotify with permission events and CAP_SYS_ADMIN)");
  // In a mount namespace of our own a mount mark would protect nothing that other processes open (measured in
  // docs/MEASUREMENTS.md): walk mount points like folders instead.
  const bool private_mounts = own_mount_namespace();
  const MarkPlan plan = plan_marks(cfg_.onaccess_include, cfg_.onaccess_exclude, kMaxMarkedDirs, !private_mounts);
  if (private_mounts)
    for (const auto& inc : cfg_.onaccess_include)
      if (is_mount_point(inc))
        log_.warning("On-access: mamorid runs in a mount namespace of its own (systemd ProtectSystem=/ProtectHome=/"
                     "PrivateTmp=/ReadWritePaths=?), where a mount mark on " + inc +
                     " would miss other processes' opens; its folders get directory marks instead");
  for (const auto& e : plan.errors) log_.warning("On-access: OnAccessIncludePath " + e);
  if (plan.truncated)
    log_.warning("On-access: more than " + std::to_string(kMaxMarkedDirs) + " folders under the include paths; only the first " +
                 std::to_string(kMaxMarkedDirs) + " are protected");

  std::uint64_t open_mask = prevention_ ? FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM : FAN_OPEN | FAN_OPEN_EXEC;
  // FAN_CLOSE_WRITE invalidates cached verdicts (and is scanned with OnAccessExtraScanning).
  std::uint64_t mask = open_mask | FAN_CLOSE_WRITE;
  auto mark = [&](unsigned flags, const std::string& path, std::uint64_t m) {
    return ::fanotify_mark(fan_, FAN_MARK_ADD | flags, m, AT_FDCWD, path.c_str());
  };
  // Kernels before 5.0 have no FAN_OPEN_EXEC(_PERM): fall back to plain opens, which executions also make.
  const std::string probe = !plan.mounts.empty() ? plan.mounts.front() : !plan.dirs.empty() ? plan.dirs.front() : "";
  if (!probe.empty()) {
    const unsigned flags = !plan.mounts.empty() ? FAN_MARK_MOUNT : FAN_MARK_ONLYDIR;
    if (mark(flags, probe, mask | (flags == FAN_MARK_ONLYDIR ? FAN_EVENT_ON_CHILD : 0)) != 0 && errno == EINVAL) {
      log_.warning("On-access: this kernel has no FAN_OPEN_EXEC events; executions are covered by their open");
      open_mask &= ~static_cast<std::uint64_t>(FAN_OPEN_EXEC_PERM | FAN_OPEN_EXEC);
      mask = open_mask | FAN_CLOSE_WRITE;
    }
  }
  std::size_t marked = 0;
  for (const auto& m : plan.mounts) {
    if (mark(FAN_MARK_MOUNT, m, mask) == 0) {
      ++marked;
      log_.info("On-access: protecting the mount " + m);
    } else {
      log_.warning("On-access: cannot mark the mount " + m + ": " + errno_text(errno));
    }
  }
  dir_mask_ = mask | FAN_EVENT_ON_CHILD;
  ino_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ino_ < 0 && !plan.dirs.empty())
    log_.warning("On-access: inotify_init1: " + errno_text(errno) + "; folders created later will not be protected");
  for (const auto& d : plan.dirs) mark_dir(d);
  const std::size_t dirs = marked_dirs_;
  marked += dirs;
  if (marked == 0) {
    ::close(fan_);
    fan_ = -1;
    return make_error(ErrorCode::io, "On-access: nothing could be marked (see the warnings above)");
  }
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return make_error(ErrorCode::io, "pipe: " + errno_text(errno));
  wake_r_ = p[0];
  wake_w_ = p[1];
  events_ = std::thread([this] { event_loop(); });
  for (int i = 0; i < cfg_.onaccess_max_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
  log_.info("On-access: protecting " + std::to_string(dirs) + " folders under " + std::to_string(cfg_.onaccess_include.size()) +
            " include paths; " + (prevention_ ? "denying opens of detected files" : "detections are logged (OnAccessPrevention no)") +
            ", timeout " + std::to_string(cfg_.onaccess_timeout_ms) + " ms" +
            (cfg_.onaccess_extra_scanning ? ", scanning files closed after writing" : ""));
  return {};
}
#pragma GCC diagnostic pop

// Marks one folder for fanotify and watches it with inotify for new subfolders. False when it cannot be marked or
// was already watched (reached twice: reported by inotify and found by a walk).
bool OnAccess::mark_dir(const std::string& dir) {
  if (::fanotify_mark(fan_, FAN_MARK_ADD | FAN_MARK_ONLYDIR, dir_mask_, AT_FDCWD, dir.c_str()) != 0) {
    log_.warning("On-access: cannot mark " + dir + ": " + errno_text(errno));
    return false;
  }
  if (ino_ >= 0) {
    const int wd = ::inotify_add_watch(ino_, dir.c_str(), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
    if (wd >= 0 && !watch_dirs_.emplace(wd, dir).second) return false;
    if (wd < 0) log_.warning("On-access: cannot watch " + dir + " for new folders: " + errno_text(errno));
  }
  ++marked_dirs_;
  return true;
}

// Folders created (or moved) under a marked folder: each is marked and watched before it is listed, so a subfolder
// made meanwhile is either listed or reported. Listing opens only directories, which raise no events here (the
// marks do not ask for FAN_ONDIR).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-align"
void OnAccess::read_new_dirs() {
  namespace fs = std::filesystem;
  alignas(inotify_event) char buf[16 * 1024];
  for (int round = 0; round < 16; ++round) {
    const ssize_t n = ::read(ino_, buf, sizeof buf);
    if (n <= 0) return;
    for (ssize_t off = 0; off + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buf + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
      if (e->mask & IN_Q_OVERFLOW) log_.warning("On-access: the inotify queue overflowed; some new folders may be unprotected");
      if (!(e->mask & IN_ISDIR) || e->len == 0) continue;
      const auto it = watch_dirs_.find(e->wd);
      if (it == watch_dirs_.end()) continue;
      std::deque<std::string> todo{it->second + "/" + e->name};
      while (!todo.empty()) {
        const std::string dir = std::move(todo.front());
        todo.pop_front();
        if (std::any_of(cfg_.onaccess_exclude.begin(), cfg_.onaccess_exclude.end(),
                        [&](const std::string& x) { return path_under(dir, x); }))
          continue;
        if (marked_dirs_ >= kMaxMarkedDirs) {
          log_.warning("On-access: " + dir + " is not protected: " + std::to_string(kMaxMarkedDirs) + " folders are marked");
          break;
        }
        if (!mark_dir(dir)) continue;
        log_.debug("On-access: new folder " + dir + " protected");
        std::error_code ec;
        fs::directory_iterator di(dir, fs::directory_options::skip_permission_denied, ec), end;
        for (; !ec && di != end; di.increment(ec)) {
          std::error_code e2;
          if (!di->is_symlink(e2) && di->is_directory(e2)) todo.push_back(di->path().string());
        }
      }
    }
  }
}
#pragma GCC diagnostic pop

void OnAccess::stop() {
  if (stop_.exchange(true)) return;
  wake();
  { std::lock_guard lk(m_); }
  cv_.notify_all();
  if (events_.joinable()) events_.join();
  for (auto& w : workers_) w.join();
  workers_.clear();
  for (auto& j : jobs_) ::close(j.fd);
  jobs_.clear();
  // Closing the group allows every event still waiting; answering first is explicit and logs nothing.
  for (auto& [id, s] : scans_)
    for (const auto& w : s->waiters) {
      respond(w.fd, true);
      ::close(w.fd);
    }
  scans_.clear();
  if (fan_ >= 0) ::close(fan_);
  if (ino_ >= 0) ::close(ino_);
  ino_ = -1;
  if (wake_r_ >= 0) ::close(wake_r_);
  if (wake_w_ >= 0) ::close(wake_w_);
  fan_ = wake_r_ = wake_w_ = -1;
}

void OnAccess::wake() {
  if (wake_w_ >= 0) {
    const char b = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_w_, &b, 1);
  }
}

void OnAccess::allow_open(int fd, bool perm) {
  if (perm) respond(fd, true);
  ::close(fd);
}

void OnAccess::respond(int fd, bool allow) {
  if (fan_ < 0) return;
  Counters::bump(allow ? n_.oa_allowed : n_.oa_denied);
  fanotify_response r{};
  r.fd = fd;
  r.response = allow ? FAN_ALLOW : FAN_DENY;
  if (::write(fan_, &r, sizeof r) != static_cast<ssize_t>(sizeof r))
    log_.warning("On-access: cannot answer an event: " + errno_text(errno));
}

std::int64_t OnAccess::next_deadline() const {
  std::int64_t next = now_ms() + 1000;
  for (const auto& [id, s] : scans_)
    for (const auto& w : s->waiters) next = std::min(next, w.deadline);
  return next;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wcast-align"
void OnAccess::event_loop() {
  alignas(fanotify_event_metadata) char buf[64 * 1024];
  while (!stop_.load()) {
    try {
      const auto wait = std::clamp<std::int64_t>(next_deadline() - now_ms(), 0, 1000);
      pollfd pfds[3] = {{fan_, POLLIN, 0}, {wake_r_, POLLIN, 0}, {ino_, POLLIN, 0}};
      if (::poll(pfds, ino_ >= 0 ? 3 : 2, static_cast<int>(wait)) < 0 && errno != EINTR) {
        log_.error("On-access: poll: " + errno_text(errno));
        continue;
      }
      if (pfds[1].revents & POLLIN) {
        char sink[256];
        while (::read(wake_r_, sink, sizeof sink) > 0) {
        }
      }
      if (ino_ >= 0 && (pfds[2].revents & POLLIN)) read_new_dirs();
      // Reloaded models: verdicts of the previous ones no longer count.
      if (const EnginePtr e = engine_(); e.get() != cache_engine_) {
        cache_.clear();
        cache_engine_ = e.get();
      }
      std::deque<Done> done;
      {
        std::lock_guard lk(m_);
        done.swap(done_);
      }
      for (const auto& d : done) handle_done(d);
      // A bounded number of reads per turn, so results and timeouts are never starved by a flood of events.
      for (int round = 0; round < 16 && (pfds[0].revents & POLLIN); ++round) {
        const ssize_t n = ::read(fan_, buf, sizeof buf);
        if (n <= 0) break;
        auto* m = reinterpret_cast<const fanotify_event_metadata*>(buf);
        for (ssize_t len = n; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
          if (m->vers != FANOTIFY_METADATA_VERSION) {
            // Events we cannot read cannot be answered: closing the group releases every waiting open.
            log_.error("On-access: fanotify metadata version mismatch; on-access protection stops");
            ::close(fan_);
            fan_ = -1;
            return;
          }
          if (m->mask & FAN_Q_OVERFLOW) {
            log_.warning("On-access: the fanotify queue overflowed; some events were lost");
            continue;
          }
          if (m->fd < 0) continue;
          handle_event(m->fd, m->mask, m->pid);
        }
      }
      expire(now_ms());
    } catch (const std::exception& ex) {
      log_.error(std::string("On-access event loop: ") + ex.what());
    } catch (...) {
      log_.error("On-access event loop: unknown exception");
    }
  }
}
#pragma GCC diagnostic pop

void OnAccess::handle_event(int fd, std::uint64_t mask, pid_t pid) {
  const bool perm = (mask & (FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM)) != 0;
  const bool opened = perm || (mask & (FAN_OPEN | FAN_OPEN_EXEC)) != 0;
  // Our own accesses (SCAN of a protected file, the log, the models) are never held: a worker waiting on itself
  // would deadlock.
  if (pid == self_) {
    // Not counted: a quarantine copy or a SCAN of a protected file would inflate the figures.
    if (perm) {
      fanotify_response r{};
      r.fd = fd;
      r.response = FAN_ALLOW;
      if (::write(fan_, &r, sizeof r) != static_cast<ssize_t>(sizeof r))
        log_.warning("On-access: cannot answer an event: " + errno_text(errno));
    }
    ::close(fd);
    return;
  }
  Counters::bump(n_.oa_events);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return allow_open(fd, perm);
  const auto key = key_of(st);
  const auto stamp = stamp_of(st);
  bool scan_on_close = false;
  if (mask & FAN_CLOSE_WRITE) {
    cache_.invalidate(key);
    scan_on_close = cfg_.onaccess_extra_scanning;
  }
  if (!opened && !scan_on_close) {
    ::close(fd);
    return;
  }
  const std::string path = fd_path(fd);
  auto allow_now = [&](const std::string& why) {
    if (!why.empty()) log_.debug("On-access: " + path + ": allowed (" + why + ")");
    if (perm) respond(fd, true);
    ::close(fd);
  };
  if (std::any_of(cfg_.onaccess_exclude.begin(), cfg_.onaccess_exclude.end(),
                  [&](const std::string& e) { return path_under(path, e); }))
    return allow_now("");
  if (stamp.size > cfg_.onaccess_max_file_size) return allow_now("larger than OnAccessMaxFileSize, not scanned");
  if (opened && cache_.is_clean(key, stamp)) {
    Counters::bump(n_.oa_cache_hits);
    log_.debug("On-access: " + path + ": OK (cached)");
    return allow_open(fd, perm);
  }
  // The same unchanged file already being scanned (several processes opening it at once): wait for that verdict.
  if (opened)
    for (auto& [id, s] : scans_)
      if (s->key == key && s->stamp == stamp && !s->on_close) {
        if (perm) {
          if (pending_events_ >= kMaxPendingEvents) {
            Counters::bump(n_.oa_unscanned);
            return allow_now("too many events waiting, not scanned");
          }
          s->waiters.push_back({fd, now_ms() + cfg_.onaccess_timeout_ms});
          ++pending_events_;
        } else {
          ::close(fd);
        }
        return;
      }
  if (perm && pending_events_ >= kMaxPendingEvents) {
    Counters::bump(n_.oa_unscanned);
    log_.warning("On-access: " + path + ": allowed unscanned (" + std::to_string(kMaxPendingEvents) + " events waiting)");
    return allow_now("");
  }
  const int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) {
    Counters::bump(n_.oa_unscanned);
    log_.warning("On-access: " + path + ": allowed unscanned (dup: " + errno_text(errno) + ")");
    return allow_now("");
  }
  {
    std::lock_guard lk(m_);
    if (jobs_.size() >= kMaxQueuedScans) {
      ::close(dup);
      Counters::bump(n_.oa_unscanned);
      log_.warning("On-access: " + path + ": allowed unscanned (" + std::to_string(kMaxQueuedScans) + " scans queued)");
      return allow_now("");
    }
    jobs_.push_back({next_id_, dup, path});
  }
  cv_.notify_one();
  auto s = std::make_unique<Scan>();
  s->id = next_id_++;
  s->key = key;
  s->stamp = stamp;
  s->path = path;
  s->on_close = !opened;
  if (perm) {
    s->waiters.push_back({fd, now_ms() + cfg_.onaccess_timeout_ms});
    ++pending_events_;
  } else {
    ::close(fd);
  }
  scans_[s->id] = std::move(s);
}

void OnAccess::handle_done(const Done& d) {
  const auto it = scans_.find(d.id);
  if (it == scans_.end()) return;
  Scan& s = *it->second;
  const bool deny = d.found && prevention_;
  Counters::bump(n_.oa_scans);
  if (d.found) Counters::bump(n_.oa_found);
  if (d.found) {
    log_.warning("On-access: " + s.path + ": " + d.signature + " FOUND" +
                 (s.on_close ? " (written)" : deny ? (s.waiters.empty() ? " (already allowed: the scan timed out)" : " (access denied)")
                                                  : " (access allowed: OnAccessPrevention no)"));
  } else if (d.error) {
    log_.info("On-access: " + s.path + ": " + d.signature + " ERROR (access allowed)");
  } else {
    log_.debug("On-access: " + s.path + ": OK (scanned " + (s.on_close ? "after writing " : "") + "in " +
               std::to_string(static_cast<long long>(d.ms)) + " ms)");
    if (d.cacheable) cache_.put_clean(s.key, s.stamp);
  }
  for (const auto& w : s.waiters) {
    respond(w.fd, !deny);
    ::close(w.fd);
  }
  pending_events_ -= s.waiters.size();
  scans_.erase(it);
}

void OnAccess::expire(std::int64_t now) {
  for (auto& [id, s] : scans_) {
    auto& ws = s->waiters;
    const auto late = std::partition(ws.begin(), ws.end(), [&](const Scan::Waiter& w) { return w.deadline > now; });
    if (late == ws.end()) continue;
    // Logged before answering, so the line exists once the open returns.
    log_.warning("On-access: " + s->path + ": not scanned within OnAccessTimeout (" + std::to_string(cfg_.onaccess_timeout_ms) +
                 " ms), access allowed (fail-open)");
    for (auto w = late; w != ws.end(); ++w) {
      Counters::bump(n_.oa_fail_open);
      respond(w->fd, true);
      ::close(w->fd);
    }
    pending_events_ -= static_cast<std::size_t>(ws.end() - late);
    ws.erase(late, ws.end());
  }
}

void OnAccess::worker_loop() {
  for (;;) {
    Job j;
    {
      std::unique_lock lk(m_);
      cv_.wait(lk, [&] { return stop_.load() || !jobs_.empty(); });
      if (stop_.load()) return;
      j = std::move(jobs_.front());
      jobs_.pop_front();
      if (test_delay_)
        // Test hook: a scan slower than OnAccessTimeout, without a slow file. Interrupted by stop().
        cv_.wait_for(lk, std::chrono::milliseconds(cfg_.onaccess_test_delay_ms), [&] { return stop_.load(); });
      if (stop_.load()) {
        ::close(j.fd);
        return;
      }
    }
    const auto t0 = std::chrono::steady_clock::now();
    Done d;
    d.id = j.id;
    engine::ScanResult found;  // what a detection hands to the quarantine
    struct stat before {}, after {};
    try {
      const EnginePtr eng = engine_();
      const engine::Scanner& scanner = eng->scanner;
      const std::uint64_t max_size = scanner.options().limits.max_file_size;
      if (::fstat(j.fd, &before) != 0) {
        d.error = true;
        d.signature = errno_text(errno);
      } else if (static_cast<std::uint64_t>(before.st_size) > max_size) {
        d.found = true;
        d.signature = "Mamori.Limits.Exceeded.FileSize";
        found.verdict = engine::Verdict::suspicious;
        found.signature = d.signature;
        found.size = static_cast<std::uint64_t>(before.st_size);
        found.anomalies.push_back("larger than MaxFileSize (" + std::to_string(max_size) + " bytes)");
      } else {
        auto file = MappedFile::from_fd(j.fd, j.path, max_size);
        if (!file.ok()) {
          d.error = true;
          d.signature = file.error().message;
        } else {
          auto r = scanner.scan_bytes(file->view(), j.path);
          d.found = r.found();
          d.error = r.verdict == engine::Verdict::error;
          d.signature = d.found ? r.signature : r.error;
          d.cacheable = !d.found && !d.error && ::fstat(j.fd, &after) == 0 && stamp_of(before) == stamp_of(after);
          if (d.found) found = std::move(r);
        }
      }
    } catch (const std::exception& ex) {
      d.error = true;
      d.signature = ex.what();
    }
    ::close(j.fd);
    d.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const bool move = d.found && prevention_ && quarantine_;
    {
      std::lock_guard lk(m_);
      done_.push_back(std::move(d));
    }
    wake();
    // After the verdict is posted: the denied open returns at once, the move follows. The vault's own opens of the
    // file come from this process and are allowed by the event thread without a scan.
    if (move) {
      try {
        quarantine_(j.path, found, Server::Identity{static_cast<std::uint64_t>(before.st_dev),
                                                    static_cast<std::uint64_t>(before.st_ino)});
      } catch (const std::exception& ex) {
        log_.error(std::string("On-access: quarantine of ") + j.path + ": " + ex.what());
      }
    }
  }
}

}  // namespace mamori::daemon
