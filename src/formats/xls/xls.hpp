// Excel workbooks and their Excel 4.0 (XLM) macros: BIFF8 Workbook streams ([MS-XLS]) and OOXML macro sheets.
//
// One module, one data model: xls::Workbook. It is filled from either
//   - parse_workbook_stream(bytes): the "Workbook" (or BIFF5 "Book") stream of a compound file, record by record:
//     BOF/EOF substreams, BOUNDSHEET8 (sheet type and visibility), Lbl/NAME (Auto_Open & co, hidden names, the
//     name's formula), FORMULA (+ STRING), LABEL/LABELSST + SST (with CONTINUE), FILEPASS (encryption). RC4 and
//     RC4 CryptoAPI streams are decrypted when the default password "VelvetSweatshop" opens them; or
//   - parse_ooxml(workbook.xml, workbook.xml.rels, macro sheet parts): the same model from an .xlsm/.xlsx: the
//     sheets of workbook.xml with their state, its definedNames, and the <f> formulas of xl/macrosheets/*.xml.
//
// Formulas are decoded from their token streams (Ptg, [MS-XLS] 2.5.198) into A1-notation text, e.g.
// `=EXEC("cmd /c calc")` or `=CHAR(61)&CHAR(72)`; function numbers come from Ftab and, for macro commands, Cetab.
// Nothing is evaluated, except that CHAR() of a literal and & between literals are folded so that the folded
// strings can be reported (FormulaCell::folded).
//
// Errors: parse_workbook_stream fails only when the bytes do not start with a BIFF BOF record. Everything else
// (records cut off, substreams without EOF, BOUNDSHEET offsets that point nowhere, unknown formula tokens, SST
// strings that run past their records, a password other than VelvetSweatshop) becomes an Anomaly and parsing
// goes on. Every walk is bounded by a cap in xls::limits; reaching one is itself an anomaly.
//
// Lifetime: everything in Workbook is owned; it does not refer to the input bytes.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace mamori::ole2 {
struct File;
}

namespace mamori::xls {

namespace limits {
// Records read from one Workbook stream. A 20 MB workbook holds a few hundred thousand.
inline constexpr std::uint32_t max_records = 2u << 20;
// Sheets (BOUNDSHEET8 records). Excel allows as many as memory permits; real workbooks have tens.
inline constexpr std::uint32_t max_sheets = 4096;
// Defined names (Lbl records / <definedName>).
inline constexpr std::uint32_t max_names = 65536;
// Formula cells kept. Macro sheets in the wild hold tens to a few thousand formulas.
inline constexpr std::uint32_t max_formulas = 200000;
// String cells (LABEL, LABELSST, cached STRING results) kept.
inline constexpr std::uint32_t max_string_cells = 200000;
// Shared strings kept from the SST.
inline constexpr std::uint32_t max_sst_strings = 1u << 20;
// Characters kept of one string (Excel's own cell limit is 32767).
inline constexpr std::uint32_t max_string_chars = 32767;
// Tokens decoded in one formula. A cell formula is at most 8 KiB of tokens.
inline constexpr std::uint32_t max_formula_tokens = 8192;
// Operand stack depth while decoding one formula (Excel nests at most 64 function levels).
inline constexpr std::uint32_t max_stack_depth = 1024;
// Bytes of decoded text kept for one formula.
inline constexpr std::uint32_t max_formula_text = 32768;
// Bytes of decoded text kept for all formulas together; beyond it formulas are counted but their text dropped.
inline constexpr std::uint64_t max_total_text = 64ull << 20;
// Bytes of one XML part scanned (OOXML macro sheets and workbook.xml).
inline constexpr std::uint64_t max_xml_size = 64ull << 20;
// Record payload bytes decrypted (the RC4 path copies the stream).
inline constexpr std::uint64_t max_decrypt_size = 256ull << 20;
// Caller passwords tried on an RC4 FILEPASS after the default one.
inline constexpr std::size_t max_passwords = 64;
}  // namespace limits

/// Structural oddities. The numeric values are stable: they become feature indices.
enum class Anomaly : std::uint8_t {
  record_truncated = 0,          // a record's size runs past the end of the stream; detail = offset
  records_truncated_by_limit,
  bof_missing,                   // a BOUNDSHEET8 offset does not point at a BOF record; detail = sheet index
  bof_type_mismatch,             // BOF dt disagrees with the BOUNDSHEET8 type (e.g. a macro sheet declared as worksheet)
  eof_missing,                   // a substream ends without EOF
  sheets_truncated_by_limit,
  names_truncated_by_limit,
  formulas_truncated_by_limit,
  strings_truncated_by_limit,
  sst_truncated,                 // the SST holds fewer strings than it claims, or a string runs past its records
  string_truncated,              // a string field runs past its record; detail = record type
  formula_truncated,             // a token's operands run past the formula; detail = token
  formula_unknown_token,         // a token outside [MS-XLS] 2.5.198.25; detail = token
  formula_stack_underflow,       // an operator or function with fewer operands than it needs
  formula_stack_overflow,        // operand stack above limits::max_stack_depth
  formula_tokens_truncated_by_limit,
  formula_unbalanced,            // more than one value left on the stack at the end
  formula_unknown_function,      // a function number outside the tables; detail = number
  name_formula_in_cell_only,     // reserved
  sheet_name_invalid,            // empty or over 31 characters
  very_hidden_sheet,             // hsState = 2: only VBA or XLM can unhide it
  macro_sheet_hidden,            // an XLM macro sheet that is hidden or very hidden
  auto_open_name,                // a defined name that runs on open (Auto_Open, Auto_Activate, or _xlnm.Auto_Open)
  auto_open_name_obfuscated,     // a non-built-in name that still starts with "Auto_Open" in another case/suffix
  encrypted,                     // FILEPASS present
  encrypted_unknown_password,    // not decrypted with VelvetSweatshop
  encryption_unsupported,        // a FILEPASS layout this parser does not decrypt (XOR, unknown version)
  biff_version_old,              // BOF before BIFF8 (BIFF5 "Book"): strings read as 8-bit
  boundsheet_offset_invalid,     // lbPlyPos past the end of the stream or inside the globals
  continue_without_record,       // a CONTINUE with nothing to continue
  xml_malformed,                 // an OOXML part whose tags do not close
  xml_truncated_by_limit,
  total_text_truncated_by_limit,
  kCount
};
inline constexpr std::size_t anomaly_count = static_cast<std::size_t>(Anomaly::kCount);
static_assert(anomaly_count <= 64, "anomaly_bits is 64 bits wide");
const char* anomaly_name(Anomaly a) noexcept;

struct AnomalyRecord {
  Anomaly code;
  std::uint64_t detail;
};

enum class SheetType : std::uint8_t { worksheet, macro_sheet, chart, vba_module, dialog, unknown };
enum class Visibility : std::uint8_t { visible = 0, hidden = 1, very_hidden = 2 };
const char* sheet_type_name(SheetType t) noexcept;
const char* visibility_name(Visibility v) noexcept;

struct Sheet {
  std::string name;
  SheetType type = SheetType::unknown;   // from BOUNDSHEET8 dt, corrected by the substream's BOF dt
  Visibility visibility = Visibility::visible;
  std::uint32_t bof_offset = 0;          // lbPlyPos (BIFF) ; 0 for OOXML
  std::uint16_t bof_dt = 0;              // the substream's BOF dt (0x10 sheet, 0x20 chart, 0x40 macro sheet)
  bool bof_found = false;
  std::string part;                      // OOXML: the part path ("xl/macrosheets/sheet1.xml")
};

/// Built-in name codes ([MS-XLS] 2.2.2, Lbl.Name when fBuiltin is set).
enum class BuiltinName : std::uint8_t {
  none = 0xFF,
  consolidate_area = 0x00, auto_open = 0x01, auto_close = 0x02, extract = 0x03, database = 0x04, criteria = 0x05,
  print_area = 0x06, print_titles = 0x07, recorder = 0x08, data_form = 0x09, auto_activate = 0x0A,
  auto_deactivate = 0x0B, sheet_title = 0x0C, filter_database = 0x0D,
};
const char* builtin_name(BuiltinName b) noexcept;  // "Auto_Open"; "" for none

struct DefinedName {
  std::string name;                      // built-in names spelled out ("Auto_Open")
  BuiltinName builtin = BuiltinName::none;
  bool hidden = false;                   // fHidden / hidden="1"
  bool is_function = false;              // fFunc: a macro function or command
  bool is_command = false;               // fProc
  bool auto_open = false;                // runs when the workbook opens (Auto_Open / Auto_Activate, any spelling)
  bool auto_close = false;
  std::uint16_t sheet = 0;               // itab: 0 = workbook scope, else 1-based sheet index
  std::string formula;                   // decoded, without the leading '='; "Macro1!$A$1"
};

struct FormulaCell {
  std::uint32_t sheet = 0;               // index into Workbook::sheets
  std::uint32_t row = 0, col = 0;        // 0-based
  std::string text;                      // "=EXEC(\"calc\")"
  std::vector<std::uint16_t> functions;  // function numbers used, in order; commands (Cetab) have bit 15 set
  std::vector<std::string> folded;       // strings folded from CHAR(literal) & literal chains (length >= 2)
  std::string cached;                    // the STRING record after it (string results)
  bool complete = true;                  // false: decoding stopped at a bad token (see anomalies)
};

struct StringCell {
  std::uint32_t sheet = 0;
  std::uint32_t row = 0, col = 0;
  std::string text;
};

enum class Encryption : std::uint8_t { none, xor_obfuscation, rc4, rc4_cryptoapi, unknown };
const char* encryption_name(Encryption e) noexcept;

struct EncryptionInfo {
  Encryption method = Encryption::none;
  bool decrypted = false;                // the records after FILEPASS were decrypted and parsed
  std::string password;                  // the password that worked ("VelvetSweatshop"), empty otherwise
  std::uint32_t key_bits = 0;            // RC4 key size (40 or 128; standard RC4 is 128)
  std::uint16_t version_major = 0, version_minor = 0;
};

/// Counts for the feature vector.
struct Counts {
  std::uint32_t records = 0;
  std::uint32_t sheets = 0, macro_sheets = 0, hidden_sheets = 0, very_hidden_sheets = 0;
  std::uint32_t names = 0, hidden_names = 0, auto_open_names = 0, auto_close_names = 0;
  std::uint32_t formulas = 0, macro_formulas = 0;  // macro_formulas: cells on macro sheets
  std::uint32_t tokens = 0, unknown_tokens = 0;
  std::uint32_t char_calls = 0, concat_ops = 0, string_literals = 0;
  std::uint32_t exec = 0, call = 0, register_ = 0, run = 0, formula_cmds = 0, formula_fill = 0, halt = 0,
                goto_ = 0, file_io = 0, get_workspace = 0, alert = 0, set_value = 0, evaluate = 0, sheet_refs = 0;
  std::uint32_t url_download = 0;  // URLDownloadToFile named in a formula or string
  std::uint32_t shell_strings = 0; // cmd/powershell/mshta/rundll32/regsvr32 named in a formula or string
  std::uint32_t string_cells = 0, sst_strings = 0;
};

struct Workbook {
  std::uint16_t biff_version = 0;        // 0x0600 for BIFF8, 0x0500 for BIFF5; 0 for OOXML
  bool ooxml = false;
  std::vector<Sheet> sheets;
  std::vector<DefinedName> names;
  std::vector<FormulaCell> formulas;
  std::vector<StringCell> strings;       // LABEL / LABELSST cells and cached STRING results
  std::vector<std::string> sst;          // the shared string table
  EncryptionInfo encryption;
  Counts counts;
  std::map<std::uint16_t, std::uint32_t> function_counts;  // function number -> uses (commands with bit 15)

  std::vector<AnomalyRecord> anomalies;
  std::uint64_t anomaly_bits = 0;
  bool has(Anomaly a) const noexcept { return (anomaly_bits >> static_cast<unsigned>(a)) & 1u; }
  void add(Anomaly a, std::uint64_t detail = 0);
  /// True when the workbook carries XLM: a macro sheet, or a formula using a macro-only function.
  bool has_xlm() const noexcept { return counts.macro_sheets > 0 || counts.macro_formulas > 0; }
};

/// The function's name ("EXEC", "FORMULA.FILL"); bit 15 selects the command table. nullptr when unknown.
const char* function_name(std::uint16_t number) noexcept;
/// Fixed argument count of a ptgFunc function; -1 when the function takes a variable count or is unknown.
int function_fixed_args(std::uint16_t number) noexcept;

/// A cell address in A1 notation ("A1", "$B$7" when absolute), 0-based row/col.
std::string a1(std::uint32_t row, std::uint32_t col, bool row_abs = false, bool col_abs = false);

/// What a formula decoder needs from the workbook to print names and 3-D references.
struct FormulaContext {
  std::span<const std::string> sheet_names;   // by sheet index
  std::span<const std::string> name_names;    // defined names by index (ptgName is 1-based)
  std::span<const std::uint16_t> xti_first_sheet;  // EXTERNSHEET: ixti -> first sheet index (0xFFFF: external)
  std::span<const std::uint16_t> xti_supbook;      // EXTERNSHEET: ixti -> SUPBOOK index
  std::span<const std::vector<std::string>> supbook_names;  // SUPBOOK index -> its names (EXTERNNAME, or the
                                                            // workbook's own names for the self-reference)
  std::uint32_t base_row = 0, base_col = 0;   // the cell, for relative ptgRefN/ptgAreaN (shared formulas, names)
  bool biff5 = false;                          // BIFF5 token sizes (ptgRef3d etc. differ; decoded best-effort)
  bool biff12 = false;                         // XLSB ([MS-XLSB]) token sizes: 32-bit rows, UTF-16 ptgStr
};

struct DecodedFormula {
  std::string text;                      // without '='
  std::vector<std::uint16_t> functions;
  std::vector<std::string> folded;
  std::uint32_t tokens = 0, char_calls = 0, concat_ops = 0, string_literals = 0, sheet_refs = 0;
  bool complete = true;
  std::vector<AnomalyRecord> anomalies;
};

/// Decodes one parsed formula (rgce bytes). Never fails: a bad token stops decoding, records an anomaly and
/// returns what was decoded so far with complete = false.
DecodedFormula decode_formula(ByteView rgce, const FormulaContext& ctx);

/// Parses a BIFF8 (or BIFF5) Workbook stream.
/// Errors: not_this_format when the stream does not start with a BOF record.
Result<Workbook> parse_workbook_stream(ByteView stream);
/// The same, trying `passwords` (UTF-8) on an RC4 FILEPASS after the default "VelvetSweatshop";
/// EncryptionInfo::password says which one opened it.
Result<Workbook> parse_workbook_stream(ByteView stream, std::span<const std::string> passwords);

/// Finds the "Workbook" (or "Book") stream of a compound file and parses it.
/// Errors: not_this_format when there is no such stream, or as parse_workbook_stream.
Result<Workbook> parse_ole2(const ole2::File& file);

/// An OOXML macro sheet part ("xl/macrosheets/sheet1.xml") and its bytes; also worksheets if the caller wants
/// their formulas (their cells count as formulas, not macro formulas).
struct OoxmlPart {
  std::string path;
  ByteView xml;
};

/// Builds a Workbook from an OOXML package's xl/workbook.xml, xl/_rels/workbook.xml.rels (may be empty) and
/// its macro sheet parts. A tolerant scanner, not an XML parser: tags and attributes are matched by name,
/// entities unescaped, everything bounded; malformed markup becomes an anomaly.
/// XLSB packages go through the same call: pass xl/workbook.bin as `workbook_xml` (binary records are
/// recognised: BrtBundleSh sheets with their state, BrtName names, BrtExternSheet) and xl/macrosheets/*.bin parts
/// (BrtFmlaString/Num/Bool/Error cells, decoded with biff12 token sizes).
Workbook parse_ooxml(ByteView workbook_xml, ByteView workbook_rels, std::span<const OoxmlPart> macro_sheets);

// ---- RC4 for BIFF8 ([MS-XLS] 2.2.10, [MS-OFFCRYPTO] 2.3.6 and 2.3.5) ----------------------------------------

/// The FILEPASS payload read or written.
struct FilePass {
  Encryption method = Encryption::none;
  std::uint16_t major = 0, minor = 0;
  std::uint32_t key_bits = 128;
  std::array<std::uint8_t, 16> salt{};
  std::array<std::uint8_t, 16> verifier{};          // encrypted
  std::vector<std::uint8_t> verifier_hash;          // encrypted; 16 bytes (RC4) or 20 (CryptoAPI)
};

/// Parses a FILEPASS record body. nullopt when too short for the method it names.
std::optional<FilePass> parse_filepass(ByteView body);
/// Serializes a FILEPASS body (for tests and seed makers).
std::vector<std::uint8_t> write_filepass(const FilePass& fp);
/// Fills `fp`'s verifier fields for `password` from `verifier_plain` (used to build encrypted fixtures).
void make_verifier(FilePass& fp, std::u16string_view password, const std::array<std::uint8_t, 16>& verifier_plain);
/// True when `password` opens `fp`.
bool check_password(const FilePass& fp, std::u16string_view password);
/// Applies the BIFF8 RC4 keystream to the records after the FILEPASS record at `filepass_end` (offset of the first
/// record after it): record headers, BOF, FILEPASS, INTERFACEHDR & co and BOUNDSHEET8.lbPlyPos stay plain, as the
/// spec says. RC4 is its own inverse, so this both encrypts and decrypts. `stream` is modified in place.
void rc4_crypt_stream(std::span<std::uint8_t> stream, std::uint64_t filepass_end, const FilePass& fp,
                      std::u16string_view password);

/// A stream kept inside an RC4 CryptoAPI file's "encryption" stream ([MS-OFFCRYPTO] 2.3.5.4): Excel moves the summary
/// streams and, when the workbook has ActiveX controls, their "Ctls" stream there.
struct EncryptedStream {
  std::string name;                  // UTF-16 name narrowed to bytes (non-Latin-1 characters become '?')
  std::vector<std::uint8_t> bytes;   // decrypted
};

/// Decrypts the streams of an "encryption" stream with the CryptoAPI key of `fp` and `password`: the 8-byte header
/// (descriptor array offset and size) with block 0's key from its start, the descriptor array with block 0's key
/// again, each stream with the key of the block its descriptor names. Empty when `fp` is not RC4 CryptoAPI or the
/// layout does not hold (offsets outside the stream, too many descriptors, names running past the array).
std::vector<EncryptedStream> decrypt_encryption_stream(ByteView enc, const FilePass& fp, std::u16string_view password);

/// Writes an "encryption" stream holding `streams` (the inverse of decrypt_encryption_stream; stream k is encrypted with
/// block k's key), for tests and seed makers.
std::vector<std::uint8_t> write_encryption_stream(const std::vector<EncryptedStream>& streams, const FilePass& fp,
                                                  std::u16string_view password);

inline constexpr std::u16string_view kDefaultPassword = u"VelvetSweatshop";

}  // namespace mamori::xls
