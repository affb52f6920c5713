// Synthesizes shell links ([MS-SHLLINK]) in memory for the LNK tests. Every byte is written here from the
// specification; no bytes come from real shortcuts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mamori::test {

using Blob = std::vector<std::uint8_t>;

// Shell items for LinkTargetIDList.
Blob root_item(const std::string& guid);              // type 0x1F, "{20D04FE0-3AEA-1069-A2D8-08002B30309D}"
Blob guid_item(std::uint8_t type, const std::string& guid);
Blob volume_item(const std::string& drive);           // type 0x2F, "C:\"
Blob file_item(const std::string& name, bool folder); // type 0x31/0x32, short name + BEEF0004 long name (v9)
Blob raw_item(std::uint8_t type, const Blob& body);   // size + type + body

struct LnkSpec {
  std::uint32_t extra_flags = 0;      // OR-ed into the flags the fields below imply
  bool unicode = true;
  std::uint32_t show_command = 1;
  std::uint32_t attributes = 0x20;
  std::int32_t icon_index = 0;
  std::vector<Blob> idlist;           // empty: no LinkTargetIDList
  std::optional<std::string> local_base_path;  // LinkInfo with a VolumeID and a local path
  std::optional<std::string> net_name;         // LinkInfo with a CommonNetworkRelativeLink
  std::optional<std::string> name, relative_path, working_dir, arguments, icon_location;
  std::optional<std::string> env_target;       // EnvironmentVariableDataBlock
  std::optional<std::string> icon_env_target;  // IconEnvironmentDataBlock
  std::optional<std::string> machine_id;       // TrackerDataBlock
  std::optional<std::string> known_folder;     // KnownFolderDataBlock GUID
  bool console_block = false;
  std::vector<Blob> raw_blocks;                // extra blocks written as given
  bool terminal = true;
  Blob appended;                               // bytes after the terminal block
};

Blob build_lnk(const LnkSpec& spec);

/// UTF-16LE bytes of an ASCII string, without terminator.
Blob utf16(const std::string& s);
/// Standard base64.
std::string base64(const Blob& b);

}  // namespace mamori::test
