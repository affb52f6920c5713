#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/filetype.hpp"

using mamori::ByteView;
using mamori::engine::detect_type;
using mamori::engine::FileKind;

namespace {

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

mamori::engine::FileType type_of(const std::vector<std::uint8_t>& v) { return detect_type(ByteView(v.data(), v.size())); }

// A minimal PE header: just enough structure for typing (the parser tests build complete files).
std::vector<std::uint8_t> pe_header(bool plus, std::uint16_t characteristics, std::uint16_t subsystem, bool clr) {
  std::vector<std::uint8_t> v(1024, 0);
  v[0] = 'M';
  v[1] = 'Z';
  v[0x3c] = 0x80;
  v[0x80] = 'P';
  v[0x81] = 'E';
  const std::size_t coff = 0x84, opt = coff + 20;
  v[coff + 18] = static_cast<std::uint8_t>(characteristics);
  v[coff + 19] = static_cast<std::uint8_t>(characteristics >> 8);
  v[opt] = 0x0b;
  v[opt + 1] = plus ? 0x02 : 0x01;
  v[opt + 68] = static_cast<std::uint8_t>(subsystem);
  if (clr) {
    const std::size_t d = opt + (plus ? 112 : 96) + 14 * 8;
    v[d] = 0x10;
    v[d + 4] = 0x48;
  }
  return v;
}

}  // namespace

TEST(FileType, PeSubtypesComeFromHeadersNotNames) {
  EXPECT_EQ(type_of(pe_header(false, 0x0102, 2, false)).subtype, "pe32-exe");
  EXPECT_EQ(type_of(pe_header(true, 0x2022, 2, false)).subtype, "pe32+-dll");
  EXPECT_EQ(type_of(pe_header(false, 0x0102, 3, true)).subtype, "pe32-exe-dotnet");
  EXPECT_EQ(type_of(pe_header(true, 0x0022, 1, false)).subtype, "pe32+-driver");
  EXPECT_EQ(type_of(pe_header(true, 0x0022, 10, false)).subtype, "pe32+-efi");
  EXPECT_EQ(type_of(pe_header(false, 0x0102, 2, false)).kind, FileKind::pe);
}

TEST(FileType, MzWithoutPeSignatureIsNotPe) {
  auto v = pe_header(false, 0x0102, 2, false);
  v[0x80] = 'X';
  EXPECT_EQ(type_of(v).kind, FileKind::unknown);
  EXPECT_EQ(type_of(bytes("MZ")).kind, FileKind::unknown);  // truncated: no crash
}

TEST(FileType, DocumentsAndArchives) {
  EXPECT_EQ(type_of({0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0}).kind, FileKind::ole2);
  EXPECT_EQ(type_of(bytes("{\\rtf1\\ansi hello}")).kind, FileKind::rtf);
  EXPECT_EQ(type_of(bytes("{\\rtxyz obfuscated header")).kind, FileKind::rtf);
  EXPECT_EQ(type_of(bytes("garbage%PDF-1.7\n")).kind, FileKind::pdf);
  EXPECT_EQ(type_of(bytes("PK\x03\x04....word/document.xml....[Content_Types].xml")).subtype, "ooxml-word");
  EXPECT_EQ(type_of(bytes("PK\x03\x04....xl/workbook.xml....[Content_Types].xml")).subtype, "ooxml-excel");
  EXPECT_EQ(type_of(bytes("PK\x03\x04....readme.txt")).kind, FileKind::zip);
  EXPECT_EQ(type_of({'7', 'z', 0xBC, 0xAF, 0x27, 0x1C, 0, 4}).subtype, "7z");
  EXPECT_EQ(type_of(bytes("Rar!\x1a\x07\x01")).subtype, "rar");
  EXPECT_EQ(type_of({0x1F, 0x8B, 8, 0}).subtype, "gzip");
  std::vector<std::uint8_t> lnk = {0x4C, 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46, 0};
  EXPECT_EQ(type_of(lnk).kind, FileKind::lnk);
  std::vector<std::uint8_t> one = {0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D,
                                   0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3};
  EXPECT_EQ(type_of(one).kind, FileKind::onenote);
  std::vector<std::uint8_t> iso(0x9000, 0);
  std::copy_n("CD001", 5, iso.begin() + 0x8001);
  EXPECT_EQ(type_of(iso).subtype, "iso");
}

TEST(FileType, Scripts) {
  EXPECT_EQ(type_of(bytes("Set sh = CreateObject(\"WScript.Shell\")\r\nsh.Run \"x\"")).subtype, "script-vbs");
  EXPECT_EQ(type_of(bytes("$c = New-Object Net.WebClient; $env:TEMP")).subtype, "script-ps1");
  EXPECT_EQ(type_of(bytes("@echo off\r\nstart calc")).subtype, "script-bat");
  EXPECT_EQ(type_of(bytes("var x = new ActiveXObject('WScript.Shell');")).subtype, "script-js");
  EXPECT_EQ(type_of(bytes("just some words in a file")).kind, FileKind::unknown);
  EXPECT_EQ(type_of({0x00, 0x01, 0x02, 0xff, 0x10}).subtype, "data");
  EXPECT_EQ(type_of({}).subtype, "data");
}
