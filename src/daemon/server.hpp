// mamorid's server: listening sockets, one I/O thread and a fixed pool of workers.
//
// The I/O thread owns every connection while it is idle: it polls the sockets, reads (recvmsg, so file descriptors
// passed with SCM_RIGHTS are collected), frames commands and INSTREAM chunks, enforces the timeouts and closes
// connections. It never blocks on a client and never writes, except a best-effort "COMMAND READ TIMED OUT". A complete
// command becomes a Job on a queue; while a worker runs it, the connection is out of the poll set (one command at
// a time per connection, so IDSESSION replies come back in order). The worker writes the reply with a send timeout
// and hands the connection back, or asks for it to be closed. Only the I/O thread closes connection sockets.
//
// Bounds: at most MaxQueue open connections (accepting pauses beyond, and the kernel backlog holds the rest), so at
// most MaxQueue jobs queued; INSTREAM data at most StreamMaxLength per connection; a command line at most 16 KiB.
//
// The engine is immutable and shared: each job takes a shared_ptr to the current one, and RELOAD swaps in a new
// one without touching connections or running scans.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.hpp"
#include "common/bytes.hpp"
#include "daemon/config.hpp"
#include "daemon/counters.hpp"
#include "daemon/log.hpp"
#include "engine/scanner.hpp"
#include "quarantine/quarantine.hpp"

namespace mamori::daemon {

/// What the workers scan with: built once, never modified, replaced as a whole by RELOAD.
struct Engine {
  engine::Scanner scanner;
  std::string version;  // VERSION reply: "mamori <version>/<model name>/<model date>"
};
using EnginePtr = std::shared_ptr<const Engine>;

/// Loads the models named by the config (DatabaseDirectory, else the installed ones) into a new Engine.
Result<EnginePtr> load_engine(const Config& cfg);

class Server {
 public:
  using Loader = std::function<Result<EnginePtr>()>;

  Server(Config cfg, Log& log, EnginePtr engine, Loader loader);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Creates and binds the sockets (call before dropping privileges or daemonizing).
  Status listen();
  /// Starts the I/O thread, the workers and the reloader.
  Status start();
  /// Asks everything to stop (SHUTDOWN, SIGTERM). Safe from any thread.
  void request_stop();
  /// Asks for the models to be reloaded in the background (RELOAD, SIGUSR2). Safe from any thread.
  void request_reload();
  bool stop_requested() const noexcept { return stop_.load(); }
  /// Waits up to `ms` for a stop request; true when one came.
  bool wait_for_stop(int ms);
  /// Stops accepting, finishes running jobs, closes every connection and removes the UNIX socket.
  void shutdown();

  EnginePtr engine() const;
  /// What STATS adds to clamd's lines; on-access counts into it too.
  Counters& counters() noexcept { return counters_; }

  /// The file the scanner read through a descriptor, so that the move can refuse a path that now names another.
  struct Identity {
    std::uint64_t dev = 0, ino = 0;
  };
  /// MamoriQuarantine: moves a file found by a scan into the vault and logs where (or why not). Does nothing when
  /// the option is off or nothing was found. Safe from any thread (the vault serialises its operations).
  void quarantine_found(const std::string& path, const engine::ScanResult& r, const std::string& via,
                        std::optional<Identity> scanned = std::nullopt);
  /// MamoriQuarantineStreams: stores data found by a scan that has no file (INSTREAM, an unnamed FILDES) in the
  /// vault under `origin` ("stream", "fildes"). Does nothing when the option is off or nothing was found.
  void store_found(ByteView data, const std::string& origin, const engine::ScanResult& r, const std::string& via);
  /// The TCP port actually bound (useful with TCPSocket 0 in tests); 0 when none.
  int tcp_port() const noexcept { return bound_tcp_port_; }

  struct Conn;
  struct Job;

 private:
  void io_loop();
  void worker_loop();
  void reload_loop();
  void accept_one(int lfd, bool is_unix);
  void read_conn(const std::shared_ptr<Conn>& c);
  void process(const std::shared_ptr<Conn>& c);
  void dispatch(std::unique_ptr<Job> j);
  void give_back(const std::shared_ptr<Conn>& c);
  void wake();
  void run_job(Job& j);
  std::string stats_text() const;

  Config cfg_;
  Log& log_;
  Loader loader_;
  mutable std::mutex engine_m_;
  EnginePtr engine_;
  std::unique_ptr<quarantine::Vault> vault_;  // set when MamoriQuarantine or MamoriQuarantineStreams is on
  Counters counters_;

  struct Listener {
    int fd;
    bool is_unix;
  };
  std::vector<Listener> listeners_;
  bool unix_bound_ = false;
  int bound_tcp_port_ = 0;
  int wake_r_ = -1, wake_w_ = -1;

  std::atomic<bool> stop_{false};
  std::mutex stop_m_;
  std::condition_variable stop_cv_;

  // I/O thread only.
  std::map<int, std::shared_ptr<Conn>> conns_;

  // Workers.
  mutable std::mutex q_m_;
  std::condition_variable q_cv_;
  std::deque<std::unique_ptr<Job>> queue_;
  bool workers_stop_ = false;
  std::atomic<int> busy_workers_{0};

  // Connections handed back by workers.
  std::mutex back_m_;
  std::vector<std::shared_ptr<Conn>> back_;

  // Reloads.
  std::mutex reload_m_;
  std::condition_variable reload_cv_;
  bool reload_wanted_ = false;

  std::thread io_;
  std::vector<std::thread> workers_;
  std::thread reloader_;
  bool started_ = false;
  bool shut_down_ = false;
};

}  // namespace mamori::daemon
