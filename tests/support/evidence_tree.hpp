// A Windows-volume-shaped folder for the emocheck tests, built at test time under /tmp: folders, files with set
// last-write times (utimensat), registry hives (hive_builder), PE files (pe_builder) and process-list exports in
// the three formats and their encodings.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "support/hive_builder.hpp"

namespace mamori::test {

/// A PE image (DLL when `dll`) of at least `min_size` bytes, built by pe_builder; `salt` varies its bytes.
std::vector<std::uint8_t> make_pe(bool dll, std::size_t min_size, std::uint8_t salt = 0);

struct ProcRow {
  std::uint32_t pid;
  std::string name, path, cmd;
};

enum class ListFormat { tasklist, cim, wmic };
enum class ListEncoding { utf8, utf8_bom, utf16le_bom, utf16le_no_bom };

/// The export as Windows writes it: tasklist quoted with 9 columns; Export-Csv with a #TYPE line and quoted
/// Win32_Process columns; wmic with a blank first line, CR CR LF line ends and unquoted fields.
std::vector<std::uint8_t> process_list(ListFormat f, ListEncoding e, const std::vector<ProcRow>& rows);

class EvidenceTree {
 public:
  explicit EvidenceTree(const std::string& tag);
  ~EvidenceTree();
  EvidenceTree(const EvidenceTree&) = delete;
  EvidenceTree& operator=(const EvidenceTree&) = delete;

  const std::filesystem::path& root() const { return root_; }
  /// Host path for a Windows-style relative path ("Users/alice/AppData/Local/x").
  std::filesystem::path at(const std::string& rel) const { return root_ / rel; }

  void dir(const std::string& rel);
  void file(const std::string& rel, const std::vector<std::uint8_t>& bytes);
  void file(const std::string& rel, const std::string& text);
  /// Sets last-write (and access) time; call for folders after their contents are written.
  void set_mtime(const std::string& rel, std::int64_t unix_seconds, long nanoseconds = 0);
  void hive(const std::string& rel, const HiveSpec& spec);

  /// A minimal Windows layout: System32 (+ SysWOW64 when `wow64`) with a few binaries, a SYSTEM hive naming the host
  /// and holding `services`, a SOFTWARE hive with `hklm_run`, user `user` with NTUSER.DAT holding `hkcu` and the
  /// AppData folders. All times are set well away from any 7-day pattern.
  struct Base {
    std::string host = "WS-0042";
    std::string user = "alice";
    bool wow64 = true;
    HiveSpec hkcu;
    HiveSpec software;
    std::vector<std::pair<std::string, std::string>> services;  // name -> ImagePath
  };
  void windows(const Base& b);

 private:
  std::filesystem::path root_;
};

}  // namespace mamori::test
