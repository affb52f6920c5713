// Formula token streams ([MS-XLS] 2.5.198: Rgce / Ptg) to readable A1-notation text.
//
// The tokens are reverse Polish: operands push, operators and functions pop. We keep a bounded stack of strings
// (limits::max_stack_depth, limits::max_formula_text per entry), stop at the first token we cannot size (an
// unknown token makes the rest of the stream unreadable, since tokens carry no length), and record why.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/codepage.hpp"
#include "formats/xls/xls.hpp"

namespace mamori::xls {
namespace {

struct Item {
  std::string text;
  std::optional<std::string> str;   // a known string value (a literal, CHAR(literal), or & of known strings)
  std::optional<double> num;        // a known number (a literal, or arithmetic on literals)
  bool derived = false;             // str was computed, not written as one literal
};

void cap_text(std::string& s) {
  if (s.size() > limits::max_formula_text) {
    s.resize(limits::max_formula_text);
    s += "...";
  }
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    out += c;
    if (c == '"') out += '"';
  }
  out += '"';
  return out;
}

std::string format_number(double v) {
  if (!std::isfinite(v)) return "#NUM!";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

const char* error_text(std::uint8_t e) {
  switch (e) {
    case 0x00: return "#NULL!";
    case 0x07: return "#DIV/0!";
    case 0x0F: return "#VALUE!";
    case 0x17: return "#REF!";
    case 0x1D: return "#NAME?";
    case 0x24: return "#NUM!";
    case 0x2A: return "#N/A";
    case 0x2B: return "#GETTING_DATA";
    default: return "#ERR!";
  }
}

std::string col_letters(std::uint32_t col) {
  std::string s;
  std::uint32_t c = col + 1;
  while (c > 0 && s.size() < 8) {
    const std::uint32_t r = (c - 1) % 26;
    s.insert(s.begin(), static_cast<char>('A' + r));
    c = (c - 1) / 26;
  }
  return s;
}

class Decoder {
 public:
  Decoder(ByteView rgce, const FormulaContext& ctx) : in_(rgce), ctx_(ctx) {}

  DecodedFormula run() {
    std::uint64_t pos = 0;
    while (pos < in_.size()) {
      if (out_.tokens >= limits::max_formula_tokens) {
        fail(Anomaly::formula_tokens_truncated_by_limit, out_.tokens);
        break;
      }
      ++out_.tokens;
      const std::uint8_t ptg = in_.u8(pos).value_or(0);
      ++pos;
      if (!step(ptg, pos)) break;
    }
    // What is left: normally exactly one value.
    if (stack_.size() > 1 && out_.complete) add(Anomaly::formula_unbalanced, stack_.size());
    for (auto& it : stack_) harvest(it);
    std::string text;
    for (std::size_t i = 0; i < stack_.size(); ++i) {
      if (i) text += ' ';
      text += stack_[i].text;
    }
    if (!out_.complete) text += stack_.empty() ? "<?>" : " <?>";
    cap_text(text);
    out_.text = std::move(text);
    return std::move(out_);
  }

 private:
  void add(Anomaly a, std::uint64_t detail) { out_.anomalies.push_back({a, detail}); }
  bool fail(Anomaly a, std::uint64_t detail) {
    add(a, detail);
    out_.complete = false;
    return false;
  }

  bool push(Item it) {
    if (stack_.size() >= limits::max_stack_depth) return fail(Anomaly::formula_stack_overflow, stack_.size());
    cap_text(it.text);
    stack_.push_back(std::move(it));
    return true;
  }

  // Strings computed by folding, reported once they are consumed by something that does not fold further.
  void harvest(const Item& it) {
    if (it.derived && it.str && it.str->size() >= 2 && out_.folded.size() < 256) out_.folded.push_back(*it.str);
  }

  bool need(std::uint64_t pos, std::uint64_t n, std::uint8_t ptg) {
    if (!in_.fits(pos, n)) return fail(Anomaly::formula_truncated, ptg);
    return true;
  }

  std::string ref_text(std::uint32_t row, std::uint16_t colfield, bool relative_offsets) const {
    const bool col_rel = colfield & 0x4000u, row_rel = colfield & 0x8000u;
    std::uint32_t col = ctx_.biff5 ? (colfield & 0xFFu) : (colfield & 0x3FFFu);
    if (relative_offsets) {
      if (row_rel) row = (ctx_.base_row + static_cast<std::uint32_t>(static_cast<std::int16_t>(row))) & 0xFFFFFu;
      if (col_rel) col = (ctx_.base_col + static_cast<std::uint32_t>(static_cast<std::int8_t>(col & 0xFFu))) & 0x3FFFu;
    }
    return a1(row, col, !row_rel, !col_rel);
  }

  // BIFF5 keeps the relative flags in the row field's top bits and the column in one byte.
  std::string ref_at(std::uint64_t p, bool relative_offsets) const {
    if (ctx_.biff12) {
      const std::uint32_t rw = in_.le_or<std::uint32_t>(p, 0);
      return ref_text(rw & 0xFFFFFu, in_.le_or<std::uint16_t>(p + 4, 0), relative_offsets);
    }
    if (ctx_.biff5) {
      const std::uint16_t rw = in_.le_or<std::uint16_t>(p, 0);
      const std::uint8_t col = in_.le_or<std::uint8_t>(p + 2, 0);
      const std::uint16_t field = static_cast<std::uint16_t>(col | (rw & 0xC000u));
      return ref_text(rw & 0x3FFFu, field, relative_offsets);
    }
    return ref_text(in_.le_or<std::uint16_t>(p, 0), in_.le_or<std::uint16_t>(p + 2, 0), relative_offsets);
  }
  std::string area_at(std::uint64_t p, bool relative_offsets) const {
    if (ctx_.biff12) {
      const std::uint32_t r1 = in_.le_or<std::uint32_t>(p, 0), r2 = in_.le_or<std::uint32_t>(p + 4, 0);
      const std::uint16_t c1 = in_.le_or<std::uint16_t>(p + 8, 0), c2 = in_.le_or<std::uint16_t>(p + 10, 0);
      return ref_text(r1 & 0xFFFFFu, c1, relative_offsets) + ":" + ref_text(r2 & 0xFFFFFu, c2, relative_offsets);
    }
    if (ctx_.biff5) {
      const std::uint16_t r1 = in_.le_or<std::uint16_t>(p, 0), r2 = in_.le_or<std::uint16_t>(p + 2, 0);
      const std::uint8_t c1 = in_.le_or<std::uint8_t>(p + 4, 0), c2 = in_.le_or<std::uint8_t>(p + 5, 0);
      return ref_text(r1 & 0x3FFFu, static_cast<std::uint16_t>(c1 | (r1 & 0xC000u)), relative_offsets) + ":" +
             ref_text(r2 & 0x3FFFu, static_cast<std::uint16_t>(c2 | (r2 & 0xC000u)), relative_offsets);
    }
    const std::uint16_t r1 = in_.le_or<std::uint16_t>(p, 0), r2 = in_.le_or<std::uint16_t>(p + 2, 0);
    const std::uint16_t c1 = in_.le_or<std::uint16_t>(p + 4, 0), c2 = in_.le_or<std::uint16_t>(p + 6, 0);
    return ref_text(r1, c1, relative_offsets) + ":" + ref_text(r2, c2, relative_offsets);
  }

  std::string sheet_prefix(std::uint16_t ixti) {
    ++out_.sheet_refs;
    if (ixti < ctx_.xti_first_sheet.size()) {
      const std::uint16_t s = ctx_.xti_first_sheet[ixti];
      if (s < ctx_.sheet_names.size()) return quote_sheet(ctx_.sheet_names[s]) + "!";
      return "[ext" + std::to_string(ixti) + "]!";
    }
    return "[xti" + std::to_string(ixti) + "]!";
  }
  static std::string quote_sheet(const std::string& n) {
    bool plain = !n.empty();
    for (char c : n) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) plain = false;
    }
    if (plain) return n;
    std::string out = "'";
    for (char c : n) {
      out += c;
      if (c == '\'') out += '\'';
    }
    return out + "'";
  }

  std::string name_text(std::uint32_t index) const {
    if (index >= 1 && index <= ctx_.name_names.size()) return ctx_.name_names[index - 1];
    return "NAME#" + std::to_string(index);
  }
  std::string namex_text(std::uint16_t ixti, std::uint32_t index) const {
    if (ixti < ctx_.xti_supbook.size()) {
      const std::uint16_t sb = ctx_.xti_supbook[ixti];
      if (sb < ctx_.supbook_names.size() && index >= 1 && index <= ctx_.supbook_names[sb].size())
        return ctx_.supbook_names[sb][index - 1];
    }
    return "NAMEX#" + std::to_string(ixti) + "." + std::to_string(index);
  }

  bool binary(const char* op, std::uint8_t ptg) {
    if (stack_.size() < 2) return fail(Anomaly::formula_stack_underflow, ptg);
    Item b = std::move(stack_.back());
    stack_.pop_back();
    Item a = std::move(stack_.back());
    stack_.pop_back();
    Item r;
    r.text = a.text + op + b.text;
    if (ptg == 0x08) {  // &
      ++out_.concat_ops;
      const auto as = a.str ? a.str : (a.num ? std::optional<std::string>(format_number(*a.num)) : std::nullopt);
      const auto bs = b.str ? b.str : (b.num ? std::optional<std::string>(format_number(*b.num)) : std::nullopt);
      if (as && bs && as->size() + bs->size() <= limits::max_string_chars) {
        r.str = *as + *bs;
        r.derived = true;
      } else {
        harvest(a);
        harvest(b);
      }
    } else if (a.num && b.num && (ptg >= 0x03 && ptg <= 0x06)) {
      const double x = *a.num, y = *b.num;
      r.num = ptg == 0x03 ? x + y : ptg == 0x04 ? x - y : ptg == 0x05 ? x * y : (y != 0 ? x / y : NAN);
    } else {
      harvest(a);
      harvest(b);
    }
    return push(std::move(r));
  }

  bool function(std::uint16_t number, std::uint32_t argc, std::uint8_t ptg) {
    if (stack_.size() < argc) return fail(Anomaly::formula_stack_underflow, ptg);
    out_.functions.push_back(number);
    const char* nm = function_name(number);
    if (nm == nullptr) add(Anomaly::formula_unknown_function, number);
    std::vector<Item> args(argc);
    for (std::uint32_t i = argc; i-- > 0;) {
      args[i] = std::move(stack_.back());
      stack_.pop_back();
    }
    Item r;
    std::size_t first = 0;
    if (number == 255 && argc >= 1) {  // user-defined: the first argument names the function
      r.text = args[0].text;
      first = 1;
    } else if (nm != nullptr) {
      r.text = nm;
    } else {
      r.text = (number & 0x8000u) ? "CMD" + std::to_string(number & 0x7FFFu) : "FN" + std::to_string(number);
    }
    r.text += '(';
    for (std::size_t i = first; i < args.size(); ++i) {
      if (i > first) r.text += ',';
      r.text += args[i].text;
    }
    r.text += ')';
    if (number == 111) {  // CHAR
      ++out_.char_calls;
      if (argc == 1 && args[0].num && *args[0].num >= 1 && *args[0].num < 256) {
        r.str = std::string(1, static_cast<char>(static_cast<int>(*args[0].num)));
        if (static_cast<unsigned char>((*r.str)[0]) >= 0x80) {
          const char c = (*r.str)[0];
          r.str = codepage_to_utf8(std::string_view(&c, 1), 1252);
        }
        r.derived = true;
        return push(std::move(r));
      }
    }
    for (auto& a : args) harvest(a);
    return push(std::move(r));
  }

  bool read_short_string(std::uint64_t& pos, std::uint8_t ptg, std::string& out) {
    if (ctx_.biff12) {  // cch u16, then UTF-16LE
      if (!need(pos, 2, ptg)) return false;
      const std::uint16_t cch = in_.le_or<std::uint16_t>(pos, 0);
      if (!need(pos + 2, std::uint64_t{cch} * 2, ptg)) return false;
      out = utf16le_to_utf8(in_.sub(pos + 2, std::uint64_t{cch} * 2).value_or(ByteView{}), cch);
      pos += 2 + std::uint64_t{cch} * 2;
      return true;
    }
    if (!need(pos, 1, ptg)) return false;
    const std::uint8_t cch = in_.u8(pos).value_or(0);
    if (ctx_.biff5) {
      if (!need(pos + 1, cch, ptg)) return false;
      const auto v = in_.sub(pos + 1, cch).value_or(ByteView{});
      out = codepage_to_utf8(std::string_view(reinterpret_cast<const char*>(v.data()), v.size()), 1252);
      pos += 1u + cch;
      return true;
    }
    if (!need(pos + 1, 1, ptg)) return false;
    const bool wide = in_.u8(pos + 1).value_or(0) & 1u;
    const std::uint64_t n = std::uint64_t{cch} * (wide ? 2 : 1);
    if (!need(pos + 2, n, ptg)) return false;
    const auto v = in_.sub(pos + 2, n).value_or(ByteView{});
    out = wide ? utf16le_to_utf8(v, cch)
               : codepage_to_utf8(std::string_view(reinterpret_cast<const char*>(v.data()), v.size()), 28591);
    pos += 2 + n;
    return true;
  }

  bool step(std::uint8_t ptg, std::uint64_t& pos) {
    // Operand tokens carry a class in bits 5-6; the base token is the low 5 bits plus 0x20.
    const std::uint8_t base = ptg >= 0x20 ? static_cast<std::uint8_t>((ptg & 0x1Fu) | 0x20u) : ptg;
    const bool b5 = ctx_.biff5;
    const bool b12 = ctx_.biff12;
    switch (base) {
      case 0x01:  // ptgExp: the cell is part of a shared formula or array anchored at (rw, col)
      case 0x02: {  // ptgTbl
        if (!need(pos, 4, ptg)) return false;
        const std::uint32_t rw = b12 ? in_.le_or<std::uint32_t>(pos, 0) : in_.le_or<std::uint16_t>(pos, 0);
        const std::uint16_t col = b12 ? 0 : in_.le_or<std::uint16_t>(pos + 2, 0);
        pos += 4;  // BIFF5 and BIFF8 write a 16-bit row and column, XLSB a 32-bit row only
        return push({std::string(base == 1 ? "SHARED(" : "TABLE(") + a1(rw, col & 0xFFu) + ")", {}, {}, false});
      }
      case 0x03: return binary("+", ptg);
      case 0x04: return binary("-", ptg);
      case 0x05: return binary("*", ptg);
      case 0x06: return binary("/", ptg);
      case 0x07: return binary("^", ptg);
      case 0x08: return binary("&", ptg);
      case 0x09: return binary("<", ptg);
      case 0x0A: return binary("<=", ptg);
      case 0x0B: return binary("=", ptg);
      case 0x0C: return binary(">=", ptg);
      case 0x0D: return binary(">", ptg);
      case 0x0E: return binary("<>", ptg);
      case 0x0F: return binary(" ", ptg);
      case 0x10: return binary(",", ptg);
      case 0x11: return binary(":", ptg);
      case 0x12:
      case 0x13:
      case 0x14:
      case 0x15: {
        if (stack_.empty()) return fail(Anomaly::formula_stack_underflow, ptg);
        Item& t = stack_.back();
        if (base == 0x12) t.text = "+" + t.text;
        if (base == 0x13) {
          t.text = "-" + t.text;
          if (t.num) t.num = -*t.num;
        }
        if (base == 0x14) {
          t.text += "%";
          t.num.reset();
        }
        if (base == 0x15) t.text = "(" + t.text + ")";
        cap_text(t.text);
        return true;
      }
      case 0x16: return push({"", {}, {}, false});  // ptgMissArg
      case 0x17: {
        std::string s;
        if (!read_short_string(pos, ptg, s)) return false;
        ++out_.string_literals;
        Item it{quote(s), s, {}, false};
        return push(std::move(it));
      }
      case 0x19: {  // ptgAttr
        if (!need(pos, 3, ptg)) return false;
        const std::uint8_t flags = in_.u8(pos).value_or(0);
        const std::uint16_t data = in_.le_or<std::uint16_t>(pos + 1, 0);
        pos += 3;
        if (flags & 0x04) {  // choose: a jump table of data+1 offsets follows
          const std::uint64_t n = (std::uint64_t{data} + 1) * 2;
          if (!need(pos, n, ptg)) return false;
          pos += n;
        }
        if (flags & 0x10) {  // sum of the one operand on the stack
          if (stack_.empty()) return fail(Anomaly::formula_stack_underflow, ptg);
          out_.functions.push_back(4);
          harvest(stack_.back());
          stack_.back() = Item{"SUM(" + stack_.back().text + ")", {}, {}, false};
          cap_text(stack_.back().text);
        }
        return true;
      }
      case 0x1C: {
        if (!need(pos, 1, ptg)) return false;
        const std::uint8_t e = in_.u8(pos).value_or(0);
        pos += 1;
        return push({error_text(e), {}, {}, false});
      }
      case 0x1D: {
        if (!need(pos, 1, ptg)) return false;
        const bool v = in_.u8(pos).value_or(0) != 0;
        pos += 1;
        return push({v ? "TRUE" : "FALSE", {}, v ? 1.0 : 0.0, false});
      }
      case 0x1E: {
        if (!need(pos, 2, ptg)) return false;
        const std::uint16_t v = in_.le_or<std::uint16_t>(pos, 0);
        pos += 2;
        return push({std::to_string(v), {}, static_cast<double>(v), false});
      }
      case 0x1F: {
        if (!need(pos, 8, ptg)) return false;
        const std::uint64_t bits = in_.le_or<std::uint64_t>(pos, 0);
        double v;
        std::memcpy(&v, &bits, sizeof v);
        pos += 8;
        return push({format_number(v), {}, std::isfinite(v) ? std::optional<double>(v) : std::nullopt, false});
      }
      case 0x20: {  // ptgArray: the values live in the formula's trailing data
        const std::uint64_t n = b12 ? 14 : 7;
        if (!need(pos, n, ptg)) return false;
        pos += n;
        return push({"{...}", {}, {}, false});
      }
      case 0x21: {  // ptgFunc: fixed argument count from the table
        const std::uint64_t n = b5 ? 2 : 2;
        if (!need(pos, n, ptg)) return false;
        const std::uint16_t f = static_cast<std::uint16_t>(in_.le_or<std::uint16_t>(pos, 0) & 0x7FFFu);
        pos += n;
        const int argc = function_fixed_args(f);
        if (argc < 0) {
          // Unknown or variable-count function called as fixed: the operand count is unknowable.
          return fail(Anomaly::formula_unknown_function, f);
        }
        return function(f, static_cast<std::uint32_t>(argc), ptg);
      }
      case 0x22: {  // ptgFuncVar
        if (!need(pos, 3, ptg)) return false;
        const std::uint8_t cargs = in_.u8(pos).value_or(0) & 0x7Fu;
        const std::uint16_t tab = in_.le_or<std::uint16_t>(pos + 1, 0);
        pos += 3;
        return function(tab, cargs, ptg);
      }
      case 0x23: {  // ptgName
        const std::uint64_t n = b5 ? 14 : 4;
        if (!need(pos, n, ptg)) return false;
        const std::uint32_t idx = b5 ? in_.le_or<std::uint16_t>(pos, 0) : in_.le_or<std::uint32_t>(pos, 0);
        pos += n;
        return push({name_text(idx), {}, {}, false});
      }
      case 0x24:
      case 0x2C: {  // ptgRef, ptgRefN
        const std::uint64_t n = b12 ? 6 : b5 ? 3 : 4;
        if (!need(pos, n, ptg)) return false;
        std::string t = ref_at(pos, base == 0x2C);
        pos += n;
        return push({std::move(t), {}, {}, false});
      }
      case 0x25:
      case 0x2D: {  // ptgArea, ptgAreaN
        const std::uint64_t n = b12 ? 12 : b5 ? 6 : 8;
        if (!need(pos, n, ptg)) return false;
        std::string t = area_at(pos, base == 0x2D);
        pos += n;
        return push({std::move(t), {}, {}, false});
      }
      case 0x26:
      case 0x27:
      case 0x28: {  // ptgMemArea / MemErr / MemNoMem: a sub-expression follows; nothing to print
        const std::uint64_t n = b5 ? 6 : 6;
        if (!need(pos, n, ptg)) return false;
        pos += n;
        return true;
      }
      case 0x29: {  // ptgMemFunc
        if (!need(pos, 2, ptg)) return false;
        pos += 2;
        return true;
      }
      case 0x2A: {  // ptgRefErr
        const std::uint64_t n = b12 ? 6 : b5 ? 3 : 4;
        if (!need(pos, n, ptg)) return false;
        pos += n;
        return push({"#REF!", {}, {}, false});
      }
      case 0x2B: {  // ptgAreaErr
        const std::uint64_t n = b12 ? 12 : b5 ? 6 : 8;
        if (!need(pos, n, ptg)) return false;
        pos += n;
        return push({"#REF!", {}, {}, false});
      }
      case 0x39: {  // ptgNameX
        const std::uint64_t n = b5 ? 24 : 6;
        if (!need(pos, n, ptg)) return false;
        const std::uint16_t ixti = in_.le_or<std::uint16_t>(pos, 0);
        const std::uint32_t idx = b5 ? in_.le_or<std::uint16_t>(pos + 10, 0) : in_.le_or<std::uint32_t>(pos + 2, 0);
        pos += n;
        return push({namex_text(ixti, idx), {}, {}, false});
      }
      case 0x3A:
      case 0x3C: {  // ptgRef3d, ptgRefErr3d
        const std::uint64_t n = b12 ? 8 : b5 ? 17 : 6;
        if (!need(pos, n, ptg)) return false;
        const std::uint16_t ixti = in_.le_or<std::uint16_t>(pos, 0);
        std::string t = sheet_prefix(b5 ? 0xFFFF : ixti);
        t += base == 0x3C ? std::string("#REF!") : ref_at(pos + (b5 ? 14 : 2), false);
        pos += n;
        return push({std::move(t), {}, {}, false});
      }
      case 0x3B:
      case 0x3D: {  // ptgArea3d, ptgAreaErr3d
        const std::uint64_t n = b12 ? 14 : b5 ? 20 : 10;
        if (!need(pos, n, ptg)) return false;
        const std::uint16_t ixti = in_.le_or<std::uint16_t>(pos, 0);
        std::string t = sheet_prefix(b5 ? 0xFFFF : ixti);
        t += base == 0x3D ? std::string("#REF!") : area_at(pos + (b5 ? 14 : 2), false);
        pos += n;
        return push({std::move(t), {}, {}, false});
      }
      default:
        return fail(Anomaly::formula_unknown_token, ptg);
    }
  }

  ByteView in_;
  const FormulaContext& ctx_;
  std::vector<Item> stack_;
  DecodedFormula out_;
};

}  // namespace

std::string a1(std::uint32_t row, std::uint32_t col, bool row_abs, bool col_abs) {
  std::string s;
  if (col_abs) s += '$';
  s += col_letters(col);
  if (row_abs) s += '$';
  s += std::to_string(std::uint64_t{row} + 1);
  return s;
}

DecodedFormula decode_formula(ByteView rgce, const FormulaContext& ctx) { return Decoder(rgce, ctx).run(); }

}  // namespace mamori::xls
