// Load test for mamorid: N concurrent clients send INSTREAMs of one file over a UNIX socket until `requests`
// replies have come back. Prints requests/s, latency percentiles, how many replies were not OK/FOUND, and the
// daemon's RSS when given its pid.
//
//   mamorid_bench SOCKET FILE [--clients N] [--requests N] [--pid PID]
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string rss(const std::string& pid) {
  std::ifstream f("/proc/" + pid + "/status");
  std::string line, out;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0 || line.rfind("VmHWM:", 0) == 0) out += line + "  ";
  return out;
}

// One INSTREAM; returns the reply (without its NUL) or "" on a socket error.
std::string instream(const std::string& path, const std::string& payload) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return "";
  }
  std::size_t off = 0;
  while (off < payload.size()) {
    const ssize_t n = ::send(fd, payload.data() + off, payload.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buf[512];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) reply.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (!reply.empty() && reply.back() == '\0') reply.pop_back();
  return reply;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: mamorid_bench SOCKET FILE [--clients N] [--requests N] [--pid PID]\n";
    return 2;
  }
  const std::string sock = argv[1], file = argv[2];
  int clients = 8, requests = 1000;
  std::string pid;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--clients") clients = std::max(1, std::stoi(argv[i + 1]));
    else if (a == "--requests") requests = std::max(1, std::stoi(argv[i + 1]));
    else if (a == "--pid") pid = argv[i + 1];
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << file << "\n";
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  std::string payload("zINSTREAM\0", 10);
  for (std::size_t off = 0; off < data.size(); off += 64 * 1024) {
    const auto part = data.substr(off, 64 * 1024);
    const auto n = static_cast<std::uint32_t>(part.size());
    const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
    payload.append(len, 4);
    payload += part;
  }
  payload.append(4, '\0');

  if (!pid.empty()) std::cout << "daemon before: " << rss(pid) << "\n";
  std::atomic<int> next{0}, errors{0};
  std::mutex m;
  std::vector<double> lat;
  lat.reserve(static_cast<std::size_t>(requests));
  std::string sample;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int c = 0; c < clients; ++c) {
    ts.emplace_back([&] {
      while (next.fetch_add(1) < requests) {
        const auto a = std::chrono::steady_clock::now();
        const auto r = instream(sock, payload);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
        const bool ok = r.rfind("stream: ", 0) == 0 && (r.size() >= 2 && (r.substr(r.size() - 2) == "OK" || r.find(" FOUND") != std::string::npos));
        std::lock_guard lk(m);
        lat.push_back(ms);
        if (!ok) ++errors;
        if (sample.empty()) sample = r;
      }
    });
  }
  for (auto& t : ts) t.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * static_cast<double>(lat.size())))]; };
  std::cout << "file: " << file << " (" << data.size() << " bytes), clients: " << clients << ", requests: " << lat.size()
            << "\nreply: " << sample << "\nrequests/s: " << static_cast<double>(lat.size()) / secs << "  ("
            << static_cast<double>(lat.size()) * static_cast<double>(data.size()) / secs / 1e6 << " MB/s)"
            << "\nlatency ms: p50 " << pct(0.50) << "  p90 " << pct(0.90) << "  p99 " << pct(0.99) << "  max " << lat.back()
            << "\nbad replies: " << errors.load() << "\n";
  if (!pid.empty()) std::cout << "daemon after: " << rss(pid) << "\n";
  return errors.load() ? 1 : 0;
}
