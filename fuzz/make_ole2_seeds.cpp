// Writes seed inputs for fuzz_ole2, fuzz_vba and fuzz_vba_excel5, synthesized by tests/support/cfb_builder and
// excel5_builder (never taken from samples): make_ole2_seeds <ole2 dir> <vba dir> [<vba_excel5 dir>]
#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "support/cfb_builder.hpp"
#include "support/excel5_builder.hpp"

namespace {

using namespace mamori::test;

void write(const std::string& path, const std::vector<std::uint8_t>& b) {
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(b.data(), 1, b.size(), f);
    std::fclose(f);
  }
}

VbaSpec project(const std::string& storage) {
  VbaSpec v;
  v.storage = storage;
  v.modules = {{"ThisDocument", "Attribute VB_Name = \"ThisDocument\"\r\nSub Document_Open()\r\n  M.Run\r\nEnd Sub\r\n",
                std::vector<std::uint8_t>(300, 0xA5), false},
               {"M", "Attribute VB_Name = \"M\"\r\nSub Run()\r\n  Shell \"cmd /c echo a\" & Chr(65)\r\nEnd Sub\r\n",
                std::vector<std::uint8_t>(200, 0x5A), true}};
  return v;
}

// An Excel 5/95 project: a hook, a save into the start-up folder, a comment, literals and a blank line.
excel5::Spec excel5_project() {
  namespace x5 = excel5;
  x5::Spec s;
  s.names = {"VBA", "Excel", "Module1", "Application", "OnSheetActivate", "StartupPath", "SaveAs", "n"};
  x5::Module m;
  m.stream_name = "24bb04edb";
  m.lines.push_back(x5::Line{}.comment("recorded"));
  m.lines.push_back(x5::Line{}.str("p").name(x5::op_ld, 3).name(x5::op_mem_st, 4));
  m.lines.push_back(x5::Line{});
  m.lines.push_back(x5::Line{}.name(x5::op_ld, 3).name(x5::op_mem_ld, 5).str("\\b.xls").op(x5::op_concat)
                        .name(x5::op_ld, 7).call(x5::op_args_mem_call, 6, 1).num(3).name(x5::op_st, 7));
  s.modules.push_back(m);
  return s;
}

void put_len(std::vector<std::uint8_t>& out, const std::vector<std::uint8_t>& part) {
  out.push_back(static_cast<std::uint8_t>(part.size()));
  out.push_back(static_cast<std::uint8_t>(part.size() >> 8));
  out.insert(out.end(), part.begin(), part.end());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s <ole2 seed dir> <vba seed dir> [<vba_excel5 seed dir>]\n", argv[0]);
    return 2;
  }
  const std::string ole2_dir = argv[1], vba_dir = argv[2];
  // Plain compound files, both versions, with mini and regular streams and nested storages.
  for (std::uint16_t version : {3, 4}) {
    CfbSpec s;
    s.version = version;
    s.streams = {{"WordDocument", std::vector<std::uint8_t>(4200, 0x11)},
                 {"ObjectPool/_1/\x01Ole10Native", std::vector<std::uint8_t>(90, 0x22)},
                 {"\x05SummaryInformation", std::vector<std::uint8_t>(100, 0x33)}};
    write(ole2_dir + "/cfb_v" + std::to_string(version), build_cfb(s));
  }
  // Equation Editor 3.0 objects (rule equation-exploit-object, office_ole2.cpp): storages of class
  // {0002CE02-0000-0000-C000-000000000046} holding an \x01Ole10Native stream named in altered case and over 1 KiB,
  // and an "Equation Native" stream whose MTEF v3 FONT record carries a face name longer than 32 characters.
  {
    const std::array<std::uint8_t, 16> equation = {0x02, 0xCE, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
                                                   0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
    CfbSpec s;
    s.streams = {{"\x01oLE10natiVe", std::vector<std::uint8_t>(1100, 0x41)},
                 {"ObjectPool/_1/\x01Ole10Native", std::vector<std::uint8_t>(40, 0x42)}};
    s.clsids[""] = equation;
    s.clsids["ObjectPool/_1"] = equation;
    write(ole2_dir + "/equation_ole10native_case", build_cfb(s));

    std::vector<std::uint8_t> eq(28, 0);
    eq[0] = 0x1C;                                   // EQNOLEFILEHDR.cbHdr
    for (std::uint8_t b : {0x03, 0x01, 0x01, 0x03, 0x0A}) eq.push_back(b);  // MTEF v3 header
    for (std::uint8_t b : {0x0A, 0x01, 0x08, 0x5A, 0x5A}) eq.push_back(b);  // records, then FONT (tag 8)
    eq.insert(eq.end(), 48, 'A');                   // face name over LF_FACESIZE
    eq.push_back(0);
    CfbSpec e;
    e.streams = {{"ObjectPool/_2/Equation Native", eq}, {"WordDocument", std::vector<std::uint8_t>(600, 0x11)}};
    e.clsids["ObjectPool/_2"] = equation;
    write(ole2_dir + "/equation_native_long_font", build_cfb(e));
  }
  // A Word file embedding an Outlook item under ObjectPool (typing: stays a document, filetype.cpp ole2_is_msg),
  // and a message whose entries sit in an orphaned storage (typed as a damaged message).
  {
    CfbSpec s;
    s.streams = {{"WordDocument", std::vector<std::uint8_t>(600, 0x11)},
                 {"ObjectPool/_3/__substg1.0_0037001F", {'s', 0, 'u', 0, 'b', 0}},
                 {"ObjectPool/_3/__properties_version1.0", std::vector<std::uint8_t>(32, 0)}};
    write(ole2_dir + "/doc_embedding_msg", build_cfb(s));
    CfbSpec m;
    m.streams = {{"x/__substg1.0_1000001F", {'b', 0, 'o', 0, 'd', 0, 'y', 0}},
                 {"x/__properties_version1.0", std::vector<std::uint8_t>(32, 0)}};
    write(ole2_dir + "/msg_entries_below_root", build_cfb(m));
  }
  // VBA projects in the three layouts; they seed both targets.
  for (const std::string storage : {"Macros/VBA", "_VBA_PROJECT_CUR/VBA", "VBA"}) {
    CfbSpec s;
    s.streams = build_vba_streams(project(storage));
    std::string name = storage;
    for (char& c : name) c = c == '/' ? '_' : c;
    const auto b = build_cfb(s);
    write(ole2_dir + "/vba_" + name, b);
    write(vba_dir + "/vba_" + name, b);
  }
  // Bare compressed containers for the decompressor.
  std::string text;
  for (int i = 0; i < 200; ++i) text += "s = s & Chr(" + std::to_string(i) + ")\r\n";
  write(vba_dir + "/container_text", ovba_compress(text));
  write(vba_dir + "/container_dir", ovba_compress(build_dir_stream(project("VBA"))));
  // Excel 5/95: a whole workbook for fuzz_vba; u16-length-prefixed dir + modules for fuzz_vba_excel5.
  const auto x5 = excel5_project();
  write(vba_dir + "/excel5_workbook", excel5::build_workbook(x5));
  if (argc == 4) {
    std::vector<std::uint8_t> raw;
    put_len(raw, excel5::build_dir(x5));
    for (const auto& m : x5.modules) put_len(raw, excel5::build_module(m));
    write(std::string(argv[3]) + "/project", raw);
    auto no_records = x5;
    no_records.write_record_table = false;
    raw.clear();
    put_len(raw, excel5::build_dir(no_records));
    put_len(raw, excel5::build_module(no_records.modules[0]));
    write(std::string(argv[3]) + "/project_no_records", raw);
  }
  return 0;
}
