#include "daemon/config.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

namespace mamori::daemon {

namespace {

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Result<bool> parse_bool(const std::string& v) {
  const auto l = lower(v);
  if (l == "yes" || l == "true" || l == "1" || l == "on") return true;
  if (l == "no" || l == "false" || l == "0" || l == "off") return false;
  return make_error(ErrorCode::invalid_argument, "expected yes or no, got '" + v + "'");
}

Result<long long> parse_int(const std::string& v, long long lo, long long hi) {
  if (v.empty()) return make_error(ErrorCode::invalid_argument, "expected a number");
  std::size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(v, &used, 10);
  } catch (...) {
    return make_error(ErrorCode::invalid_argument, "expected a number, got '" + v + "'");
  }
  if (used != v.size()) return make_error(ErrorCode::invalid_argument, "expected a number, got '" + v + "'");
  if (n < lo || n > hi)
    return make_error(ErrorCode::invalid_argument,
                      "'" + v + "' is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
  return n;
}

using Setter = std::function<Status(Config&, const std::string&)>;

Setter str(std::string Config::*m) {
  return [m](Config& c, const std::string& v) -> Status {
    c.*m = v;
    return {};
  };
}
Setter boolean(bool Config::*m) {
  return [m](Config& c, const std::string& v) -> Status {
    auto b = parse_bool(v);
    if (!b.ok()) return b.error();
    c.*m = *b;
    return {};
  };
}
Setter integer(int Config::*m, int lo, int hi) {
  return [m, lo, hi](Config& c, const std::string& v) -> Status {
    auto n = parse_int(v, lo, hi);
    if (!n.ok()) return n.error();
    c.*m = static_cast<int>(*n);
    return {};
  };
}
// Ratios are whole numbers in the file (as clamd's limits are) and doubles in the engine.
Setter ratio(double Config::*m, long long lo) {
  return [m, lo](Config& c, const std::string& v) -> Status {
    auto n = parse_int(v, lo, 1000000000);
    if (!n.ok()) return n.error();
    c.*m = static_cast<double>(*n);
    return {};
  };
}
Setter size(std::uint64_t Config::*m) {
  return [m](Config& c, const std::string& v) -> Status {
    auto n = parse_size(v);
    if (!n.ok()) return n.error();
    c.*m = *n;
    return {};
  };
}

Setter append(std::vector<std::string> Config::*m) {
  return [m](Config& c, const std::string& v) -> Status {
    (c.*m).push_back(v);
    return {};
  };
}

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> t = {
      {"localsocket", str(&Config::local_socket)},
      {"localsocketmode",
       [](Config& c, const std::string& v) -> Status {
         if (v.empty() || v.size() > 4 || v.find_first_not_of("01234567") != std::string::npos)
           return make_error(ErrorCode::invalid_argument, "expected an octal mode such as 660, got '" + v + "'");
         c.local_socket_mode = static_cast<unsigned>(std::stoul(v, nullptr, 8));
         return {};
       }},
      {"localsocketgroup", str(&Config::local_socket_group)},
      {"tcpsocket", integer(&Config::tcp_port, 1, 65535)},
      {"tcpaddr",
       [](Config& c, const std::string& v) -> Status {
         c.tcp_addr.push_back(v);
         return {};
       }},
      {"maxconnectionqueuelength", integer(&Config::max_connection_queue_length, 1, 65535)},
      {"maxthreads", integer(&Config::max_threads, 1, 1024)},
      {"maxqueue", integer(&Config::max_queue, 1, 65535)},
      {"streammaxlength", size(&Config::stream_max_length)},
      {"maxfilesize", size(&Config::max_file_size)},
      {"readtimeout", integer(&Config::read_timeout, 1, 86400)},
      {"commandreadtimeout", integer(&Config::command_read_timeout, 1, 86400)},
      {"idletimeout", integer(&Config::idle_timeout, 0, 86400)},
      {"streamspoolthreshold", size(&Config::stream_spool_threshold)},
      {"temporarydirectory", str(&Config::temporary_directory)},
      {"onaccessincludepath", append(&Config::onaccess_include)},
      {"onaccessexcludepath", append(&Config::onaccess_exclude)},
      {"onaccessprevention", boolean(&Config::onaccess_prevention)},
      {"onaccessextrascanning", boolean(&Config::onaccess_extra_scanning)},
      {"onaccesstimeout", integer(&Config::onaccess_timeout_ms, 1, 600000)},
      {"onaccessmaxthreads", integer(&Config::onaccess_max_threads, 1, 64)},
      {"onaccessmaxfilesize", size(&Config::onaccess_max_file_size)},
      {"onaccesstestdelayms", integer(&Config::onaccess_test_delay_ms, 0, 600000)},
      {"allowallmatchscan", boolean(&Config::allow_all_match_scan)},
      {"enableshutdowncommand", boolean(&Config::enable_shutdown_command)},
      {"enablereloadcommand", boolean(&Config::enable_reload_command)},
      {"enableversioncommand", boolean(&Config::enable_version_command)},
      {"enablestatscommand", boolean(&Config::enable_stats_command)},
      {"followfilesymlinks", boolean(&Config::follow_file_symlinks)},
      {"databasedirectory", str(&Config::model_dir)},
      {"heuristicalerts", boolean(&Config::alert_suspicious)},
      {"mamoriquarantine", boolean(&Config::quarantine)},
      {"mamoriquarantinedir", str(&Config::quarantine_dir)},
      {"mamoriquarantinestreams", boolean(&Config::quarantine_streams)},
      {"maxrecursion",
       [](Config& c, const std::string& v) -> Status {
         auto n = parse_int(v, 0, 1000);
         if (!n.ok()) return n.error();
         c.max_recursion = static_cast<unsigned>(*n);
         return {};
       }},
      {"maxfiles", size(&Config::max_files)},
      {"maxscansize", size(&Config::max_scan_size)},
      {"maxratio", ratio(&Config::max_ratio, 1)},
      {"maxdecompressedsize", size(&Config::max_decompressed_size)},
      {"maxdecompressedratio", ratio(&Config::max_decompressed_ratio, 0)},  // 0: only MaxDecompressedSize binds
      {"maxscantime",
       [](Config& c, const std::string& v) -> Status {
         // clamd: milliseconds, 0 = no limit (mamori keeps a day as the ceiling).
         auto n = parse_int(v, 0, 86400000);
         if (!n.ok()) return n.error();
         c.max_scan_time_ms = *n == 0 ? 86400000ull : static_cast<std::uint64_t>(*n);
         return {};
       }},
      {"alertexceedsmax", boolean(&Config::alert_exceeds_max)},
      {"alertencryptedarchive", boolean(&Config::alert_encrypted_archive)},
      {"alertencrypteddoc", boolean(&Config::alert_encrypted_doc)},
      {"alertencrypted",  // clamd: both archives and documents
       [](Config& c, const std::string& v) -> Status {
         MAMORI_TRY(boolean(&Config::alert_encrypted_archive)(c, v));
         return boolean(&Config::alert_encrypted_doc)(c, v);
       }},
      {"archivepassword",
       [](Config& c, const std::string& v) -> Status {
         c.archive_passwords.push_back(v);
         return {};
       }},
      {"archivepasswordfile", str(&Config::archive_password_file)},
      {"foreground", boolean(&Config::foreground)},
      {"pidfile", str(&Config::pid_file)},
      {"logfile", str(&Config::log_file)},
      {"logsyslog", boolean(&Config::log_syslog)},
      {"logfacility", str(&Config::log_facility)},
      {"logverbose", boolean(&Config::log_verbose)},
      {"debug", boolean(&Config::log_verbose)},
      {"logtime", boolean(&Config::log_time)},
      {"logclean", boolean(&Config::log_clean)},
  };
  return t;
}

}  // namespace

Result<std::uint64_t> parse_size(const std::string& s) {
  std::string v = trim(s);
  std::uint64_t mult = 1;
  if (!v.empty()) {
    switch (std::toupper(static_cast<unsigned char>(v.back()))) {
      case 'K': mult = 1ull << 10; v.pop_back(); break;
      case 'M': mult = 1ull << 20; v.pop_back(); break;
      case 'G': mult = 1ull << 30; v.pop_back(); break;
      default: break;
    }
  }
  auto n = parse_int(v, 0, std::numeric_limits<long long>::max() / (1ll << 30));
  if (!n.ok()) return n.error();
  return static_cast<std::uint64_t>(*n) * mult;
}

Result<ParsedConfig> parse_config(const std::string& text) {
  ParsedConfig out;
  bool tcp_addr_seen = false;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    line = trim(line);
    if (line.empty()) continue;
    std::size_t sp = 0;
    while (sp < line.size() && !std::isspace(static_cast<unsigned char>(line[sp]))) ++sp;
    const std::string name = line.substr(0, sp);
    std::string value = trim(line.substr(sp));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    const std::string where = "line " + std::to_string(lineno) + ": ";
    if (lower(name) == "example") {
      out.warnings.push_back(where + "'Example' is ignored (clamd refuses to start with it; mamorid does not)");
      continue;
    }
    const auto& t = setters();
    const auto it = t.find(lower(name));
    if (it == t.end()) {
      out.warnings.push_back(where + "unknown or inapplicable option '" + name + "', ignored");
      continue;
    }
    if (value.empty()) return make_error(ErrorCode::invalid_argument, where + name + " needs a value");
    if (it->first == "tcpaddr" && !tcp_addr_seen) {
      out.config.tcp_addr.clear();
      tcp_addr_seen = true;
    }
    const Status st = it->second(out.config, value);
    if (!st.ok()) return make_error(ErrorCode::invalid_argument, where + name + ": " + st.error().message);
  }
  if (out.config.tcp_addr.empty()) out.config.tcp_addr.push_back("127.0.0.1");
  if (out.config.local_socket.empty() && out.config.tcp_port == 0)
    return make_error(ErrorCode::invalid_argument, "neither LocalSocket nor TCPSocket is set: nothing to listen on");
  if (out.config.max_queue < out.config.max_threads) {
    out.warnings.push_back("MaxQueue (" + std::to_string(out.config.max_queue) + ") is below MaxThreads, raised to " +
                           std::to_string(out.config.max_threads));
    out.config.max_queue = out.config.max_threads;
  }
  out.config.send_timeout = out.config.read_timeout;
  for (auto* paths : {&out.config.onaccess_include, &out.config.onaccess_exclude})
    for (auto& p : *paths) {
      if (p.empty() || p[0] != '/')
        return make_error(ErrorCode::invalid_argument, "OnAccess paths must be absolute, got '" + p + "'");
      while (p.size() > 1 && p.back() == '/') p.pop_back();
    }
  if (out.config.onaccess_include.empty() &&
      (out.config.onaccess_prevention || out.config.onaccess_extra_scanning || !out.config.onaccess_exclude.empty()))
    out.warnings.push_back("OnAccess options are set but no OnAccessIncludePath: on-access protection stays off");
  return out;
}

Result<ParsedConfig> load_config(const std::string& path) {
  std::ifstream f(path);
  if (!f) return make_error(ErrorCode::io, "cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_config(ss.str());
}

}  // namespace mamori::daemon
