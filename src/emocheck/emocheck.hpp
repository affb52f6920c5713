// `mamori emocheck`: is this Windows host infected with Emotet? Answered from evidence (registry hives, files,
// a process list) through the Evidence interface, with the five detection methods EmoCheck's public descriptions
// give, and every file a method points to scanned by mamori's PE model.
//
// The check prints nothing and exits nowhere: it returns a Report, which report_text / report_json render in
// EmoCheck's report format with mamori's additions under their own key.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "emocheck/evidence.hpp"
#include "engine/verdict.hpp"

namespace mamori::engine {
class Scanner;
}

namespace mamori::emocheck {

inline constexpr const char* emocheck_compat_version = "2.0";  // the EmoCheck report format this one follows

enum class Method : std::uint8_t {
  keyword_name = 1,     // process name from the volume serial and the keyword list
  explorer_value,       // XOR-encoded name in a serial-named value under ...\CurrentVersion\Explorer
  system32_lookalike,   // <sys32name>\<sys32name>.exe under %LOCALAPPDATA% or SysWOW64, run by a Run key
  random_name,          // <letters>\<letters>.<ext> PE run by rundll32/regsvr32 from a Run value or a service
  timestomp,            // PE whose last write is exactly 7 days from its folder's
};
const char* method_name(Method m) noexcept;
inline constexpr Method all_methods[] = {Method::keyword_name, Method::explorer_value, Method::system32_lookalike,
                                         Method::random_name, Method::timestomp};

enum class MethodState : std::uint8_t { ran, partial, skipped };
const char* method_state_name(MethodState s) noexcept;

struct MethodStatus {
  Method method = Method::keyword_name;
  MethodState state = MethodState::skipped;
  std::string detail;  // why it was skipped or what it could not look at
};

struct Detection {
  Method method = Method::keyword_name;
  std::string process_name;  // the running process, or the file's name when no process was seen
  std::optional<std::uint32_t> pid;
  std::string image_path;    // Windows path of the Emotet file (may be empty for a process-only match)
  std::string registry_key;  // the Run value, service or Explorer value involved, EmoCheck-style
  std::string user;          // the profile, for per-user evidence
  bool running = false;      // a process in the list matched
  std::vector<std::string> evidence;  // each fact that matched, for a person
};

struct SuspectScan {
  std::string image_path;  // Windows path
  std::string local_path;  // what was opened
  std::string sha256;
  engine::Verdict verdict = engine::Verdict::error;
  std::optional<double> score;
  std::string signature;
  std::string error;
};

struct Report {
  std::string scan_time;   // local time, "YYYY-MM-DD HH:MM:SS" (EmoCheck's)
  std::string file_stamp;  // local time, "yyyymmddhhmmss"
  std::string hostname;    // SYSTEM hive ComputerName, else empty
  std::optional<VolumeSerial> serial;
  std::vector<std::string> keyword_names;  // method 1's names for the serial
  std::vector<Detection> detections;
  std::vector<MethodStatus> methods;
  std::vector<SuspectScan> scans;
  std::vector<std::string> problems;

  bool infected() const noexcept { return !detections.empty(); }
  /// At least one method could look at something.
  bool checkable() const noexcept;
};

struct CheckOptions {
  std::optional<std::uint32_t> volume_serial;  // --volume-serial; wins over what the evidence says
  const engine::Scanner* scanner = nullptr;    // null: suspects are listed but not scanned
  std::time_t now = 0;                         // 0: the current time
};

Report run_check(const Evidence& ev, const CheckOptions& opt);

nlohmann::json report_json(const Report& r);
std::string report_text(const Report& r);
/// A volume serial as people write it: "001CFDE0", "001C-FDE0" (as `vol` prints it) or "0x001cfde0"; nullopt when it is not one.
std::optional<std::uint32_t> parse_volume_serial(std::string_view s);

/// "<HOST>_<yyyymmddhhmmss>_emocheck" (EmoCheck's file name without the extension).
std::string report_basename(const Report& r);

// Method 1's name generation, exposed for the tests.
/// The published keyword list, comma-joined (its length is the modulus).
std::string_view keyword_list() noexcept;
/// The word containing character `index` of the joined list; an index on a comma takes the word after it.
std::string keyword_at(std::size_t index);
/// The process names (with ".exe") for `serial`: first the word-containing-the-index name, then, when it differs,
/// the one EmoCheck's implementation produces (it takes a suffix of the first word, e.g. "ck" for "duck").
std::vector<std::string> keyword_process_names(std::uint32_t serial);
/// Method 2's decoding: XOR with the serial's bytes (little-endian, repeating), keep 0x21..0x7D.
std::string decode_explorer_value(const std::vector<std::uint8_t>& data, std::uint32_t serial);

}  // namespace mamori::emocheck
