// mamorid with MamoriQuarantine: files found by a path SCAN or FILDES move into the vault; with
// MamoriQuarantineStreams, INSTREAM data found is stored there too; the replies stay clamd's byte for byte.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/hash.hpp"
#include "daemon/config.hpp"
#include "quarantine/quarantine.hpp"
#include "support/archive_builder.hpp"

namespace fs = std::filesystem;
using namespace std::string_literals;

namespace {

std::string ask(const std::string& socket_path, const std::string& request) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, socket_path.c_str(), sizeof sa.sun_path - 1);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return "<connect failed>";
  }
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

TEST(QuarantineDaemon, ConfigOptions) {
  auto r = mamori::daemon::parse_config("LocalSocket /tmp/x\nMamoriQuarantine yes\nMamoriQuarantineDir /srv/q\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->config.quarantine);
  EXPECT_EQ(r->config.quarantine_dir, "/srv/q");
  EXPECT_TRUE(r->warnings.empty());
  auto d = mamori::daemon::parse_config("LocalSocket /tmp/x\n");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->config.quarantine);
  EXPECT_FALSE(mamori::daemon::parse_config("LocalSocket /tmp/x\nMamoriQuarantine perhaps\n").ok());
}

TEST(QuarantineDaemon, ScanMovesWhatIsFound) {
  const fs::path dir = fs::temp_directory_path() / ("mamori-qd-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "data");
  const std::string big(5000, 'A');
  std::ofstream(dir / "data" / "big.bin", std::ios::binary) << big;
  std::ofstream(dir / "data" / "small.txt") << "fine";
  const std::string sock = (dir / "d.ctl").string();
  std::ofstream(dir / "mamorid.conf") << "LocalSocket " << sock << "\nForeground yes\nLogFile " << (dir / "log").string()
                                      << "\nMaxThreads 2\nMaxFileSize 1000\nMamoriQuarantine yes\nMamoriQuarantineDir "
                                      << (dir / "vault").string() << "\n";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string conf = (dir / "mamorid.conf").string();
    ::execl(MAMORID_BINARY, MAMORID_BINARY, "--config", conf.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool ready = false;
  for (int i = 0; i < 300 && !ready; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ready = ask(sock, "nPING\n") == "PONG\n";
  }
  ASSERT_TRUE(ready);
  const std::string reply = ask(sock, "nCONTSCAN " + (dir / "data").string() + "\n");
  EXPECT_NE(reply.find("big.bin: Mamori.Limits.Exceeded.FileSize FOUND"), std::string::npos) << reply;
  ::kill(pid, SIGTERM);
  int st = 0;
  ::waitpid(pid, &st, 0);
  std::ifstream lf(dir / "log");
  const std::string log((std::istreambuf_iterator<char>(lf)), {});
  EXPECT_FALSE(fs::exists(dir / "data" / "big.bin")) << log;
  EXPECT_TRUE(fs::exists(dir / "data" / "small.txt"));
  EXPECT_NE(log.find("big.bin: quarantined as entry 1"), std::string::npos) << log;
  auto v = mamori::quarantine::Vault::open((dir / "vault").string());
  ASSERT_TRUE(v.ok()) << v.error().message;
  auto l = (*v)->list();
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].via, "mamorid");
  EXPECT_EQ((*l)[0].size, big.size());
  ASSERT_TRUE((*v)->restore((*l)[0].id, {}).ok());
  std::ifstream back(dir / "data" / "big.bin", std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(back)), {}), big);
  fs::remove_all(dir);
}


std::string be32(std::uint32_t n) {
  return std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
}

std::string instream(const std::string& data) {
  std::string s = "zINSTREAM\0"s;
  for (std::size_t off = 0; off < data.size(); off += 8192) {
    const auto part = data.substr(off, 8192);
    s += be32(static_cast<std::uint32_t>(part.size())) + part;
  }
  return s + be32(0);
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// A zip of 3.2 MB of repeated text that inflates about 400 times over (past MaxRatio 10 x its size + the engine's
// 1 MiB slack; runs of one byte value would not count): Mamori.Limits.Exceeded.Ratio, a detection whose bytes are
// all kept (unlike one over MaxFileSize) and that needs no model score.
std::string ratio_bomb() {
  std::string text;
  for (int i = 0; i < 100000; ++i) text += "meeting notes, line after line. ";
  const auto z = mamori::test::make_zip({{"notes.txt", mamori::test::Blob(text.begin(), text.end()), true}});
  return std::string(z.begin(), z.end());
}

// mamorid in the foreground on its own socket; `env` is set in the child only (the crash hook).
class QDaemon {
 public:
  QDaemon(const fs::path& dir, const std::string& extra, const std::string& crash_at = "")
      : dir_(dir), sock_((dir / "d.ctl").string()) {
    fs::create_directories(dir);
    std::ofstream(dir / "mamorid.conf") << "LocalSocket " << sock_ << "\nForeground yes\nLogFile " << (dir / "log").string()
                                        << "\nLogVerbose yes\nMaxThreads 2\nMaxFileSize 100K\nMaxRatio 10\n"
                                        << "MamoriQuarantineDir " << (dir / "vault").string() << "\n" << extra;
    pid_ = ::fork();
    if (pid_ == 0) {
      if (!crash_at.empty()) ::setenv("MAMORI_QUARANTINE_CRASH_AT", crash_at.c_str(), 1);
      const std::string conf = (dir / "mamorid.conf").string();
      ::execl(MAMORID_BINARY, MAMORID_BINARY, "--config", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 300 && !ready_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ready_ = ask(sock_, "nPING\n") == "PONG\n";
    }
  }
  ~QDaemon() { stop(); }
  bool ready() const { return ready_; }
  const std::string& socket() const { return sock_; }
  std::string log() const { return slurp(dir_ / "log"); }
  /// Waits for the daemon to exit by itself (the crash hook), at most 10 s; returns its wait status or -1.
  int wait_exit() {
    int st = 0;
    for (int i = 0; i < 100 && pid_ > 0; ++i) {
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return st;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }

 private:
  fs::path dir_;
  std::string sock_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
// FILDES: the command, then one byte carrying the descriptor.
std::string fildes(const std::string& socket_path, int file) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, socket_path.c_str(), sizeof sa.sun_path - 1);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return "<connect failed>";
  }
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
  ::sendmsg(fd, &msg, MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}
#pragma GCC diagnostic pop

fs::path fresh_dir() {
  const fs::path dir = fs::temp_directory_path() / ("mamori-qd-" + std::to_string(::getpid()) + "-" +
                                                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir);
  fs::create_directories(dir / "data");
  return dir;
}

TEST(QuarantineDaemon, StreamsAndDescriptorsGoToTheVaultWithClamdReplies) {
  const fs::path dir = fresh_dir();
  const std::string bomb = ratio_bomb();
  QDaemon d(dir, "MamoriQuarantine yes\nMamoriQuarantineStreams yes\n");
  ASSERT_TRUE(d.ready()) << d.log();

  // INSTREAM found: the reply is clamd's, the stream is stored under origin "stream".
  EXPECT_EQ(ask(d.socket(), instream(bomb)), "stream: Mamori.Limits.Exceeded.Ratio FOUND\0"s);
  EXPECT_EQ(ask(d.socket(), instream("a clean little note")), "stream: OK\0"s);
  // Over MaxFileSize only the length was kept: found, not stored, and the log says why.
  EXPECT_EQ(ask(d.socket(), instream(std::string(150 * 1024, 'x'))), "stream: Mamori.Limits.Exceeded.FileSize FOUND\0"s);

  // FILDES of a named file moves that file; of an unlinked one stores its bytes under origin "fildes".
  const fs::path named = dir / "data" / "named.zip";
  std::ofstream(named, std::ios::binary) << bomb;
  int f = ::open(named.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(f, 0);
  std::string r = fildes(d.socket(), f);
  ::close(f);
  EXPECT_EQ(r.rfind("fd[", 0), 0u) << r;
  EXPECT_EQ(r.substr(r.find(']')), "]: Mamori.Limits.Exceeded.Ratio FOUND\0"s) << r;
  const fs::path gone = dir / "data" / "unlinked.zip";
  std::ofstream(gone, std::ios::binary) << bomb;
  f = ::open(gone.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(f, 0);
  fs::remove(gone);
  r = fildes(d.socket(), f);
  ::close(f);
  EXPECT_EQ(r.substr(r.find(']')), "]: Mamori.Limits.Exceeded.Ratio FOUND\0"s) << r;

  const std::string stats = ask(d.socket(), "nSTATS\n");
  EXPECT_NE(stats.find("\nQUARANTINE: moved 1 stored 2 failed 1\nEND\n"), std::string::npos) << stats;
  EXPECT_EQ(stats.find("ONACCESS:"), std::string::npos) << stats;  // on-access is off here
  d.stop();

  const std::string log = d.log();
  EXPECT_FALSE(fs::exists(named)) << log;
  EXPECT_NE(log.find("not stored in the quarantine: its bytes were not kept"), std::string::npos) << log;
  auto v = mamori::quarantine::Vault::open((dir / "vault").string());
  ASSERT_TRUE(v.ok()) << v.error().message;
  auto l = (*v)->list();
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 3u) << log;
  const std::string bomb_sha = mamori::sha256_hex(mamori::ByteView(bomb.data(), bomb.size()));
  const auto& stream = (*l)[0];
  EXPECT_EQ(stream.original_path, "stream");
  EXPECT_EQ(stream.via.rfind("mamorid INSTREAM from local#", 0), 0u) << stream.via;
  EXPECT_EQ(stream.sha256, bomb_sha);
  EXPECT_EQ(stream.signature, "Mamori.Limits.Exceeded.Ratio");
  EXPECT_EQ((*l)[1].original_path, fs::canonical(dir / "data").string() + "/named.zip");
  EXPECT_EQ((*l)[1].via, "mamorid FILDES");
  EXPECT_EQ((*l)[2].original_path, "fildes");
  EXPECT_EQ((*l)[2].sha256, bomb_sha);
  // A stream comes back only where it is told to.
  EXPECT_FALSE((*v)->restore(stream.id, {}).ok());
  mamori::quarantine::RestoreOptions to;
  to.to = (dir / "data" / "from-stream.zip").string();
  ASSERT_TRUE((*v)->restore(stream.id, to).ok());
  EXPECT_EQ(slurp(dir / "data" / "from-stream.zip"), bomb);
  ASSERT_TRUE((*v)->restore((*l)[1].id, {}).ok());
  EXPECT_EQ(slurp(named), bomb);
  fs::remove_all(dir);
}

TEST(QuarantineDaemon, StreamsAreNotKeptUnlessAskedFor) {
  const fs::path dir = fresh_dir();
  QDaemon d(dir, "MamoriQuarantine yes\n");
  ASSERT_TRUE(d.ready()) << d.log();
  EXPECT_EQ(ask(d.socket(), instream(ratio_bomb())), "stream: Mamori.Limits.Exceeded.Ratio FOUND\0"s);
  EXPECT_NE(ask(d.socket(), "nSTATS\n").find("\nQUARANTINE: moved 0 stored 0 failed 0\nEND\n"), std::string::npos);
  d.stop();
  auto v = mamori::quarantine::Vault::open((dir / "vault").string());
  ASSERT_TRUE(v.ok()) << v.error().message;
  auto l = (*v)->list(true);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->empty());
  fs::remove_all(dir);
}

// The store of a stream, SIGKILLed after each journalled step, then recovered by the next open: before the vault
// file is in place the entry vanishes without a trace (the client still has its data and got its reply); after, the
// entry is whole and restorable. Never a half entry, never a stray vault file.
TEST(QuarantineDaemon, KilledAtEveryStepOfAStreamStoreTheVaultStaysConsistent) {
  const std::string bomb = ratio_bomb();
  const std::string bomb_sha = mamori::sha256_hex(mamori::ByteView(bomb.data(), bomb.size()));
  for (const std::string step : {"journal", "partial-copy", "copy-fsync", "vault-rename", "db-done"}) {
    SCOPED_TRACE(step);
    const fs::path dir = fresh_dir();
    {
      QDaemon d(dir, "MamoriQuarantineStreams yes\n", step);
      ASSERT_TRUE(d.ready()) << d.log();
      EXPECT_EQ(ask(d.socket(), instream(bomb)), "stream: Mamori.Limits.Exceeded.Ratio FOUND\0"s);
      const int st = d.wait_exit();
      ASSERT_NE(st, -1) << "the crash hook did not fire";
      EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << st;
    }
    auto v = mamori::quarantine::Vault::open((dir / "vault").string());
    ASSERT_TRUE(v.ok()) << v.error().message;
    auto all = (*v)->list(true);
    ASSERT_TRUE(all.ok());
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir / "vault" / "files")) files += e.is_regular_file() ? 1 : 0;
    const bool whole = step == "vault-rename" || step == "db-done";
    if (!whole) {
      EXPECT_TRUE(all->empty());
      EXPECT_EQ(files, 0u);
    } else {
      ASSERT_EQ(all->size(), 1u);
      EXPECT_EQ((*all)[0].state, mamori::quarantine::State::quarantined);
      EXPECT_EQ((*all)[0].sha256, bomb_sha);
      EXPECT_EQ(files, 1u);
      EXPECT_TRUE((*v)->verify((*all)[0].id).ok());
    }
    fs::remove_all(dir);
  }
}

}  // namespace
