#include "daemon/log.hpp"

#include <syslog.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>

namespace mamori::daemon {

namespace {

int facility_code(const std::string& name) {
  static const std::map<std::string, int> t = {
      {"LOG_DAEMON", LOG_DAEMON}, {"LOG_MAIL", LOG_MAIL},     {"LOG_USER", LOG_USER},     {"LOG_LOCAL0", LOG_LOCAL0},
      {"LOG_LOCAL1", LOG_LOCAL1}, {"LOG_LOCAL2", LOG_LOCAL2}, {"LOG_LOCAL3", LOG_LOCAL3}, {"LOG_LOCAL4", LOG_LOCAL4},
      {"LOG_LOCAL5", LOG_LOCAL5}, {"LOG_LOCAL6", LOG_LOCAL6}, {"LOG_LOCAL7", LOG_LOCAL7},
  };
  const auto it = t.find(name);
  return it == t.end() ? LOG_LOCAL6 : it->second;
}

const char* level_prefix(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return "";
    case LogLevel::info: return "";
    case LogLevel::warning: return "WARNING: ";
    case LogLevel::error: return "ERROR: ";
  }
  return "";
}

int syslog_priority(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return LOG_DEBUG;
    case LogLevel::info: return LOG_INFO;
    case LogLevel::warning: return LOG_WARNING;
    case LogLevel::error: return LOG_ERR;
  }
  return LOG_INFO;
}

}  // namespace

Log::~Log() {
  if (f_) std::fclose(f_);
  if (syslog_open_) ::closelog();
}

std::string Log::open(const Options& o) {
  std::lock_guard lk(m_);
  o_ = o;
  if (o.syslog) {
    ::openlog("mamorid", LOG_PID, facility_code(o.facility));
    syslog_open_ = true;
    return {};
  }
  if (!o.file.empty()) {
    std::FILE* f = std::fopen(o.file.c_str(), "a");
    if (!f) return "cannot open log file " + o.file + ": " + std::strerror(errno);
    f_ = f;
  }
  return {};
}

void Log::reopen() {
  // The new file is opened without holding the lock: with on-access protection over the log's folder, the open
  // waits for the event thread, which may itself be waiting to log.
  std::string file;
  {
    std::lock_guard lk(m_);
    if (!f_ || o_.file.empty()) return;
    file = o_.file;
  }
  std::FILE* f = std::fopen(file.c_str(), "a");
  if (!f) return;
  std::lock_guard lk(m_);
  if (f_) std::fclose(f_);
  f_ = f;
}

void Log::write(LogLevel level, const std::string& msg) {
  std::lock_guard lk(m_);
  if (level == LogLevel::debug && !o_.verbose) return;
  if (syslog_open_) {
    ::syslog(syslog_priority(level), "%s%s", level_prefix(level), msg.c_str());
    return;
  }
  std::FILE* out = f_ ? f_ : stderr;
  if (o_.time) {
    char ts[64];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&now, &tm);
    std::strftime(ts, sizeof ts, "%a %b %e %H:%M:%S %Y", &tm);
    std::fprintf(out, "%s -> ", ts);
  }
  std::fprintf(out, "%s%s\n", level_prefix(level), msg.c_str());
  std::fflush(out);
}

}  // namespace mamori::daemon
