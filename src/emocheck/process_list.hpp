// Process lists exported on a Windows host, parsed into ProcessInfo values. Three exports are recognised from their
// header row, in any of the encodings Windows writes them in (UTF-8 with or without BOM, UTF-16LE/BE with BOM,
// UTF-16LE without BOM as `wmic ... > file` sometimes leaves it):
//   tasklist /v /fo csv                          "Image Name","PID",... (also localized: the 2nd column is "PID")
//   Get-CimInstance Win32_Process | Export-Csv   optional "#TYPE ..." line, then ...,"ProcessId",... columns
//   wmic process get ... /format:csv             Node,CommandLine,ExecutablePath,Name,ProcessId (unquoted; a
//                                                command line holding commas spills into extra fields)
// The input is hostile: every count and length has a cap below, and malformed rows become anomalies.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "emocheck/evidence.hpp"

namespace mamori::emocheck {

enum class ProcessListFormat : std::uint8_t { tasklist, cim_csv, wmic_csv };
const char* process_list_format_name(ProcessListFormat f) noexcept;

namespace process_list_limits {
/// Larger inputs are refused: a real process list is well under 10 MB.
inline constexpr std::uint64_t max_input_bytes = 256ull << 20;
inline constexpr std::size_t max_rows = 1'000'000;
/// Fields beyond this in one row are dropped (Win32_Process has about 45 columns).
inline constexpr std::size_t max_fields = 512;
/// A field longer than this is cut (Windows caps a command line at 32767 UTF-16 units).
inline constexpr std::size_t max_field_bytes = 98'304;
}  // namespace process_list_limits

enum class ProcessListAnomaly : std::uint8_t {
  invalid_utf8,         // bytes that are not UTF-8 became U+FFFD
  odd_utf16_length,     // a UTF-16 input with an odd byte count; the last byte was dropped
  unterminated_quote,   // the input ended inside a quoted field
  extra_fields,         // a row had more fields than the header (merged into CommandLine when possible)
  missing_fields,       // a row had fewer fields than the header
  field_truncated,      // a field exceeded max_field_bytes
  fields_truncated,     // a row exceeded max_fields
  rows_truncated,       // the input exceeded max_rows
  bad_pid,              // a PID column that is not a decimal number below 2^32
};
const char* process_list_anomaly_name(ProcessListAnomaly a) noexcept;

struct ProcessList {
  ProcessListFormat format = ProcessListFormat::tasklist;
  std::string encoding;  // "utf-8", "utf-8-bom", "utf-16le-bom", "utf-16be-bom", "utf-16le"
  std::vector<ProcessInfo> processes;
  std::vector<ProcessListAnomaly> anomalies;  // each kind at most once, in order of first occurrence
};

/// Parses a process list. Errors: empty input, input over max_input_bytes, or a header of none of the three forms.
Result<ProcessList> parse_process_list(ByteView bytes);

/// Input bytes to UTF-8 (BOM / UTF-16 detection as above); exposed for the tests and the fuzzer.
std::string decode_text(ByteView bytes, std::string* encoding, bool* invalid_utf8, bool* odd_utf16);

}  // namespace mamori::emocheck
