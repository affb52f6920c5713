#include "support/daemon.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "support/run_cli.hpp"

namespace fs = std::filesystem;
using namespace std::string_literals;

namespace mamori::test {

std::string read_all(int fd) {
  std::string out;
  std::array<char, 65536> buf{};
  for (;;) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  return out;
}

std::string be32(std::uint32_t n) {
  return std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
}

std::string instream(const std::string& data, char prefix, std::size_t chunk) {
  std::string s = prefix + "INSTREAM"s + (prefix == 'z' ? '\0' : '\n');
  for (std::size_t off = 0; off < data.size(); off += chunk) {
    const auto part = data.substr(off, chunk);
    s += be32(static_cast<std::uint32_t>(part.size())) + part;
  }
  return s + be32(0);
}

TestDaemon::TestDaemon(const fs::path& dir, Options opt) : dir_(dir), socket_((dir / "mamorid.ctl").string()) {
  fs::create_directories(dir);
  const std::string conf = (dir / "mamorid.conf").string();
  std::ofstream(conf) << "LocalSocket " << socket_ << "\nForeground yes\nLogFile " << (dir / "log").string() << "\n"
                      << opt.config;
  std::vector<std::string> command = opt.launcher;
  command.insert(command.end(), {MAMORID_BINARY, "--config", conf});
  pid_ = spawn(command.front(), {command.begin() + 1, command.end()}, opt.env);
  // The model loads before the socket answers; on-access marks are placed after that.
  for (int i = 0; i < 300 && pid_ > 0 && !ready_; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int st;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    ready_ = opt.ready_log.empty() ? ask("zPING\0"s) == "PONG\0"s : log().find(opt.ready_log) != std::string::npos;
  }
}

TestDaemon::~TestDaemon() { stop(); }

std::string TestDaemon::log() const {
  std::ifstream f(dir_ / "log");
  return std::string(std::istreambuf_iterator<char>(f), {});
}

int TestDaemon::connect(int timeout_s) const {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, socket_.c_str(), sizeof sa.sun_path - 1);
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string TestDaemon::ask(const std::string& request) const {
  const int fd = connect();
  if (fd < 0) return "<connect failed>";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  auto r = read_all(fd);
  ::close(fd);
  return r;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"  // CMSG_* are C macros
std::string TestDaemon::fildes(int file) const {
  const int fd = connect();
  if (fd < 0) return "<connect failed>";
  const std::string cmd = "zFILDES\0"s;
  ::send(fd, cmd.data(), cmd.size(), MSG_NOSIGNAL);
  char dummy = 0;
  iovec iov{&dummy, 1};
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  cmsghdr* h = CMSG_FIRSTHDR(&msg);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(h), &file, sizeof file);
  const bool sent = ::sendmsg(fd, &msg, MSG_NOSIGNAL) == 1;
  auto r = sent ? read_all(fd) : std::string("<sendmsg failed>");
  ::close(fd);
  return r;
}
#pragma GCC diagnostic pop

void TestDaemon::kill_now() {
  if (pid_ > 0) ::kill(pid_, SIGKILL);
}

int TestDaemon::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  return wait_exit();
}

int TestDaemon::wait_exit() {
  if (pid_ <= 0) return -1;
  int st = 0;
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &st, 0);
  pid_ = -1;
  return -1;
}

}  // namespace mamori::test
