#include "daemon/protocol.hpp"

#include <algorithm>
#include <cstring>

namespace mamori::daemon {

namespace {

struct CommandSpec {
  const char* name;
  Cmd cmd;
  bool need_arg;
  bool legacy_ok;
};

// clamd's table order (VERSIONCOMMANDS prints it); OPTSCAN is not offered.
constexpr CommandSpec kCommands[] = {
    {"SCAN", Cmd::scan, true, true},
    {"QUIT", Cmd::shutdown, false, true},
    {"RELOAD", Cmd::reload, false, true},
    {"PING", Cmd::ping, false, true},
    {"CONTSCAN", Cmd::contscan, true, true},
    {"VERSIONCOMMANDS", Cmd::versioncommands, false, false},
    {"VERSION", Cmd::version, false, true},
    {"END", Cmd::end, false, false},
    {"SHUTDOWN", Cmd::shutdown, false, true},
    {"MULTISCAN", Cmd::multiscan, true, true},
    {"FILDES", Cmd::fildes, false, true},
    {"STATS", Cmd::stats, false, true},
    {"IDSESSION", Cmd::idsession, false, false},
    {"INSTREAM", Cmd::instream, false, false},
    {"DETSTATSCLEAR", Cmd::detstats, false, true},
    {"DETSTATS", Cmd::detstats, false, true},
    {"ALLMATCHSCAN", Cmd::allmatchscan, true, false},
};

void chomp(std::string& s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
}

}  // namespace

Framing next_command(std::string& buf, std::size_t max_len, RawCommand& out) {
  if (buf.empty()) return Framing::need_more;
  const char first = buf[0];
  if (first == 'z' || first == 'n') {
    const char term = first == 'z' ? '\0' : '\n';
    const auto pos = buf.find(term);
    if (pos == std::string::npos) return buf.size() > max_len ? Framing::too_long : Framing::need_more;
    if (pos > max_len) return Framing::too_long;
    out.text = buf.substr(1, pos - 1);
    out.term = term;
    out.legacy = false;
    if (term == '\n') chomp(out.text);
    buf.erase(0, pos + 1);
    return Framing::command;
  }
  // Legacy: one packet is one command, optionally ended by a newline.
  const auto nl = buf.find('\n');
  const std::size_t len = nl == std::string::npos ? buf.size() : nl;
  if (len > max_len) return Framing::too_long;
  out.text = buf.substr(0, len);
  // A legacy command cannot contain NUL; cut there like clamd's C string handling does.
  if (const auto z = out.text.find('\0'); z != std::string::npos) out.text.resize(z);
  chomp(out.text);
  out.term = '\n';
  out.legacy = true;
  buf.erase(0, nl == std::string::npos ? buf.size() : nl + 1);
  return Framing::command;
}

ParsedCommand parse_command(const RawCommand& raw) {
  ParsedCommand p;
  const std::string& t = raw.text;
  for (const auto& c : kCommands) {
    const std::size_t n = std::strlen(c.name);
    if (t.compare(0, n, c.name) != 0) continue;
    if (t.size() > n && !(c.need_arg && t[n] == ' ')) continue;  // a longer name, or garbage after the name
    if (c.need_arg && (t.size() <= n + 1)) return p;              // missing argument
    if (raw.legacy && !c.legacy_ok) return p;
    p.cmd = c.cmd;
    if (c.need_arg) p.arg = t.substr(n + 1);
    return p;
  }
  return p;
}

bool allowed_in_session(Cmd c) noexcept {
  switch (c) {
    case Cmd::fildes:
    case Cmd::scan:
    case Cmd::end:
    case Cmd::instream:
    case Cmd::version:
    case Cmd::ping:
    case Cmd::stats:
    case Cmd::versioncommands: return true;
    default: return false;
  }
}

const std::vector<std::string>& command_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& c : kCommands) v.emplace_back(c.name);
    return v;
  }();
  return names;
}

std::string format_reply(unsigned id, const std::string& body, char term) {
  std::string r;
  if (id) r = std::to_string(id) + ": ";
  r += body;
  r.push_back(term);
  return r;
}

StreamDecoder::State StreamDecoder::feed(std::string& buf, std::vector<std::uint8_t>& out) {
  return feed(buf, [&out](const std::uint8_t* d, std::size_t n) {
    out.insert(out.end(), d, d + n);
    return true;
  });
}

StreamDecoder::State StreamDecoder::feed(std::string& buf, const Sink& sink) {
  std::size_t pos = 0;
  State st = State::need_more;
  while (pos < buf.size()) {
    if (!in_chunk_) {
      if (buf.size() - pos < 4) break;
      const auto* b = reinterpret_cast<const unsigned char*>(buf.data() + pos);
      const std::uint32_t len = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
                                std::uint32_t{b[3]};
      pos += 4;
      if (len == 0) {
        st = State::done;
        break;
      }
      if (len > quota_) {
        st = State::too_large;
        break;
      }
      quota_ -= len;
      chunk_left_ = len;
      in_chunk_ = true;
    }
    const std::size_t take = std::min<std::size_t>(chunk_left_, buf.size() - pos);
    const auto* d = reinterpret_cast<const std::uint8_t*>(buf.data() + pos);
    if (take > 0 && !sink(d, take)) {
      st = State::sink_failed;
      break;
    }
    pos += take;
    chunk_left_ -= static_cast<std::uint32_t>(take);
    if (chunk_left_ == 0) in_chunk_ = false;
  }
  buf.erase(0, pos);
  return st;
}

}  // namespace mamori::daemon
