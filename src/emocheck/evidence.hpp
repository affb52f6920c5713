// What the Emotet check reads about a host, behind one interface: registry keys, files and folders, running
// processes, and host facts. The detection methods (methods.cpp) see only this interface, so an offline evidence
// tree (offline_evidence.cpp) and a future live-Windows backend are interchangeable. Everything crosses the
// interface as plain values; a backend owns its handles and never hands them out.
//
// Paths are Windows paths ("C:\Users\alice\AppData\Local"), compared case-insensitively, because that is what
// registry values and process lists contain.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mamori::emocheck {

// Registry value types (winnt.h numbering, which is also what the hive stores).
inline constexpr std::uint32_t reg_sz = 1, reg_expand_sz = 2, reg_binary = 3, reg_dword = 4, reg_multi_sz = 7;

struct RegValue {
  std::string name;
  std::uint32_t type = 0;
  std::vector<std::uint8_t> data;

  /// REG_SZ / REG_EXPAND_SZ data as UTF-8 (UTF-16LE up to the first NUL); nullopt for other types.
  std::optional<std::string> text() const;
  /// REG_DWORD data; nullopt for other types or short data.
  std::optional<std::uint32_t> dword() const;
};

struct RegKey {
  std::vector<RegValue> values;
  std::vector<std::string> subkeys;
  bool truncated = false;  // a per-key cap cut the listing short
};

/// The hives the methods use: HKLM\SYSTEM, HKLM\SOFTWARE, and each user's NTUSER.DAT (HKCU when that user is
/// logged on).
enum class Hive : std::uint8_t { system, software, user };

struct RegRoot {
  Hive hive = Hive::system;
  std::string user;  // profile folder name, for Hive::user
  /// "HKLM\SYSTEM", "HKLM\SOFTWARE", "HKCU" (EmoCheck's report uses HKCU; the user goes in mamori's section).
  std::string prefix() const;
};

enum class FileKind : std::uint8_t { file, dir, symlink, other };

struct FileInfo {
  std::string name;  // the entry's own name (for stat: the last path component as stored)
  FileKind kind = FileKind::other;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;  // last write, nanoseconds since the Unix epoch
};

struct ProcessInfo {
  std::optional<std::uint32_t> pid;
  std::string name;          // image name, e.g. "rundll32.exe"
  std::string image_path;    // full path when the list has one
  std::string command_line;  // when the list has one
};

/// The volume serial of C: and where it came from ("--volume-serial", "vol output <file>", "$Boot"...).
struct VolumeSerial {
  std::uint32_t value = 0;
  std::string source;
};

class Evidence {
 public:
  virtual ~Evidence() = default;

  // Registry.
  /// Profile names under C:\Users that are real users (not Default/Public), whether or not they have a hive.
  virtual std::vector<std::string> users() const = 0;
  virtual bool has_hive(const RegRoot& root) const = 0;
  /// The key at `path` (backslash-separated, case-insensitive) in `root`; nullopt when absent or unreadable.
  virtual std::optional<RegKey> reg_key(const RegRoot& root, std::string_view path) const = 0;

  // Files.
  virtual std::optional<FileInfo> stat(std::string_view win_path) const = 0;
  /// Entries of a folder (not recursive), at most `max_entries`; nullopt when the folder is absent.
  virtual std::optional<std::vector<FileInfo>> list_dir(std::string_view win_path, std::size_t max_entries) const = 0;
  /// The first `n` bytes of a file (fewer when it is shorter; empty when unreadable).
  virtual std::vector<std::uint8_t> read_head(std::string_view win_path, std::size_t n) const = 0;
  /// A path on this machine the scanner can open for `win_path`; nullopt when the file is not available locally.
  virtual std::optional<std::string> local_path(std::string_view win_path) const = 0;

  // Processes: nullptr when no process list is available.
  virtual const std::vector<ProcessInfo>* processes() const = 0;

  // Host facts the backend can establish on its own (the check adds --volume-serial and hive inference).
  virtual std::optional<VolumeSerial> volume_serial() const = 0;

  /// Problems met while reading the evidence (malformed hive, undecodable process list, ...), for the report.
  virtual std::vector<std::string> problems() const = 0;
};

// Path helpers shared by the methods and the backends.
std::string lower_ascii(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
/// Lower-cases, turns '/' into '\', drops double quotes and collapses runs of spaces: the form in which a file
/// path is looked for inside a command line.
std::string normalize_command(std::string_view s);
/// "C:\a\b" + "c" -> "C:\a\b\c".
std::string win_join(std::string_view dir, std::string_view name);
/// The last component of a Windows or POSIX path.
std::string_view win_basename(std::string_view path);

}  // namespace mamori::emocheck
