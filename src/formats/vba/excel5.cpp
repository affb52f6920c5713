// Excel 5/95 VBA projects: a "_VBA_PROJECT" storage at the root of the workbook holding an uncompressed `dir`
// stream and one stream of p-code per module. Nothing of this layout is in [MS-OVBA]; what is read here was
// worked out on the corpus (docs/office.md, "Excel 5/95 VBA"):
//
//  - dir starts with the u16 0x61CC and a version word. Somewhere after the references and a record table comes
//    the identifier table: the bytes FF FF 01 00, a u32 byte count, then the names, each NUL-terminated and padded
//    to an even offset (the pad byte is whatever was in memory, not always 0).
//  - A module stream has a header, then the line table: the u16 0xCAFE, a u16, a u16 line count, a u16, then one
//    12-byte entry per source line (u16 length of the line's p-code at +4, u16 offset at +8, 0xFFFF for a line
//    without p-code), then a u16 and the u32 size of the p-code block that follows. Offsets are relative to that
//    block.
//  - Just before the identifier table, with the same FF FF 01 00 + u32 byte count header, is the record table. The
//    p-code names an identifier by a record id, the record's offset in that table; the record's u16 at +6 is the
//    offset of its name in the identifier table and its byte at +9 is 0xFF (other records are not names).
//  - No source text is stored: Excel 5 decompiles the p-code when a module is shown. The p-code is postfix
//    (operands before their operator); each instruction starts with an opcode word whose low 10 bits name it.
//    The few decoded here were matched against their effect in the corpus: loads and stores of a name, calls,
//    named arguments, string and integer literals, '&', comments.
//
// So a module's `source` here is a listing recovered from the p-code, one line per source line that has p-code:
// the names and literals of the line in execution order, member accesses joined with '.', stores marked with '=',
// under a comment saying it is not VBA source. Instructions not decoded are skipped a word at a time.
#include <algorithm>
#include <optional>
#include <unordered_map>

#include "common/codepage.hpp"
#include "formats/vba/vba.hpp"

namespace mamori::vba {

const char* excel5_anomaly_name(Excel5Anomaly a) noexcept {
  switch (a) {
    case Excel5Anomaly::identifier_table_missing: return "identifier_table_missing";
    case Excel5Anomaly::identifiers_truncated_by_limit: return "identifiers_truncated_by_limit";
    case Excel5Anomaly::identifier_unreadable: return "identifier_unreadable";
    case Excel5Anomaly::line_table_missing: return "line_table_missing";
    case Excel5Anomaly::lines_truncated_by_limit: return "lines_truncated_by_limit";
    case Excel5Anomaly::line_outside_pcode: return "line_outside_pcode";
    case Excel5Anomaly::literal_truncated: return "literal_truncated";
    case Excel5Anomaly::literals_truncated_by_limit: return "literals_truncated_by_limit";
    case Excel5Anomaly::modules_truncated_by_limit: return "modules_truncated_by_limit";
    case Excel5Anomaly::record_table_missing: return "record_table_missing";
    case Excel5Anomaly::listing_truncated_by_limit: return "listing_truncated_by_limit";
    case Excel5Anomaly::kCount: break;
  }
  return "unknown";
}

bool is_excel5_dir(ByteView dir) noexcept { return dir.le_or<std::uint16_t>(0, 0) == 0x61CC; }

namespace {

constexpr std::uint16_t kLineTableMagic = 0xCAFE;
constexpr std::uint64_t kLineEntry = 12;
// Literals are code-page text; the projects carry no code page we read, and the corpus is Western.
constexpr std::uint32_t kCodePage = 1252;

void flag(VbaProject& p, Excel5Anomaly a, std::uint64_t detail = 0) {
  const auto bit = std::uint64_t{1} << static_cast<unsigned>(a);
  if ((p.excel5_anomaly_bits & bit) == 0) p.excel5_anomalies.push_back({a, detail});
  p.excel5_anomaly_bits |= bit;
}

std::string_view chars(ByteView v) { return {reinterpret_cast<const char*>(v.data()), static_cast<std::size_t>(v.size())}; }

bool text_byte(std::uint8_t c) { return c >= 0x20 ? c != 0x7F : (c == '\t' || c == '\r' || c == '\n'); }

constexpr std::uint32_t kTableHeader = 0x0001FFFFu;  // FF FF 01 00

struct Names {
  ByteView records;                                            // the record table (empty: ids cannot be resolved)
  std::vector<std::pair<std::uint32_t, std::string>> by_offset;  // name offset in the table -> name (sorted)

  // The name a p-code id refers to, or nullptr.
  const std::string* lookup(std::uint16_t id) const {
    const auto rec = records.sub(static_cast<std::uint64_t>(id) + 6, 4);
    if (!rec || rec->le_or<std::uint8_t>(3, 0) != 0xFF) return nullptr;
    const std::uint32_t off = rec->le_or<std::uint16_t>(0, 0);
    const auto it = std::lower_bound(by_offset.begin(), by_offset.end(), off,
                                     [](const auto& e, std::uint32_t o) { return e.first < o; });
    return it != by_offset.end() && it->first == off ? &it->second : nullptr;
  }
};

void read_name_table(ByteView table, std::uint64_t table_pos, VbaProject& p, Names& names) {
  std::uint64_t at = 0;
  while (at < table.size()) {
    const ByteView rest = table.from(at);
    const std::uint8_t* nul = std::find(rest.data(), rest.data() + rest.size(), std::uint8_t{0});
    const std::uint64_t len = static_cast<std::uint64_t>(nul - rest.data());
    const ByteView name = rest.clamp(0, len);
    const std::uint64_t start = at;
    at += len + 1;
    at += at & 1u;  // names start at even offsets
    if (name.empty()) continue;
    if (!std::all_of(name.data(), name.data() + name.size(), text_byte)) {
      flag(p, Excel5Anomaly::identifier_unreadable, table_pos + start);
      continue;
    }
    if (p.identifiers.size() >= limits::max_identifiers) {
      flag(p, Excel5Anomaly::identifiers_truncated_by_limit, p.identifiers.size());
      return;
    }
    p.identifiers.push_back(codepage_to_utf8(chars(name), kCodePage));
    names.by_offset.emplace_back(static_cast<std::uint32_t>(start), p.identifiers.back());
  }
}

// The identifier table is the FF FF 01 00 block that directly follows another one (the record table) and starts with
// a printable character; failing that, the first printable block (then ids stay unresolved).
Names read_identifiers(ByteView dir, VbaProject& p) {
  Names names;
  std::unordered_map<std::uint64_t, std::uint64_t> ends;  // block end -> block data start
  std::optional<std::uint64_t> first_printable;
  for (std::uint64_t pos = 4; pos + 4 <= dir.size(); ++pos) {
    if (dir.le_or<std::uint32_t>(pos - 4, 0) != kTableHeader) continue;
    const std::uint32_t n = dir.le_or<std::uint32_t>(pos, 0);
    if (!dir.fits(pos + 4, n)) continue;
    const std::uint8_t first = dir.le_or<std::uint8_t>(pos + 4, 0);
    const bool printable = n >= 2 && first > 0x20 && first < 0x7F;
    if (printable) {
      // A block ending 4 bytes before this header (its own FF FF 01 00) is the record table.
      const std::uint64_t want = pos - 4;
      const auto it = ends.find(want);
      if (it != ends.end()) {
        names.records = dir.clamp(it->second, want - it->second);
        read_name_table(dir.clamp(pos + 4, n), pos + 4, p, names);
        return names;
      }
      if (!first_printable) first_printable = pos;
    }
    // Real dirs have a handful of such headers; a hostile one full of them only costs this bounded list.
    if (ends.size() < 4096) ends.emplace(pos + 4 + n, pos + 4);
  }
  if (first_printable) {
    flag(p, Excel5Anomaly::record_table_missing);
    read_name_table(dir.clamp(*first_printable + 4, dir.le_or<std::uint32_t>(*first_printable, 0)), *first_printable + 4,
                    p, names);
    return names;
  }
  flag(p, Excel5Anomaly::identifier_table_missing);
  return names;
}

struct LineTable {
  std::uint64_t entries = 0;  // offset of entry 0
  std::uint32_t count = 0;
  ByteView pcode;
};

// The first 0xCAFE whose line count, entries, and p-code block all fit the stream.
std::optional<LineTable> find_line_table(ByteView m) {
  for (std::uint64_t q = 0; q + 8 <= m.size(); ++q) {
    if (m.le_or<std::uint16_t>(q, 0) != kLineTableMagic) continue;
    LineTable t;
    t.count = m.le_or<std::uint16_t>(q + 4, 0);
    t.entries = q + 8;
    const std::uint64_t end = t.entries + kLineEntry * t.count;
    const auto size = m.u32(end + 2);
    if (!size) continue;
    const auto block = m.sub(end + 6, *size);
    if (!block) continue;
    t.pcode = *block;
    return t;
  }
  return std::nullopt;
}

void append_literal(std::string& out, std::string_view utf8) {
  out += '"';
  for (char c : utf8) {
    if (c == '"') out += '"';  // VBA doubles a quote inside a literal
    out += (c == '\r' || c == '\n') ? ' ' : c;  // one listing line per p-code line
  }
  out += '"';
}

// Opcodes (low 10 bits of the word) decoded from the corpus. Operands are u16 words after the opcode.
enum : std::uint16_t {
  kOpConcat = 0x011,       // a & b
  kOpLd = 0x020,           // name
  kOpMemLd = 0x021,        // x.name
  kOpArgsLd = 0x024,       // name(args): id, argc
  kOpArgsMemLd = 0x025,    // x.name(args): id, argc
  kOpSt = 0x027,           // name = v
  kOpMemSt = 0x028,        // x.name = v
  kOpMemStWith = 0x039,    // .name = v inside With
  kOpArgsCall = 0x041,     // name args: id, argc
  kOpArgsMemCall = 0x042,  // x.name args: id, argc
  kOpLitDI2 = 0x0A3,       // integer literal: value
  kOpLitStr = 0x0AD,       // string literal: length, bytes padded to even
  kOpNamedArg = 0x0C8,     // name:=v
  kOpComment = 0x0D7,      // ' text: a word, length, bytes padded to even
};

// One source line's p-code as tokens; false when a literal or comment runs past the line.
bool render_line(ByteView line, const Names& names, std::string& out, std::uint32_t& literals, bool& capped) {
  std::string comment;
  auto word = [&](std::uint64_t at) { return line.le_or<std::uint16_t>(at, 0); };
  auto sep = [&] {
    if (!out.empty()) out += ' ';
  };
  bool ok = true;
  for (std::uint64_t i = 0; i + 2 <= line.size();) {
    const std::uint16_t op = word(i) & 0x3FF;
    if (op == kOpLitStr || op == kOpComment) {
      const std::uint64_t len_at = op == kOpLitStr ? i + 2 : i + 4;
      const std::uint16_t n = word(len_at);
      const auto bytes = line.sub(len_at + 2, n);
      if (!line.fits(len_at, 2) || !bytes) {
        ok = false;
        break;
      }
      // A word that only looks like the opcode (an operand) is followed by non-text: step over it.
      if (!std::all_of(bytes->data(), bytes->data() + bytes->size(), text_byte)) {
        i += 2;
        continue;
      }
      const std::string text = codepage_to_utf8(chars(*bytes), kCodePage);
      if (op == kOpComment) {
        comment += text;
      } else if (literals >= limits::max_excel5_literals) {
        capped = true;
      } else {
        literals += 1;
        sep();
        append_literal(out, text);
      }
      i = len_at + 2 + n + (n & 1u);
      continue;
    }
    if (op == kOpLitDI2 && line.fits(i + 2, 2)) {
      sep();
      out += std::to_string(word(i + 2));
      i += 4;
      continue;
    }
    if (op == kOpConcat) {
      sep();
      out += '&';
      i += 2;
      continue;
    }
    const bool id_op = op == kOpLd || op == kOpMemLd || op == kOpArgsLd || op == kOpArgsMemLd || op == kOpSt ||
                       op == kOpMemSt || op == kOpMemStWith || op == kOpArgsCall || op == kOpArgsMemCall ||
                       op == kOpNamedArg;
    const std::string* name = id_op && line.fits(i + 2, 2) ? names.lookup(word(i + 2)) : nullptr;
    if (name == nullptr) {
      i += 2;  // not decoded (or an id we cannot resolve): go on a word at a time
      continue;
    }
    const bool member = op == kOpMemLd || op == kOpArgsMemLd || op == kOpMemSt || op == kOpArgsMemCall;
    if (member && !out.empty()) out += '.';
    else if (op == kOpMemStWith) sep(), out += '.';
    else sep();
    out += *name;
    if (op == kOpNamedArg) out += ":=";
    if (op == kOpSt || op == kOpMemSt || op == kOpMemStWith) out += " =";
    const bool has_argc = op == kOpArgsLd || op == kOpArgsMemLd || op == kOpArgsCall || op == kOpArgsMemCall;
    i += has_argc ? 6 : 4;
  }
  if (!comment.empty()) {
    sep();
    out += "' ";
    for (char c : comment) out += (c == '\r' || c == '\n') ? ' ' : c;
  }
  return ok;
}

void read_module(ByteView m, std::size_t index, const Names& names, VbaProject& p) {
  Module& mod = p.modules[index];
  const auto table = find_line_table(m);
  if (!table) {
    flag(p, Excel5Anomaly::line_table_missing, index);
    mod.source = "' mamori: Excel 5/95 VBA module: no line table found; no p-code read\n";
    return;
  }
  mod.pcode_size = table->pcode.size();
  std::uint32_t count = table->count;
  if (count > limits::max_excel5_lines) {
    flag(p, Excel5Anomaly::lines_truncated_by_limit, index);
    count = limits::max_excel5_lines;
  }
  std::string body;
  for (std::uint32_t k = 0; k < count; ++k) {
    const std::uint64_t e = table->entries + kLineEntry * k;
    const std::uint16_t len = m.le_or<std::uint16_t>(e + 4, 0);
    const std::uint16_t off = m.le_or<std::uint16_t>(e + 8, 0xFFFF);
    if (off == 0xFFFF || len == 0) continue;
    const auto line = table->pcode.sub(off, len);
    if (!line) {
      flag(p, Excel5Anomaly::line_outside_pcode, index);
      continue;
    }
    mod.pcode_lines += 1;
    std::string out;
    bool capped = false;
    if (!render_line(*line, names, out, mod.literals, capped)) flag(p, Excel5Anomaly::literal_truncated, index);
    if (capped) flag(p, Excel5Anomaly::literals_truncated_by_limit, index);
    if (out.empty()) continue;
    if (body.size() + out.size() + 1 > limits::max_excel5_listing) {
      flag(p, Excel5Anomaly::listing_truncated_by_limit, index);
      break;
    }
    body += out;
    body += '\n';
  }
  mod.source =
      "' mamori: Excel 5/95 VBA module: no source is stored, only p-code. Recovered, not VBA source: per line,\n"
      "' its names and literals in execution order (operands first), '.' member access, '=' a store (" +
      std::to_string(mod.pcode_lines) + " of " + std::to_string(table->count) + " lines have p-code).\n" + body;
}

}  // namespace

VbaProject read_excel5_streams(std::string_view storage, ByteView dir, const std::vector<Excel5Stream>& modules) {
  VbaProject p;
  p.storage = std::string(storage);
  p.excel5 = true;
  p.excel5_version = dir.le_or<std::uint16_t>(2, 0);
  p.dir_size = dir.size();
  const Names names = read_identifiers(dir, p);
  for (const auto& st : modules) {
    if (p.modules.size() >= limits::max_modules) {
      flag(p, Excel5Anomaly::modules_truncated_by_limit, p.modules.size());
      break;
    }
    Module& m = p.modules.emplace_back();
    m.name = std::string(st.name);
    m.stream_name = m.name;
    m.stream_found = true;
    m.recovered = true;
    m.stream_size = st.bytes.size();
    read_module(st.bytes, p.modules.size() - 1, names, p);
    count_lines(m.source, m.lines, m.code_lines, m.attribute_lines);
    // count_lines counts comment lines as code; here only lines with decoded p-code are.
    std::uint32_t comments = 0;
    for (std::size_t i = 0; i < m.source.size();) {
      if (m.source[i] == '\'') ++comments;
      const std::size_t nl = m.source.find('\n', i);
      if (nl == std::string::npos) break;
      i = nl + 1;
    }
    m.code_lines -= std::min(m.code_lines, comments);
  }
  p.declared_modules = static_cast<std::uint16_t>(std::min<std::size_t>(p.modules.size(), 0xFFFF));
  return p;
}

VbaProject read_excel5(const ole2::File& file, std::string_view storage, ByteView dir) {
  std::vector<ole2::StreamData> data;
  std::vector<std::string> stream_names;
  if (const ole2::DirEntry* st = file.find(storage); st != nullptr && st->is_storage()) {
    for (std::uint32_t child : file.children(static_cast<std::uint32_t>(st - file.entries.data()))) {
      if (child >= file.entries.size()) continue;
      const ole2::DirEntry& e = file.entries[child];
      if (!e.is_stream() || ole2::path_equal(e.name, "dir")) continue;
      if (data.size() > limits::max_modules) break;  // read_excel5_streams flags the excess
      data.push_back(file.read_stream(e));
      stream_names.push_back(e.name);
    }
  }
  std::vector<Excel5Stream> modules;
  for (std::size_t i = 0; i < data.size(); ++i)
    modules.push_back({stream_names[i], ByteView(data[i].bytes.data(), data[i].bytes.size())});
  return read_excel5_streams(storage, dir, modules);
}

}  // namespace mamori::vba
