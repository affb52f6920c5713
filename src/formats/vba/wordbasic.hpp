// Word 6 / Word 95 macros (WordBasic), stored in the WordDocument stream itself rather than in a VBA storage.
//
// A Word 6/95 FIB (wIdent 0xA5DC, nFib 101..105) gives at 0x118/0x11C the offset and size of the document's command
// table inside the WordDocument stream. The table is the ancestor of Word 97's Tcg255 ([MS-DOC] 2.9.316) with 16-bit
// counts: a 0xFF version byte, then records identified by their first byte -- 0x01 macro descriptors (24 bytes
// each), 0x02 allocated commands (4 bytes), 0x03/0x04 key maps (14 bytes), 0x05 menu deltas (12 bytes), 0x10 a string
// table prefixed by its own size, 0x11 macro names (id, Pascal string, NUL), 0x12 a 16-bit value -- and 0x40 ends it.
// A macro descriptor holds a one-byte XOR key, the id of its name in the 0x11 table, and the offset and size of its
// tokenised body in the WordDocument stream.
//
// The body is WordBasic tokens, whose layout no public specification describes; it was read from the 1990s macro
// viruses of the corpus (every body there tokenises to its end with these rules): a 2-byte header, then 0x64 ends a
// line; 0x65 (label), 0x69 (identifier), 0x6A (string), 0x6B (' comment), 0x6D, 0x70 (REM), 0x76, 0x77 carry a length
// byte and that many characters; 0x67 (built-in command or function), 0x6C (integer) and 0x73 (dialog field) carry a
// 16-bit number; 0x68 an 8-byte double; 0x6E/0x6F a count of spaces; every other byte is a one-byte keyword or
// operator. detokenize() renders that as text: names, strings, comments and numbers as written, the keywords whose
// meaning the corpus shows (Sub, Function, If, For, Dim...), and other keywords and built-ins by number
// ("WB_80D7", "KW_54"), so the feature extractor sees the identifiers, strings and macro names.
//
// Lifetime: everything returned is owned.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace mamori::vba::wordbasic {

namespace limits {
// Macro descriptors and names read from the command table. Real templates hold tens.
inline constexpr std::uint32_t max_macros = 4096;
inline constexpr std::uint32_t max_names = 8192;
// Records walked in the command table.
inline constexpr std::uint32_t max_records = 4096;
// Text produced for one macro and for all of them together.
inline constexpr std::size_t max_macro_text = 1u << 20;
inline constexpr std::size_t max_total_text = 8u << 20;
}  // namespace limits

/// The FIB offsets of the command table's position and size (Word 6/95 FIB).
inline constexpr std::uint64_t kFibCmdsOffset = 0x118;
inline constexpr std::uint64_t kFibCmdsSize = 0x11C;
/// nFib values of Word 6.0 (101) through Word 95 (104/105).
inline constexpr std::uint16_t kNFibWord6 = 101;
inline constexpr std::uint16_t kNFibWord95Last = 105;

/// Structural oddities. Stable numeric values.
enum class Anomaly : std::uint8_t {
  table_out_of_range = 0,     // fcCmds/lcbCmds point outside the WordDocument stream; detail = offset
  table_bad_version,          // the table does not start with 0xFF
  table_record_truncated,     // a record runs past the table; detail = its offset in the table
  table_unknown_record,       // a record id outside the known set (the walk stops there); detail = the id
  table_records_truncated_by_limit,
  table_unterminated,         // the table ends without its 0x40 terminator
  macros_truncated_by_limit,
  names_truncated_by_limit,
  macro_name_missing,         // a descriptor names an id the 0x11 table lacks; detail = macro index
  macro_body_out_of_range,    // offset/size outside the WordDocument stream; detail = macro index
  macro_body_truncated,       // the last token runs past the body; detail = macro index
  macro_text_truncated_by_limit,
  fib_encrypted,              // the FIB says the stream is encrypted: the table is read but may be noise
  kCount
};
inline constexpr std::size_t anomaly_count = static_cast<std::size_t>(Anomaly::kCount);
static_assert(anomaly_count <= 64, "anomaly_bits is 64 bits wide");
const char* anomaly_name(Anomaly a) noexcept;

struct AnomalyRecord {
  Anomaly code;
  std::uint64_t detail;
};

struct Macro {
  std::string name;           // from the 0x11 table, bytes as stored (Word 6 names are ASCII)
  std::uint8_t key = 0;       // XOR key of the body; 0 = not encrypted
  std::uint32_t offset = 0;   // body position and size in the WordDocument stream
  std::uint32_t size = 0;
  std::string text;           // the detokenised body ("Sub MAIN" ... "End Sub")
  std::uint32_t tokens = 0;
  std::uint32_t builtin_calls = 0;   // 0x67 tokens
  std::uint32_t unnamed_keywords = 0;  // one-byte keywords rendered by number
};

struct Project {
  std::uint16_t nfib = 0;
  std::uint32_t table_offset = 0, table_size = 0;
  std::vector<Macro> macros;
  std::vector<AnomalyRecord> anomalies;
  std::uint64_t anomaly_bits = 0;
  bool has(Anomaly a) const noexcept { return (anomaly_bits >> static_cast<unsigned>(a)) & 1u; }
};

/// True when `word_document` starts with a Word 6/95 FIB (wIdent 0xA5DC, nFib 101..105).
bool is_word6_fib(ByteView word_document) noexcept;

/// Reads the macros of a Word 6/95 WordDocument stream. Errors: not_this_format when the FIB is not Word 6/95 or
/// the document has no command table (lcbCmds 0). A table with no macro records gives an empty Project.
Result<Project> read(ByteView word_document);

struct Detokenized {
  std::string text;
  std::uint32_t tokens = 0, builtin_calls = 0, unnamed_keywords = 0;
  bool truncated = false;     // a token ran past the body
  bool capped = false;        // text reached `max_text`
};

/// A macro as an analyst reads it: "Macro <name>" on the first line (Word runs AutoOpen, AutoExec, FileSaveAs...
/// by that name), then the detokenised body.
std::string listing(const Macro& m);

/// Renders one (already un-XORed) macro body as text. Exposed for tests and the fuzz target.
Detokenized detokenize(ByteView body, std::size_t max_text = limits::max_macro_text);

}  // namespace mamori::vba::wordbasic
