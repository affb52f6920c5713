// mamorid with MamoriQuarantine: files found by a path SCAN move into the vault; the reply stays clamd's.
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

#include "daemon/config.hpp"
#include "quarantine/quarantine.hpp"

namespace fs = std::filesystem;

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

}  // namespace
