// Writes the process-list fuzz seeds: the test builder's exports in each format and encoding (synthetic rows).
#include <fstream>
#include <string>

#include "support/evidence_tree.hpp"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  using namespace mamori::test;
  const std::vector<ProcRow> rows = {
      {4, "System", "", ""},
      {4321, "rundll32.exe", "C:\\Windows\\SysWOW64\\rundll32.exe",
       "C:\\Windows\\SysWOW64\\rundll32.exe \"C:\\Users\\a\\AppData\\Local\\Abcdef\\ghijk.lmn\",DllRegisterServer"},
      {77, "explorer.exe", "C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE"}};
  const char* fn[] = {"tasklist", "cim", "wmic"};
  const char* en[] = {"utf8", "utf8bom", "utf16bom", "utf16"};
  for (int f = 0; f < 3; ++f)
    for (int e = 0; e < 4; ++e) {
      const auto b = process_list(static_cast<ListFormat>(f), static_cast<ListEncoding>(e), rows);
      std::ofstream(std::string(argv[1]) + "/" + fn[f] + "_" + en[e], std::ios::binary)
          .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    }
  return 0;
}
