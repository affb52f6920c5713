// File typing from content: magic bytes and structure, never the file name.
// The engine dispatches on FileKind; `subtype` refines it for reporting and for the models (e.g. "pe32-dll").
#pragma once

#include <string>
#include <string_view>

#include "common/bytes.hpp"

namespace mamori::engine {

enum class FileKind : std::uint8_t {
  unknown,
  pe,
  ole2,
  ooxml,
  zip,
  rtf,
  pdf,
  lnk,
  onenote,
  archive,  // 7z, rar, cab, gzip, bzip2, xz, tar, iso
  script,
  elf,
  email,    // RFC 5322 message ("eml") or mbox
};

const char* kind_name(FileKind k) noexcept;

struct FileType {
  FileKind kind = FileKind::unknown;
  /// Finer type: "pe32-exe", "pe32+-dll-dotnet", "pe32-driver", "pe32+-efi", "ole2", "ooxml-word", "7z", "script-ps1", "eml", "mbox"...
  std::string subtype;
};

FileType detect_type(ByteView b);

}  // namespace mamori::engine
