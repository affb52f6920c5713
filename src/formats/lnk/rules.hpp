// The transparent rule score for shell links. There are too few malicious links to train a model on (ten in the
// corpus), so a link gets points from named rules with fixed weights, documented in docs/lnk-onenote-msg.md:
// a total of kMaliciousPoints or more is malicious, kSuspiciousPoints or more suspicious, less is clean.
//
// The rules look at what a shortcut runs: the target (a command interpreter or a system binary that can run
// code), its arguments (encoded commands, download cradles, padding that hides them in the properties dialog), the
// window it opens in, the icon it shows, and the Control Panel items that CVE-2010-2568 abused.
#pragma once

#include <string>
#include <vector>

#include "formats/lnk/lnk.hpp"

namespace mamori::lnk {

inline constexpr int kMaliciousPoints = 70;
inline constexpr int kSuspiciousPoints = 40;

struct Finding {
  std::string rule;    // "lnk.encoded_command"
  int points = 0;
  std::string detail;  // what matched, for a person
};

/// An indicator found in the link; the engine turns these into engine::Ioc.
struct Indicator {
  std::string type;   // "url", "ip", "domain", "path", "command"
  std::string value;
  std::string where;  // "lnk:arguments", "lnk:target", "lnk:decoded", "lnk:idlist"
};

struct Assessment {
  int points = 0;
  std::vector<Finding> findings;
  std::vector<Indicator> indicators;
  std::string command_line;            // target and arguments as Windows would run them
  std::vector<std::string> decoded;    // PowerShell -EncodedCommand payloads, as UTF-8
  bool launcher = false;               // the target is a command interpreter / LOLBin
};

/// `more_text`: further decoded layers of the command (a caller's PowerShell decoder, say), searched by the
/// cradle, obfuscation and LOLBin rules like the -EncodedCommand payload is.
Assessment assess(const Link& link, const std::vector<std::string>& more_text = {});

/// URLs, IPv4 addresses, the domains in URLs and UNC paths, and Windows paths found in `text`. Deduplicated by
/// (type, value) against `out`; at most `max` indicators in `out`.
void text_indicators(std::string_view text, std::string_view where, std::vector<Indicator>& out, std::size_t max = 256);

}  // namespace mamori::lnk
