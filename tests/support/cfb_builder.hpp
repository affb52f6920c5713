// Synthesizes compound files ([MS-CFB]) and VBA projects ([MS-OVBA]) in memory for the parser tests. No fixture
// files and no bytes from real documents: every byte is written here from the specifications.
//
// Layout of a built compound file, after the header sector:
//   regular-stream sectors (streams of 4096 bytes or more, in the order given), the mini stream, the miniFAT,
//   the directory, the FAT sectors, then the DIFAT sectors (only when there are more than 109 FAT sectors).
// CfbLayout records where each structure landed so that tests can corrupt it on purpose.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mamori::test {

struct CfbStream {
  std::string path;                // "Macros/VBA/dir"; storages on the way are created
  std::vector<std::uint8_t> data;
};

struct CfbSpec {
  std::uint16_t version = 3;       // 3: 512-byte sectors, 4: 4096-byte sectors
  std::vector<CfbStream> streams;
  std::vector<std::string> storages;  // extra (possibly empty) storages
  std::map<std::string, std::array<std::uint8_t, 16>> clsids;  // storage path ("" = root) -> CLSID as stored
};

struct CfbLayout {
  std::uint32_t sector_size = 512;
  std::vector<std::uint32_t> fat_sectors, difat_sectors;
  std::uint32_t dir_start = 0, minifat_start = 0, mini_stream_start = 0;
  std::map<std::string, std::uint32_t> entry_index;   // path -> directory entry index (root is "")
  std::map<std::string, std::uint32_t> start_sector;  // stream path -> first (mini) sector

  std::uint64_t sector_offset(std::uint32_t s) const { return (std::uint64_t{s} + 1) * sector_size; }
  /// File offset of the FAT entry for `sector`.
  std::uint64_t fat_entry_offset(std::uint32_t sector) const;
  /// File offset of directory entry `index` (the directory is contiguous in built files).
  std::uint64_t dir_entry_offset(std::uint32_t index) const { return sector_offset(dir_start) + std::uint64_t{index} * 128; }
};

std::vector<std::uint8_t> build_cfb(const CfbSpec& spec, CfbLayout* layout = nullptr);

/// Little-endian writers for tests that patch built files.
void put_u16(std::vector<std::uint8_t>& b, std::uint64_t off, std::uint16_t v);
void put_u32(std::vector<std::uint8_t>& b, std::uint64_t off, std::uint32_t v);

/// [MS-OVBA] 2.4.1.3.x compression: greedy longest match per position. Chunks that do not shrink are stored raw
/// when `allow_raw` and the chunk is a full 4096 bytes.
std::vector<std::uint8_t> ovba_compress(const std::vector<std::uint8_t>& data, bool allow_raw = true);
std::vector<std::uint8_t> ovba_compress(const std::string& text, bool allow_raw = true);

struct VbaModuleSpec {
  std::string name;
  std::string source;                   // as the VBA editor stores it, "Attribute VB_Name = ..." lines included
  std::vector<std::uint8_t> pcode;      // bytes before MODULEOFFSET (the performance cache)
  bool procedural = true;               // false: document/class module
  std::string stream_name = {};         // empty: same as name
  bool in_project_stream = true;        // declared in the PROJECT stream
  bool write_stream = true;
};

struct VbaSpec {
  std::string storage = "Macros/VBA";   // the VBA storage; PROJECT goes to its parent
  std::string project_name = "Project";
  std::uint16_t code_page = 1252;
  std::vector<VbaModuleSpec> modules;
  bool write_project_stream = true;
  int declared_modules = -1;            // PROJECTMODULES count; -1: modules.size()
};

/// The streams of a VBA project (dir, _VBA_PROJECT, module streams, PROJECT) to put in a CfbSpec.
std::vector<CfbStream> build_vba_streams(const VbaSpec& spec);
/// The decompressed dir stream alone (for tests that tamper with it before compressing).
std::vector<std::uint8_t> build_dir_stream(const VbaSpec& spec);
/// A Word 97 document holding the VBA project `vba`: a WordDocument stream that starts with the FIB's magic
/// (0xA5EC), a 1Table stream, and the project's streams.
std::vector<std::uint8_t> build_word_doc(const VbaSpec& vba, CfbLayout* layout = nullptr);
/// The same document with `extra` streams besides (an ObjectPool entry, say).
std::vector<std::uint8_t> build_word_doc(const VbaSpec& vba, std::vector<CfbStream> extra, CfbLayout* layout = nullptr);
/// The vbaProject.bin part of an OOXML document: the compound file holding `vba`'s streams, its storage set to
/// "VBA" (PROJECT at the root).
std::vector<std::uint8_t> build_vba_project_bin(VbaSpec vba);

}  // namespace mamori::test
