// Writes seed inputs for fuzz_ole2 and fuzz_vba, synthesized by tests/support/cfb_builder (never taken from
// samples): make_ole2_seeds <ole2 dir> <vba dir>
#include <cstdio>
#include <string>
#include <vector>

#include "support/cfb_builder.hpp"

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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <ole2 seed dir> <vba seed dir>\n", argv[0]);
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
  return 0;
}
