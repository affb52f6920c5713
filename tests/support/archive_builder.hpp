// Builds archives and e-mails in memory for the container tests: no fixture files. Zips are written byte by byte
// from APPNOTE (so that tests can build what no archiver would: overlapping entries, self-including archives, bad
// central directories); encrypted zips, 7z, tar, cpio, iso9660 and the compression filters come from libarchive's
// writer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mamori::test {

using Blob = std::vector<std::uint8_t>;

Blob blob(std::string_view s);

struct ZipItem {
  std::string name;
  Blob data;
  bool deflate = true;
};

/// A plain zip (local headers, central directory, end record), stored or deflated entries.
Blob make_zip(const std::vector<ZipItem>& items);

/// libarchive's writer. format: "zip", "7zip", "ustar", "pax", "iso9660", "cpio", "raw"; filter: "", "gzip",
/// "bzip2", "xz". options go to archive_write_set_options (e.g. "zip:encryption=traditional"); passphrase may be "".
Blob write_archive(const std::string& format, const std::string& filter, const std::vector<ZipItem>& items,
                   const std::string& options = "", const std::string& passphrase = "");

/// A zip with one entry whose data is `head` followed by `zeros` zero bytes, deflated while streaming (the zeros
/// are never held in memory).
Blob make_padded_zip(const std::string& name, const Blob& head, std::uint64_t zeros);

/// David Fifield's overlapping-entry construction, our own writer: `entries` local headers in a row, each entry's
/// deflate stream quoting the next local header in a stored block and then running into one shared kernel that
/// inflates to `kernel_bytes` copies of `kernel_byte_pattern` (repeated). Every entry expands to the kernel plus
/// every later header, so output grows with entries^2 from a file that grows with entries.
Blob make_overlap_bomb(unsigned entries, std::uint64_t kernel_bytes, const std::string& kernel_pattern);

/// 42.zip-style: `layers` levels, each a zip of `fanout` copies of the level below; the innermost holds `leaf`.
Blob make_nested_bomb(unsigned layers, unsigned fanout, const Blob& leaf);

/// A zip that contains itself by name: "self.zip" holding "self.zip" holding ... `levels` deep, every level the
/// same structure, the innermost a copy of `leaf`. (A byte-exact quine needs deflate back-references crafted bit by
/// bit; the engine treats both the same way, by depth, member count and a member equal to an ancestor.)
Blob make_self_chain(unsigned levels, const Blob& leaf);

/// An RFC 5322 message with a text body and attachments (base64), optionally multipart/mixed.
struct MailPart {
  std::string filename;
  std::string content_type = "application/octet-stream";
  Blob data;
  bool rfc2231_name = false;  // filename*=UTF-8''... instead of filename="..."
};
std::string make_eml(const std::string& subject, const std::string& body, const std::vector<MailPart>& parts,
                     const std::string& from = "Alice <alice@example.com>");

/// Base64 in 76-character lines, as MIME writes it.
std::string mime_base64(const Blob& b);

}  // namespace mamori::test
