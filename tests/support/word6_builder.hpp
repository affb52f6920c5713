// Synthesizes Word 6/95 WordDocument streams holding WordBasic macros (the command table that the FIB points at
// through fcCmds/lcbCmds, and the XOR-keyed token bodies), for the tests of src/formats/vba/wordbasic. Every byte is
// written here from the layout described in wordbasic.hpp; nothing comes from a real document.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mamori::test {

/// WordBasic token writer: each call appends one token.
struct WordBasicTokens {
  std::vector<std::uint8_t> b{0x01, 0x00};  // the body header
  WordBasicTokens& kw(std::uint8_t t);                     // one-byte keyword (0x1B Sub, 0x1A End...)
  WordBasicTokens& ident(const std::string& s);            // 0x69
  WordBasicTokens& str(const std::string& s);              // 0x6A
  WordBasicTokens& comment(const std::string& s);          // 0x6B
  WordBasicTokens& builtin(std::uint16_t n);               // 0x67
  WordBasicTokens& integer(std::uint16_t n);               // 0x6C
  WordBasicTokens& eol();                                  // 0x64
  WordBasicTokens& raw(std::vector<std::uint8_t> bytes);   // anything, e.g. a token cut short
};

struct Word6MacroSpec {
  std::string name;
  std::vector<std::uint8_t> body;   // plain tokens; stored XORed with `key`
  std::uint8_t key = 0;
  std::uint16_t name_id = 0xFFFF;   // 0xFFFF: the macro's index
  std::int64_t offset = -1;         // -1: where the builder puts it; else stored as given (may point outside)
};

struct Word6Spec {
  std::uint16_t nfib = 104;         // Word 95
  std::vector<Word6MacroSpec> macros;
  bool other_records = true;        // allocated commands, a key map, the string table and a 0x12 word
  bool terminate = true;            // end the table with 0x40
  std::vector<std::uint8_t> extra_records;  // appended before the terminator (e.g. an unknown record)
};

struct Word6Layout {
  std::uint32_t table_offset = 0, table_size = 0;
};

/// The WordDocument stream: a 0x200-byte Word 6/95 FIB, the macro bodies, then the command table.
std::vector<std::uint8_t> build_word6_document(const Word6Spec& spec, Word6Layout* layout = nullptr);
/// A compound file whose only stream is that WordDocument stream (a Word 6/95 .doc).
std::vector<std::uint8_t> build_word6_doc(const Word6Spec& spec);

}  // namespace mamori::test
