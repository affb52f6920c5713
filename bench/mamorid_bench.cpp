// Load test for mamorid: N concurrent clients send INSTREAMs over a UNIX socket, either until `requests` replies
// have come back or for `duration` seconds. The payload is one FILE, or files taken from a corpus manifest
// (round-robin, so every client streams a mix of PE and documents). Prints requests/s, latency percentiles, how
// many replies were not `stream: OK`/`stream: ... FOUND` (with the first few), and, given the daemon's pid, its
// RSS and open descriptors at the start, every 10 s and at the end, so growth (a leak) shows.
//
//   mamorid_bench SOCKET FILE [--clients N] [--requests N | --duration S] [--pid PID]
//   mamorid_bench SOCKET --manifest TSV [--kinds pe,office,...] [--max-files N] [--max-size BYTES] [...]
//
// Exit status: 0 when every reply was good, 1 otherwise, 2 on bad usage.
#include <dirent.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

long status_kb(const std::string& pid, const std::string& field) {
  std::ifstream f("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

long open_fds(const std::string& pid) {
  DIR* d = ::opendir(("/proc/" + pid + "/fd").c_str());
  if (!d) return -1;
  long n = 0;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n;
}

std::string sample(const std::string& pid) {
  std::ostringstream o;
  o << "RSS " << status_kb(pid, "VmRSS") / 1024.0 << " MB, peak " << status_kb(pid, "VmHWM") / 1024.0 << " MB, threads "
    << status_kb(pid, "Threads") << ", fds " << open_fds(pid);
  return o.str();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string make_payload(const std::string& data) {
  std::string payload("zINSTREAM\0", 10);
  for (std::size_t off = 0; off < data.size(); off += 64 * 1024) {
    const auto part = data.substr(off, 64 * 1024);
    const auto n = static_cast<std::uint32_t>(part.size());
    const char len[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n)};
    payload.append(len, 4);
    payload += part;
  }
  payload.append(4, '\0');
  return payload;
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

struct Input {
  std::string name;
  std::size_t size;
  std::string payload;
};

// Rows of a corpus manifest (columns named in its header) whose kind is wanted and whose size fits.
std::vector<Input> from_manifest(const std::string& manifest, const std::vector<std::string>& kinds, std::size_t max_files,
                                 std::size_t max_size) {
  std::ifstream f(manifest);
  std::string line;
  std::map<std::string, std::size_t> col;
  std::vector<Input> out;
  std::map<std::string, std::size_t> per_kind;
  std::vector<std::vector<std::string>> rows;
  while (std::getline(f, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '\t')) cells.push_back(cell);
    if (col.empty()) {
      for (std::size_t i = 0; i < cells.size(); ++i) col[cells[i]] = i;
      continue;
    }
    rows.push_back(std::move(cells));
  }
  if (!col.count("kind") || !col.count("path") || !col.count("size")) return out;
  // Round-robin over the kinds, so a small --max-files still mixes them.
  for (std::size_t round = 0; out.size() < max_files; ++round) {
    bool any = false;
    for (const auto& k : kinds) {
      std::size_t seen = 0;
      for (const auto& r : rows) {
        if (r.size() <= std::max({col["kind"], col["path"], col["size"]}) || r[col["kind"]] != k) continue;
        if (std::stoull(r[col["size"]]) > max_size) continue;
        if (seen++ != round) continue;
        const std::string data = read_file(r[col["path"]]);
        if (data.empty()) continue;
        out.push_back({r[col["path"]], data.size(), make_payload(data)});
        ++per_kind[k];
        any = true;
        break;
      }
      if (out.size() >= max_files) break;
    }
    if (!any) break;
  }
  for (const auto& [k, n] : per_kind) std::cout << "inputs: " << n << " " << k << "\n";
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, sep))
    if (!x.empty()) out.push_back(x);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  auto usage = [] {
    std::cerr << "usage: mamorid_bench SOCKET FILE [--clients N] [--requests N | --duration S] [--pid PID]\n"
                 "       mamorid_bench SOCKET --manifest TSV [--kinds pe,office] [--max-files N] [--max-size BYTES] ...\n";
    return 2;
  };
  if (argc < 3) return usage();
  const std::string sock = argv[1];
  std::string file, manifest, pid;
  std::vector<std::string> kinds = {"pe", "office", "pdf", "rtf"};
  int clients = 8, requests = 1000;
  double duration = 0;
  std::size_t max_files = 200, max_size = 20u << 20;
  int i = 2;
  if (argv[2][0] != '-') file = argv[i++];
  for (; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--clients") clients = std::max(1, std::stoi(v));
    else if (a == "--requests") requests = std::max(1, std::stoi(v));
    else if (a == "--duration") duration = std::stod(v);
    else if (a == "--pid") pid = v;
    else if (a == "--manifest") manifest = v;
    else if (a == "--kinds") kinds = split(v, ',');
    else if (a == "--max-files") max_files = std::stoul(v);
    else if (a == "--max-size") max_size = std::stoul(v);
    else return usage();
  }
  if (i != argc) return usage();
  std::vector<Input> inputs;
  if (!manifest.empty()) {
    inputs = from_manifest(manifest, kinds, max_files, max_size);
  } else if (!file.empty()) {
    const std::string data = read_file(file);
    if (!data.empty()) inputs.push_back({file, data.size(), make_payload(data)});
  }
  if (inputs.empty()) {
    std::cerr << "nothing to send (no readable FILE, or no manifest rows of kinds given)\n";
    return 2;
  }
  std::size_t total = 0;
  for (const auto& in : inputs) total += in.size;
  std::cout << "inputs: " << inputs.size() << " files, " << total / 1e6 << " MB, mean " << total / inputs.size() / 1e3 << " KB\n";

  if (!pid.empty()) std::cout << "daemon at start: " << sample(pid) << std::endl;
  std::atomic<long> next{0}, errors{0}, bytes{0};
  std::atomic<bool> done{false};
  std::mutex m;
  std::vector<double> lat;
  std::vector<std::string> bad;
  std::map<std::string, long> verdicts;
  const auto t0 = Clock::now();
  const auto until = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration));
  std::vector<std::thread> ts;
  for (int c = 0; c < clients; ++c) {
    ts.emplace_back([&] {
      std::vector<double> mine;
      for (;;) {
        const long k = next.fetch_add(1);
        if (duration > 0 ? Clock::now() >= until : k >= requests) break;
        const Input& in = inputs[static_cast<std::size_t>(k) % inputs.size()];
        const auto a = Clock::now();
        const auto r = instream(sock, in.payload);
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
        bytes += static_cast<long>(in.size);
        const bool found = r.size() > 6 && r.compare(r.size() - 6, 6, " FOUND") == 0;
        const bool ok = r.rfind("stream: ", 0) == 0 && (r == "stream: OK" || found);
        std::lock_guard lk(m);
        ++verdicts[ok ? (found ? "FOUND" : "OK") : "bad"];
        if (!ok) {
          ++errors;
          if (bad.size() < 5) bad.push_back(in.name + " -> '" + r + "'");
        }
      }
      std::lock_guard lk(m);
      lat.insert(lat.end(), mine.begin(), mine.end());
    });
  }
  // Sample the daemon every 10 s while the clients run.
  std::thread sampler;
  if (!pid.empty())
    sampler = std::thread([&] {
      for (int s = 1; !done.load(); ++s) {
        for (int t = 0; t < 100 && !done.load(); ++t) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (!done.load()) std::cout << "daemon at " << s * 10 << " s: " << sample(pid) << std::endl;
      }
    });
  for (auto& t : ts) t.join();
  done = true;
  if (sampler.joinable()) sampler.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * static_cast<double>(lat.size())))]; };
  std::cout << std::fixed << std::setprecision(1) << "clients: " << clients << ", requests: " << lat.size() << " in " << secs
            << " s (OK " << verdicts["OK"] << ", FOUND " << verdicts["FOUND"] << ")"
            << "\nrequests/s: " << static_cast<double>(lat.size()) / secs << "  (" << static_cast<double>(bytes.load()) / secs / 1e6
            << " MB/s)"
            << "\nlatency ms: p50 " << pct(0.50) << "  p90 " << pct(0.90) << "  p99 " << pct(0.99) << "  max " << lat.back()
            << "\nbad replies: " << errors.load() << "\n";
  for (const auto& b : bad) std::cout << "  " << b << "\n";
  if (!pid.empty()) {
    std::this_thread::sleep_for(std::chrono::seconds(2));  // let closed connections drain
    std::cout << "daemon at end (+2 s idle): " << sample(pid) << "\n";
  }
  return errors.load() ? 1 : 0;
}
