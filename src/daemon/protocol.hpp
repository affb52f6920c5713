// The clamd wire protocol (clamd(8)), as pure functions over byte buffers so it can be tested without sockets:
// framing of z (NUL-terminated), n (newline-terminated) and legacy (bare, one packet) commands, command parsing
// with clamd's rules (which commands take an argument, which need a z/n prefix), the INSTREAM chunk decoder, and
// reply formatting ("N: " prefix inside IDSESSION, the command's own terminator).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mamori::daemon {

enum class Cmd : std::uint8_t {
  unknown,
  ping,
  version,
  versioncommands,
  scan,
  contscan,
  multiscan,
  allmatchscan,
  instream,
  fildes,
  stats,
  idsession,
  end,
  reload,
  shutdown,  // also QUIT
  detstats,  // DETSTATS / DETSTATSCLEAR: accepted, answered with nothing (clamd removed them the same way)
};

/// A framed command: its text without prefix or terminator, and how it was delimited.
struct RawCommand {
  std::string text;
  char term = '\n';     // the reply terminator: '\0' for z, '\n' for n and legacy
  bool legacy = false;  // no z/n prefix
};

enum class Framing : std::uint8_t {
  need_more,  // no complete command yet
  command,    // `out` holds one; its bytes were removed from the buffer
  too_long,   // more than `max_len` bytes without a terminator
};

/// Takes the next command off the front of `buf`. A command starting with 'z' ends at NUL, one starting with 'n'
/// ends at a newline; anything else is a legacy command, which (as in clamd) is the whole packet received so far up
/// to an optional newline, so this must be called right after a read. Trailing CR/LF are dropped from n/legacy.
Framing next_command(std::string& buf, std::size_t max_len, RawCommand& out);

struct ParsedCommand {
  Cmd cmd = Cmd::unknown;
  std::string arg;  // the path for SCAN & co.
};

/// clamd's rules: names are case-sensitive; SCAN, CONTSCAN, MULTISCAN and ALLMATCHSCAN need " <path>"; the others
/// take nothing after the name; VERSIONCOMMANDS, IDSESSION, END, INSTREAM and ALLMATCHSCAN need the z/n prefix.
/// Anything else is Cmd::unknown.
ParsedCommand parse_command(const RawCommand& raw);

/// Whether clamd accepts the command inside an IDSESSION.
bool allowed_in_session(Cmd c) noexcept;

/// The command names VERSIONCOMMANDS lists, in clamd's order.
const std::vector<std::string>& command_names();

/// One reply: "N: " when `id` is non-zero (IDSESSION), the body, then the terminator.
std::string format_reply(unsigned id, const std::string& body, char term);

/// INSTREAM: <u32 big-endian length><data>... ended by a zero length. Lengths are checked against the remaining
/// quota before their data is read, so an oversized stream is refused at its first oversized chunk.
class StreamDecoder {
 public:
  enum class State : std::uint8_t { need_more, done, too_large, sink_failed };
  /// Takes chunk data; false stops decoding with State::sink_failed (the daemon's spool could not store it).
  using Sink = std::function<bool(const std::uint8_t* data, std::size_t n)>;
  explicit StreamDecoder(std::uint64_t quota) : quota_(quota) {}
  /// Consumes what it can from the front of `buf`, handing chunk data to `sink`.
  State feed(std::string& buf, const Sink& sink);
  /// The same, appending to `out`.
  State feed(std::string& buf, std::vector<std::uint8_t>& out);

 private:
  std::uint64_t quota_;
  std::uint32_t chunk_left_ = 0;
  bool in_chunk_ = false;
};

}  // namespace mamori::daemon
