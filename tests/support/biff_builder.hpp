// Synthesizes BIFF8 Workbook streams ([MS-XLS]) for the xls parser tests and seed makers: globals (BOF, optional
// FILEPASS, BOUNDSHEET8 per sheet with the offsets fixed up, Lbl names, EXTERNSHEET, SST), then one substream per
// sheet holding the records given. Formula token streams are written with the ptg helpers. Every byte is written
// here from the specification; nothing comes from real files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mamori::test {

using Buf = std::vector<std::uint8_t>;

Buf biff_record(std::uint16_t type, const Buf& body);
Buf biff_formula(std::uint16_t row, std::uint16_t col, const Buf& rgce, bool string_result = false);
Buf biff_string(const std::string& s);          // STRING record (8-bit chars)
Buf biff_label(std::uint16_t row, std::uint16_t col, const std::string& s);
Buf biff_labelsst(std::uint16_t row, std::uint16_t col, std::uint32_t isst);

struct BiffSheet {
  std::string name;
  std::uint8_t dt = 0;        // BOUNDSHEET8 dt: 0 worksheet, 1 macro sheet, 2 chart
  std::uint8_t state = 0;     // 0 visible, 1 hidden, 2 very hidden
  std::uint16_t bof_dt = 0;   // 0: derived from dt (0x10 worksheet, 0x40 macro sheet, 0x20 chart)
  std::vector<Buf> records;   // cell records between BOF and EOF
  bool write_eof = true;
};

struct BiffName {
  std::string name;           // for built-ins, the one-character code ("\x01" = Auto_Open)
  bool builtin = false;
  bool hidden = false;
  bool macro = false;         // fFunc + fProc: a command macro
  std::uint16_t itab = 0;
  Buf rgce;
};

enum class BiffCrypt { none, rc4, rc4_cryptoapi, xor_obfuscation };

struct BiffSpec {
  std::vector<BiffSheet> sheets;
  std::vector<BiffName> names;
  std::vector<std::string> sst;
  std::uint32_t sst_split_at = 0;   // > 0: split the SST body there into a CONTINUE that starts with a flag byte
  bool externsheet = true;          // one SUPBOOK (self) + EXTERNSHEET with one XTI per sheet
  BiffCrypt crypt = BiffCrypt::none;
  std::u16string password = u"VelvetSweatshop";
  std::uint32_t key_bits = 128;     // CryptoAPI key size
};

Buf build_workbook_stream(const BiffSpec& spec);

/// The hidden built-in Auto_Open name pointing at cell A1 of the sheet behind XTI `ixti` (how XLM droppers start).
BiffName biff_auto_open(std::uint16_t ixti);

/// An XLM dropper's frame: worksheet "Sheet1" showing "Enable content", very hidden macro sheet "Macro1" holding
/// `macro_records`, and biff_auto_open(1) pointing at its A1.
BiffSpec biff_macro_dropper(std::vector<Buf> macro_records);

// Formula tokens ([MS-XLS] 2.5.198).
namespace ptg {
Buf str(const std::string& s);                    // ptgStr, 8-bit
Buf integer(std::uint16_t v);                      // ptgInt
Buf num(double v);                                 // ptgNum
Buf boolean(bool v);                               // ptgBool
Buf missing();                                     // ptgMissArg
Buf ref(std::uint16_t row, std::uint16_t col, bool relative = true);     // ptgRef (value class)
Buf area(std::uint16_t r1, std::uint16_t c1, std::uint16_t r2, std::uint16_t c2);
Buf ref3d(std::uint16_t ixti, std::uint16_t row, std::uint16_t col);   // absolute
Buf name(std::uint32_t index);                     // ptgName, 1-based
Buf func(std::uint16_t number);                    // ptgFunc
Buf funcvar(std::uint16_t number, std::uint8_t argc, bool command = false);  // ptgFuncVar
Buf op(std::uint8_t token);                        // 0x03..0x15: operators, ptgParen
Buf attr_space();                                  // ptgAttrSpace
Buf attr_sum();                                    // ptgAttrSum
Buf cat(std::initializer_list<Buf> parts);
}  // namespace ptg

}  // namespace mamori::test
