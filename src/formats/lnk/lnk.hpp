// Shell Link (.lnk) parser ([MS-SHLLINK]), written for hostile input.
//
// lnk::parse(bytes) returns an error only when the bytes are not a shell link (header size or CLSID wrong) or the
// 76-byte header is cut off. Everything after that -- an ID list whose items overrun it, LinkInfo offsets outside
// the structure, strings cut off by the end of the file, extra-data blocks with impossible sizes, bytes after the
// terminal block -- is recorded in Link::anomalies, and parsing goes on with what is readable. Every walk is
// bounded by a named cap in lnk::limits.
//
// Lifetime: a Link owns its strings (UTF-8); it keeps no view into the parsed bytes except `appended`, which
// borrows them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace mamori::lnk {

namespace limits {
// ID list items walked. Real shortcuts hold 2-10 (My Computer, C:\, folders..., file).
inline constexpr std::uint32_t max_idlist_items = 256;
// Extra-data blocks walked. Windows writes at most about ten kinds, each once.
inline constexpr std::uint32_t max_extra_blocks = 64;
// Strings taken from one ID list item (CPL applet names, URIs); the rest are skipped.
inline constexpr std::uint32_t max_item_strings = 8;
// Longest string kept from any field, in bytes of UTF-8; longer ones are cut and flagged.
inline constexpr std::uint32_t max_string_bytes = 1u << 16;
}  // namespace limits

// LinkFlags ([MS-SHLLINK] 2.1.1).
namespace flags {
inline constexpr std::uint32_t has_idlist = 0x1, has_link_info = 0x2, has_name = 0x4, has_relative_path = 0x8,
                               has_working_dir = 0x10, has_arguments = 0x20, has_icon_location = 0x40,
                               is_unicode = 0x80, force_no_link_info = 0x100, has_exp_string = 0x200,
                               run_in_separate_process = 0x400, has_darwin_id = 0x1000, run_as_user = 0x2000,
                               has_exp_icon = 0x4000, run_with_shim_layer = 0x20000;
}  // namespace flags

// ShowCommand values ([MS-SHLLINK] 2.1).
inline constexpr std::uint32_t kShowNormal = 1, kShowMaximized = 3, kShowMinNoActive = 7;

/// Structural oddities. The numeric values are stable.
enum class Anomaly : std::uint8_t {
  idlist_truncated = 0,         // IDListSize runs past the end of the file
  idlist_item_invalid,          // an item's size is 1, or overruns the list; detail = item index
  idlist_unterminated,          // no zero-size terminator inside IDListSize
  idlist_truncated_by_limit,    // more than limits::max_idlist_items
  link_info_truncated,          // LinkInfoSize runs past the end of the file
  link_info_header_invalid,     // header size neither 0x1C nor >= 0x24, or LinkInfoSize below it
  link_info_offset_invalid,     // an offset points outside LinkInfo; detail = the offset
  string_truncated,             // a StringData field runs past the end of the file
  string_truncated_by_limit,    // a field longer than limits::max_string_bytes
  extra_block_truncated,        // a block's size runs past the end of the file
  extra_block_size_invalid,     // a known block whose size is not its fixed size; detail = signature
  extra_block_unknown,          // a signature [MS-SHLLINK] does not define; detail = signature
  extra_truncated_by_limit,     // more than limits::max_extra_blocks
  extra_unterminated,           // the file ends without a terminal block
  data_after_terminal,          // bytes after the terminal block; detail = how many
  flags_reserved_set,           // Unused1/Unused2 link flags set
  show_command_invalid,         // ShowCommand not 1, 3 or 7 (Windows treats it as 1)
  kCount
};
inline constexpr std::size_t anomaly_count = static_cast<std::size_t>(Anomaly::kCount);
const char* anomaly_name(Anomaly a) noexcept;

struct AnomalyRecord {
  Anomaly code;
  std::uint64_t detail;
};

/// One shell item of the LinkTargetIDList, with what could be read of it.
struct IdItem {
  std::uint64_t offset = 0;   // file offset of the item's size field
  std::uint16_t size = 0;
  std::uint8_t type = 0;      // class type indicator (0x1F root, 0x2F volume, 0x31 folder, 0x32 file, ...)
  std::string clsid;          // "{20D04FE0-...}" for root/GUID items, else empty
  std::string name;           // volume "C:\", folder or file name (long name when present), else empty
  std::vector<std::string> strings;  // path-like strings found in items of other kinds (CPL applets, URIs)
};

struct LinkInfo {
  bool present = false;
  std::uint32_t flags = 0;           // 1: VolumeIDAndLocalBasePath, 2: CommonNetworkRelativeLinkAndPathSuffix
  std::uint32_t drive_type = 0;      // DRIVE_REMOVABLE 2, FIXED 3, REMOTE 4, CDROM 5...
  std::uint32_t drive_serial = 0;
  std::string volume_label;
  std::string local_base_path;
  std::string common_path_suffix;
  std::string net_name;              // "\\server\share"
  std::string device_name;           // "Z:"
};

struct ExtraBlock {
  std::uint32_t signature = 0;
  std::uint32_t size = 0;
  std::uint64_t offset = 0;
};

struct Link {
  std::uint32_t link_flags = 0;
  std::uint32_t file_attributes = 0;
  std::uint64_t creation_time = 0, access_time = 0, write_time = 0;  // FILETIME
  std::uint32_t file_size = 0;
  std::int32_t icon_index = 0;
  std::uint32_t show_command = 0;
  std::uint16_t hotkey = 0;

  std::vector<IdItem> idlist;
  std::string idlist_path;  // the names of the items joined into a path ("C:\Windows\System32\cmd.exe")
  LinkInfo link_info;

  // StringData ([MS-SHLLINK] 2.4), UTF-8.
  std::string name, relative_path, working_dir, arguments, icon_location;
  std::uint32_t arguments_chars = 0;  // CountCharacters as claimed (before any cut)

  // ExtraData ([MS-SHLLINK] 2.5).
  std::vector<ExtraBlock> extra;
  std::string env_target;       // EnvironmentVariableDataBlock
  std::string icon_env_target;  // IconEnvironmentDataBlock
  std::string darwin_id;        // DarwinDataBlock
  std::string shim_layer;       // ShimDataBlock
  std::string known_folder_id;  // KnownFolderDataBlock GUID
  std::uint32_t special_folder_id = 0xFFFFFFFFu;  // CSIDL, 0xFFFFFFFF when absent
  std::string tracker_machine_id;  // TrackerDataBlock NetBIOS name of the machine that made the link
  std::string tracker_droid;       // its file DROID (volume and object GUIDs)
  bool has_console_block = false;
  std::uint32_t property_store_bytes = 0;
  std::vector<std::string> property_strings;  // UTF-16 strings found in the PropertyStoreDataBlock (bounded)

  ByteView appended;  // bytes after the terminal block (borrowed)

  std::vector<AnomalyRecord> anomalies;
  std::uint64_t anomaly_bits = 0;
  bool has(Anomaly a) const noexcept { return (anomaly_bits >> static_cast<unsigned>(a)) & 1u; }

  /// The best description of what the link runs: the environment-variable target, else the LinkInfo path, else
  /// the ID list path, else the relative path.
  std::string target() const;
};

/// True when the bytes start with the shell link header size and CLSID.
bool sniff(ByteView bytes) noexcept;

/// Parses a shell link. Errors: not_this_format (header size or CLSID), truncated (header cut off).
Result<Link> parse(ByteView bytes);

/// "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" from the 16 bytes at `off` (mixed-endian GUID), or empty.
std::string guid_at(ByteView b, std::uint64_t off);

}  // namespace mamori::lnk
