#include "daemon/server.hpp"

#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "common/unique_fd.hpp"
#include "daemon/protocol.hpp"
#include "daemon/spool.hpp"
#include "features/pe_features.hpp"

namespace mamori::daemon {

namespace {

using Clock = std::chrono::steady_clock;

// Longest command line accepted (a path plus the command name); longer lines are refused.
constexpr std::size_t kMaxCommand = 16 * 1024;
// File descriptors a client may have in flight before a FILDES claims them.
constexpr std::size_t kMaxPassedFds = 4;
constexpr std::size_t kReadSize = 64 * 1024;

using Fd = UniqueFd;

std::string errno_text(int e) { return std::strerror(e); }

bool send_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

engine::ScanResult over_limit(std::uint64_t size, std::uint64_t limit, const std::string& name) {
  engine::ScanResult r;
  r.path = name;
  r.size = size;
  r.verdict = engine::Verdict::suspicious;
  r.signature = "Mamori.Limits.Exceeded.FileSize";
  r.anomalies.push_back("larger than MaxFileSize (" + std::to_string(limit) + " bytes)");
  return r;
}

// The reply body for one scanned object, in clamd's words.
std::string result_body(const std::string& name, const engine::ScanResult& r) {
  if (r.found()) return name + ": " + r.signature + " FOUND";
  if (r.verdict == engine::Verdict::error) {
    const bool denied = r.error.find("ermission denied") != std::string::npos;
    return name + ": " + (denied ? std::string("Access denied.") : r.error) + " ERROR";
  }
  return name + ": OK";
}

// The path a passed descriptor was opened by, from /proc (no open, so no fanotify event); empty when it has none
// on disk any more.
std::string fd_target(int fd) {
  char buf[4096];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n <= 0 || buf[0] != '/') return {};
  std::string p(buf, static_cast<std::size_t>(n));
  static const std::string deleted = " (deleted)";
  if (p.size() > deleted.size() && p.compare(p.size() - deleted.size(), deleted.size(), deleted) == 0) return {};
  return p;
}

std::string ctime_text(std::time_t t) {
  char buf[64];
  std::tm tm{};
  ::localtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
  return buf;
}

}  // namespace

struct Server::Conn {
  ~Conn() {
    if (!fd) return;
    // Drain what the client already sent so that closing does not reset the connection under a reply it has not
    // read yet.
    ::shutdown(fd.get(), SHUT_WR);
    char sink[4096];
    for (int i = 0; i < 16 && ::recv(fd.get(), sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
    }
  }

  Fd fd;
  bool is_unix = false;
  std::string peer;
  std::string in;  // received, not yet framed

  bool streaming = false;
  StreamDecoder dec{0};
  StreamSpool data;
  std::string spool_error;
  unsigned stream_id = 0;
  char stream_term = '\n';

  bool await_fildes = false;  // FILDES framed; waiting for its dummy byte
  unsigned fildes_id = 0;
  char fildes_term = '\n';
  std::deque<Fd> passed;  // descriptors received with SCM_RIGHTS

  bool session = false;
  unsigned next_id = 1;
  bool busy = false;       // a worker has it
  bool close_now = false;  // the I/O thread closes it as soon as it is not busy
  Clock::time_point deadline;
};

struct Server::Job {
  std::shared_ptr<Conn> conn;
  Cmd cmd = Cmd::unknown;
  std::string arg;
  unsigned id = 0;
  char term = '\n';
  std::string reply;  // Cmd::unknown: send this body
  StreamSpool data;
  Fd fd;
  bool close_after = true;
};

Result<EnginePtr> load_engine(const Config& cfg) {
  const std::string root = cfg.model_dir.empty() ? engine::default_model_dir() : cfg.model_dir;
  auto m = engine::load_models(root);
  if (!m.ok()) return m.error();
  engine::Options opt;
  opt.explain = false;
  opt.alert_suspicious = cfg.alert_suspicious;
  opt.limits.max_file_size = cfg.max_file_size;
  opt.limits.max_depth = cfg.max_recursion;
  opt.limits.max_members = cfg.max_files;
  opt.limits.max_extracted_bytes = cfg.max_scan_size;
  opt.limits.max_ratio = cfg.max_ratio;
  opt.limits.max_decompressed_bytes = cfg.max_decompressed_size;
  opt.limits.max_decompressed_ratio = cfg.max_decompressed_ratio;
  opt.limits.max_seconds = static_cast<double>(cfg.max_scan_time_ms) / 1000.0;
  opt.limits.limits_are_suspicious = cfg.alert_exceeds_max;
  opt.encrypted_is_suspicious = cfg.alert_encrypted_archive;
  opt.encrypted_documents_are_suspicious = cfg.alert_encrypted_doc;
  {
    std::vector<std::string> pw = cfg.archive_passwords;
    if (!cfg.archive_password_file.empty()) {
      std::ifstream in(cfg.archive_password_file);
      if (!in) return make_error(ErrorCode::io, "cannot read ArchivePasswordFile " + cfg.archive_password_file);
      for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) pw.push_back(line);
      }
    }
    for (const auto& d : opt.archive_passwords)
      if (std::find(pw.begin(), pw.end(), d) == pw.end()) pw.push_back(d);
    opt.archive_passwords = std::move(pw);
  }
  std::string version = std::string("mamori ") + MAMORI_VERSION + "/" + m->pe->name();
  struct stat st{};
  if (::stat((root + "/pe/model.json").c_str(), &st) == 0) version += "/" + ctime_text(st.st_mtime);
  return std::make_shared<const Engine>(Engine{engine::Scanner(std::move(m).value(), opt), version});
}

Server::Server(Config cfg, Log& log, EnginePtr engine, Loader loader)
    : cfg_(std::move(cfg)), log_(log), loader_(std::move(loader)), engine_(std::move(engine)) {
  counters_.onaccess_on = !cfg_.onaccess_include.empty();
  counters_.quarantine_on = cfg_.quarantine || cfg_.quarantine_streams;
}

Server::~Server() {
  if (started_) shutdown();
  for (const auto& l : listeners_) ::close(l.fd);
  if (wake_r_ >= 0) ::close(wake_r_);
  if (wake_w_ >= 0) ::close(wake_w_);
}

EnginePtr Server::engine() const {
  std::lock_guard lk(engine_m_);
  return engine_;
}

Status Server::listen() {
  if (!cfg_.local_socket.empty()) {
    const std::string& path = cfg_.local_socket;
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) return make_error(ErrorCode::invalid_argument, "LocalSocket path too long: " + path);
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    const auto* addr = reinterpret_cast<const sockaddr*>(&sa);
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) return make_error(ErrorCode::invalid_argument, path + " exists and is not a socket");
      Fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (probe && ::connect(probe.get(), addr, sizeof sa) == 0)
        return make_error(ErrorCode::invalid_argument, "socket " + path + " is in use by another process");
      ::unlink(path.c_str());  // stale socket from a previous run
    }
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return make_error(ErrorCode::io, "socket(AF_UNIX): " + errno_text(errno));
    if (::bind(fd.get(), addr, sizeof sa) != 0) return make_error(ErrorCode::io, "cannot bind " + path + ": " + errno_text(errno));
    unix_bound_ = true;
    if (::chmod(path.c_str(), cfg_.local_socket_mode) != 0)
      log_.warning("cannot chmod " + path + ": " + errno_text(errno));
    if (!cfg_.local_socket_group.empty()) {
      if (const group* g = ::getgrnam(cfg_.local_socket_group.c_str())) {
        if (::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0)
          log_.warning("cannot chown " + path + " to group " + cfg_.local_socket_group + ": " + errno_text(errno));
      } else {
        log_.warning("LocalSocketGroup: no group named " + cfg_.local_socket_group);
      }
    }
    if (::listen(fd.get(), cfg_.max_connection_queue_length) != 0)
      return make_error(ErrorCode::io, "listen on " + path + ": " + errno_text(errno));
    log_.info("Listening on UNIX socket " + path);
    listeners_.push_back({fd.release(), true});
  }
  if (cfg_.tcp_port) {
    const std::string port = std::to_string(cfg_.tcp_port);
    for (const auto& a : cfg_.tcp_addr) {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      hints.ai_flags = AI_PASSIVE;
      addrinfo* res = nullptr;
      const int rc = ::getaddrinfo(a == "any" ? nullptr : a.c_str(), port.c_str(), &hints, &res);
      if (rc != 0) return make_error(ErrorCode::invalid_argument, "TCPAddr " + a + ": " + ::gai_strerror(rc));
      Status st;
      for (addrinfo* p = res; p && st.ok(); p = p->ai_next) {
        const int fd = ::socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, p->ai_protocol);
        if (fd < 0) continue;
        const int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd, p->ai_addr, p->ai_addrlen) != 0 || ::listen(fd, cfg_.max_connection_queue_length) != 0) {
          st = make_error(ErrorCode::io, "cannot listen on " + a + ":" + port + ": " + errno_text(errno));
          ::close(fd);
          break;
        }
        listeners_.push_back({fd, false});
        bound_tcp_port_ = cfg_.tcp_port;
        log_.info("Listening on TCP " + a + ":" + port);
      }
      ::freeaddrinfo(res);
      if (!st.ok()) return st;
    }
  }
  if (listeners_.empty()) return make_error(ErrorCode::invalid_argument, "no socket to listen on");
  return {};
}

Status Server::start() {
  if ((cfg_.quarantine || cfg_.quarantine_streams) && !vault_) {
    auto v = quarantine::Vault::open(cfg_.quarantine_dir);
    if (!v.ok()) return make_error(v.error().code, "MamoriQuarantineDir: " + v.error().message);
    vault_ = std::move(v).value();
    for (const auto& n : vault_->last_recovery().notes) log_.info("quarantine recovery: " + n);
  }
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return make_error(ErrorCode::io, "pipe: " + errno_text(errno));
  wake_r_ = p[0];
  wake_w_ = p[1];
  started_ = true;
  io_ = std::thread([this] { io_loop(); });
  for (int i = 0; i < cfg_.max_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
  reloader_ = std::thread([this] { reload_loop(); });
  log_.info("mamorid started: " + std::to_string(cfg_.max_threads) + " workers, at most " +
            std::to_string(cfg_.max_queue) + " connections, StreamMaxLength " + std::to_string(cfg_.stream_max_length) +
            ", MaxFileSize " + std::to_string(cfg_.max_file_size) + "; engine " + engine()->version);
  return {};
}

void Server::wake() {
  if (wake_w_ >= 0) {
    const char b = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_w_, &b, 1);  // a full pipe already means "wake up"
  }
}

void Server::request_stop() {
  stop_.store(true);
  wake();
  { std::lock_guard lk(stop_m_); }
  stop_cv_.notify_all();
  { std::lock_guard lk(reload_m_); }
  reload_cv_.notify_all();
}

bool Server::wait_for_stop(int ms) {
  std::unique_lock lk(stop_m_);
  return stop_cv_.wait_for(lk, std::chrono::milliseconds(ms), [&] { return stop_.load(); });
}

void Server::request_reload() {
  {
    std::lock_guard lk(reload_m_);
    reload_wanted_ = true;
  }
  reload_cv_.notify_all();
}

void Server::shutdown() {
  if (shut_down_ || !started_) return;
  shut_down_ = true;
  stop_.store(true);
  wake();
  if (io_.joinable()) io_.join();
  {
    std::lock_guard lk(q_m_);
    workers_stop_ = true;
  }
  q_cv_.notify_all();
  // Workers blocked sending to a slow client give up at once.
  for (auto& [fd, c] : conns_)
    if (c->busy) ::shutdown(fd, SHUT_RDWR);
  for (auto& w : workers_) w.join();
  { std::lock_guard lk(reload_m_); }
  reload_cv_.notify_all();
  if (reloader_.joinable()) reloader_.join();
  queue_.clear();
  back_.clear();
  conns_.clear();
  for (const auto& l : listeners_) ::close(l.fd);
  listeners_.clear();
  if (unix_bound_) ::unlink(cfg_.local_socket.c_str());
  log_.info("mamorid stopped");
}

void Server::reload_loop() {
  for (;;) {
    std::unique_lock lk(reload_m_);
    reload_cv_.wait(lk, [&] { return reload_wanted_ || stop_.load(); });
    if (stop_.load()) return;
    reload_wanted_ = false;
    lk.unlock();
    try {
      log_.info("Reloading the models");
      auto e = loader_();
      if (e.ok()) {
        {
          std::lock_guard ek(engine_m_);
          engine_ = *e;
        }
        log_.info("Models reloaded: " + (*e)->version);
      } else {
        log_.error("Reload failed, keeping the previous models: " + e.error().message);
      }
    } catch (const std::exception& ex) {
      log_.error(std::string("Reload failed, keeping the previous models: ") + ex.what());
    } catch (...) {
      log_.error("Reload failed, keeping the previous models");
    }
  }
}

// ---- I/O thread ----

void Server::io_loop() {
  std::vector<pollfd> pfds;
  std::vector<std::shared_ptr<Conn>> polled;
  while (!stop_.load()) {
    try {
      // Connections the workers are done with.
      std::vector<std::shared_ptr<Conn>> back;
      {
        std::lock_guard lk(back_m_);
        back.swap(back_);
      }
      for (auto& c : back) {
        c->busy = false;
        if (!c->close_now) {
          c->deadline = Clock::now() + std::chrono::seconds(cfg_.read_timeout);
          process(c);  // commands already buffered (IDSESSION pipelining)
        }
        if (c->close_now && !c->busy) conns_.erase(c->fd.get());
      }
      back.clear();  // the last reference to a closed connection: close it now, not after the next poll

      pfds.clear();
      polled.clear();
      pfds.push_back({wake_r_, POLLIN, 0});
      const bool accepting = conns_.size() < static_cast<std::size_t>(cfg_.max_queue);
      if (accepting)
        for (const auto& l : listeners_) pfds.push_back({l.fd, POLLIN, 0});
      const std::size_t first_conn = pfds.size();
      auto next = Clock::now() + std::chrono::seconds(1);
      for (auto& [fd, c] : conns_) {
        if (c->busy) continue;
        pfds.push_back({fd, POLLIN, 0});
        polled.push_back(c);
        next = std::min(next, c->deadline);
      }
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
      const int n = ::poll(pfds.data(), pfds.size(), static_cast<int>(std::clamp<long long>(wait, 0, 1000)));
      if (n < 0 && errno != EINTR) {
        log_.error("poll: " + errno_text(errno));
        continue;
      }
      if (pfds[0].revents & POLLIN) {
        char sink[256];
        while (::read(wake_r_, sink, sizeof sink) > 0) {
        }
      }
      if (accepting)
        for (std::size_t i = 0; i < listeners_.size(); ++i)
          if (pfds[1 + i].revents & POLLIN) accept_one(listeners_[i].fd, listeners_[i].is_unix);
      for (std::size_t i = 0; i < polled.size(); ++i)
        if (pfds[first_conn + i].revents) read_conn(polled[i]);

      // Timeouts and closes.
      const auto now = Clock::now();
      std::vector<int> gone;
      for (auto& [fd, c] : conns_) {
        if (c->busy) continue;
        if (!c->close_now && now >= c->deadline) {
          log_.info("Client " + c->peer + " timed out" + (c->streaming ? " during INSTREAM" : ""));
          static const char msg[] = "COMMAND READ TIMED OUT\n";
          [[maybe_unused]] const ssize_t w = ::send(fd, msg, sizeof msg - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
          c->close_now = true;
        }
        if (c->close_now) gone.push_back(fd);
      }
      for (int fd : gone) conns_.erase(fd);
    } catch (const std::exception& ex) {
      log_.error(std::string("I/O loop: ") + ex.what());
    } catch (...) {
      log_.error("I/O loop: unknown exception");
    }
  }
}

void Server::accept_one(int lfd, bool is_unix) {
  const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) log_.warning("accept: " + errno_text(errno));
    return;
  }
  timeval tv{};
  tv.tv_sec = cfg_.send_timeout;
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  auto c = std::make_shared<Conn>();
  c->fd.reset(fd);
  c->is_unix = is_unix;
  if (is_unix) {
    c->peer = "local#" + std::to_string(fd);
  } else {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
      ::getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV);
    c->peer = std::string(host) + "@" + serv;
  }
  c->deadline = Clock::now() + std::chrono::seconds(cfg_.command_read_timeout);
  conns_[fd] = std::move(c);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wsign-compare"
void Server::read_conn(const std::shared_ptr<Conn>& c) {
  char buf[kReadSize];
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
  iovec iov{buf, sizeof buf};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (c->is_unix) {
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
  }
  const ssize_t n = ::recvmsg(c->fd.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    log_.debug("Client " + c->peer + ": " + errno_text(errno));
    c->close_now = true;
    return;
  }
  if (c->is_unix) {
    for (cmsghdr* h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h)) {
      if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
      const std::size_t count = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int pfd;
        std::memcpy(&pfd, CMSG_DATA(h) + i * sizeof(int), sizeof pfd);
        c->passed.emplace_back(pfd);
      }
    }
    if (msg.msg_flags & MSG_CTRUNC) log_.warning("Client " + c->peer + " sent more descriptors than accepted");
  }
  if (c->passed.size() > kMaxPassedFds) {
    auto j = std::make_unique<Job>();
    j->conn = c;
    j->reply = "PROTOCOL ERROR: too many file descriptors. ERROR";
    c->passed.clear();
    dispatch(std::move(j));
    return;
  }
  if (n == 0) {
    if (c->streaming) log_.info("Client " + c->peer + " disconnected during INSTREAM");
    else log_.debug("Client " + c->peer + " closed the connection");
    c->close_now = true;
    return;
  }
  c->in.append(buf, static_cast<std::size_t>(n));
  if (c->streaming) c->deadline = Clock::now() + std::chrono::seconds(cfg_.read_timeout);
  process(c);
}
#pragma GCC diagnostic pop

void Server::process(const std::shared_ptr<Conn>& c) {
  auto reply_and_close = [&](unsigned id, char term, std::string body) {
    auto j = std::make_unique<Job>();
    j->conn = c;
    j->id = id;
    j->term = term;
    j->reply = std::move(body);
    dispatch(std::move(j));
  };
  while (!c->busy && !c->close_now) {
    if (c->streaming) {
      const auto st = c->dec.feed(c->in, [&c](const std::uint8_t* d, std::size_t n) {
        auto r = c->data.append(d, n);
        if (!r.ok()) c->spool_error = r.error().message;
        return r.ok();
      });
      if (st == StreamDecoder::State::need_more) return;
      c->streaming = false;
      if (st == StreamDecoder::State::too_large) {
        log_.warning("Client " + c->peer + ": INSTREAM size limit (" + std::to_string(cfg_.stream_max_length) + ") exceeded");
        c->data = StreamSpool();
        reply_and_close(c->stream_id, c->stream_term, "INSTREAM size limit exceeded. ERROR");
        return;
      }
      if (st == StreamDecoder::State::sink_failed) {
        log_.error("Client " + c->peer + ": INSTREAM: " + c->spool_error);
        c->data = StreamSpool();
        reply_and_close(c->stream_id, c->stream_term, "Error writing to temporary file. ERROR");
        return;
      }
      auto j = std::make_unique<Job>();
      j->conn = c;
      j->cmd = Cmd::instream;
      j->id = c->stream_id;
      j->term = c->stream_term;
      j->data = std::move(c->data);
      j->close_after = !c->session;
      dispatch(std::move(j));
      return;
    }
    if (c->await_fildes) {
      if (c->in.empty()) return;
      c->in.erase(0, 1);  // the dummy byte that carried the descriptor
      c->await_fildes = false;
      auto j = std::make_unique<Job>();
      j->conn = c;
      j->cmd = Cmd::fildes;
      j->id = c->fildes_id;
      j->term = c->fildes_term;
      if (!c->passed.empty()) {
        j->fd = std::move(c->passed.front());
        c->passed.pop_front();
      }
      j->close_after = !c->session;
      dispatch(std::move(j));
      return;
    }

    RawCommand raw;
    const Framing f = next_command(c->in, kMaxCommand, raw);
    if (f == Framing::need_more) {
      // Every complete command is framed: a descriptor nobody claimed is a protocol error (it may arrive in the
      // same read as the commands before its FILDES, so this is checked only here).
      if (!c->passed.empty() && c->in.empty()) {
        c->passed.clear();
        reply_and_close(c->session ? c->next_id : 0, '\n', "PROTOCOL ERROR: ancillary data sent without FILDES. ERROR");
      }
      return;
    }
    if (f == Framing::too_long) {
      log_.warning("Client " + c->peer + ": command line too long");
      reply_and_close(0, '\n', "Error processing command. ERROR");
      return;
    }
    c->deadline = Clock::now() + std::chrono::seconds(cfg_.read_timeout);
    const ParsedCommand p = parse_command(raw);
    const unsigned id = c->session ? c->next_id++ : 0;
    log_.debug("Client " + c->peer + ": command '" + raw.text + "'");
    if (c->session && raw.legacy) {
      reply_and_close(id, raw.term,
                      "Only new-line terminated nCMDS or NULL-terminated zCMDS are accepted inside IDSESSION. ERROR");
      return;
    }
    if (c->session && p.cmd != Cmd::unknown && !allowed_in_session(p.cmd)) {
      reply_and_close(id, raw.term, "Command invalid inside IDSESSION. ERROR");
      return;
    }
    switch (p.cmd) {
      case Cmd::unknown:
        log_.debug("Client " + c->peer + ": unknown command");
        reply_and_close(id, raw.term, "UNKNOWN COMMAND");
        return;
      case Cmd::idsession:
        c->session = true;
        c->next_id = 1;
        continue;
      case Cmd::end:
        if (!c->session) {
          reply_and_close(id, raw.term, "UNKNOWN COMMAND");
          return;
        }
        c->close_now = true;
        return;
      case Cmd::detstats:
        c->close_now = true;
        return;
      case Cmd::instream:
        c->streaming = true;
        c->dec = StreamDecoder(cfg_.stream_max_length);
        c->data = StreamSpool(cfg_.stream_spool_threshold, cfg_.temporary_directory, engine()->scanner.options().limits.max_file_size);
        c->stream_id = id;
        c->stream_term = raw.term;
        continue;
      case Cmd::fildes:
        c->await_fildes = true;
        c->fildes_id = id;
        c->fildes_term = raw.term;
        continue;
      default: {
        auto j = std::make_unique<Job>();
        j->conn = c;
        j->cmd = p.cmd;
        j->arg = p.arg;
        j->id = id;
        j->term = raw.term;
        j->close_after = !c->session || p.cmd == Cmd::reload || p.cmd == Cmd::shutdown;
        dispatch(std::move(j));
        return;
      }
    }
  }
}

void Server::dispatch(std::unique_ptr<Job> j) {
  j->conn->busy = true;
  {
    std::lock_guard lk(q_m_);
    queue_.push_back(std::move(j));
  }
  q_cv_.notify_one();
}

void Server::give_back(const std::shared_ptr<Conn>& c) {
  {
    std::lock_guard lk(back_m_);
    back_.push_back(c);
  }
  wake();
}

// ---- workers ----

void Server::worker_loop() {
  for (;;) {
    std::unique_ptr<Job> j;
    {
      std::unique_lock lk(q_m_);
      q_cv_.wait(lk, [&] { return workers_stop_ || !queue_.empty(); });
      if (workers_stop_) return;
      j = std::move(queue_.front());
      queue_.pop_front();
    }
    busy_workers_.fetch_add(1);
    try {
      run_job(*j);
    } catch (const std::exception& ex) {
      log_.error(std::string("Worker: ") + ex.what());
      j->conn->close_now = true;
    } catch (...) {
      log_.error("Worker: unknown exception");
      j->conn->close_now = true;
    }
    busy_workers_.fetch_sub(1);
    if (j->close_after) j->conn->close_now = true;
    auto c = std::move(j->conn);
    j.reset();  // closes a passed descriptor in this thread; never the connection's socket
    give_back(c);
  }
}

std::string Server::stats_text() const {
  std::size_t queued;
  {
    std::lock_guard lk(q_m_);
    queued = queue_.size();
  }
  const int busy = busy_workers_.load();
  return "POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live " + std::to_string(cfg_.max_threads) + "  idle " +
         std::to_string(std::max(0, cfg_.max_threads - busy)) + " max " + std::to_string(cfg_.max_threads) +
         " idle-timeout " + std::to_string(cfg_.idle_timeout) + "\nQUEUE: " + std::to_string(queued) +
         " items\n\tSTATS 0.000000 \n\nMEMSTATS: heap N/A mmap N/A used N/A free N/A releasable N/A pools 1 "
         "pools_used N/A pools_total N/A\n" +
         counters_.stats_lines() + "END";
}

namespace {

quarantine::Detection detection_of(const engine::ScanResult& r, const std::string& via) {
  quarantine::Detection d;
  d.verdict = engine::verdict_name(r.verdict);
  d.signature = r.signature;
  d.sha256 = r.sha256;
  d.size = r.size;
  for (const auto& a : r.anomalies) d.reasons.push_back("anomaly: " + a);
  for (const auto& x : r.reasons) d.reasons.push_back(x.feature + "=" + std::to_string(x.value));
  d.via = via;
  return d;
}

}  // namespace

void Server::quarantine_found(const std::string& path, const engine::ScanResult& r, const std::string& via,
                              std::optional<Identity> scanned) {
  if (!vault_ || !cfg_.quarantine || !r.found()) return;
  quarantine::Detection d = detection_of(r, via);
  if (scanned) {
    d.dev = scanned->dev;
    d.ino = scanned->ino;
  }
  auto moved = vault_->quarantine(path, d);
  if (moved.ok()) {
    Counters::bump(counters_.q_moved);
    log_.info(path + ": quarantined as entry " + std::to_string(moved->entry.id) + " (" + moved->vault_file + ")");
  } else {
    Counters::bump(counters_.q_failed);
    log_.warning(path + ": quarantine failed: " + moved.error().message);
  }
}

void Server::store_found(ByteView data, const std::string& origin, const engine::ScanResult& r, const std::string& via) {
  if (!vault_ || !cfg_.quarantine_streams || !r.found()) return;
  if (r.sha256.empty() || data.size() != r.size) {
    // Over MaxFileSize the data was counted, not kept: there is nothing whole to store.
    Counters::bump(counters_.q_failed);
    log_.warning(origin + " (" + via + "): not stored in the quarantine: its bytes were not kept (over MaxFileSize)");
    return;
  }
  auto stored = vault_->store(data.data(), static_cast<std::size_t>(data.size()), origin, detection_of(r, via));
  if (stored.ok()) {
    Counters::bump(counters_.q_stored);
    log_.info(origin + " (" + via + "): stored in the quarantine as entry " + std::to_string(stored->entry.id) + " (" +
              stored->vault_file + ")");
  } else {
    Counters::bump(counters_.q_failed);
    log_.warning(origin + " (" + via + "): quarantine store failed: " + stored.error().message);
  }
}

void Server::run_job(Job& j) {
  const int sock = j.conn->fd.get();
  bool ok = true;
  auto send = [&](const std::string& body) {
    if (ok) ok = send_all(sock, format_reply(j.id, body, j.term));
    return ok;
  };
  const EnginePtr eng = engine();
  const engine::Scanner& scanner = eng->scanner;
  const std::uint64_t max_size = scanner.options().limits.max_file_size;
  auto log_result = [&](const std::string& name, const engine::ScanResult& r) {
    if (r.found()) log_.info(name + ": " + r.signature + " FOUND");
    else if (r.verdict == engine::Verdict::error) log_.info(name + ": " + r.error + " ERROR");
    else if (cfg_.log_clean) log_.info(name + ": OK");
  };

  switch (j.cmd) {
    case Cmd::unknown: send(j.reply); break;
    case Cmd::ping: send("PONG"); break;
    case Cmd::version: send(cfg_.enable_version_command ? eng->version : "COMMAND UNAVAILABLE"); break;
    case Cmd::versioncommands: {
      std::string s = eng->version + "| COMMANDS:";
      for (const auto& n : command_names()) s += " " + n;
      send(s);
      break;
    }
    case Cmd::stats: send(cfg_.enable_stats_command ? stats_text() : "COMMAND UNAVAILABLE"); break;
    case Cmd::reload:
      if (!cfg_.enable_reload_command) {
        send("COMMAND UNAVAILABLE");
        break;
      }
      send("RELOADING");
      request_reload();
      break;
    case Cmd::shutdown:
      if (!cfg_.enable_shutdown_command) {
        send("COMMAND UNAVAILABLE");
        break;
      }
      log_.info("SHUTDOWN requested by client " + j.conn->peer);
      request_stop();
      break;
    case Cmd::instream: {
      const std::string name = "stream";
      const std::uint64_t size = j.data.size();
      if (size > max_size) {
        const auto r = over_limit(size, max_size, name);
        log_result("instream(" + j.conn->peer + ")", r);
        send(result_body(name, r));
        store_found(ByteView(), name, r, "mamorid INSTREAM from " + j.conn->peer);
        break;
      }
      if (j.data.spooled())
        log_.debug("Client " + j.conn->peer + ": INSTREAM spooled to a temporary file (" + std::to_string(size) + " bytes)");
      auto bytes = j.data.take();
      if (!bytes.ok()) {
        log_.error("Client " + j.conn->peer + ": INSTREAM: " + bytes.error().message);
        send("Error writing to temporary file. ERROR");
        break;
      }
      const auto r = scanner.scan_bytes(bytes->view(), name);
      log_result("instream(" + j.conn->peer + ")", r);
      send(result_body(name, r));
      store_found(bytes->view(), name, r, "mamorid INSTREAM from " + j.conn->peer);
      break;
    }
    case Cmd::fildes: {
      if (!j.fd) {
        send("No file descriptor received. ERROR");
        break;
      }
      const std::string name = "fd[" + std::to_string(j.fd.get()) + "]";
      struct stat st{};
      if (::fstat(j.fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        send(name + ": Not a regular file ERROR");
        break;
      }
      const auto size = static_cast<std::uint64_t>(st.st_size);
      engine::ScanResult r;
      std::optional<MappedFile> file;
      if (size > max_size) {
        r = over_limit(size, max_size, name);
      } else if (size == 0) {
        r = scanner.scan_bytes(ByteView(), name);
      } else {
        auto m = MappedFile::from_fd(j.fd.get(), name, max_size);
        if (!m.ok()) {
          send(name + ": " + m.error().message + " ERROR");
          break;
        }
        file.emplace(std::move(m).value());
        r = scanner.scan_bytes(file->view(), name);
      }
      log_result(name, r);
      send(result_body(name, r));
      if (r.found()) {
        // A descriptor of a named file moves that file (checked to be the same inode); one without a name (deleted,
        // memfd) can only be stored.
        const std::string target = fd_target(j.fd.get());
        if (st.st_nlink > 0 && !target.empty())
          quarantine_found(target, r, "mamorid FILDES",
                           Identity{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)});
        else
          store_found(file ? file->view() : ByteView(), "fildes", r, "mamorid FILDES");
      }
      break;
    }
    case Cmd::allmatchscan:
      if (!cfg_.allow_all_match_scan) {
        send(j.arg + ": ALLMATCHSCAN command disabled by clamd configuration. ERROR");
        break;
      }
      [[fallthrough]];
    case Cmd::scan:
    case Cmd::contscan:
    case Cmd::multiscan: {
      namespace fs = std::filesystem;
      const std::string& path = j.arg;
      const bool stop_at_first = j.cmd == Cmd::scan || j.cmd == Cmd::allmatchscan;
      if (path.empty() || path[0] != '/') {
        send(path + ": File path check failure: a full path is required. ERROR");
        break;
      }
      struct stat st{};
      if (::stat(path.c_str(), &st) != 0) {
        send(path + ": File path check failure: " + errno_text(errno) + ". ERROR");
        break;
      }
      if (S_ISREG(st.st_mode)) {
        const auto r = scanner.scan_file(path);
        log_result(path, r);
        send(result_body(path, r));
        quarantine_found(path, r, "mamorid");
        break;
      }
      if (!S_ISDIR(st.st_mode)) {
        send(path + ": Not supported file type ERROR");
        break;
      }
      std::size_t infected = 0;
      std::error_code ec;
      fs::recursive_directory_iterator it(path, ec), end;
      if (ec) {
        send(path + ": File path check failure: " + ec.message() + ". ERROR");
        break;
      }
      for (; ok && it != end; it.increment(ec)) {
        if (ec) {
          send(path + ": File path check failure: " + ec.message() + ". ERROR");
          break;
        }
        std::error_code e2;
        const auto s = it->symlink_status(e2);
        if (e2) continue;
        const std::string file = it->path().string();
        if (fs::is_symlink(s)) {
          if (!cfg_.follow_file_symlinks || !fs::is_regular_file(fs::status(it->path(), e2))) continue;
        } else if (!fs::is_regular_file(s)) {
          continue;
        }
        const auto r = scanner.scan_file(file);
        log_result(file, r);
        if (r.found()) {
          ++infected;
          send(result_body(file, r));
          quarantine_found(file, r, "mamorid");
          if (stop_at_first) break;
        } else if (r.verdict == engine::Verdict::error) {
          send(result_body(file, r));
        }
      }
      if (infected == 0) send(path + ": OK");
      break;
    }
    default: send("UNKNOWN COMMAND"); break;
  }
  if (!ok) {
    log_.debug("Client " + j.conn->peer + " went away before the reply");
    j.conn->close_now = true;
  }
}

}  // namespace mamori::daemon
