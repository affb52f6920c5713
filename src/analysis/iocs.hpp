// Deobfuscation and IOC recovery for documents: a small static evaluator for VBA (and XLM formula text), a
// PowerShell command decoder, and recognisers for URLs, IPv4 addresses, domains, Windows paths and command lines.
//
// Nothing here executes anything. The evaluator folds what a macro would compute from constants alone (string
// concatenation, Chr() arithmetic, StrReverse, Replace, Mid/Left/Right, Split/Join, Array indexing, constant
// variables, form control strings) and hands every string it computes to the recognisers. It is bounded: every
// recursion, string, array, loop and the total work have a named cap in analysis::limits; reaching one stops that
// branch (the value becomes "unknown") and is counted in Evaluation::limits_hit, it never stalls a scan.
//
// Typical use by a document handler:
//     auto f = ole2::parse(bytes);
//     std::vector<engine::Ioc> iocs = analysis::iocs_from_ole2(*f);     // every VBA project, forms, doc vars
// or, with a project already extracted:
//     analysis::DocumentStrings extra = analysis::document_strings(*f, project.storage);
//     std::vector<engine::Ioc> iocs = analysis::iocs_from_vba(project, extra);
//
// Ioc::where names the module and line: "vba:Module1:12", "vba:Module1:12 (decoded powershell)",
// "vba:UserForm1.Label1.Caption". Values are deduplicated per (type, value); the first place seen is kept.
//
// Lifetime: every result is owned; nothing refers to the input bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/verdict.hpp"
#include "formats/ole2/ole2.hpp"
#include "formats/vba/vba.hpp"

namespace mamori::xls {
struct Workbook;
}

namespace mamori::analysis {

namespace limits {
// Nesting of one expression (parentheses, calls, operators). Real macros nest a few tens deep.
inline constexpr std::uint32_t max_expr_depth = 96;
// The VBA evaluator's cap on precedence levels entered at once in one expression. Each nesting (parentheses, a
// call's arguments) enters all fourteen levels again, so this lets 64 nested parentheses through with room for the
// operators around them (1,024 / 14 = 73), and cuts hostile depth (thousands of parentheses) while the C++ stack
// holds a few hundred frames. A called Function's body counts from zero again, under max_call_depth.
inline constexpr std::uint32_t max_vba_expr_levels = 1024;
// A user Function called from another: droppers chain a handful; recursion is cut here.
inline constexpr std::uint32_t max_call_depth = 12;
// Longest string value the evaluator builds. Encoded PowerShell commands run to tens of KiB.
inline constexpr std::size_t max_string = 1u << 20;
// Elements of one Array()/Split() value.
inline constexpr std::size_t max_array = 1u << 16;
// Statements evaluated for one project, across all procedures and calls.
inline constexpr std::uint64_t max_statements = 50000;
// Loop iterations unrolled for one project, all loops together (nested loops multiply; fuzz_vba_eval finding).
inline constexpr std::uint64_t max_total_loop_iterations = 16384;
// Total work (characters built + tokens read) for one project: the budget that bounds everything else.
inline constexpr std::uint64_t max_work = 64ull << 20;
// Iterations of a simple counted For loop that the evaluator unrolls (string-building loops).
inline constexpr std::uint32_t max_loop_iterations = 4096;
// Distinct IOCs kept per call; more are dropped (and counted).
inline constexpr std::size_t max_iocs = 512;
// Nested layers a PowerShell command is peeled through (-enc inside -enc, base64 inside a deflate stream...).
inline constexpr std::uint32_t max_ps_layers = 6;
// Bytes one inflate (DeflateStream/GZipStream payload) may produce.
inline constexpr std::size_t max_inflate = 4u << 20;
// Strings kept in Evaluation::strings for an analyst.
inline constexpr std::size_t max_decoded_strings = 4096;
// Form control strings read from one document.
inline constexpr std::size_t max_form_strings = 16384;
// Bytes of source text scanned by iocs_from_text in one call.
inline constexpr std::size_t max_text_scan = 8u << 20;
}  // namespace limits

/// A string a form or the document holds and a macro can read: a control's Caption/Text/Tag/ControlTipText/Value
/// (form "UserForm1", control "Label1", property "Caption"), a document variable (form "", control = the variable
/// name, property "Variable"), or a document property (property "Property"). When the control a string belongs
/// to could not be told, control is empty and the string is still offered to the recognisers.
struct FormString {
  std::string form;
  std::string control;
  std::string property;
  std::string value;
};

/// Strings outside the VBA source that a macro can reach.
struct DocumentStrings {
  std::vector<FormString> forms;
};

/// A string the evaluator computed that differs from every literal in the source (or a decoded PowerShell layer),
/// with where it was computed.
struct DecodedString {
  std::string value;
  std::string where;
};

struct Evaluation {
  std::vector<engine::Ioc> iocs;
  std::vector<DecodedString> strings;
  std::uint64_t statements = 0;  // statements evaluated
  std::uint64_t work = 0;        // work units spent (see limits::max_work)
  std::uint32_t limits_hit = 0;  // times a cap cut an evaluation short
};

/// Finds URLs, IPv4 addresses, domains, Windows paths and command lines in `text`; each Ioc gets `where`.
/// Deduplicated. Lists of URLs glued with '@', ',', ';', '|', '*', '!' or whitespace are split into each URL.
std::vector<engine::Ioc> iocs_from_text(std::string_view text, std::string_view where);

/// Decodes a PowerShell command line or script: -EncodedCommand/-enc/-e/-ec (UTF-16LE base64), then, layer by
/// layer, FromBase64String payloads (raw text, UTF-16LE, or IO.Compression.DeflateStream/GZipStream, inflated
/// with a cap), [char]NN arithmetic, simple -join/-split/-replace and .Replace(), string concatenation, backtick
/// and caret escapes and reversed strings. Returns each decoded layer, outermost first; empty when there was
/// nothing to decode.
std::vector<std::string> decode_powershell(std::string_view command);

/// Removes cmd.exe caret escapes and PowerShell backticks outside of what they escape ("p^ow^er" -> "power").
std::string strip_shell_escapes(std::string_view s);

/// Evaluates one VBA module's (or a whole project's) source text. `name` is the module name used in `where`.
/// Form strings resolve `UserForm1.Label1.Caption`-style references.
Evaluation evaluate_vba(std::string_view source, std::string_view name, const DocumentStrings& extra = {});

/// Evaluates every module of `project` together (module-level constants and Functions are visible across
/// modules) and returns the IOCs found in the evaluated strings, the raw source, the form strings and every
/// PowerShell layer decoded on the way.
Evaluation evaluate_vba(const vba::VbaProject& project, const DocumentStrings& extra = {});

/// evaluate_vba(project, extra).iocs.
std::vector<engine::Ioc> iocs_from_vba(const vba::VbaProject& project, const DocumentStrings& extra = {});

/// Evaluates the XLM (Excel 4.0) formulas of a workbook (formats/xls): CHAR()/CODE() arithmetic, & and
/// CONCATENATE, string functions, cell references, FORMULA()/SET.VALUE() writes (a formula written into a cell is
/// evaluated in turn). `where` is "xlm:Sheet!A1".
Evaluation evaluate_xlm(const xls::Workbook& workbook);

/// evaluate_xlm(workbook).iocs.
std::vector<engine::Ioc> iocs_from_xlm(const xls::Workbook& workbook);

/// Form control strings of the forms next to the VBA storage `vba_storage` ("Macros/VBA" -> "Macros/<form>/o"),
/// and the document variables of a Word file when they can be read. Bounded by limits::max_form_strings.
DocumentStrings document_strings(const ole2::File& file, std::string_view vba_storage);

/// Everything above for a compound file: every VBA project in it, with its form strings. Deduplicated.
std::vector<engine::Ioc> iocs_from_ole2(const ole2::File& file);

/// Adds `more` to `into`, skipping (type, value) pairs already present and stopping at limits::max_iocs.
void merge_iocs(std::vector<engine::Ioc>& into, const std::vector<engine::Ioc>& more);

}  // namespace mamori::analysis
