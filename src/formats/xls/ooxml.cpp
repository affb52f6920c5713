// OOXML workbooks (.xlsm/.xlsx): xl/workbook.xml (sheets with their state, definedNames), its relationships (which
// sheet is a macro sheet) and the <c><f> cells of xl/macrosheets/*.xml, read by a small tolerant tag scanner.
// It matches tags and attributes by local name, skips comments, processing instructions and DOCTYPEs, unescapes
// the five entities and numeric references, and never recurses; text is bounded by limits::max_xml_size.
#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/codepage.hpp"
#include "formats/xls/xls.hpp"
#include "formats/xls/xls_internal.hpp"

namespace mamori::xls {
namespace {

struct Tag {
  std::string_view name;   // local name, no prefix
  std::string_view attrs;
  bool closing = false;
  bool self_closing = false;
  std::size_t end = 0;     // offset after '>'
};

class Scanner {
 public:
  Scanner(std::string_view s, Workbook& wb) : s_(s), wb_(wb) {}

  // Next tag at or after pos_; nullopt at the end. Malformed markup is recorded once and skipped.
  std::optional<Tag> next() {
    while (true) {
      const std::size_t lt = s_.find('<', pos_);
      if (lt == std::string_view::npos) return std::nullopt;
      if (s_.compare(lt, 4, "<!--") == 0) {
        const std::size_t e = s_.find("-->", lt + 4);
        if (e == std::string_view::npos) return malformed();
        pos_ = e + 3;
        continue;
      }
      if (s_.compare(lt, 9, "<![CDATA[") == 0) {
        const std::size_t e = s_.find("]]>", lt + 9);
        if (e == std::string_view::npos) return malformed();
        pos_ = e + 3;
        continue;
      }
      if (lt + 1 < s_.size() && (s_[lt + 1] == '?' || s_[lt + 1] == '!')) {
        const std::size_t e = s_.find('>', lt + 2);
        if (e == std::string_view::npos) return malformed();
        pos_ = e + 1;
        continue;
      }
      // Find the closing '>' outside attribute quotes.
      std::size_t k = lt + 1;
      char q = 0;
      for (; k < s_.size(); ++k) {
        const char c = s_[k];
        if (q) {
          if (c == q) q = 0;
        } else if (c == '"' || c == '\'') {
          q = c;
        } else if (c == '>') {
          break;
        } else if (c == '<') {
          break;
        }
      }
      if (k >= s_.size()) return malformed();
      if (s_[k] == '<') {  // a stray '<' in text
        wb_.add(Anomaly::xml_malformed, lt);
        pos_ = k;
        continue;
      }
      Tag t;
      std::string_view body = s_.substr(lt + 1, k - lt - 1);
      if (!body.empty() && body[0] == '/') {
        t.closing = true;
        body.remove_prefix(1);
      }
      if (!body.empty() && body.back() == '/') {
        t.self_closing = true;
        body.remove_suffix(1);
      }
      std::size_t n = 0;
      while (n < body.size() && !std::isspace(static_cast<unsigned char>(body[n]))) ++n;
      std::string_view name = body.substr(0, n);
      if (const auto colon = name.rfind(':'); colon != std::string_view::npos) name.remove_prefix(colon + 1);
      t.name = name;
      t.attrs = body.substr(n);
      t.end = k + 1;
      pos_ = k + 1;
      return t;
    }
  }

  // Raw text from pos_ to the closing tag `name` (skipping nested markup); advances past it.
  std::string_view text_until_close(std::string_view name) {
    const std::size_t start = pos_;
    while (auto t = next()) {
      if (t->closing && t->name == name) return s_.substr(start, s_.rfind('<', t->end - 1) - start);
    }
    return s_.substr(start);
  }

  std::size_t pos() const { return pos_; }

 private:
  std::optional<Tag> malformed() {
    wb_.add(Anomaly::xml_malformed, pos_);
    pos_ = s_.size();
    return std::nullopt;
  }
  std::string_view s_;
  std::size_t pos_ = 0;
  Workbook& wb_;
};

std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const std::size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += '&';
      continue;
    }
    const std::string_view ent = s.substr(i + 1, semi - i - 1);
    std::uint32_t cp = 0;
    bool ok = true;
    if (ent == "lt") cp = '<';
    else if (ent == "gt") cp = '>';
    else if (ent == "amp") cp = '&';
    else if (ent == "quot") cp = '"';
    else if (ent == "apos") cp = '\'';
    else if (ent.size() >= 2 && ent[0] == '#') {
      const bool hex = ent[1] == 'x' || ent[1] == 'X';
      for (std::size_t k = hex ? 2 : 1; k < ent.size(); ++k) {
        const char c = ent[k];
        int d = -1;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
        if (d < 0 || cp > 0x10FFFF) {
          ok = false;
          break;
        }
        cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(d);
      }
      if (cp > 0x10FFFF || cp == 0) ok = false;
    } else {
      ok = false;
    }
    if (!ok) {
      out += '&';
      continue;
    }
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    i = semi;
  }
  return out;
}

std::optional<std::string> attr(std::string_view attrs, std::string_view name) {
  std::size_t i = 0;
  while (i < attrs.size()) {
    while (i < attrs.size() && std::isspace(static_cast<unsigned char>(attrs[i]))) ++i;
    const std::size_t ks = i;
    while (i < attrs.size() && attrs[i] != '=' && !std::isspace(static_cast<unsigned char>(attrs[i]))) ++i;
    std::string_view key = attrs.substr(ks, i - ks);
    while (i < attrs.size() && std::isspace(static_cast<unsigned char>(attrs[i]))) ++i;
    if (i >= attrs.size() || attrs[i] != '=') {
      if (i == ks) ++i;
      continue;
    }
    ++i;
    while (i < attrs.size() && std::isspace(static_cast<unsigned char>(attrs[i]))) ++i;
    if (i >= attrs.size()) break;
    const char q = attrs[i];
    std::string_view val;
    if (q == '"' || q == '\'') {
      const std::size_t e = attrs.find(q, i + 1);
      if (e == std::string_view::npos) break;
      val = attrs.substr(i + 1, e - i - 1);
      i = e + 1;
    } else {
      const std::size_t vs = i;
      while (i < attrs.size() && !std::isspace(static_cast<unsigned char>(attrs[i]))) ++i;
      val = attrs.substr(vs, i - vs);
    }
    if (const auto colon = key.rfind(':'); colon != std::string_view::npos && name.find(':') == std::string_view::npos)
      key.remove_prefix(colon + 1);
    if (key == name) return unescape(val);
  }
  return std::nullopt;
}

bool parse_a1(std::string_view r, std::uint32_t& row, std::uint32_t& col) {
  std::size_t i = 0;
  std::uint32_t c = 0, rw = 0;
  while (i < r.size() && r[i] == '$') ++i;
  const std::size_t cs = i;
  while (i < r.size() && std::isalpha(static_cast<unsigned char>(r[i])) && i - cs < 4) {
    c = c * 26 + static_cast<std::uint32_t>(std::toupper(static_cast<unsigned char>(r[i])) - 'A' + 1);
    ++i;
  }
  if (i == cs) return false;
  while (i < r.size() && r[i] == '$') ++i;
  const std::size_t rs = i;
  while (i < r.size() && std::isdigit(static_cast<unsigned char>(r[i])) && i - rs < 8) rw = rw * 10 + static_cast<std::uint32_t>(r[i++] - '0');
  if (i == rs || rw == 0) return false;
  row = rw - 1;
  col = c - 1;
  return true;
}

// Function numbers by name, for formulas that arrive as text.
std::optional<std::uint16_t> number_of(std::string_view name) {
  static const std::map<std::string, std::uint16_t> table = [] {
    std::map<std::string, std::uint16_t> m;
    for (std::uint32_t n = 0; n < 512; ++n) {
      if (const char* f = function_name(static_cast<std::uint16_t>(n))) m.emplace(f, static_cast<std::uint16_t>(n));
      if (const char* c = function_name(static_cast<std::uint16_t>(n | 0x8000u)))
        m.emplace(c, static_cast<std::uint16_t>(n | 0x8000u));
    }
    return m;
  }();
  std::string up;
  for (char ch : name) up += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (up.rfind("_XLFN.", 0) == 0) up = up.substr(6);
  const auto it = table.find(up);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

// Functions, CHAR calls, & operators and string literals of a text formula (outside its string literals).
void analyse_text_formula(std::string_view f, FormulaCell& cell, Counts& counts) {
  std::size_t i = 0;
  std::size_t calls = 0;
  while (i < f.size()) {
    const char c = f[i];
    if (c == '"') {
      ++counts.string_literals;
      ++i;
      while (i < f.size()) {
        if (f[i] == '"') {
          if (i + 1 < f.size() && f[i + 1] == '"') {
            i += 2;
            continue;
          }
          break;
        }
        ++i;
      }
      ++i;
      continue;
    }
    if (c == '\'') {  // a quoted sheet name: 'Mac&ro'!A1
      ++i;
      while (i < f.size() && f[i] != '\'') ++i;
      ++i;
      continue;
    }
    if (c == '&') ++counts.concat_ops;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const std::size_t s = i;
      while (i < f.size() && (std::isalnum(static_cast<unsigned char>(f[i])) || f[i] == '.' || f[i] == '_')) ++i;
      if (i < f.size() && f[i] == '(' && calls < limits::max_formula_tokens) {
        ++calls;
        const auto name = f.substr(s, i - s);
        if (const auto n = number_of(name)) {
          cell.functions.push_back(*n);
          if (*n == 111) ++counts.char_calls;
        }
      }
      continue;
    }
    ++i;
  }
}

SheetType type_of_relationship(std::string_view type) {
  auto ends = [&](std::string_view suf) {
    return type.size() >= suf.size() && type.compare(type.size() - suf.size(), suf.size(), suf) == 0;
  };
  if (ends("/xlMacrosheet") || ends("/xlIntlMacrosheet")) return SheetType::macro_sheet;
  if (ends("/worksheet")) return SheetType::worksheet;
  if (ends("/chartsheet")) return SheetType::chart;
  if (ends("/dialogsheet")) return SheetType::dialog;
  return SheetType::unknown;
}

std::string_view bounded(ByteView b, Workbook& wb) {
  std::uint64_t n = b.size();
  if (n > limits::max_xml_size) {
    wb.add(Anomaly::xml_truncated_by_limit, n);
    n = limits::max_xml_size;
  }
  return {reinterpret_cast<const char*>(b.data()), static_cast<std::size_t>(n)};
}

std::string normalise_target(std::string t) {
  if (!t.empty() && t[0] == '/') return t.substr(1);
  if (t.rfind("xl/", 0) == 0) return t;
  return "xl/" + t;
}

void parse_macro_sheet(std::string_view xml, std::uint32_t sheet_index, Workbook& wb) {
  Scanner sc(xml, wb);
  std::string ref;
  while (auto t = sc.next()) {
    if (t->closing) continue;
    if (t->name == "c") {
      ref = attr(t->attrs, "r").value_or("");
      continue;
    }
    if (t->name != "f") continue;
    if (wb.formulas.size() >= limits::max_formulas) {
      wb.add(Anomaly::formulas_truncated_by_limit, wb.formulas.size());
      return;
    }
    FormulaCell cell;
    cell.sheet = sheet_index;
    if (!parse_a1(ref, cell.row, cell.col)) cell.row = cell.col = 0;
    std::string text;
    if (!t->self_closing) text = unescape(sc.text_until_close("f"));
    if (text.empty()) {
      const auto si = attr(t->attrs, "si");
      text = si ? "SHARED(" + *si + ")" : "";
    }
    if (text.size() > limits::max_formula_text) text.resize(limits::max_formula_text);
    analyse_text_formula(text, cell, wb.counts);
    cell.text = "=" + text;
    wb.formulas.push_back(std::move(cell));
  }
}

// ---- XLSB ([MS-XLSB] 2.1.4 records: varint type and size) ----------------------------------------------------

class BrtReader {
 public:
  explicit BrtReader(ByteView v) : v_(v) {}
  // Next record; false at the end. `truncated` when the size runs past the data (the body is clamped).
  bool next(std::uint32_t& type, ByteView& body, bool& truncated) {
    if (pos_ >= v_.size() || ++count_ > limits::max_records) return false;
    std::uint32_t t = 0;
    for (int k = 0; k < 2; ++k) {
      const auto b = v_.u8(pos_++);
      if (!b) return false;
      t |= static_cast<std::uint32_t>(*b & 0x7Fu) << (7 * k);
      if (!(*b & 0x80u)) break;
    }
    std::uint32_t size = 0;
    for (int k = 0; k < 4; ++k) {
      const auto b = v_.u8(pos_++);
      if (!b) return false;
      size |= static_cast<std::uint32_t>(*b & 0x7Fu) << (7 * k);
      if (!(*b & 0x80u)) break;
    }
    type = t;
    body = v_.clamp(pos_, size);
    truncated = body.size() < size;
    pos_ += size;
    return true;
  }
  bool exhausted() const { return count_ > limits::max_records; }

 private:
  ByteView v_;
  std::uint64_t pos_ = 0;
  std::uint32_t count_ = 0;
};

// XLWideString: u32 count of UTF-16 units, then the units. nullopt when it does not fit (or is the null string).
std::optional<std::string> wide(ByteView v, std::uint64_t& off) {
  const auto cch = v.u32(off);
  if (!cch || *cch == 0xFFFFFFFFu) {
    off += 4;
    return std::nullopt;
  }
  if (*cch > limits::max_string_chars * 4u || !v.fits(off + 4, std::uint64_t{*cch} * 2)) return std::nullopt;
  std::string s = utf16le_to_utf8(v.clamp(off + 4, std::uint64_t{*cch} * 2), *cch);
  off += 4 + std::uint64_t{*cch} * 2;
  return s;
}

bool looks_binary(ByteView b) {
  std::uint64_t k = 0;
  if (b.starts_with("\xEF\xBB\xBF")) k = 3;
  while (k < b.size() && (b.data()[k] == ' ' || b.data()[k] == '\r' || b.data()[k] == '\n' || b.data()[k] == '\t')) ++k;
  return k < b.size() && b.data()[k] != '<';
}

struct XlsbBook {
  std::vector<std::string> rel_ids;  // per sheet
  std::vector<std::vector<std::uint8_t>> name_rgce;
  std::vector<std::uint16_t> xti_first;
};

void parse_xlsb_workbook(ByteView b, Workbook& wb, XlsbBook& book) {
  BrtReader r(b);
  std::uint32_t type = 0;
  ByteView body;
  bool trunc = false;
  while (r.next(type, body, trunc)) {
    if (trunc) wb.add(Anomaly::record_truncated, type);
    if (type == 0x009C) {  // BrtBundleSh
      if (wb.sheets.size() >= limits::max_sheets) {
        wb.add(Anomaly::sheets_truncated_by_limit, wb.sheets.size());
        continue;
      }
      Sheet s;
      const std::uint32_t state = body.le_or<std::uint32_t>(0, 0);
      s.visibility = state == 2 ? Visibility::very_hidden : state == 1 ? Visibility::hidden : Visibility::visible;
      s.type = SheetType::worksheet;
      std::uint64_t off = 8;
      auto rid = wide(body, off);
      auto name = wide(body, off);
      s.name = name.value_or("");
      if (s.name.empty()) wb.add(Anomaly::sheet_name_invalid, wb.sheets.size());
      book.rel_ids.push_back(rid.value_or(""));
      wb.sheets.push_back(std::move(s));
    } else if (type == 0x0027) {  // BrtName
      if (wb.names.size() >= limits::max_names) {
        wb.add(Anomaly::names_truncated_by_limit, wb.names.size());
        continue;
      }
      DefinedName d;
      const std::uint32_t flags = body.le_or<std::uint32_t>(0, 0);
      d.hidden = flags & 1u;
      d.is_function = flags & 2u;
      d.is_command = flags & 8u;
      const std::uint32_t itab = body.le_or<std::uint32_t>(5, 0xFFFFFFFFu);
      d.sheet = itab == 0xFFFFFFFFu ? 0 : static_cast<std::uint16_t>(std::min<std::uint32_t>(itab + 1, 0xFFFF));
      std::uint64_t off = 9;
      d.name = wide(body, off).value_or("");
      if (d.name.rfind("_xlnm.", 0) == 0) {
        const std::string_view rest = std::string_view(d.name).substr(6);
        for (std::uint8_t k = 0; k <= 0x0D; ++k)
          if (rest == builtin_name(static_cast<BuiltinName>(k))) d.builtin = static_cast<BuiltinName>(k);
      }
      const std::uint32_t cce = body.le_or<std::uint32_t>(off, 0);
      const ByteView f = body.clamp(off + 4, cce);
      book.name_rgce.emplace_back(f.data(), f.data() + f.size());
      wb.names.push_back(std::move(d));
    } else if (type == 0x016A) {  // BrtExternSheet
      const std::uint32_t n = body.le_or<std::uint32_t>(0, 0);
      for (std::uint32_t k = 0; k < n && body.fits(4 + std::uint64_t{k} * 12, 12) && k < 65536; ++k) {
        const std::int32_t first = static_cast<std::int32_t>(body.le_or<std::uint32_t>(8 + std::uint64_t{k} * 12, 0));
        book.xti_first.push_back(first >= 0 && first < 0xFFFF ? static_cast<std::uint16_t>(first) : 0xFFFF);
      }
    }
  }
  if (r.exhausted()) wb.add(Anomaly::records_truncated_by_limit, 0);
}

void parse_xlsb_sheet(ByteView b, std::uint32_t sheet_index, Workbook& wb, const FormulaContext& base) {
  BrtReader r(b);
  std::uint32_t type = 0;
  ByteView body;
  bool trunc = false;
  std::uint32_t row = 0;
  while (r.next(type, body, trunc)) {
    if (trunc) wb.add(Anomaly::record_truncated, type);
    if (type == 0x0000) {  // BrtRowHdr
      row = body.le_or<std::uint32_t>(0, 0) & 0xFFFFFu;
      continue;
    }
    if (type < 0x0008 || type > 0x000B) continue;  // BrtFmlaString, BrtFmlaNum, BrtFmlaBool, BrtFmlaError
    if (wb.formulas.size() >= limits::max_formulas) {
      wb.add(Anomaly::formulas_truncated_by_limit, wb.formulas.size());
      return;
    }
    FormulaCell cell;
    cell.sheet = sheet_index;
    cell.row = row;
    cell.col = body.le_or<std::uint32_t>(0, 0) & 0x3FFFu;
    std::uint64_t off = 8;
    if (type == 0x0008) cell.cached = wide(body, off).value_or("");
    else off += type == 0x0009 ? 8 : 1;
    off += 2;  // grbitFlags
    const std::uint32_t cce = body.le_or<std::uint32_t>(off, 0);
    const ByteView rgce = body.clamp(off + 4, cce);
    if (rgce.size() < cce) wb.add(Anomaly::formula_truncated, type);
    FormulaContext ctx = base;
    ctx.base_row = cell.row;
    ctx.base_col = cell.col;
    DecodedFormula d = decode_formula(rgce, ctx);
    absorb_formula(wb, d);
    cell.text = "=" + d.text;
    cell.functions = std::move(d.functions);
    cell.folded = std::move(d.folded);
    cell.complete = d.complete;
    wb.formulas.push_back(std::move(cell));
  }
}

bool same_part(std::string_view a, std::string_view b) {
  if (!a.empty() && a[0] == '/') a.remove_prefix(1);
  if (!b.empty() && b[0] == '/') b.remove_prefix(1);
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(a[k])) != std::tolower(static_cast<unsigned char>(b[k]))) return false;
  return true;
}

}  // namespace

Workbook parse_ooxml(ByteView workbook_xml, ByteView workbook_rels, std::span<const OoxmlPart> macro_sheets) {
  Workbook wb;
  wb.ooxml = true;
  // Relationships: rId -> (type, target part).
  std::map<std::string, std::pair<SheetType, std::string>> rels;
  {
    Scanner sc(bounded(workbook_rels, wb), wb);
    while (auto t = sc.next()) {
      if (t->closing || t->name != "Relationship") continue;
      const auto id = attr(t->attrs, "Id"), type = attr(t->attrs, "Type"), target = attr(t->attrs, "Target");
      if (id && target) rels[*id] = {type_of_relationship(type.value_or("")), normalise_target(*target)};
    }
  }
  XlsbBook book;
  const bool xlsb = looks_binary(workbook_xml);
  if (xlsb) {
    parse_xlsb_workbook(workbook_xml.clamp(0, limits::max_xml_size), wb, book);
    for (std::size_t k = 0; k < wb.sheets.size() && k < book.rel_ids.size(); ++k) {
      if (const auto it = rels.find(book.rel_ids[k]); it != rels.end()) {
        wb.sheets[k].type = it->second.first == SheetType::unknown ? SheetType::worksheet : it->second.first;
        wb.sheets[k].part = it->second.second;
      }
    }
  }
  if (!xlsb) {
    Scanner sc(bounded(workbook_xml, wb), wb);
    while (auto t = sc.next()) {
      if (t->closing) continue;
      if (t->name == "sheet") {
        if (wb.sheets.size() >= limits::max_sheets) {
          wb.add(Anomaly::sheets_truncated_by_limit, wb.sheets.size());
          continue;
        }
        Sheet s;
        s.name = attr(t->attrs, "name").value_or("");
        const auto state = attr(t->attrs, "state").value_or("visible");
        s.visibility = state == "veryHidden" ? Visibility::very_hidden
                       : state == "hidden"   ? Visibility::hidden
                                             : Visibility::visible;
        s.type = SheetType::worksheet;
        if (const auto rid = attr(t->attrs, "r:id").has_value() ? attr(t->attrs, "r:id") : attr(t->attrs, "id")) {
          if (const auto it = rels.find(*rid); it != rels.end()) {
            s.type = it->second.first == SheetType::unknown ? SheetType::worksheet : it->second.first;
            s.part = it->second.second;
          }
        }
        if (s.name.empty() || s.name.size() > 31 * 4) wb.add(Anomaly::sheet_name_invalid, wb.sheets.size());
        wb.sheets.push_back(std::move(s));
      } else if (t->name == "definedName") {
        if (wb.names.size() >= limits::max_names) {
          wb.add(Anomaly::names_truncated_by_limit, wb.names.size());
          continue;
        }
        DefinedName d;
        d.name = attr(t->attrs, "name").value_or("");
        d.hidden = attr(t->attrs, "hidden").value_or("0") == "1" || attr(t->attrs, "hidden").value_or("") == "true";
        d.is_function = attr(t->attrs, "function").value_or("0") == "1";
        if (const auto ls = attr(t->attrs, "localSheetId")) {
          std::uint32_t v = 0;
          for (char c : *ls)
            if (std::isdigit(static_cast<unsigned char>(c)) && v < 100000) v = v * 10 + static_cast<std::uint32_t>(c - '0');
          d.sheet = static_cast<std::uint16_t>(std::min<std::uint32_t>(v + 1, 0xFFFF));
        }
        if (d.name.rfind("_xlnm.", 0) == 0) {
          const std::string_view rest = std::string_view(d.name).substr(6);
          for (std::uint8_t b = 0; b <= 0x0D; ++b)
            if (rest == builtin_name(static_cast<BuiltinName>(b))) d.builtin = static_cast<BuiltinName>(b);
        }
        if (!t->self_closing) d.formula = unescape(sc.text_until_close("definedName"));
        if (d.formula.size() > limits::max_formula_text) d.formula.resize(limits::max_formula_text);
        FormulaCell tmp;
        analyse_text_formula(d.formula, tmp, wb.counts);
        for (auto f : tmp.functions) ++wb.function_counts[f];
        wb.names.push_back(std::move(d));
      }
    }
  }
  // The decoding context for XLSB formulas (names and 3-D references).
  std::vector<std::string> sheet_names, name_names;
  for (const auto& sh : wb.sheets) sheet_names.push_back(sh.name);
  for (const auto& n : wb.names) name_names.push_back(n.name);
  FormulaContext ctx;
  ctx.biff12 = true;
  ctx.sheet_names = sheet_names;
  ctx.name_names = name_names;
  ctx.xti_first_sheet = book.xti_first;
  for (std::size_t k = 0; k < wb.names.size() && k < book.name_rgce.size(); ++k) {
    const auto& raw = book.name_rgce[k];
    DecodedFormula d = decode_formula(ByteView(raw.data(), raw.size()), ctx);
    absorb_formula(wb, d);
    wb.names[k].formula = std::move(d.text);
    for (auto f : d.functions) ++wb.function_counts[f];
  }
  for (const auto& part : macro_sheets) {
    std::uint32_t idx = 0xFFFFFFFFu;
    for (std::size_t k = 0; k < wb.sheets.size(); ++k)
      if (!wb.sheets[k].part.empty() && same_part(wb.sheets[k].part, part.path)) idx = static_cast<std::uint32_t>(k);
    if (idx == 0xFFFFFFFFu && wb.sheets.size() < limits::max_sheets) {
      // A macro sheet part that workbook.xml does not list (or no relationships were given).
      Sheet s;
      const auto slash = part.path.rfind('/');
      s.name = slash == std::string::npos ? part.path : part.path.substr(slash + 1);
      s.part = part.path;
      s.type = part.path.find("macrosheets/") != std::string::npos ? SheetType::macro_sheet : SheetType::worksheet;
      wb.sheets.push_back(std::move(s));
      idx = static_cast<std::uint32_t>(wb.sheets.size() - 1);
    }
    if (idx == 0xFFFFFFFFu) continue;
    if (part.path.find("macrosheets/") != std::string::npos) wb.sheets[idx].type = SheetType::macro_sheet;
    const bool bin = part.path.size() > 4 && part.path.compare(part.path.size() - 4, 4, ".bin") == 0;
    if (bin || looks_binary(part.xml)) {
      // Sheets added for unlisted parts are not in ctx.sheet_names; refresh it.
      sheet_names.clear();
      for (const auto& sh : wb.sheets) sheet_names.push_back(sh.name);
      ctx.sheet_names = sheet_names;
      parse_xlsb_sheet(part.xml.clamp(0, limits::max_xml_size), idx, wb, ctx);
    } else {
      parse_macro_sheet(bounded(part.xml, wb), idx, wb);
    }
  }
  finalize(wb);
  return wb;
}

}  // namespace mamori::xls
