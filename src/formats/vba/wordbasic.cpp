// Word 6/95 command table and WordBasic token bodies (see wordbasic.hpp for the layout and where it comes from).
#include "formats/vba/wordbasic.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "common/anomalies.hpp"

namespace mamori::vba::wordbasic {

const char* anomaly_name(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::table_out_of_range: return "table_out_of_range";
    case Anomaly::table_bad_version: return "table_bad_version";
    case Anomaly::table_record_truncated: return "table_record_truncated";
    case Anomaly::table_unknown_record: return "table_unknown_record";
    case Anomaly::table_records_truncated_by_limit: return "table_records_truncated_by_limit";
    case Anomaly::table_unterminated: return "table_unterminated";
    case Anomaly::macros_truncated_by_limit: return "macros_truncated_by_limit";
    case Anomaly::names_truncated_by_limit: return "names_truncated_by_limit";
    case Anomaly::macro_name_missing: return "macro_name_missing";
    case Anomaly::macro_body_out_of_range: return "macro_body_out_of_range";
    case Anomaly::macro_body_truncated: return "macro_body_truncated";
    case Anomaly::macro_text_truncated_by_limit: return "macro_text_truncated_by_limit";
    case Anomaly::fib_encrypted: return "fib_encrypted";
    case Anomaly::kCount: break;
  }
  return "unknown";
}

namespace {

constexpr std::uint16_t kWordIdent = 0xA5DC;
constexpr std::uint16_t kFibEncryptedFlag = 0x0100;
constexpr std::uint64_t kFibFlagsOffset = 10;

// Command-table record ids and the size of one element of the counted ones.
enum : std::uint8_t {
  kRecMacros = 0x01, kRecAllocated = 0x02, kRecKeyMap = 0x03, kRecKeyMapAll = 0x04, kRecMenuDelta = 0x05,
  kRecStrings = 0x10, kRecNames = 0x11, kRecWord = 0x12, kRecEnd = 0x40, kTableVersion = 0xFF,
};
constexpr std::uint64_t kMacroDescriptorSize = 24, kAllocatedSize = 4, kKeyMapSize = 14, kMenuDeltaSize = 12;
// Fields of a macro descriptor.
constexpr std::uint64_t kMcdKey = 1, kMcdNameId = 2, kMcdSize = 12, kMcdOffset = 20;

// Body tokens.
enum : std::uint8_t {
  kTokEol = 0x64, kTokLabel = 0x65, kTokBuiltin = 0x67, kTokDouble = 0x68, kTokIdent = 0x69, kTokString = 0x6A,
  kTokComment = 0x6B, kTokInteger = 0x6C, kTokText6D = 0x6D, kTokSpaces = 0x6E, kTokSpaces2 = 0x6F, kTokRem = 0x70,
  kTokField = 0x73, kTokText76 = 0x76, kTokText77 = 0x77,
};
constexpr std::uint64_t kBodyHeader = 2;

// One-byte keywords and built-ins whose meaning the corpus bodies make plain: the structure of every macro
// (Sub MAIN ... End Sub; For i = 1 To n ... Next i; Dim dlg As FileSaveAs; If ... Then), and the statements of the
// widely published Word 6 replication routine, read token by token against it ("On Error Goto Bail",
// "iMacroCount = CountMacros(0, 0)", "MacroName$(i, 0, 0)", "sMe$ = FileName$()", "MacroCopy sMe$ + \":AutoOpen\"..."
// "GetCurValues dlg", "Dialog dlg", "If dlg.Format = 0", "If Err <> 102"). The rest are rendered by number.
const char* keyword(std::uint8_t t) noexcept {
  switch (t) {
    case 0x02: return "Not";
    case 0x03: return "And";
    case 0x05: return "(";
    case 0x06: return ")";
    case 0x07: return "+";
    case 0x08: return "-";
    case 0x0C: return "=";
    case 0x0D: return "<>";
    case 0x12: return ",";
    case 0x19: return ":";
    case 0x1A: return "End";
    case 0x1B: return "Sub";
    case 0x1C: return "Function";
    case 0x1D: return "If";
    case 0x1E: return "Then";
    case 0x23: return "For";
    case 0x24: return "To";
    case 0x26: return "Next";
    case 0x2A: return "Goto";
    case 0x2C: return "On";
    case 0x2D: return "Error";
    case 0x2F: return "Dim";
    case 0x34: return "As";
    case 0x3E: return "GetCurValues";
    case 0x3F: return "Dialog";
    default: return nullptr;
  }
}

const char* builtin(std::uint16_t n) noexcept {
  switch (n) {
    case 0x0054: return "FileSaveAs";
    case 0x8006: return "Val";
    case 0x8007: return "Str$";
    case 0x8025: return "FileName$";
    case 0x802B: return "MsgBox";
    case 0x8046: return "SetProfileString";
    case 0x80B7: return "CountMacros";
    case 0x80B8: return "MacroName$";
    case 0x80C2: return "MacroCopy";
    case 0x814D: return "GetProfileString$";
    default: return nullptr;
  }
}

const char* dialog_field(std::uint16_t n) noexcept { return n == 0x00CB ? ".Format" : nullptr; }

// A token separated from the previous one by a space unless the line is empty or the token is punctuation.
class Writer {
 public:
  explicit Writer(std::size_t cap) : cap_(cap) {}
  void word(std::string_view w) {
    const char last = out.empty() ? '\n' : out.back();
    const bool call = w == "(" && (std::isalnum(static_cast<unsigned char>(last)) || last == '$');
    if (last != '\n' && last != ' ' && last != '\t' && last != '(' && w != ")" && w != "," && w != ":" && !call)
      put(" ");
    put(w);
  }
  void raw(std::string_view w) { put(w); }
  void put(std::string_view w) {
    if (capped) return;
    if (out.size() + w.size() > cap_) {
      capped = true;
      return;
    }
    out += w;
  }
  std::string out;
  bool capped = false;

 private:
  std::size_t cap_;
};

std::string_view chars(ByteView v) { return {reinterpret_cast<const char*>(v.data()), static_cast<std::size_t>(v.size())}; }

}  // namespace

bool is_word6_fib(ByteView w) noexcept {
  const auto ident = w.u16(0), nfib = w.u16(2);
  return ident && nfib && *ident == kWordIdent && *nfib >= kNFibWord6 && *nfib <= kNFibWord95Last;
}

Detokenized detokenize(ByteView body, std::size_t max_text) {
  Detokenized d;
  Writer w(max_text);
  std::uint64_t pos = kBodyHeader;
  char num[32];
  while (pos < body.size() && !w.capped) {
    const std::uint8_t t = *body.u8(pos);
    ++pos;
    ++d.tokens;
    switch (t) {
      case kTokEol: w.raw("\n"); break;
      case kTokLabel: case kTokIdent: case kTokString: case kTokComment: case kTokText6D: case kTokRem:
      case kTokText76: case kTokText77: {
        const auto n = body.u8(pos);
        const auto text = n ? body.sub(pos + 1, *n) : std::nullopt;
        if (!text) {
          d.truncated = true;
          pos = body.size();
          break;
        }
        pos += 1 + *n;
        const std::string_view s = chars(*text);
        if (t == kTokString) {
          std::string q = "\"";
          for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
          w.word(q + "\"");
        } else if (t == kTokComment) {
          w.word("'" + std::string(s));
        } else if (t == kTokRem) {
          w.word("REM " + std::string(s));
        } else if (t == kTokLabel) {
          // A label starts its own line (the ':' after it is a token of its own).
          if (!w.out.empty() && w.out.back() != '\n') w.raw("\n");
          w.raw(s);
        } else {
          w.word(s);
        }
        break;
      }
      case kTokBuiltin: case kTokInteger: case kTokField: {
        const auto v = body.u16(pos);
        if (!v) {
          d.truncated = true;
          pos = body.size();
          break;
        }
        pos += 2;
        if (t == kTokBuiltin) {
          ++d.builtin_calls;
          if (const char* b = builtin(*v)) {
            w.word(b);
            break;
          }
          std::snprintf(num, sizeof num, "WB_%04X", *v);
        } else if (t == kTokField) {
          if (const char* f = dialog_field(*v)) {
            w.raw(f);  // follows its dialog record with no space: dlg.Format
            break;
          }
          std::snprintf(num, sizeof num, ".F_%04X", *v);
        } else {
          std::snprintf(num, sizeof num, "%u", static_cast<unsigned>(*v));
        }
        w.word(num);
        break;
      }
      case kTokDouble: {
        const auto bits = body.u64(pos);
        if (!bits) {
          d.truncated = true;
          pos = body.size();
          break;
        }
        pos += 8;
        double v = 0;
        static_assert(sizeof v == sizeof *bits);
        std::memcpy(&v, &*bits, sizeof v);
        std::snprintf(num, sizeof num, "%g", v);
        w.word(num);
        break;
      }
      case kTokSpaces: case kTokSpaces2: {
        const auto n = body.u8(pos);
        if (!n) {
          d.truncated = true;
          pos = body.size();
          break;
        }
        ++pos;
        if (!w.out.empty() && w.out.back() == '\n') w.raw(std::string(std::min<std::uint8_t>(*n, 16), ' '));
        break;
      }
      default:
        if (const char* k = keyword(t)) {
          w.word(k);
        } else if (t == 0x52) {
          // Leads the statements inside a block: indentation, not a word.
          w.raw("\t");
        } else {
          ++d.unnamed_keywords;
          std::snprintf(num, sizeof num, "KW_%02X", t);
          w.word(num);
        }
        break;
    }
  }
  d.capped = w.capped;
  d.text = std::move(w.out);
  return d;
}

std::string listing(const Macro& m) {
  std::string s = "Macro ";
  s += m.name.empty() ? std::string("(unnamed)") : m.name;
  s += '\n';
  s += m.text;
  return s;
}

Result<Project> read(ByteView w) {
  if (!is_word6_fib(w)) return make_error(ErrorCode::not_this_format, "not a Word 6/95 FIB");
  const auto fc = w.u32(kFibCmdsOffset), lcb = w.u32(kFibCmdsSize);
  if (!fc || !lcb || *lcb == 0) return make_error(ErrorCode::not_this_format, "no Word 6/95 command table");
  Project p;
  p.nfib = *w.u16(2);
  p.table_offset = *fc;
  p.table_size = *lcb;
  if (w.le_or<std::uint16_t>(kFibFlagsOffset, 0) & kFibEncryptedFlag) flag_first(p, Anomaly::fib_encrypted, 0);
  const auto table_opt = w.sub(*fc, *lcb);
  if (!table_opt) {
    flag_first(p, Anomaly::table_out_of_range, *fc);
    return p;
  }
  const ByteView t = *table_opt;
  if (t.le_or<std::uint8_t>(0, 0) != kTableVersion) {
    flag_first(p, Anomaly::table_bad_version, t.le_or<std::uint8_t>(0, 0));
    return p;
  }
  struct Name {
    std::uint16_t id;
    std::string text;
  };
  std::vector<Name> names;
  struct Descriptor {
    std::uint8_t key;
    std::uint16_t name_id;
    std::uint32_t offset, size;
  };
  std::vector<Descriptor> descriptors;

  std::uint64_t pos = 1;
  std::uint32_t records = 0;
  bool terminated = false;
  auto truncated = [&](std::uint64_t at) { flag_first(p, Anomaly::table_record_truncated, at); };
  while (pos < t.size() && !terminated) {
    if (++records > limits::max_records) {
      flag_first(p, Anomaly::table_records_truncated_by_limit, records);
      break;
    }
    const std::uint64_t start = pos;
    const std::uint8_t id = *t.u8(pos);
    ++pos;
    if (id == kRecEnd) {
      terminated = true;
      break;
    }
    if (id == kRecWord) {
      if (!t.fits(pos, 2)) {
        truncated(start);
        break;
      }
      pos += 2;
      continue;
    }
    const auto count = t.u16(pos);
    if (!count) {
      truncated(start);
      break;
    }
    pos += 2;
    if (id == kRecMacros) {
      const auto all = t.sub(pos, std::uint64_t{*count} * kMacroDescriptorSize);
      if (!all) {
        truncated(start);
        break;
      }
      for (std::uint32_t i = 0; i < *count; ++i) {
        if (descriptors.size() >= limits::max_macros) {
          flag_first(p, Anomaly::macros_truncated_by_limit, descriptors.size());
          break;
        }
        const ByteView d = all->clamp(std::uint64_t{i} * kMacroDescriptorSize, kMacroDescriptorSize);
        descriptors.push_back({d.le_or<std::uint8_t>(kMcdKey, 0), d.le_or<std::uint16_t>(kMcdNameId, 0),
                               d.le_or<std::uint32_t>(kMcdOffset, 0), d.le_or<std::uint32_t>(kMcdSize, 0)});
      }
      pos += all->size();
    } else if (id == kRecAllocated || id == kRecKeyMap || id == kRecKeyMapAll || id == kRecMenuDelta) {
      const std::uint64_t each = id == kRecAllocated ? kAllocatedSize : id == kRecMenuDelta ? kMenuDeltaSize : kKeyMapSize;
      if (!t.fits(pos, std::uint64_t{*count} * each)) {
        truncated(start);
        break;
      }
      pos += std::uint64_t{*count} * each;
    } else if (id == kRecStrings) {
      // The string table's 16-bit size counts the size field itself.
      if (*count < 2 || !t.fits(pos, *count - 2u)) {
        truncated(start);
        break;
      }
      pos += *count - 2u;
    } else if (id == kRecNames) {
      bool ok = true;
      for (std::uint32_t i = 0; i < *count; ++i) {
        const auto name_id = t.u16(pos);
        const auto len = t.u8(pos + 2);
        const auto text = len ? t.sub(pos + 3, *len) : std::nullopt;
        if (!name_id || !text || !t.fits(pos + 3 + *len, 1)) {
          ok = false;
          break;
        }
        pos += 3 + std::uint64_t{*len} + 1;  // id, length, characters, NUL
        if (names.size() >= limits::max_names) {
          flag_first(p, Anomaly::names_truncated_by_limit, names.size());
          continue;
        }
        names.push_back({*name_id, std::string(chars(*text))});
      }
      if (!ok) {
        truncated(start);
        break;
      }
    } else {
      flag_first(p, Anomaly::table_unknown_record, id);
      break;
    }
  }
  if (!terminated && !p.has(Anomaly::table_record_truncated) && !p.has(Anomaly::table_unknown_record) &&
      !p.has(Anomaly::table_records_truncated_by_limit))
    flag_first(p, Anomaly::table_unterminated, pos);

  std::size_t total_text = 0;
  for (std::size_t i = 0; i < descriptors.size(); ++i) {
    const Descriptor& d = descriptors[i];
    Macro m;
    m.key = d.key;
    m.offset = d.offset;
    m.size = d.size;
    for (const Name& n : names)
      if (n.id == d.name_id) {
        m.name = n.text;
        break;
      }
    if (m.name.empty()) flag_first(p, Anomaly::macro_name_missing, i);
    const auto body = w.sub(d.offset, d.size);
    if (!body) {
      flag_first(p, Anomaly::macro_body_out_of_range, i);
      p.macros.push_back(std::move(m));
      continue;
    }
    std::vector<std::uint8_t> plain(body->data(), body->data() + body->size());
    for (auto& b : plain) b ^= d.key;
    const std::size_t room = total_text >= limits::max_total_text ? 0 : limits::max_total_text - total_text;
    Detokenized text = detokenize(ByteView(plain.data(), plain.size()), std::min(room, limits::max_macro_text));
    if (text.truncated) flag_first(p, Anomaly::macro_body_truncated, i);
    if (text.capped) flag_first(p, Anomaly::macro_text_truncated_by_limit, i);
    total_text += text.text.size();
    m.text = std::move(text.text);
    m.tokens = text.tokens;
    m.builtin_calls = text.builtin_calls;
    m.unnamed_keywords = text.unnamed_keywords;
    p.macros.push_back(std::move(m));
  }
  return p;
}

}  // namespace mamori::vba::wordbasic
