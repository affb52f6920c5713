// Writes the PE fuzzing seeds: images synthesized by tests/support/pe_builder, each exercising a different part of
// the parser. Usage: make_pe_seeds <dir>. No bytes come from real samples.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "support/pe_builder.hpp"

namespace {

using namespace mamori::test;

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 13 + (i >> 4));
  return v;
}

PeSpec base(bool plus) {
  PeSpec s;
  s.pe32_plus = plus;
  s.sections = {{".text", scn_code, pattern(0x180, 1)}, {".data", scn_data, pattern(0x40, 2), 0x400}};
  s.imports = {{"KERNEL32.dll", {ImportFn::by_name("CreateFileW", 0xC7), ImportFn::by_ordinal(17)}},
               {"WS2_32.dll", {ImportFn::by_ordinal(23)}}};
  return s;
}

PeSpec everything(bool plus) {
  PeSpec s = base(plus);
  s.dll = true;
  s.rich = {{0x0104, 30133, 5}, {0x0001, 0, 9}};
  s.delay_imports = {{"USER32.dll", {ImportFn::by_name("MessageBoxW", 0x285), ImportFn::by_ordinal(2)}}};
  s.exports = ExportSpec{"seed.dll", 3, {{"Alpha", 3}, {"", 5}, {"Fwd", 6, 0, "NTDLL.RtlAllocateHeap"}}};
  s.resources = {{10, "", 101, 0x409, pattern(0x20, 3)}, {0, "CUSTOM", 7, 0x407, pattern(0x10, 4)}};
  s.version_strings = {{"CompanyName", "Seed"}, {"FileDescription", "fuzz seed"}};
  s.tls_callbacks = std::vector<std::uint32_t>{0x1010};
  s.relocations = {0x1004, 0x1008, 0x2000};
  s.pdb_path = "C:\\seed\\seed.pdb";
  s.overlay = pattern(0x30, 5);
  s.certificate = pattern(0x40, 6);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_pe_seeds <dir>\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  std::vector<std::pair<std::string, PeSpec>> seeds;
  seeds.emplace_back("pe32_small", base(false));
  seeds.emplace_back("pe32plus_small", base(true));
  seeds.emplace_back("pe32_everything", everything(false));
  seeds.emplace_back("pe32plus_everything", everything(true));
  PeSpec dotnet = base(false);
  dotnet.imports = {{"mscoree.dll", {ImportFn::by_name("_CorExeMain")}}};
  dotnet.clr = ClrSpec{};
  seeds.emplace_back("pe32_dotnet", dotnet);
  PeSpec driver = base(false);
  driver.section_alignment = driver.file_alignment = 0x80;
  driver.subsystem = 1;
  driver.imports = {{"ntoskrnl.exe", {ImportFn::by_name("IoCreateDevice"), ImportFn::by_name("KeBugCheckEx")}}};
  seeds.emplace_back("pe32_low_alignment_driver", driver);
  PeSpec rich_bad = base(false);
  rich_bad.rich = {{0x00FF, 0x1234, 3}};
  rich_bad.corrupt_rich_checksum = true;
  rich_bad.after_certificate = pattern(0x10, 7);
  rich_bad.certificate = pattern(0x20, 8);
  seeds.emplace_back("pe32_bad_rich_cert_not_at_end", rich_bad);
  PeSpec bare = base(true);
  bare.dos_stub = false;
  bare.imports.clear();
  bare.entry_point = 0x900000;
  seeds.emplace_back("pe32plus_no_stub_no_imports", bare);
  for (const auto& [name, spec] : seeds) {
    const BuiltPe b = build_pe(spec);
    std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(b.bytes.data()),
                                                      static_cast<std::streamsize>(b.bytes.size()));
  }
  std::cout << "wrote " << seeds.size() << " seeds to " << dir << "\n";
  return 0;
}
