// Writes synthetic CLI metadata seeds for fuzz_dotnet, built by tests/support/dotnet_builder (never from samples):
//   ninja -C build-fuzz make_dotnet_seeds && build-fuzz/fuzz/make_dotnet_seeds fuzz/seeds/dotnet
#include <cstdio>
#include <fstream>
#include <string>

#include "support/dotnet_builder.hpp"

namespace {

void write(const std::string& dir, const char* name, const std::vector<std::uint8_t>& b) {
  std::ofstream(dir + "/" + name, std::ios::binary).write(reinterpret_cast<const char*>(b.data()),
                                                            static_cast<std::streamsize>(b.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_dotnet_seeds <dir>\n");
    return 2;
  }
  const std::string dir = argv[1];
  mamori::test::MetadataSpec s;
  s.assembly_name = "Seed";
  s.assembly_refs = {"mscorlib", "System"};
  s.type_refs = {{"System.Reflection", "Assembly"}, {"System.Net", "WebClient"}, {"System", "Convert"}};
  s.member_refs = {{0, "Load"}, {1, "DownloadData"}, {2, "FromBase64String"}};
  s.type_defs = {"Program", "a"};
  s.method_defs = {"Main", "b"};
  s.module_refs = {"kernel32.dll"};
  s.pinvokes = {{1, "VirtualAlloc"}};
  s.user_strings = {u"http://example.invalid/x", std::u16string(70, u'Q')};
  s.resources = {{"r.resources", std::vector<std::uint8_t>(64, 7), true}};
  write(dir, "dropper.bin", mamori::test::build_metadata(s).metadata);
  s.wide_heaps = true;
  s.tables_name = "#-";
  s.extra_streams = {{"#Strings", std::vector<std::uint8_t>(8, 0)}};
  write(dir, "wide_uncompressed.bin", mamori::test::build_metadata(s).metadata);
  mamori::test::MetadataSpec empty;
  write(dir, "empty.bin", mamori::test::build_metadata(empty).metadata);
  return 0;
}
