#include "engine/filetype.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "formats/msg/msg.hpp"
#include "formats/ole2/ole2.hpp"

namespace mamori::engine {

const char* kind_name(FileKind k) noexcept {
  switch (k) {
    case FileKind::unknown: return "unknown";
    case FileKind::pe: return "pe";
    case FileKind::ole2: return "ole2";
    case FileKind::ooxml: return "ooxml";
    case FileKind::zip: return "zip";
    case FileKind::rtf: return "rtf";
    case FileKind::pdf: return "pdf";
    case FileKind::lnk: return "lnk";
    case FileKind::onenote: return "onenote";
    case FileKind::archive: return "archive";
    case FileKind::script: return "script";
    case FileKind::elf: return "elf";
    case FileKind::email: return "email";
  }
  return "unknown";
}

namespace {

bool bytes_at(ByteView b, std::uint64_t off, std::initializer_list<std::uint8_t> magic) {
  if (!b.fits(off, magic.size())) return false;
  return std::equal(magic.begin(), magic.end(), b.data() + off);
}

// PE subtype from the headers alone; the full parse happens later, in the PE module.
std::string pe_subtype(ByteView b) {
  const std::uint32_t lfanew = b.le_or<std::uint32_t>(0x3c, 0);
  const std::uint64_t coff = std::uint64_t{lfanew} + 4;
  const std::uint16_t chars = b.le_or<std::uint16_t>(coff + 18, 0);
  const std::uint64_t opt = coff + 20;
  const std::uint16_t magic = b.le_or<std::uint16_t>(opt, 0);
  const bool plus = magic == 0x20b;
  const std::uint16_t subsystem = b.le_or<std::uint16_t>(opt + 68, 0);
  const std::uint64_t clr_dir = opt + (plus ? 112 : 96) + 14 * 8;
  const bool dotnet = b.le_or<std::uint32_t>(clr_dir, 0) != 0 && b.le_or<std::uint32_t>(clr_dir + 4, 0) != 0;
  std::string s = plus ? "pe32+" : "pe32";
  if (subsystem >= 10 && subsystem <= 13) s += "-efi";
  else if (subsystem == 1) s += "-driver";
  else if (chars & 0x2000) s += "-dll";
  else s += "-exe";
  if (dotnet) s += "-dotnet";
  return s;
}

// OOXML is a ZIP whose central directory names [Content_Types].xml; the main part tells Word/Excel/PowerPoint.
std::string zip_subtype(ByteView b) {
  // Scan a bounded prefix and the tail (central directory) for the part names.
  auto contains = [&](std::string_view needle) {
    // string_view::find looks for the first byte with memchr: most of a megabyte is skipped a vector at a time
    // (an Excel package was searched byte by byte for "word/" from end to end).
    auto search = [&](ByteView v) {
      const std::string_view hay(reinterpret_cast<const char*>(v.data()), v.size());
      return hay.find(needle) != std::string_view::npos;
    };
    const std::uint64_t window = 1u << 20;
    if (search(b.clamp(0, window))) return true;
    return b.size() > window && search(b.from(b.size() - std::min<std::uint64_t>(b.size() - window, window)));
  };
  if (!contains("[Content_Types].xml")) return "zip";
  if (contains("word/")) return "ooxml-word";
  if (contains("xl/")) return "ooxml-excel";
  if (contains("ppt/")) return "ooxml-powerpoint";
  return "ooxml";
}

std::string lower_prefix(ByteView b, std::size_t n) {
  auto v = b.clamp(0, n);
  std::string s(reinterpret_cast<const char*>(v.data()), v.size());
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Scripts are text; tell the language from telltale tokens in the first 4 KiB.
const char* script_subtype(ByteView b) {
  auto head = b.clamp(0, 4096);
  if (head.empty()) return nullptr;
  std::size_t text = 0;
  for (std::uint64_t i = 0; i < head.size(); ++i) {
    const std::uint8_t c = head.data()[i];
    if (c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7f) || c >= 0x80) ++text;
  }
  if (text * 100 < head.size() * 95) return nullptr;
  const std::string s = lower_prefix(b, 4096);
  auto has = [&](const char* t) { return s.find(t) != std::string::npos; };
  if (s.rfind("#!", 0) == 0) return "script-shebang";
  if (has("<hta:application") || (has("<script") && (has("vbscript") || has("activexobject")))) return "script-hta";
  if (has("<script") || has("<html")) return "script-html";
  if (has("@echo off") || has("%comspec%") || s.rfind("@echo", 0) == 0) return "script-bat";
  // JScript and VBScript share the WScript object model; weigh the syntax instead of the API names.
  int vbs = 0, js = 0, ps = 0;
  for (const char* t : {"createobject(", "dim ", "end sub", "end function", "set ", "& vbcrlf", "on error resume"})
    vbs += has(t);
  for (const char* t : {"activexobject", "var ", "function(", "function ", "eval(", "let ", "const ", "};", "+="})
    js += has(t);
  for (const char* t : {"$env:", "invoke-", "new-object", "param(", "write-host", "-bxor", "[convert]::", "iex"})
    ps += has(t);
  if (ps > 0 && ps >= vbs && ps >= js) return "script-ps1";
  if (vbs > 0 && vbs > js) return "script-vbs";
  if (js > 0) return "script-js";
  if (vbs > 0) return "script-vbs";
  return "text";
}

// Outlook .msg ([MS-OXMSG]): a compound file whose root holds "__substg1.0_..." or "__properties_version1.0"
// entries (msg::is_message). The directory is read through the FAT rather than by looking at every 128-byte slot of
// the file: a slot scan touches every page, so a message or document padded to hundreds of megabytes made the scanner
// that large, and a message's name embedded in some other stream would type a document as mail. Such names deeper in
// the tree or in orphan entries still type a damaged message as one, but only when the root holds no document or
// macro storage: a Word or Excel file that embeds an Outlook item (its storage under ObjectPool) stays a document, so
// an attacker cannot hide macros from the document model by embedding a message.
bool ole2_is_msg(ByteView b) {
  auto f = ole2::parse(b);
  if (!f) return false;
  if (msg::is_message(*f)) return true;
  for (const char* doc : {"WordDocument", "Workbook", "Book", "PowerPoint Document", "Macros", "_VBA_PROJECT_CUR",
                          "VBA", "EncryptedPackage", "ObjectPool"})
    if (f->find(doc)) return false;
  for (const auto& e : f->entries)
    if (e.name.rfind("__substg1.0_", 0) == 0 || e.name.rfind("__properties_version1.0", 0) == 0) return true;
  return false;
}

// An e-mail starts with header lines ("Name: value", folded lines indented) up to an empty line. Several known
// RFC 5322 / MIME header names among the first lines say message; "From " on the first line says mbox.
const char* email_subtype(ByteView b, bool allow_mbox = true) {
  auto head = b.clamp(0, 16384);
  std::string_view s(reinterpret_cast<const char*>(head.data()), head.size());
  if (s.rfind("From ", 0) == 0) {
    if (!allow_mbox) return nullptr;
    // mbox: a "From <sender> <date>" separator line (the date holds hh:mm), then a message.
    const auto eol = s.find('\n');
    if (eol == std::string_view::npos) return nullptr;
    const std::string_view sep = s.substr(0, eol);
    bool time = false;
    for (std::size_t i = 0; i + 4 < sep.size(); ++i)
      if (std::isdigit(static_cast<unsigned char>(sep[i])) && std::isdigit(static_cast<unsigned char>(sep[i + 1])) &&
          sep[i + 2] == ':' && std::isdigit(static_cast<unsigned char>(sep[i + 3])))
        time = true;
    if (!time) return nullptr;
    const char* rest = email_subtype(b.from(eol + 1), false);
    return rest && std::strcmp(rest, "eml") == 0 ? "mbox" : nullptr;
  }
  static const char* kKnown[] = {"from", "to", "cc", "subject", "date", "message-id", "received", "return-path",
                                 "mime-version", "content-type", "reply-to", "delivered-to", "sender",
                                 "in-reply-to", "references", "x-mailer", "content-transfer-encoding",
                                 "authentication-results", "dkim-signature", "thread-topic", "x-originating-ip"};
  int known = 0, lines = 0;
  bool strong = false;
  std::size_t pos = 0;
  while (pos < s.size() && lines < 64) {
    auto eol = s.find('\n', pos);
    if (eol == std::string_view::npos) break;  // a header block cut off inside 16 KiB is not worth calling mail
    std::string_view line = s.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = eol + 1;
    if (line.empty()) break;
    ++lines;
    if (line[0] == ' ' || line[0] == '\t') {
      if (lines == 1) return nullptr;
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 76) return nullptr;
    for (char c : line.substr(0, colon))
      if (c <= ' ' || c > '~') return nullptr;
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* k : kKnown)
      if (name == k) {
        ++known;
        if (name == "from" || name == "received" || name == "message-id" || name == "mime-version" ||
            name == "subject" || name == "return-path")
          strong = true;
      }
  }
  return known >= 3 && strong ? "eml" : nullptr;
}

}  // namespace

FileType detect_type(ByteView b) {
  if (b.starts_with("MZ")) {
    const std::uint32_t lfanew = b.le_or<std::uint32_t>(0x3c, 0);
    if (b.starts_with(std::string_view("PE\0\0", 4), lfanew)) return {FileKind::pe, pe_subtype(b)};
    return {FileKind::unknown, "mz-dos"};
  }
  if (bytes_at(b, 0, {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})) {
    if (ole2_is_msg(b)) return {FileKind::ole2, "ole2-msg"};
    return {FileKind::ole2, "ole2"};
  }
  if (b.starts_with("PK\x03\x04") || b.starts_with("PK\x05\x06")) {
    auto st = zip_subtype(b);
    return {st == "zip" ? FileKind::zip : FileKind::ooxml, st};
  }
  // Word opens anything starting with "{\rt", not only "{\rtf1".
  if (b.starts_with("{\\rt")) return {FileKind::rtf, "rtf"};
  {
    auto head = b.clamp(0, 1024);
    const char* p = reinterpret_cast<const char*>(head.data());
    const std::string_view pdf = "%PDF-";
    if (std::search(p, p + head.size(), pdf.begin(), pdf.end()) != p + head.size()) return {FileKind::pdf, "pdf"};
  }
  if (bytes_at(b, 0, {0x4C, 0, 0, 0, 0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46}))
    return {FileKind::lnk, "lnk"};
  if (bytes_at(b, 0, {0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D, 0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3}))
    return {FileKind::onenote, "onenote"};
  if (bytes_at(b, 0, {'7', 'z', 0xBC, 0xAF, 0x27, 0x1C})) return {FileKind::archive, "7z"};
  if (b.starts_with("Rar!\x1a\x07")) return {FileKind::archive, "rar"};
  if (b.starts_with("MSCF")) return {FileKind::archive, "cab"};
  if (bytes_at(b, 0, {0x1F, 0x8B})) return {FileKind::archive, "gzip"};
  if (b.starts_with("BZh")) return {FileKind::archive, "bzip2"};
  if (bytes_at(b, 0, {0xFD, '7', 'z', 'X', 'Z', 0})) return {FileKind::archive, "xz"};
  if (b.starts_with("ustar", 257)) return {FileKind::archive, "tar"};
  for (std::uint64_t off : {0x8001u, 0x8801u, 0x9001u})
    if (b.starts_with("CD001", off)) return {FileKind::archive, "iso"};
  if (b.starts_with("\x7f" "ELF")) return {FileKind::elf, "elf"};
  if (const char* st = email_subtype(b)) return {FileKind::email, st};
  if (const char* st = script_subtype(b)) {
    if (std::strcmp(st, "text") == 0) return {FileKind::unknown, "text"};
    return {FileKind::script, st};
  }
  return {FileKind::unknown, "data"};
}

}  // namespace mamori::engine
