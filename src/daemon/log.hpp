// mamorid's one log sink: stderr, a file, or syslog. The daemon library never prints; everything it has to say goes
// through a Log passed in by the caller. Thread-safe.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

namespace mamori::daemon {

enum class LogLevel { debug, info, warning, error };

class Log {
 public:
  struct Options {
    std::string file;        // append here ("" = stderr)
    bool syslog = false;     // send to syslog instead
    std::string facility = "LOG_LOCAL6";
    bool verbose = false;    // emit debug lines
    bool time = false;       // prefix lines with the local time (file/stderr only)
  };

  Log() = default;
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  /// Opens the sink; on failure the sink stays stderr and the error is returned as text.
  std::string open(const Options& o);
  /// Re-opens the log file (after logrotate; SIGHUP).
  void reopen();

  void write(LogLevel level, const std::string& msg);
  void debug(const std::string& m) { write(LogLevel::debug, m); }
  void info(const std::string& m) { write(LogLevel::info, m); }
  void warning(const std::string& m) { write(LogLevel::warning, m); }
  void error(const std::string& m) { write(LogLevel::error, m); }

 private:
  std::mutex m_;
  Options o_;
  std::FILE* f_ = nullptr;  // nullptr = stderr
  bool syslog_open_ = false;
};

}  // namespace mamori::daemon
