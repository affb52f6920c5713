// OLE2 documents: compound-file structure and SummaryInformation, VBA projects, Excel BIFF8 macro sheets, embedded
// objects (Ole10Native packages, Package streams, streams holding other files) and encrypted packages.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <set>

#include "analysis/iocs.hpp"
#include "common/codepage.hpp"
#include "features/office_internal.hpp"
#include "formats/rtf/rtf.hpp"
#include "formats/vba/vba.hpp"
#include "formats/vba/wordbasic.hpp"
#include "formats/xls/xls.hpp"

namespace mamori::features::office {

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool starts_with(const std::vector<std::uint8_t>& b, std::string_view m) {
  return b.size() >= m.size() && std::memcmp(b.data(), m.data(), m.size()) == 0;
}

std::string join(std::string_view prefix, std::string_view path) {
  if (prefix.empty()) return std::string(path);
  return std::string(prefix) + "/" + std::string(path);
}

// Printable form of a stream name: the control characters that prefix OLE names (\x01Ole10Native) shown as digits.
std::string printable(std::string_view s) {
  std::string o;
  for (unsigned char c : s) o += c < 0x20 ? static_cast<char>('0' + (c % 10)) : static_cast<char>(c);
  return o;
}

// The Ole10Native ("packager") stream: total size, then label, source path, two words, temp path, payload size and
// payload. Returns the payload, or the whole stream after the size when the layout does not hold.
std::vector<std::uint8_t> ole10native_payload(const std::vector<std::uint8_t>& s, Acc& a) {
  ByteView v(s.data(), s.size());
  std::uint64_t off = 4;
  auto skip_cstr = [&]() -> bool {
    auto str = v.cstr(off, 4096);
    if (!str) return false;
    off += str->size() + 1;
    return true;
  };
  bool ok = v.fits(0, 6);
  if (ok) {
    off = 6;
    ok = skip_cstr() && skip_cstr();
  }
  if (ok) {
    off += 8;
    ok = skip_cstr();
  }
  if (ok) {
    auto n = v.u32(off);
    if (n && v.fits(off + 4, *n)) {
      auto p = v.sub(off + 4, *n);
      return {p->data(), p->data() + p->size()};
    }
  }
  a.anomaly("ole10native_malformed");
  auto rest = v.from(4);
  return {rest.data(), rest.data() + rest.size()};
}

// Printable ASCII runs of at least 4 bytes, one a line: what is left to read of code kept only as p-code (Excel 5
// VBA, stomped modules). Identifiers and string constants survive compilation, so the keyword counts still work.
std::string printable_runs(const std::vector<std::uint8_t>& b) {
  std::string out, run;
  for (std::uint8_t c : b) {
    if (c >= 0x20 && c < 0x7F) {
      run.push_back(static_cast<char>(c));
      continue;
    }
    if (run.size() >= 4) out += run + "\n";
    run.clear();
  }
  if (run.size() >= 4) out += run + "\n";
  return out;
}

// Equation Editor 3.0 (EQNEDT32.EXE) objects, the CVE-2017-11882 / CVE-2018-0802 family. A real equation is a storage
// of class Equation.3 holding an "Equation Native" stream of MTEF records. Exploits overflow the face name of an MTEF
// FONT record, which Windows caps at 32 characters (LF_FACESIZE), or put their data in the \x01Ole10Native stream of
// such a storage, which the editor also reads. Word's conversions of old OLE1 equations keep one there too, but of a
// few dozen bytes and named as Office names it (three Apache POI test files: 40 bytes each); the 2020-2023
// workbooks carry kilobytes to megabytes under a name in random case.
constexpr std::size_t kFaceNameMax = 32;
constexpr std::uint64_t kEquationNativeExploitMin = 1024;

// The MTEF v2/v3 records the editor parses first: a FONT record (tag 8 in the low nibble: tag, typeface, style, then
// a NUL-terminated face name) within the first few records whose name is longer than any font can have.
bool overlong_mtef_font(ByteView s) {
  const std::uint16_t hdr = s.le_or<std::uint16_t>(0, 0);  // EQNOLEFILEHDR.cbHdr, 0x1C in every real object
  if (hdr < 8 || hdr > 64) return false;
  const std::uint8_t version = s.le_or<std::uint8_t>(hdr, 0);
  if (version < 2 || version > 3) return false;  // v4/v5 have a longer header that EQNEDT32 does not read
  const std::uint64_t records = std::uint64_t{hdr} + 5;  // version, platform, product, product version, subversion
  for (std::uint64_t i = records; i < records + 16 && i + 3 < s.size(); ++i) {
    if ((s.le_or<std::uint8_t>(i, 0) & 0x0F) != 8) continue;
    const auto name = s.cstr(i + 3, 4096);
    if (!name || name->size() > kFaceNameMax) return true;  // unterminated counts: the copy runs on
  }
  return false;
}

// The persisted data of the Windows Common Controls (MSCOMCTL.OCX: TreeView, ListView, TabStrip...) opens with a
// "Cobj" block: the magic, a size, then the byte count the control copies into an 8-byte stack buffer. More than 8
// overruns it (CVE-2012-0158, the most used Office exploit of 2012-2015); Office writes 8.
bool mscomctl_cobj_overflow(ByteView s) {
  const std::uint8_t* b = s.data();
  const std::uint8_t* e = b + s.size();
  int seen = 0;
  for (const std::uint8_t* p = b; p + 12 <= e && seen < 64; ++p) {
    p = static_cast<const std::uint8_t*>(std::memchr(p, 'C', static_cast<std::size_t>(e - p)));
    if (p == nullptr || p + 12 > e) break;
    if (std::memcmp(p, "Cobj", 4) != 0) continue;
    ++seen;
    if (s.le_or<std::uint32_t>(static_cast<std::uint64_t>(p - b) + 8, 0) > 8) return true;
  }
  return false;
}

// The ActiveX controls' stream of a compound file ("Ctls" of a workbook, "\x03OCXDATA" / "contents" of an object).
bool control_stream(std::string_view name) {
  return iequal(name, "Ctls") || iequal(name, "\x03" "OCXDATA") || iequal(name, "contents");
}

// The FILEPASS record of a BIFF8 Workbook stream (within its first records), or nullopt.
std::optional<xls::FilePass> workbook_filepass(ByteView wb) {
  std::uint64_t pos = 0;
  for (int k = 0; k < 16 && wb.fits(pos, 4); ++k) {
    const std::uint16_t type = wb.le_or<std::uint16_t>(pos, 0), size = wb.le_or<std::uint16_t>(pos + 2, 0);
    if (type == 0x002F) return wb.fits(pos + 4, size) ? xls::parse_filepass(wb.clamp(pos + 4, size)) : std::nullopt;
    pos += 4ull + size;
  }
  return std::nullopt;
}

// Executables hidden in a Word, Excel or PowerPoint compound file outside any embedded object: the exploit documents
// of 2006-2010 (Trojan-Dropper.MSWord/MSPPoint/MSExcel, CVE-2006-3059...) carry their payload in clear in sectors
// no stream owns (free or unreachable), in the file's tail or inside the document's own streams at the root
// (WordDocument, Workbook, PowerPoint Document, Pictures...). Office packages a program only as an object, in a
// storage of its own (ObjectPool/_123, MBD0001, an OOXML oleObject), so a PE image anywhere else was put there by
// hand. `clear_pe` are the PE headers that the document's payload pass found in its bytes (Acc::file_clear_pe, the
// first payload_limits::max_clear_pe of them); returns the offset of the first one outside an object, or nullopt.
std::optional<std::uint64_t> executable_outside_objects(const ole2::File& f, const std::vector<std::uint64_t>& clear_pe) {
  const ByteView b = f.bytes;
  const std::uint64_t ss = f.sector_size;
  if (clear_pe.empty() || ss < 512 || b.size() <= ss) return std::nullopt;
  const std::uint64_t nsec = (b.size() - ss + ss - 1) / ss;
  // 0: no stream owns the sector (free, unreachable); 1: a document stream at the root; 2: anything else (an object
  // storage's stream, the mini stream, the directory, FAT/DIFAT and miniFAT sectors).
  std::vector<std::uint8_t> owner(nsec, 0);
  auto mark = [&](std::uint32_t start, std::uint8_t who) {
    for (std::uint64_t steps = 0; start < f.fat.size() && start < nsec && steps < nsec; ++steps) {
      if (owner[start] == who) break;  // a loop back into this chain
      owner[start] = std::max(owner[start], who);
      start = f.fat[start];
    }
  };
  for (std::uint64_t i = 0; i < f.fat.size() && i < nsec; ++i)
    if (f.fat[i] == ole2::kFatSect || f.fat[i] == ole2::kDifSect) owner[i] = 2;
  mark(f.header.first_dir_sector, 2);
  mark(f.header.first_minifat_sector, 2);
  for (const auto& e : f.entries) {
    if (!e.reachable) continue;
    if (e.type == ole2::EntryType::root) mark(e.start_sector, 2);
    else if (e.is_stream() && e.size >= f.header.mini_stream_cutoff) mark(e.start_sector, e.parent == 0 ? 1 : 2);
  }
  for (const std::uint64_t at : clear_pe) {
    const std::uint64_t sector = at / ss;  // sector n starts at (n + 1) * ss: 0 here is the header
    if (sector == 0 || sector > nsec || owner[sector - 1] < 2) return at;
  }
  return std::nullopt;
}

// Well-known stream names compared as the CFB specification does, case-insensitively; a name in another case than
// Office writes it only comes from tools that randomise case to slip past exact-match scanners.
constexpr std::string_view kCanonicalNames[] = {"\x01Ole10Native", "\x01CompObj", "\x01Ole", "Equation Native",
                                                "WordDocument", "Workbook", "PowerPoint Document", "Package"};
}  // namespace

namespace {
bool url_names_executable(std::string url) {
  for (auto& ch : url) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (auto q = url.find_first_of("?#"); q != std::string::npos) url.resize(q);
  for (const char* ext : {".exe", ".dll", ".scr", ".bat", ".cmd", ".ps1", ".hta", ".vbs", ".js", ".jar", ".msi"})
    if (url.size() > std::strlen(ext) && url.compare(url.size() - std::strlen(ext), std::string::npos, ext) == 0) return true;
  return false;
}

void add_evaluation(const analysis::Evaluation& ev, Acc& a, bool report = false) {
  EvalStats& e = a.eval;
  e.projects += 1;
  for (const auto& i : ev.iocs) {
    if (i.type == "url") {
      e.urls += 1;
      if (url_names_executable(i.value)) e.url_executables += 1;
    } else if (i.type == "ip") {
      e.ips += 1;
    } else if (i.type == "domain") {
      e.domains += 1;
    } else if (i.type == "command") {
      e.commands += 1;
    } else if (i.type == "path") {
      e.paths += 1;
    }
    if (i.where.find("powershell") != std::string::npos) e.powershell += 1;
  }
  e.decoded += static_cast<double>(ev.strings.size());
  for (const auto& d : ev.strings)
    if (d.where.find("powershell") != std::string::npos) e.powershell += 1;
  e.limits_hit += ev.limits_hit;
  if (report) analysis::merge_iocs(a.out->macro_iocs, ev.iocs);
}
}  // namespace

void analyze_vba_projects(const ole2::File& f, Acc& a, std::string_view prefix) {
  for (const auto& storage : vba::find_projects(f)) {
    auto p = vba::extract(f, storage);
    if (!p.ok()) continue;
    VbaStats& v = a.vba;
    v.projects += 1;
    if (a.depth == 0 && prefix.empty()) a.out->ole2_vba_projects += 1;
    v.references += static_cast<double>(p->references.size());
    v.vba_version = p->vba_version;
    v.sys_kind = p->sys_kind;
    v.code_page = p->code_page;
    v.project_lines += static_cast<double>(p->project_lines.size());
    for (const auto& [k, val] : p->project_lines)
      if (iequal(k, "DPB") && val.size() > 8) v.project_password = 1;
    for (const auto& rec : p->anomalies) {
      const auto bit = static_cast<std::size_t>(rec.code);
      if (v.anomaly_bits[bit] == 0) a.anomaly(std::string("vba.") + vba::anomaly_name(rec.code));
      v.anomaly_bits[bit] += 1;
    }
    for (const auto& m : p->modules) {
      v.modules += 1;
      if (m.type == vba::ModuleType::procedural) v.procedural += 1;
      else if (m.type == vba::ModuleType::document_or_class) v.doc_class += 1;
      if (!m.stream_found) v.missing_streams += 1;
      if (m.stomp_suspect) v.stomp_suspects += 1;
      if (!m.in_project_stream && p->project_stream_present) v.hidden_modules += 1;
      v.pcode_bytes += static_cast<double>(m.pcode_size);
      v.source_bytes += static_cast<double>(m.source.size());
      if (m.code_lines == 0) v.no_source_modules += 1;
      if (m.code_lines > 0) {
        a.out->has_macros = true;
        analyze_code(m.source, join(prefix, m.name), a);
      } else if (m.stomp_suspect && m.stream_found) {
        // Stomped: the source was wiped but the p-code runs; read what its identifiers and strings say.
        const auto* st = f.find(storage + "/" + (m.stream_name_unicode.empty() ? m.stream_name : m.stream_name_unicode));
        if (st == nullptr) st = f.find(storage + "/" + m.stream_name);
        if (st != nullptr) {
          a.out->has_macros = true;
          analyze_code(printable_runs(f.read_stream(*st).bytes), join(prefix, m.name) + "(p-code strings)", a);
        }
      }
    }
    // UserForms: storages beside the project holding a \x03VBFrame stream.
    const std::string parent = storage.find('/') == std::string::npos ? "" : storage.substr(0, storage.rfind('/'));
    for (const auto& e : f.entries)
      if (e.reachable && e.is_stream() && iequal(e.name, "\x03VBFrame") && e.path.rfind(parent, 0) == 0) v.forms += 1;
    const auto ev = analysis::evaluate_vba(*p, analysis::document_strings(f, storage));
    std::vector<ChainModule> chain_modules;
    for (const auto& m : p->modules)
      if (m.code_lines > 0) chain_modules.push_back({m.name.empty() ? m.stream_name : m.name, m.source});
    analyze_chain(chain_modules, &ev, a.chain);
    if (a.chain.truncated > 0) a.anomaly("chain_procedures_truncated_by_limit");
    add_evaluation(ev, a, a.report_iocs || (a.depth == 0 && prefix.empty()));
  }
}

// Word 6/95 keeps its WordBasic macros in the WordDocument stream; each goes through the same code analysis as a
// VBA module, headed by its name ("Macro AutoOpen") since Word runs a macro by the name it is stored under.
static void analyze_wordbasic(ByteView word_document, Acc& a, std::string_view prefix) {
  if (!vba::wordbasic::is_word6_fib(word_document)) return;
  auto p = vba::wordbasic::read(word_document);
  if (!p.ok()) return;
  for (const auto& rec : p->anomalies) a.anomaly(std::string("wordbasic.") + vba::wordbasic::anomaly_name(rec.code));
  for (const auto& m : p->macros) {
    if (m.text.empty()) continue;
    a.out->has_macros = true;
    analyze_code(vba::wordbasic::listing(m), join(prefix, "WordBasic/" + m.name), a);
  }
}

void analyze_ole2_file(const ole2::File& f, Acc& a, std::string_view prefix) {
  Ole2Stats& o = a.ole;
  o.present = 1;
  o.entries += static_cast<double>(f.entries.size());
  o.orphans += f.orphan_count;
  o.anomalies += static_cast<double>(f.anomalies.size());
  for (const auto& rec : f.anomalies) {
    const auto bit = static_cast<std::size_t>(rec.code);
    if (o.anomaly_bits[bit] == 0) a.anomaly(std::string("ole2.") + ole2::anomaly_name(rec.code));
    o.anomaly_bits[bit] += 1;
  }
  const auto& s = f.summary;
  if (s.present && a.depth == 0) {
    o.summary = 1;
    o.code_page = s.code_page;
    o.empty_author = s.author.empty();
    o.empty_title = s.title.empty();
    o.empty_subject = s.subject.empty();
    o.has_template = !s.template_name.empty();
    o.normal_template = lower(s.template_name).rfind("normal", 0) == 0;
    const std::string app = lower(s.app_name);
    o.app_word = app.find("word") != std::string::npos;
    o.app_excel = app.find("excel") != std::string::npos;
    o.app_ppt = app.find("powerpoint") != std::string::npos;
    o.app_other = !app.empty() && !o.app_word && !o.app_excel && !o.app_ppt;
    o.pages = s.page_count;
    o.words = s.word_count;
    o.chars = s.char_count;
    o.edit_time = s.edit_time / 10000000.0;  // seconds
    o.created_eq_saved = s.created != 0 && s.created == s.last_saved;
    o.no_dates = s.created == 0 && s.last_saved == 0;
    o.security = s.security;
    o.last_author_eq = !s.author.empty() && s.author == s.last_author;
  }
  // The MSI root class marks an installer, not a document.
  static constexpr std::uint8_t kMsiClsid[16] = {0x84, 0x10, 0x0C, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46};
  if (!f.entries.empty() && std::memcmp(f.entries[0].clsid.data(), kMsiClsid, 16) == 0) o.msi = 1;

  const ole2::DirEntry* enc_info = nullptr;
  const ole2::DirEntry* enc_pkg = nullptr;
  const ole2::DirEntry* workbook = nullptr;
  const ole2::DirEntry* encryption = nullptr;
  for (const auto& e : f.entries) {
    if (!e.reachable) continue;
    const bool at_root = e.parent == 0;
    if (e.is_storage() && e.type != ole2::EntryType::root) {
      o.storages += 1;
      if (iequal(e.name, "ObjectPool")) o.object_pool += 1;
      if (iequal(e.name, "Macros") || iequal(e.name, "_VBA_PROJECT_CUR")) o.macros_storage = 1;
      if (at_root && iequal(e.name, "_VBA_PROJECT") && a.depth == 0) {
        o.vba5_storage = 1;
        a.out->has_macros = true;
        std::string text;
        for (std::uint32_t child : f.children(static_cast<std::uint32_t>(&e - f.entries.data()))) {
          const auto& ce = f.entries[child];
          if (!ce.is_stream() || text.size() > (8u << 20)) continue;
          text += printable_runs(f.read_stream(ce).bytes);
        }
        analyze_code(text, "_VBA_PROJECT(p-code strings)", a);
      }
      continue;
    }
    if (!e.is_stream()) continue;
    o.streams += 1;
    o.stream_bytes += static_cast<double>(e.size);
    if (e.size > (1u << 20)) o.big_streams += 1;
    if (e.name.rfind("__substg1.0_", 0) == 0) o.msg = 1;
    if (iequal(e.name, "\x05" "DocumentSummaryInformation")) o.docsummary = 1;
    if (iequal(e.name, "\x01" "CompObj")) o.compobj += 1;
    if (iequal(e.name, "\x01" "Ole")) o.ole_objects += 1;
    if (at_root && iequal(e.name, "encryption")) encryption = &e;
    if (control_stream(e.name) && e.size >= 12 && a.out->structural_rule.empty()) {
      auto ctl = f.read_stream(e);
      if (mscomctl_cobj_overflow(ByteView(ctl.bytes.data(), ctl.bytes.size())))
        a.out->structural_rule = "mscomctl-overflow";
    }
    if (at_root && iequal(e.name, "EncryptionInfo")) enc_info = &e;
    if (at_root && iequal(e.name, "EncryptedPackage")) enc_pkg = &e;
    if (at_root && iequal(e.name, "1Table")) o.word_1table = 1;
    if (at_root && iequal(e.name, "0Table")) o.word_0table = 1;
    if (at_root && iequal(e.name, "Data")) o.data_stream = 1;
    if (at_root && iequal(e.name, "WordDocument")) {
      if (a.type == "ole2") a.type = "ole2-word";
      auto fib = f.read_stream(e);
      ByteView fv(fib.bytes.data(), fib.bytes.size());
      const std::uint16_t flags = fv.le_or<std::uint16_t>(10, 0);
      o.word_fib_encrypted = (flags & 0x0100) != 0;
      o.word_fib_obfuscated = (flags & 0x8000) != 0;
      if (o.word_fib_encrypted && a.out->encryption.empty()) a.out->encryption = o.word_fib_obfuscated ? "word-xor" : "word-rc4";
      if (o.word_fib_encrypted) a.enc.word_rc4 = 1;
      analyze_wordbasic(fv, a, prefix);
      continue;
    }
    if (at_root && (iequal(e.name, "Workbook") || iequal(e.name, "Book"))) {
      if (a.type == "ole2") a.type = "ole2-excel";
      workbook = &e;
      auto wb = f.read_stream(e);
      analyze_biff(ByteView(wb.bytes.data(), wb.bytes.size()), a);
      continue;
    }
    if (at_root && iequal(e.name, "PowerPoint Document")) {
      if (a.type == "ole2") a.type = "ole2-ppt";
      continue;
    }
    const bool native = iequal(e.name, "\x01" "Ole10Native");
    for (std::string_view canon : kCanonicalNames)
      if (e.name != canon && iequal(e.name, canon)) a.anomaly("ole2.stream_name_case_altered: " + printable(e.name));
    if (iequal(e.name, "Equation Native") && a.out->structural_rule.empty()) {
      auto eq = f.read_stream(e);
      if (overlong_mtef_font(ByteView(eq.bytes.data(), eq.bytes.size())))
        a.out->structural_rule = "equation-exploit-object";
    }
    const bool package = iequal(e.name, "Package") || iequal(e.name, "CONTENTS");
    if (native) o.ole10native += 1;
    if (package) o.package_streams += 1;
    // Streams holding a file of their own; small ones cannot.
    if (e.size < 64 || a.depth > 0) continue;
    if (!native && !package && e.size < 512) continue;
    auto data = f.read_stream(e);
    std::vector<std::uint8_t> payload = native ? ole10native_payload(data.bytes, a) : std::move(data.bytes);
    const bool pe = starts_with(payload, "MZ");
    const bool zip = starts_with(payload, "PK\x03\x04");
    const bool cfb = starts_with(payload, "\xD0\xCF\x11\xE0");
    const bool other = starts_with(payload, "{\\rt") || starts_with(payload, "%PDF");
    if (pe) o.embedded_pe += 1;
    if (zip) o.embedded_zip += 1;
    if (native || package || pe || zip || cfb || other) a.embed(join(prefix, printable(e.path)), std::move(payload));
  }
  // A workbook encrypted with RC4 CryptoAPI keeps its controls' "Ctls" stream inside the "encryption" stream; opened
  // with the password that opened the workbook (Excel's default one unless the caller's), the controls are read
  // as they are in the clear.
  if (workbook && encryption && a.out->structural_rule.empty()) {
    auto wb = f.read_stream(*workbook);
    const auto fp = workbook_filepass(ByteView(wb.bytes.data(), wb.bytes.size()));
    if (fp && fp->method == xls::Encryption::rc4_cryptoapi) {
      const std::u16string pw = a.out->password.empty() ? std::u16string(xls::kDefaultPassword) : utf8_to_utf16(a.out->password);
      if (xls::check_password(*fp, pw)) {
        auto enc = f.read_stream(*encryption);
        for (const auto& st : xls::decrypt_encryption_stream(ByteView(enc.bytes.data(), enc.bytes.size()), *fp, pw))
          if (control_stream(st.name) && mscomctl_cobj_overflow(ByteView(st.bytes.data(), st.bytes.size())))
            a.out->structural_rule = "mscomctl-overflow";
      }
    }
  }
  for (const auto& e : f.entries) {
    if (!e.reachable || !e.is_storage() || e.clsid != rtf::kEquationClsid || !a.out->structural_rule.empty()) continue;
    for (std::uint32_t c : f.children(static_cast<std::uint32_t>(&e - f.entries.data())))
      if (const auto& s = f.entries[c]; s.is_stream() && iequal(s.name, "\x01" "Ole10Native") &&
                                        (s.size >= kEquationNativeExploitMin || s.name != "\x01" "Ole10Native"))
        a.out->structural_rule = "equation-exploit-object";
  }
  if (prefix.empty() && a.depth == 0 && a.out->structural_rule.empty() &&
      (a.type == "ole2-word" || a.type == "ole2-excel" || a.type == "ole2-ppt")) {
    if (const auto at = executable_outside_objects(f, a.file_clear_pe)) {
      a.out->structural_rule = "executable-outside-objects";
      a.anomaly("ole2.executable_outside_objects@" + std::to_string(*at));
    }
  }
  if (a.type == "ole2") {
    if (o.msi) a.type = "ole2-msi";
    else if (o.msg) a.type = "ole2-msg";
  }
  analyze_vba_projects(f, a, prefix);

  if (enc_info || enc_pkg) {
    o.encryption_info = enc_info != nullptr;
    o.encrypted_package = enc_pkg != nullptr;
    a.enc.encrypted = 1;
    if (a.type == "ole2") a.type = "ole2-encrypted-package";
    if (enc_info && enc_pkg) {
      auto info = f.read_stream(*enc_info);
      auto pkg = f.read_stream(*enc_pkg);
      std::vector<std::uint8_t> plain;
      if (decrypt_encrypted_package(ByteView(info.bytes.data(), info.bytes.size()),
                                    ByteView(pkg.bytes.data(), pkg.bytes.size()), a, plain)) {
        a.enc.decrypted = 1;
        if (a.depth == 0) {
          a.out->decrypted = true;
          a.out->decrypted_package = std::move(plain);
        }
      }
    } else {
      a.anomaly("encrypted_package_incomplete");
      if (a.out->encryption.empty()) a.out->encryption = "ooxml-other";
    }
  }
}

void analyze_ole2(ByteView bytes, Acc& a) {
  auto f = ole2::parse(bytes);
  if (!f.ok()) {
    a.anomaly("ole2_unreadable: " + f.error().message);
    return;
  }
  analyze_ole2_file(*f, a, "");
}

// Excel workbook streams through the xls module (BIFF5/8 records, XLM formulas decoded, RC4 with the default
// password decrypted): sheets and their visibility, Auto_Open names, macro-sheet functions. The decoded macro
// formulas also go through the macro keyword analysis, so URLs and commands in them count like VBA's.
void analyze_biff(ByteView wb, Acc& a) {
  auto parsed = xls::parse_workbook_stream(wb, a.opt->passwords);
  if (!parsed.ok()) {
    a.anomaly("xls_unreadable: " + parsed.error().message);
    return;
  }
  analyze_workbook(*parsed, a);
}

void analyze_workbook(const xls::Workbook& w, Acc& a) {
  XlmStats& x = a.xlm;
  const auto& c = w.counts;
  x.biff_records += c.records;
  x.sheets += c.sheets;
  x.macro_sheets += c.macro_sheets;
  x.hidden_sheets += c.hidden_sheets;
  x.very_hidden_sheets += c.very_hidden_sheets;
  for (const auto& sh : w.sheets) {
    if (sh.type == xls::SheetType::vba_module) x.vba_module_sheets += 1;
    if (sh.type == xls::SheetType::macro_sheet && sh.visibility != xls::Visibility::visible) x.hidden_macro_sheets += 1;
  }
  x.defined_names += c.names;
  x.hidden_names += c.hidden_names;
  x.auto_open_names += c.auto_open_names;
  x.auto_close_names += c.auto_close_names;
  x.formulas += c.macro_formulas;
  x.exec += c.exec;
  x.call += c.call;
  x.reg += c.register_;
  x.chr += c.char_calls;
  x.halt += c.halt;
  x.go_to += c.goto_;
  x.formula_fn += c.formula_cmds + c.formula_fill;
  x.run += c.run;
  x.get_workspace += c.get_workspace;
  x.url_strings += c.url_download;
  x.api_strings += c.shell_strings;
  if (!w.ooxml) x.biff_bad_records += static_cast<double>(w.anomalies.size());
  std::uint64_t seen = 0;
  for (const auto& rec : w.anomalies) {
    const auto bit = static_cast<unsigned>(rec.code);
    if (bit < 64 && !((seen >> bit) & 1u)) a.anomaly(std::string("xls.") + xls::anomaly_name(rec.code));
    if (bit < 64) seen |= 1ull << bit;
  }
  if (w.has_xlm() || x.vba_module_sheets > 0) a.out->has_macros = true;
  if (w.has_xlm()) add_evaluation(analysis::evaluate_xlm(w), a);
  if (w.encryption.method != xls::Encryption::none) {
    x.filepass = 1;
    a.enc.encrypted = 1;
    a.enc.biff_filepass = 1;
    if (a.out->encryption.empty()) a.out->encryption = std::string("biff-") + xls::encryption_name(w.encryption.method);
    if (w.encryption.decrypted) {
      a.enc.decrypted = 1;
      if (a.depth == 0) {
        a.out->decrypted = true;
        a.out->password = w.encryption.password;
      }
    }
  }
  // Macro formulas as text: one a line, with the strings folded from CHAR() chains.
  std::string text;
  for (const auto& f : w.formulas) {
    if (f.sheet >= w.sheets.size() || w.sheets[f.sheet].type != xls::SheetType::macro_sheet) continue;
    if (text.size() > (4u << 20)) break;
    text += f.text;
    for (const auto& fs : f.folded) text += " \"" + fs + "\"";
    text += "\n";
    bool runs = false;
    for (auto fn : f.functions) {
      const char* n = xls::function_name(fn);
      if (n && (std::string_view(n) == "EXEC" || std::string_view(n) == "CALL" || std::string_view(n) == "REGISTER"))
        runs = true;
    }
    if (runs) a.hit("xlm:" + w.sheets[f.sheet].name + "!" + xls::a1(f.row, f.col), "execute", f.text);
  }
  for (const auto& n : w.names)
    if (n.auto_open) a.hit("xlm:name " + n.name, "autoexec", n.formula);
  if (!text.empty()) analyze_code(text, "XLM", a, "xlm");
}

}  // namespace mamori::features::office
