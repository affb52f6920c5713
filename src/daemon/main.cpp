// mamorid: the clamd-protocol daemon. Parses the command line and the config, sets up logging, detaches (unless
// Foreground), loads the models, listens, and runs until SHUTDOWN, SIGTERM or SIGINT. SIGHUP re-opens the log file,
// SIGUSR2 reloads the models.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "daemon/config.hpp"
#include "daemon/log.hpp"
#include "daemon/onaccess.hpp"
#include "daemon/server.hpp"

namespace {

constexpr const char* kDefaultConfig = "/etc/mamori/mamorid.conf";

void usage(std::ostream& o) {
  o << "Usage: mamorid [--config FILE] [--foreground]\n"
       "\n"
       "mamorid serves mamori's scanner over the clamd protocol (clamd(8)), so clamdscan, clamav-milter and other\n"
       "clamd clients can use it by pointing at its socket.\n"
       "\n"
       "Options:\n"
       "  -c, --config FILE    read the configuration from FILE (default " << kDefaultConfig << ");\n"
       "                       --config-file=FILE is accepted too. The format is clamd.conf's; see\n"
       "                       packaging/mamorid.conf for the options mamorid understands. Unknown options are\n"
       "                       logged as warnings and ignored.\n"
       "  -F, --foreground     stay in the foreground (also: Foreground yes in the config)\n"
       "  -V, --version        print the version and exit\n"
       "  -h, --help           print this help and exit\n"
       "\n"
       "Commands served: PING, VERSION, VERSIONCOMMANDS, SCAN, CONTSCAN, MULTISCAN (scans sequentially),\n"
       "ALLMATCHSCAN, INSTREAM, FILDES (UNIX socket only), STATS, IDSESSION/END, RELOAD, SHUTDOWN; with the z\n"
       "(NUL-terminated) or n (newline-terminated) prefix, or bare where clamd allows it.\n"
       "On-access protection (fanotify; needs CAP_SYS_ADMIN): OnAccessIncludePath, OnAccessExcludePath,\n"
       "OnAccessPrevention, OnAccessExtraScanning, OnAccessTimeout (ms, fail-open), OnAccessMaxFileSize,\n"
       "OnAccessMaxThreads in the config; see docs/onaccess.md.\n"
       "Containers (archives, e-mail): MaxRecursion, MaxFiles, MaxScanSize, MaxRatio, MaxDecompressedSize,\n"
       "MaxDecompressedRatio, MaxScanTime (ms), AlertExceedsMax, AlertEncryptedArchive, AlertEncryptedDoc,\n"
       "ArchivePassword, ArchivePasswordFile in the config; see docs/containers.md.\n"
       "Quarantine: MamoriQuarantine yes moves files found by SCAN & co., FILDES and on-access (with\n"
       "OnAccessPrevention) into MamoriQuarantineDir; MamoriQuarantineStreams yes keeps INSTREAM data found\n"
       "there too. Replies stay clamd's. See docs/quarantine.md.\n"
       "Signals: SIGTERM/SIGINT stop, SIGHUP re-opens the log file, SIGUSR2 reloads the models.\n"
       "Exit status: 0 after a clean stop, 1 when it cannot start (bad config, models, sockets), 2 on bad usage.\n";
}

bool write_pid_file(const std::string& path, std::string& err) {
  std::ofstream f(path, std::ios::trunc);
  if (!f) {
    err = "cannot write PidFile " + path + ": " + std::strerror(errno);
    return false;
  }
  f << ::getpid() << "\n";
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mamori::daemon;
  std::string config_path = kDefaultConfig;
  bool foreground_flag = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      usage(std::cout);
      return 0;
    }
    if (a == "-V" || a == "--version") {
      std::cout << "mamorid " << MAMORI_VERSION << "\n";
      return 0;
    }
    if (a == "-F" || a == "--foreground") {
      foreground_flag = true;
    } else if ((a == "-c" || a == "--config" || a == "--config-file") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config_path = a.substr(9);
    } else if (a.rfind("--config-file=", 0) == 0) {
      config_path = a.substr(14);
    } else {
      std::cerr << "mamorid: unknown argument '" << a << "'\n\n";
      usage(std::cerr);
      return 2;
    }
  }

  auto parsed = load_config(config_path);
  if (!parsed.ok()) {
    std::cerr << "mamorid: " << config_path << ": " << parsed.error().message << "\n";
    return 1;
  }
  Config cfg = parsed->config;
  if (foreground_flag) cfg.foreground = true;

  Log log;
  Log::Options lo;
  lo.file = cfg.log_file;
  lo.syslog = cfg.log_syslog;
  lo.facility = cfg.log_facility;
  lo.verbose = cfg.log_verbose;
  lo.time = cfg.log_time;
  if (const std::string e = log.open(lo); !e.empty()) {
    std::cerr << "mamorid: " << e << "\n";
    return 1;
  }
  for (const auto& w : parsed->warnings) log.warning(config_path + ": " + w);

  // Detach before any thread exists (XGBoost, workers). The parent waits on a pipe until the child is serving or
  // has failed, so start-up errors still reach the caller's terminal and exit status.
  int ready_fd = -1;
  if (!cfg.foreground) {
    if (cfg.log_file.empty() && !cfg.log_syslog)
      log.warning("running in the background with neither LogFile nor LogSyslog: log lines are lost");
    int p[2];
    if (::pipe(p) != 0) {
      std::cerr << "mamorid: pipe: " << std::strerror(errno) << "\n";
      return 1;
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::cerr << "mamorid: fork: " << std::strerror(errno) << "\n";
      return 1;
    }
    if (pid > 0) {
      ::close(p[1]);
      std::string msg;
      char buf[512];
      ssize_t n;
      while ((n = ::read(p[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<std::size_t>(n));
      if (msg == "OK") return 0;
      std::cerr << "mamorid: " << (msg.empty() ? std::string("the daemon exited during start-up") : msg) << "\n";
      return 1;
    }
    ::close(p[0]);
    ready_fd = p[1];
    ::setsid();
    if (::chdir("/") != 0) {
      // Not fatal: paths in SCAN must be absolute anyway.
    }
  }
  auto fail = [&](const std::string& msg) {
    log.error(msg);
    if (ready_fd >= 0) {
      [[maybe_unused]] const ssize_t w = ::write(ready_fd, msg.data(), msg.size());
      ::close(ready_fd);
    } else if (!cfg.log_file.empty() || cfg.log_syslog) {
      std::cerr << "mamorid: " << msg << "\n";
    }
    return 1;
  };

  // Signals are taken synchronously by the main thread; every other thread inherits the blocked mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR2}) sigaddset(&sigs, s);
  ::pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  log.info("Loading the models");
  auto eng = load_engine(cfg);
  if (!eng.ok()) return fail(eng.error().message);

  Server server(cfg, log, *eng, [cfg] { return load_engine(cfg); });
  if (auto st = server.listen(); !st.ok()) return fail(st.error().message);
  if (!cfg.pid_file.empty()) {
    std::string err;
    if (!write_pid_file(cfg.pid_file, err)) return fail(err);
  }
  if (auto st = server.start(); !st.ok()) return fail(st.error().message);
  // On-access protection shares the server's engine (and its RELOADs). Configured but impossible is fatal: a
  // machine believed protected must not silently run unprotected.
  std::unique_ptr<OnAccess> onaccess;
  if (!cfg.onaccess_include.empty()) {
    OnAccess::Quarantiner move;
    if (cfg.quarantine)
      move = [&server](const std::string& path, const mamori::engine::ScanResult& r, Server::Identity scanned) {
        server.quarantine_found(path, r, "mamorid on-access", scanned);
      };
    onaccess = std::make_unique<OnAccess>(cfg, log, [&server] { return server.engine(); }, &server.counters(),
                                          std::move(move));
    if (auto st = onaccess->start(); !st.ok()) {
      server.shutdown();
      return fail(st.error().message);
    }
  }

  if (ready_fd >= 0) {
    [[maybe_unused]] const ssize_t w = ::write(ready_fd, "OK", 2);
    ::close(ready_fd);
    const int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      if (!cfg.log_file.empty() || cfg.log_syslog) ::dup2(devnull, 2);
      if (devnull > 2) ::close(devnull);
    }
  }

  while (!server.stop_requested()) {
    timespec ts{0, 200 * 1000 * 1000};
    const int sig = ::sigtimedwait(&sigs, nullptr, &ts);
    if (sig == SIGTERM || sig == SIGINT) {
      log.info(std::string("Received signal ") + ::strsignal(sig) + ", stopping");
      server.request_stop();
    } else if (sig == SIGHUP) {
      log.info("SIGHUP: re-opening the log file");
      log.reopen();
    } else if (sig == SIGUSR2) {
      server.request_reload();
    }
  }
  if (onaccess) onaccess->stop();
  server.shutdown();
  if (!cfg.pid_file.empty()) ::unlink(cfg.pid_file.c_str());
  return 0;
}
