// Windows script files (JScript/JavaScript, VBScript and VBA source, PowerShell, batch/cmd, HTML applications and
// scriptlets) scored by named rules, the way formats/lnk/rules.hpp scores shortcuts: every rule has fixed points, a
// total of kMaliciousPoints or more is malicious, kSuspiciousPoints or more suspicious. There is no model: the rules
// say what a script does (downloads and runs something, runs a string it decoded, hides a PowerShell payload, infects
// other batch files) and each finding names the line that matched.
//
// Before the rules look, the text is prepared the way obfuscation is undone by hand: UTF-16 read as text, a
// lower-case copy in which string concatenations ("WScr" + "ipt.Sh" & "ell"), cmd carets and PowerShell backticks
// are removed and \xHH / \uHHHH escapes decoded; then decoded layers are added: the VBA evaluator's computed strings
// (analysis/vba_eval.cpp) for VBScript, the PowerShell decoder's layers (-EncodedCommand, FromBase64String, ...),
// String.fromCharCode() calls and char-code arrays with literal numbers, and long base64 literals that decode to
// text. Rules search the prepared text (a finding names its line) and the layers (a finding says "decoded").
//
// Bounded: at most limits::max_script_bytes of the input are read, every decoding has a cap, and the work is linear
// in the text for a fixed set of needles. Nothing is executed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/verdict.hpp"

namespace mamori::analysis::script {

inline constexpr int kMaliciousPoints = 100;
inline constexpr int kSuspiciousPoints = 50;

namespace limits {
// Bytes of a script that are analysed; the rest is left out (and noted).
inline constexpr std::size_t max_script_bytes = 4u << 20;
// Decoded layers kept (evaluator strings, PowerShell layers, char codes, base64), and bytes in them together.
inline constexpr std::size_t max_layers = 256;
inline constexpr std::size_t max_layer_bytes = 4u << 20;
// Lines that mention PowerShell handed to the PowerShell decoder, in a script that is not PowerShell itself.
inline constexpr std::size_t max_powershell_lines = 64;
// Base64 literals tried, and the shortest one tried.
inline constexpr std::size_t max_base64_literals = 32;
inline constexpr std::size_t min_base64_literal = 64;
// VBA-evaluated text: VBScript longer than this is evaluated only up to here.
inline constexpr std::size_t max_evaluated_bytes = 1u << 20;
// Characters of a line shown in a finding.
inline constexpr std::size_t max_shown_line = 240;
}  // namespace limits

enum class Lang : std::uint8_t { js, vbs, vba, ps1, bat, hta, wsf, sct, html, unknown };
const char* lang_name(Lang l) noexcept;

/// The language from the type detector's subtype ("script-js", ...), the file name's extension and, without one, VBA
/// module markers in `text`; the extension wins when it names a script language (a .vbs that reads like JScript
/// still runs under the VBScript engine).
Lang language_of(std::string_view subtype, std::string_view name, std::string_view text = {});

/// Whether `name` ends in an extension Windows runs as a script (.js .jse .vbs .vbe .wsf .wsh .hta .sct .ps1 .psm1
/// .bat .cmd .vba .bas).
bool has_script_extension(std::string_view name);

struct Finding {
  std::string rule;     // "script.download_execute"
  int points = 0;
  std::string detail;   // what matched: "line 12: ..." or "decoded: ..."
};

struct Assessment {
  Lang lang = Lang::unknown;
  int points = 0;
  std::vector<Finding> findings;      // in the order the rules ran; points > 0 each
  std::vector<engine::Ioc> iocs;
  std::vector<std::string> decoded;   // decoded layers worth showing (PowerShell payloads, evaluated commands)
  std::vector<std::string> notes;     // limits reached, encodings seen
  /// The rule with the most points, as a signature suffix ("DownloadExecute"); empty without findings.
  std::string top_rule;
};

/// Scores one script. `bytes` is the file as stored (UTF-8, ANSI or UTF-16); `lang` from language_of().
Assessment assess(std::string_view bytes, Lang lang);

}  // namespace mamori::analysis::script
