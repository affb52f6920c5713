// The real mamorid on a temporary UNIX socket, for the daemon, on-access and quarantine tests. Every socket read
// has a timeout and the destructor stops the daemon (SIGTERM, then SIGKILL after 10 s), so a broken daemon fails
// tests instead of hanging them.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mamori::test {

/// Reads from `fd` until EOF, an error or the socket's receive timeout.
std::string read_all(int fd);

/// A chunk length as INSTREAM frames it (4 bytes, big-endian).
std::string be32(std::uint32_t n);
/// An INSTREAM request for `data` ('z' or 'n' prefix) in chunks of `chunk` bytes, with the closing zero length.
std::string instream(const std::string& data, char prefix = 'z', std::size_t chunk = 4096);

class TestDaemon {
 public:
  struct Options {
    std::string config;       // lines after LocalSocket, Foreground and LogFile (each ending in '\n')
    std::string ready_log;    // ready when the log holds this; empty: ready when the socket answers PING
    std::vector<std::string> env;  // as for spawn(): "NAME=value" sets, "NAME" removes
    std::vector<std::string> launcher;  // a program and its arguments that run mamorid (e.g. unshare -m); empty: none
  };

  /// Writes `dir`/mamorid.conf (socket `dir`/mamorid.ctl, log `dir`/log), starts mamorid and waits up to 30 s for it
  /// to be ready. A daemon that exits meanwhile is not ready; ready() says so and log() says why.
  TestDaemon(const std::filesystem::path& dir, Options opt);
  ~TestDaemon();
  TestDaemon(const TestDaemon&) = delete;
  TestDaemon& operator=(const TestDaemon&) = delete;

  bool ready() const { return ready_; }
  const std::string& socket() const { return socket_; }
  pid_t pid() const { return pid_; }
  std::string log() const;

  /// A connected socket with receive and send timeouts, or -1.
  int connect(int timeout_s = 10) const;
  /// One connection: sends `request`, reads the reply until the daemon closes (or the timeout passes).
  std::string ask(const std::string& request) const;
  /// zFILDES on one connection, passing `file` (SCM_RIGHTS), and the reply.
  std::string fildes(int file) const;

  /// SIGKILL, not waited for (the destructor or stop() reaps it).
  void kill_now();
  /// SIGTERM, then wait_exit().
  int stop();
  /// Waits at most 10 s for the daemon to exit (then SIGKILL); returns its exit status, 128 + signal, or -1.
  int wait_exit();

 private:
  std::filesystem::path dir_;
  std::string socket_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

}  // namespace mamori::test
