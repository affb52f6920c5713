// Synthesizes Excel 5/95 VBA projects (a "_VBA_PROJECT" storage with an uncompressed dir and p-code module streams)
// for the vba::read_excel5 tests and the fuzz seeds. The layout is the one described at the top of
// src/formats/vba/excel5.cpp; every byte is written here, none comes from a real workbook.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/cfb_builder.hpp"

namespace mamori::test::excel5 {

/// Opcodes the reader decodes (low 10 bits; the builder writes them as given).
enum : std::uint16_t {
  op_concat = 0x011, op_ld = 0x020, op_mem_ld = 0x021, op_args_ld = 0x024, op_args_mem_ld = 0x025, op_st = 0x027,
  op_mem_st = 0x028, op_mem_st_with = 0x039, op_args_call = 0x041, op_args_mem_call = 0x042, op_lit_di2 = 0x0A3,
  op_lit_str = 0x0AD, op_named_arg = 0x0C8, op_comment = 0x0D7,
};

/// The record id the builder gives the `index`-th name of Excel5Spec::names.
std::uint16_t id_of(std::size_t index);

/// One source line's p-code, built instruction by instruction.
struct Line {
  std::vector<std::uint8_t> bytes;
  Line& op(std::uint16_t opcode);                                   // an instruction without operands
  Line& name(std::uint16_t opcode, std::size_t index);              // opcode, id
  Line& call(std::uint16_t opcode, std::size_t index, std::uint16_t argc);  // opcode, id, argc
  Line& str(const std::string& text);                               // string literal
  Line& num(std::uint16_t v);                                       // integer literal
  Line& comment(const std::string& text);
  Line& raw16(std::uint16_t v);                                     // any word
};

struct Module {
  std::string stream_name;
  std::vector<Line> lines;  // a Line with no bytes is a source line without p-code
};

struct Spec {
  std::string storage = "_VBA_PROJECT";
  std::vector<std::string> names;  // the identifier table
  std::vector<Module> modules;
  bool write_record_table = true;
  std::uint8_t name_pad = 0xAB;    // the byte that pads a name to an even offset (real files leave garbage there)
};

/// The dir stream alone.
std::vector<std::uint8_t> build_dir(const Spec& spec);
/// One module stream.
std::vector<std::uint8_t> build_module(const Module& m);
/// All streams of the project (dir and the modules) for a CfbSpec.
std::vector<CfbStream> build_streams(const Spec& spec);
/// A workbook: a "Book" stream plus the project.
std::vector<std::uint8_t> build_workbook(const Spec& spec);

}  // namespace mamori::test::excel5
