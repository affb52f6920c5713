// BIFF8 / BIFF5 Workbook stream records ([MS-XLS] 2.3, 2.4): one forward pass over the records, substreams
// delimited by BOF/EOF and matched to their BOUNDSHEET8 entries by stream offset.
#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "common/anomalies.hpp"
#include "common/codepage.hpp"
#include "formats/ole2/ole2.hpp"
#include "formats/xls/xls.hpp"
#include "formats/xls/xls_internal.hpp"

namespace mamori::xls {

const char* anomaly_name(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::record_truncated: return "record_truncated";
    case Anomaly::records_truncated_by_limit: return "records_truncated_by_limit";
    case Anomaly::bof_missing: return "bof_missing";
    case Anomaly::bof_type_mismatch: return "bof_type_mismatch";
    case Anomaly::eof_missing: return "eof_missing";
    case Anomaly::sheets_truncated_by_limit: return "sheets_truncated_by_limit";
    case Anomaly::names_truncated_by_limit: return "names_truncated_by_limit";
    case Anomaly::formulas_truncated_by_limit: return "formulas_truncated_by_limit";
    case Anomaly::strings_truncated_by_limit: return "strings_truncated_by_limit";
    case Anomaly::sst_truncated: return "sst_truncated";
    case Anomaly::string_truncated: return "string_truncated";
    case Anomaly::formula_truncated: return "formula_truncated";
    case Anomaly::formula_unknown_token: return "formula_unknown_token";
    case Anomaly::formula_stack_underflow: return "formula_stack_underflow";
    case Anomaly::formula_stack_overflow: return "formula_stack_overflow";
    case Anomaly::formula_tokens_truncated_by_limit: return "formula_tokens_truncated_by_limit";
    case Anomaly::formula_unbalanced: return "formula_unbalanced";
    case Anomaly::formula_unknown_function: return "formula_unknown_function";
    case Anomaly::name_formula_in_cell_only: return "name_formula_in_cell_only";
    case Anomaly::sheet_name_invalid: return "sheet_name_invalid";
    case Anomaly::very_hidden_sheet: return "very_hidden_sheet";
    case Anomaly::macro_sheet_hidden: return "macro_sheet_hidden";
    case Anomaly::auto_open_name: return "auto_open_name";
    case Anomaly::auto_open_name_obfuscated: return "auto_open_name_obfuscated";
    case Anomaly::encrypted: return "encrypted";
    case Anomaly::encrypted_unknown_password: return "encrypted_unknown_password";
    case Anomaly::encryption_unsupported: return "encryption_unsupported";
    case Anomaly::biff_version_old: return "biff_version_old";
    case Anomaly::boundsheet_offset_invalid: return "boundsheet_offset_invalid";
    case Anomaly::continue_without_record: return "continue_without_record";
    case Anomaly::xml_malformed: return "xml_malformed";
    case Anomaly::xml_truncated_by_limit: return "xml_truncated_by_limit";
    case Anomaly::total_text_truncated_by_limit: return "total_text_truncated_by_limit";
    case Anomaly::kCount: break;
  }
  return "unknown";
}

const char* sheet_type_name(SheetType t) noexcept {
  switch (t) {
    case SheetType::worksheet: return "worksheet";
    case SheetType::macro_sheet: return "macro_sheet";
    case SheetType::chart: return "chart";
    case SheetType::vba_module: return "vba_module";
    case SheetType::dialog: return "dialog";
    case SheetType::unknown: break;
  }
  return "unknown";
}

const char* visibility_name(Visibility v) noexcept {
  switch (v) {
    case Visibility::visible: return "visible";
    case Visibility::hidden: return "hidden";
    case Visibility::very_hidden: return "very_hidden";
  }
  return "unknown";
}

const char* encryption_name(Encryption e) noexcept {
  switch (e) {
    case Encryption::none: return "none";
    case Encryption::xor_obfuscation: return "xor";
    case Encryption::rc4: return "rc4";
    case Encryption::rc4_cryptoapi: return "rc4_cryptoapi";
    case Encryption::unknown: break;
  }
  return "unknown";
}

const char* builtin_name(BuiltinName b) noexcept {
  switch (b) {
    case BuiltinName::consolidate_area: return "Consolidate_Area";
    case BuiltinName::auto_open: return "Auto_Open";
    case BuiltinName::auto_close: return "Auto_Close";
    case BuiltinName::extract: return "Extract";
    case BuiltinName::database: return "Database";
    case BuiltinName::criteria: return "Criteria";
    case BuiltinName::print_area: return "Print_Area";
    case BuiltinName::print_titles: return "Print_Titles";
    case BuiltinName::recorder: return "Recorder";
    case BuiltinName::data_form: return "Data_Form";
    case BuiltinName::auto_activate: return "Auto_Activate";
    case BuiltinName::auto_deactivate: return "Auto_Deactivate";
    case BuiltinName::sheet_title: return "Sheet_Title";
    case BuiltinName::filter_database: return "_FilterDatabase";
    case BuiltinName::none: break;
  }
  return "";
}

// Per-formula anomalies repeat: each one listed until the list is full.
void Workbook::add(Anomaly a, std::uint64_t detail) { flag_each(*this, a, detail); }

namespace {

constexpr std::uint16_t kBof = 0x0809, kEof = 0x000A, kBoundSheet = 0x0085, kName = 0x0018, kFormula = 0x0006,
                        kString = 0x0207, kLabel = 0x0204, kLabelSst = 0x00FD, kSst = 0x00FC, kContinue = 0x003C,
                        kFilePass = 0x002F, kExternSheet = 0x0017, kSupBook = 0x01AE, kExternName = 0x0023;

std::string latin1(ByteView v) {
  return codepage_to_utf8(std::string_view(reinterpret_cast<const char*>(v.data()), v.size()), 28591);
}
std::string ansi(ByteView v) {
  return codepage_to_utf8(std::string_view(reinterpret_cast<const char*>(v.data()), v.size()), 1252);
}

// Characters of a BIFF8 string body: `cch` characters, 8-bit (Latin-1 low bytes) or UTF-16LE. Returns the bytes
// consumed; `truncated` when fewer were available.
std::uint64_t read_chars(ByteView rec, std::uint64_t off, std::uint32_t cch, bool wide, std::string& out,
                         bool& truncated) {
  const std::uint64_t want = std::uint64_t{cch} * (wide ? 2 : 1);
  const ByteView v = rec.clamp(off, want);
  truncated = v.size() < want;
  const std::uint64_t keep = std::min<std::uint64_t>(v.size(), std::uint64_t{limits::max_string_chars} * (wide ? 2 : 1));
  out = wide ? utf16le_to_utf8(v.clamp(0, keep), static_cast<std::size_t>(keep / 2)) : latin1(v.clamp(0, keep));
  return v.size();
}

// SST strings may cross CONTINUE records: the character run then resumes with a fresh high-byte flag.
class ContReader {
 public:
  explicit ContReader(std::vector<ByteView> frags) : frags_(std::move(frags)) {}
  bool at_end() const { return frag_ >= frags_.size(); }
  bool read(std::uint8_t* out, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) {
      normalize();
      if (at_end()) return false;
      out[k] = frags_[frag_].data()[pos_++];
    }
    return true;
  }
  bool skip(std::uint64_t n) {
    while (n > 0) {
      normalize();
      if (at_end()) return false;
      const std::uint64_t avail = frags_[frag_].size() - pos_;
      const std::uint64_t t = std::min(avail, n);
      pos_ += t;
      n -= t;
    }
    return true;
  }
  bool chars(std::uint32_t cch, bool wide, std::string& out) {
    std::uint32_t left = cch;
    while (left > 0) {
      if (frag_ >= frags_.size()) return false;
      if (pos_ >= cur_size()) {
        // The run goes on in the next CONTINUE, whose first byte is the high-byte flag for the rest of it.
        ++frag_;
        pos_ = 0;
        if (frag_ >= frags_.size()) return false;
        wide = frags_[frag_].u8(0).value_or(0) & 1u;
        pos_ = 1;
        continue;
      }
      const std::uint64_t unit = wide ? 2 : 1;
      const std::uint64_t avail = (cur_size() - pos_) / unit;
      if (avail == 0) {  // an odd byte where a UTF-16 unit was expected
        pos_ = cur_size();
        continue;
      }
      const std::uint32_t t = static_cast<std::uint32_t>(std::min<std::uint64_t>(avail, left));
      const ByteView v = frags_[frag_].clamp(pos_, std::uint64_t{t} * unit);
      if (out.size() < limits::max_string_chars) out += wide ? utf16le_to_utf8(v, t) : latin1(v);
      pos_ += v.size();
      left -= t;
    }
    if (out.size() > limits::max_string_chars) out.resize(limits::max_string_chars);
    return true;
  }

 private:
  std::uint64_t cur_size() const { return frag_ < frags_.size() ? frags_[frag_].size() : 0; }
  void normalize() {
    while (frag_ < frags_.size() && pos_ >= frags_[frag_].size()) {
      ++frag_;
      pos_ = 0;
    }
  }
  std::vector<ByteView> frags_;
  std::size_t frag_ = 0;
  std::uint64_t pos_ = 0;
};

void parse_sst(std::vector<ByteView> frags, Workbook& wb) {
  if (frags.empty()) return;
  const std::uint32_t unique = frags[0].le_or<std::uint32_t>(4, 0);
  frags[0] = frags[0].from(8);
  ContReader r(std::move(frags));
  const std::uint32_t n = std::min(unique, limits::max_sst_strings);
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint8_t hdr[3];
    if (!r.read(hdr, 3)) {
      wb.add(Anomaly::sst_truncated, i);
      return;
    }
    const std::uint32_t cch = static_cast<std::uint32_t>(hdr[0] | (hdr[1] << 8));
    const std::uint8_t flags = hdr[2];
    std::uint16_t runs = 0;
    std::uint32_t ext = 0;
    std::uint8_t tmp[4];
    if (flags & 0x08) {
      if (!r.read(tmp, 2)) break;
      runs = static_cast<std::uint16_t>(tmp[0] | (tmp[1] << 8));
    }
    if (flags & 0x04) {
      if (!r.read(tmp, 4)) break;
      ext = static_cast<std::uint32_t>(tmp[0] | (tmp[1] << 8) | (tmp[2] << 16) | (static_cast<std::uint32_t>(tmp[3]) << 24));
    }
    std::string s;
    const bool ok = r.chars(cch, flags & 1u, s);
    wb.sst.push_back(std::move(s));
    if (!ok || !r.skip(std::uint64_t{runs} * 4) || !r.skip(ext)) {
      wb.add(Anomaly::sst_truncated, i);
      return;
    }
  }
  if (unique > limits::max_sst_strings) wb.add(Anomaly::strings_truncated_by_limit, unique);
}

struct PendingName {
  std::vector<std::uint8_t> rgce;
};

class Parser {
 public:
  Parser(ByteView stream, std::span<const std::string> passwords) : in_(stream), passwords_(passwords) {}

  Result<Workbook> run() {
    if (in_.le_or<std::uint16_t>(0, 0) != kBof || in_.le_or<std::uint16_t>(2, 0) < 4)
      return make_error(ErrorCode::not_this_format, "no BIFF BOF record at the start of the stream");
    wb_.biff_version = in_.le_or<std::uint16_t>(4, 0);
    biff5_ = wb_.biff_version < 0x0600;
    if (biff5_) wb_.add(Anomaly::biff_version_old, wb_.biff_version);
    walk();
    finish_names();
    finalize(wb_);
    return std::move(wb_);
  }

 private:
  void walk() {
    std::uint64_t pos = 0;
    int substream = -2;          // -2: none open, -1: globals, >= 0: sheet index
    std::uint32_t next_sheet = 0;
    FormulaCell* want_string = nullptr;
    std::vector<ByteView> sst_frags;
    bool in_sst = false;
    std::uint16_t prev_type = 0;
    for (std::uint32_t n = 0;; ++n) {
      if (!in_.fits(pos, 4)) {
        if (pos < in_.size() && in_.size() - pos >= 1 && !padding(pos)) wb_.add(Anomaly::record_truncated, pos);
        break;
      }
      if (n >= limits::max_records) {
        wb_.add(Anomaly::records_truncated_by_limit, n);
        break;
      }
      const std::uint16_t type = in_.le_or<std::uint16_t>(pos, 0);
      const std::uint16_t size = in_.le_or<std::uint16_t>(pos + 2, 0);
      if (type == 0 && size == 0 && padding(pos)) break;  // zero fill at the end of the stream
      ByteView body;
      if (!in_.fits(pos + 4, size)) {
        wb_.add(Anomaly::record_truncated, pos);
        body = in_.from(pos + 4);
      } else {
        body = in_.sub(pos + 4, size).value_or(ByteView{});
      }
      ++wb_.counts.records;
      if (in_sst && type != kContinue) {
        parse_sst(std::move(sst_frags), wb_);
        sst_frags.clear();
        in_sst = false;
      }
      // SHRFMLA and ARRAY may sit between a FORMULA and its STRING.
      if (type != kString && type != kContinue && type != kFormula && type != 0x04BC && type != 0x0221)
        want_string = nullptr;
      switch (type) {
        case kBof: {
          if (substream != -2 && prev_type != 0) wb_.add(Anomaly::eof_missing, pos);
          const std::uint16_t dt = body.le_or<std::uint16_t>(2, 0);
          if (pos == 0 || dt == 0x0005) {
            substream = -1;
          } else {
            int idx = -1;
            for (std::size_t k = 0; k < wb_.sheets.size(); ++k)
              if (wb_.sheets[k].bof_offset == pos) idx = static_cast<int>(k);
            if (idx < 0) {
              while (next_sheet < wb_.sheets.size() && wb_.sheets[next_sheet].bof_found) ++next_sheet;
              if (next_sheet < wb_.sheets.size()) idx = static_cast<int>(next_sheet);
            }
            substream = idx;
            if (idx >= 0) bof_found(static_cast<std::size_t>(idx), dt);
          }
          break;
        }
        case kEof:
          substream = -2;
          break;
        case kBoundSheet:
          boundsheet(body);
          break;
        case kName:
          name(body);
          break;
        case kExternSheet:
          externsheet(body);
          break;
        case kSupBook: {
          const std::uint16_t cch = body.le_or<std::uint16_t>(2, 0);
          supbook_self_.push_back(cch == 0x0401);
          supbook_names_.emplace_back();
          break;
        }
        case kExternName:
          externname(body);
          break;
        case kFilePass:
          if (!filepass(body, pos + 4 + size)) return;
          break;
        case kSst:
          in_sst = true;
          sst_frags.push_back(body);
          break;
        case kContinue:
          if (in_sst) sst_frags.push_back(body);
          else if (prev_type == 0) wb_.add(Anomaly::continue_without_record, pos);
          break;
        case kFormula:
          want_string = formula(body, substream);
          break;
        case kString:
          if (want_string != nullptr) {
            want_string->cached = xl_string(body, 0, type);
            add_string(static_cast<std::uint32_t>(want_string->sheet), want_string->row, want_string->col,
                       want_string->cached);
          }
          want_string = nullptr;
          break;
        case kLabel: {
          const std::uint16_t rw = body.le_or<std::uint16_t>(0, 0), col = body.le_or<std::uint16_t>(2, 0);
          add_string(sheet_of(substream), rw, col, xl_string(body, 6, type));
          break;
        }
        case kLabelSst: {
          const std::uint16_t rw = body.le_or<std::uint16_t>(0, 0), col = body.le_or<std::uint16_t>(2, 0);
          const std::uint32_t isst = body.le_or<std::uint32_t>(6, 0xFFFFFFFFu);
          if (isst < wb_.sst.size()) add_string(sheet_of(substream), rw, col, wb_.sst[isst]);
          break;
        }
        default:
          break;
      }
      prev_type = type;
      pos += 4 + std::uint64_t{size};
    }
    if (in_sst) parse_sst(std::move(sst_frags), wb_);
    if (substream != -2) wb_.add(Anomaly::eof_missing, in_.size());
  }

  // Trailing zeros after the last EOF are sector padding, not a broken record.
  bool padding(std::uint64_t pos) const {
    const ByteView rest = in_.from(pos);
    for (std::uint64_t k = 0; k < rest.size(); ++k)
      if (rest.data()[k] != 0) return false;
    return true;
  }

  std::uint32_t sheet_of(int substream) const { return substream >= 0 ? static_cast<std::uint32_t>(substream) : 0xFFFFFFFFu; }

  void bof_found(std::size_t idx, std::uint16_t dt) {
    Sheet& s = wb_.sheets[idx];
    s.bof_found = true;
    s.bof_dt = dt;
    SheetType t = s.type;
    if (dt == 0x0040) t = SheetType::macro_sheet;
    else if (dt == 0x0020) t = SheetType::chart;
    else if (dt == 0x0006) t = SheetType::vba_module;
    if (t != s.type) {
      wb_.add(Anomaly::bof_type_mismatch, idx);
      s.type = t;
    }
  }

  void boundsheet(ByteView body) {
    if (wb_.sheets.size() >= limits::max_sheets) {
      wb_.add(Anomaly::sheets_truncated_by_limit, wb_.sheets.size());
      return;
    }
    Sheet s;
    s.bof_offset = body.le_or<std::uint32_t>(0, 0);
    s.visibility = static_cast<Visibility>(std::min<std::uint8_t>(body.le_or<std::uint8_t>(4, 0) & 3u, 2));
    const std::uint8_t dt = body.le_or<std::uint8_t>(5, 0);
    s.type = dt == 0 ? SheetType::worksheet : dt == 1 ? SheetType::macro_sheet : dt == 2 ? SheetType::chart
             : dt == 6 ? SheetType::vba_module : SheetType::unknown;
    const std::uint8_t cch = body.le_or<std::uint8_t>(6, 0);
    bool trunc = false;
    if (biff5_) {
      const ByteView v = body.clamp(7, cch);
      trunc = v.size() < cch;
      s.name = ansi(v);
    } else {
      read_chars(body, 8, cch, body.le_or<std::uint8_t>(7, 0) & 1u, s.name, trunc);
    }
    if (trunc) wb_.add(Anomaly::string_truncated, kBoundSheet);
    if (s.name.empty() || cch > 31) wb_.add(Anomaly::sheet_name_invalid, wb_.sheets.size());
    if (s.bof_offset >= in_.size() || s.bof_offset == 0) wb_.add(Anomaly::boundsheet_offset_invalid, wb_.sheets.size());
    else if (in_.le_or<std::uint16_t>(s.bof_offset, 0) != kBof) wb_.add(Anomaly::bof_missing, wb_.sheets.size());
    wb_.sheets.push_back(std::move(s));
  }

  void name(ByteView body) {
    if (wb_.names.size() >= limits::max_names) {
      wb_.add(Anomaly::names_truncated_by_limit, wb_.names.size());
      return;
    }
    DefinedName d;
    const std::uint16_t flags = body.le_or<std::uint16_t>(0, 0);
    const std::uint8_t cch = body.le_or<std::uint8_t>(3, 0);
    const std::uint16_t cce = body.le_or<std::uint16_t>(4, 0);
    d.sheet = body.le_or<std::uint16_t>(8, 0);
    d.hidden = flags & 0x0001u;
    d.is_function = flags & 0x0002u;
    d.is_command = flags & 0x0008u;
    const bool builtin = flags & 0x0020u;
    std::uint64_t off = 14;
    std::string raw;
    bool trunc = false;
    if (biff5_) {
      const ByteView v = body.clamp(off, cch);
      trunc = v.size() < cch;
      raw = ansi(v);
      off += cch;
    } else {
      const bool wide = body.le_or<std::uint8_t>(off, 0) & 1u;
      off += 1 + read_chars(body, off + 1, cch, wide, raw, trunc);
    }
    if (trunc) wb_.add(Anomaly::string_truncated, kName);
    if (builtin && !raw.empty()) {
      const auto code = static_cast<std::uint8_t>(raw[0]);
      if (code <= 0x0D) {
        d.builtin = static_cast<BuiltinName>(code);
        d.name = builtin_name(d.builtin);
        if (raw.size() > 1) d.name += raw.substr(1);  // a built-in code followed by more characters
      } else {
        d.name = raw;
      }
    } else {
      d.name = raw;
    }
    wb_.names.push_back(std::move(d));
    const ByteView f = body.clamp(off, cce);
    if (f.size() < cce) wb_.add(Anomaly::formula_truncated, kName);
    pending_names_.push_back({std::vector<std::uint8_t>(f.data(), f.data() + f.size())});
  }

  void externsheet(ByteView body) {
    if (biff5_) return;
    const std::uint16_t n = body.le_or<std::uint16_t>(0, 0);
    for (std::uint32_t k = 0; k < n && body.fits(2 + std::uint64_t{k} * 6, 6); ++k) {
      const std::uint16_t sb = body.le_or<std::uint16_t>(2 + std::uint64_t{k} * 6, 0);
      const std::uint16_t first = body.le_or<std::uint16_t>(4 + std::uint64_t{k} * 6, 0);
      xti_supbook_.push_back(sb);
      const bool self = sb < supbook_self_.size() && supbook_self_[sb];
      xti_first_.push_back(self ? first : 0xFFFF);
    }
  }

  void externname(ByteView body) {
    if (supbook_names_.empty() || biff5_) return;
    const std::uint8_t cch = body.le_or<std::uint8_t>(6, 0);
    const bool wide = body.le_or<std::uint8_t>(7, 0) & 1u;
    std::string s;
    bool trunc = false;
    read_chars(body, 8, cch, wide, s, trunc);
    if (supbook_names_.back().size() < limits::max_names) supbook_names_.back().push_back(std::move(s));
  }

  bool filepass(ByteView body, std::uint64_t end) {
    wb_.add(Anomaly::encrypted, 0);
    const auto fp = parse_filepass(body);
    if (!fp) {
      wb_.encryption.method = Encryption::unknown;
      wb_.add(Anomaly::encryption_unsupported, 0);
      return false;
    }
    wb_.encryption.method = fp->method;
    wb_.encryption.version_major = fp->major;
    wb_.encryption.version_minor = fp->minor;
    wb_.encryption.key_bits = fp->method == Encryption::rc4 || fp->method == Encryption::rc4_cryptoapi ? fp->key_bits : 0;
    if (fp->method != Encryption::rc4 && fp->method != Encryption::rc4_cryptoapi) {
      wb_.add(Anomaly::encryption_unsupported, static_cast<std::uint64_t>(fp->method));
      return false;
    }
    // The default password first, then the caller's (at most limits::max_passwords; RC4 checks are cheap).
    std::u16string password(kDefaultPassword);
    std::string password_utf8 = "VelvetSweatshop";
    bool opened = !decrypted_ && check_password(*fp, password);
    for (std::size_t k = 0; !opened && !decrypted_ && k < passwords_.size() && k < limits::max_passwords; ++k) {
      if (passwords_[k].empty() || passwords_[k].size() > 255) continue;
      password = utf8_to_utf16(passwords_[k]);
      password_utf8 = passwords_[k];
      opened = check_password(*fp, password);
    }
    if (!opened) {
      wb_.add(Anomaly::encrypted_unknown_password, 0);
      return false;
    }
    if (in_.size() > limits::max_decrypt_size) {
      wb_.add(Anomaly::encryption_unsupported, in_.size());
      return false;
    }
    // Decrypt a copy and go on reading it from the same offset.
    plain_.assign(in_.data(), in_.data() + in_.size());
    rc4_crypt_stream(plain_, end, *fp, password);
    in_ = ByteView(plain_.data(), plain_.size());
    decrypted_ = true;
    wb_.encryption.decrypted = true;
    wb_.encryption.password = password_utf8;
    return true;
  }

  FormulaContext context(std::uint32_t row, std::uint32_t col) {
    sheet_names_.resize(wb_.sheets.size());
    for (std::size_t k = 0; k < wb_.sheets.size(); ++k) sheet_names_[k] = wb_.sheets[k].name;
    if (name_names_.size() != wb_.names.size()) {
      name_names_.resize(wb_.names.size());
      for (std::size_t k = 0; k < wb_.names.size(); ++k) name_names_[k] = wb_.names[k].name;
      for (std::size_t k = 0; k < supbook_self_.size(); ++k)
        if (supbook_self_[k]) supbook_names_[k] = name_names_;
    }
    FormulaContext c;
    c.sheet_names = sheet_names_;
    c.name_names = name_names_;
    c.xti_first_sheet = xti_first_;
    c.xti_supbook = xti_supbook_;
    c.supbook_names = supbook_names_;
    c.base_row = row;
    c.base_col = col;
    c.biff5 = biff5_;
    return c;
  }

  FormulaCell* formula(ByteView body, int substream) {
    if (wb_.formulas.size() >= limits::max_formulas) {
      if (wb_.formulas.size() == limits::max_formulas) wb_.add(Anomaly::formulas_truncated_by_limit, 0);
      ++wb_.counts.formulas;
      return nullptr;
    }
    FormulaCell c;
    c.sheet = sheet_of(substream);
    c.row = body.le_or<std::uint16_t>(0, 0);
    c.col = body.le_or<std::uint16_t>(2, 0);
    const std::uint16_t cce = body.le_or<std::uint16_t>(20, 0);
    const ByteView rgce = body.clamp(22, cce);
    if (!body.fits(20, 2) || rgce.size() < cce) wb_.add(Anomaly::formula_truncated, kFormula);
    DecodedFormula d = decode_formula(rgce, context(c.row, c.col));
    absorb_formula(wb_, d);
    c.text = "=" + d.text;
    c.functions = std::move(d.functions);
    c.folded = std::move(d.folded);
    c.complete = d.complete;
    budget(c.text);
    wb_.formulas.push_back(std::move(c));
    const bool string_result = body.le_or<std::uint16_t>(12, 0) == 0xFFFF && body.le_or<std::uint8_t>(6, 0xFF) == 0;
    return string_result ? &wb_.formulas.back() : nullptr;
  }

  void budget(std::string& text) {
    total_text_ += text.size();
    if (total_text_ > limits::max_total_text) {
      if (!wb_.has(Anomaly::total_text_truncated_by_limit)) wb_.add(Anomaly::total_text_truncated_by_limit, 0);
      text.clear();
    }
  }

  std::string xl_string(ByteView body, std::uint64_t off, std::uint16_t type) {
    const std::uint16_t cch = body.le_or<std::uint16_t>(off, 0);
    std::string s;
    bool trunc = false;
    if (biff5_) {
      const ByteView v = body.clamp(off + 2, cch);
      trunc = v.size() < cch;
      s = ansi(v);
    } else {
      read_chars(body, off + 3, cch, body.le_or<std::uint8_t>(off + 2, 0) & 1u, s, trunc);
    }
    if (trunc) wb_.add(Anomaly::string_truncated, type);
    return s;
  }

  void add_string(std::uint32_t sheet, std::uint32_t row, std::uint32_t col, std::string text) {
    ++wb_.counts.string_cells;
    if (wb_.strings.size() >= limits::max_string_cells) {
      if (wb_.strings.size() == limits::max_string_cells) wb_.add(Anomaly::strings_truncated_by_limit, 0);
      return;
    }
    budget(text);
    wb_.strings.push_back({sheet, row, col, std::move(text)});
  }

  void finish_names() {
    for (std::size_t k = 0; k < wb_.names.size() && k < pending_names_.size(); ++k) {
      const auto& raw = pending_names_[k].rgce;
      if (raw.empty()) continue;
      DecodedFormula d = decode_formula(ByteView(raw.data(), raw.size()), context(0, 0));
      absorb_formula(wb_, d);
      wb_.names[k].formula = std::move(d.text);
      for (auto f : d.functions) ++wb_.function_counts[f];
    }
  }

  ByteView in_;
  bool biff5_ = false;
  bool decrypted_ = false;
  std::vector<std::uint8_t> plain_;
  std::span<const std::string> passwords_;
  Workbook wb_;
  std::vector<PendingName> pending_names_;
  std::vector<std::string> sheet_names_, name_names_;
  std::vector<std::uint16_t> xti_first_, xti_supbook_;
  std::vector<bool> supbook_self_;
  std::vector<std::vector<std::string>> supbook_names_;
  std::uint64_t total_text_ = 0;
};

// `needle` is lower-case ASCII. Every string of a workbook is searched for a dozen needles: a position is compared
// only where the needle's first character stands, in either case, and case is folded for ASCII only (no bytes above
// 0x7F ever equal an ASCII needle character, whatever the locale).
bool icontains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  if (needle.empty()) return true;
  auto fold = [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; };
  const char first = needle[0];
  const char first_up = first >= 'a' && first <= 'z' ? static_cast<char>(first - 'a' + 'A') : first;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (hay[i] != first && hay[i] != first_up) continue;
    std::size_t k = 1;
    while (k < needle.size() && fold(hay[i + k]) == needle[k]) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

bool istarts(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t k = 0; k < prefix.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(s[k])) != static_cast<unsigned char>(prefix[k])) return false;
  return true;
}

void scan_text(std::string_view s, Counts& c) {
  if (icontains(s, "urldownloadtofile")) ++c.url_download;
  static constexpr std::string_view kShell[] = {"cmd.exe", "cmd /c", "powershell", "mshta", "rundll32", "regsvr32",
                                                "wscript", "cscript", "certutil", "bitsadmin", "shell32"};
  for (auto k : kShell) {
    if (icontains(s, k)) {
      ++c.shell_strings;
      break;
    }
  }
}

}  // namespace

void absorb_formula(Workbook& wb, const DecodedFormula& d) {
  for (const auto& a : d.anomalies) {
    wb.add(a.code, a.detail);
    if (a.code == Anomaly::formula_unknown_token) ++wb.counts.unknown_tokens;
  }
  wb.counts.tokens += d.tokens;
  wb.counts.char_calls += d.char_calls;
  wb.counts.concat_ops += d.concat_ops;
  wb.counts.string_literals += d.string_literals;
  wb.counts.sheet_refs += d.sheet_refs;
}

// Counts shared by the BIFF and OOXML paths, computed from the filled model.
void finalize(Workbook& wb) {
  Counts& c = wb.counts;
  c.sheets = static_cast<std::uint32_t>(wb.sheets.size());
  for (std::size_t k = 0; k < wb.sheets.size(); ++k) {
    const Sheet& s = wb.sheets[k];
    if (s.type == SheetType::macro_sheet) {
      ++c.macro_sheets;
      if (s.visibility != Visibility::visible) wb.add(Anomaly::macro_sheet_hidden, k);
    }
    if (s.visibility == Visibility::hidden) ++c.hidden_sheets;
    if (s.visibility == Visibility::very_hidden) {
      ++c.very_hidden_sheets;
      wb.add(Anomaly::very_hidden_sheet, k);
    }
  }
  c.names = static_cast<std::uint32_t>(wb.names.size());
  for (std::size_t k = 0; k < wb.names.size(); ++k) {
    DefinedName& d = wb.names[k];
    const bool builtin_open = d.builtin == BuiltinName::auto_open || d.builtin == BuiltinName::auto_activate;
    const bool named_open = istarts(d.name, "auto_open") || istarts(d.name, "auto_activate") ||
                            istarts(d.name, "_xlnm.auto_open") || istarts(d.name, "_xlnm.auto_activate");
    if (builtin_open || named_open) {
      d.auto_open = true;
      ++c.auto_open_names;
      wb.add(Anomaly::auto_open_name, k);
      if (!builtin_open && d.name != "Auto_Open" && d.name != "_xlnm.Auto_Open" && d.name != "Auto_Activate" &&
          d.name != "_xlnm.Auto_Activate")
        wb.add(Anomaly::auto_open_name_obfuscated, k);
    }
    if (d.builtin == BuiltinName::auto_close || d.builtin == BuiltinName::auto_deactivate ||
        istarts(d.name, "auto_close") || istarts(d.name, "_xlnm.auto_close")) {
      d.auto_close = true;
      ++c.auto_close_names;
    }
    if (d.hidden) ++c.hidden_names;
    scan_text(d.formula, c);
  }
  if (wb.formulas.size() > c.formulas) c.formulas = static_cast<std::uint32_t>(wb.formulas.size());
  for (const auto& f : wb.formulas) {
    if (f.sheet < wb.sheets.size() && wb.sheets[f.sheet].type == SheetType::macro_sheet) ++c.macro_formulas;
    for (auto fn : f.functions) ++wb.function_counts[fn];
    scan_text(f.text, c);
    for (const auto& s : f.folded) scan_text(s, c);
  }
  for (const auto& s : wb.strings) scan_text(s.text, c);
  c.sst_strings = static_cast<std::uint32_t>(wb.sst.size());
  auto count = [&](std::uint16_t fn) -> std::uint32_t {
    const auto it = wb.function_counts.find(fn);
    return it == wb.function_counts.end() ? 0 : it->second;
  };
  c.exec = count(110);
  c.call = count(150);
  c.register_ = count(149) + count(267);
  c.run = count(0x8011);
  c.formula_cmds = count(0x8060) + count(0x8062);
  c.formula_fill = count(0x8061);
  c.halt = count(54);
  c.goto_ = count(53);
  c.file_io = count(132) + count(137) + count(138) + count(135) + count(136);
  c.get_workspace = count(186) + count(188) + count(187);
  c.alert = count(0x8076);
  c.set_value = count(108) + count(88);
  c.evaluate = count(257);
}

Result<Workbook> parse_workbook_stream(ByteView stream) { return Parser(stream, {}).run(); }

Result<Workbook> parse_workbook_stream(ByteView stream, std::span<const std::string> passwords) {
  return Parser(stream, passwords).run();
}

Result<Workbook> parse_ole2(const ole2::File& file) {
  for (const char* path : {"Workbook", "Book", "WORKBOOK", "BOOK"}) {
    const auto* e = file.find(path);
    if (e == nullptr || !e->is_stream()) continue;
    const auto data = file.read_stream(*e);
    return parse_workbook_stream(ByteView(data.bytes.data(), data.bytes.size()));
  }
  return make_error(ErrorCode::not_this_format, "no Workbook stream");
}

}  // namespace mamori::xls
