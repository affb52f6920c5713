// Strings a macro can read from outside its source: ActiveX controls embedded in the document (ObjectPool/<id>:
// OCXNAME names the control, "contents" holds its [MS-OFORMS] data or, for InkEdit/RichText controls, RTF),
// UserForms stored next to the VBA storage ("Macros/UserForm1": f, o, \x03VBFrame), and the document's summary
// properties. Emotet hid its PowerShell command in exactly these places.
//
// The control data is not fully decoded: a control's text is taken as the longest printable run in its stream
// (ASCII or UTF-16LE), which is the Caption/Value/Text of the controls droppers use; other long runs are kept as
// extra strings of the same control. A UserForm's controls are named positionally when the names in "f" and the
// strings in "o" pair up one to one; otherwise the strings are kept without a control name, and the evaluator still
// scans them (with the macro's own Replace/Split markers applied).
#include <algorithm>
#include <optional>
#include <string>

#include "analysis/iocs.hpp"
#include "analysis/text_util.hpp"
#include "common/codepage.hpp"

namespace mamori::analysis {

namespace {

bool printable(std::uint8_t c) { return (c >= 0x20 && c < 0x7F) || c == '\t' || c == '\r' || c == '\n'; }

struct Run {
  std::size_t offset;
  std::string text;
};

// Printable ASCII runs and UTF-16LE runs of at least `min_len` characters, in stream order.
std::vector<Run> printable_runs(const std::vector<std::uint8_t>& b, std::size_t min_len) {
  std::vector<Run> out;
  std::size_t i = 0;
  while (i < b.size() && out.size() < 4096) {
    if (!printable(b[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < b.size() && printable(b[j])) ++j;
    if (j - i >= min_len) out.push_back({i, std::string(b.begin() + static_cast<std::ptrdiff_t>(i), b.begin() + static_cast<std::ptrdiff_t>(j))});
    i = j + 1;
  }
  for (std::size_t start = 0; start < 2; ++start) {
    i = start;
    while (i + 1 < b.size() && out.size() < 8192) {
      if (!(printable(b[i]) && b[i + 1] == 0)) {
        i += 2;
        continue;
      }
      std::size_t j = i;
      std::string s;
      while (j + 1 < b.size() && printable(b[j]) && b[j + 1] == 0) {
        s.push_back(static_cast<char>(b[j]));
        j += 2;
      }
      if (s.size() >= min_len) out.push_back({i, std::move(s)});
      i = j + 2;
    }
  }
  std::sort(out.begin(), out.end(), [](const Run& a, const Run& b2) { return a.offset < b2.offset; });
  return out;
}

bool font_name(std::string_view s) {
  static constexpr std::string_view kFonts[] = {"Tahoma", "Arial", "Calibri", "Times New Roman", "MS Sans Serif",
                                                "Segoe UI", "Verdana", "Courier New", "Microsoft Sans Serif", "Cambria"};
  for (auto f : kFonts)
    if (iequals(s, f)) return true;
  return false;
}

// Plain text of an RTF document: control words, destinations ({\*...}, font and colour tables) and braces removed,
// \'hh escapes decoded as Windows-1252.
std::string rtf_text(std::string_view r) {
  std::string out;
  int depth = 0, skip_depth = -1;
  std::size_t i = 0;
  while (i < r.size() && out.size() < limits::max_string) {
    const char c = r[i];
    if (c == '{') {
      ++depth;
      ++i;
      if (skip_depth < 0 && i + 1 < r.size() && r[i] == '\\') {
        std::size_t j = i + 1;
        while (j < r.size() && is_alpha(r[j])) ++j;
        const std::string_view word = r.substr(i + 1, j - i - 1);
        if (r[i + 1] == '*' || word == "fonttbl" || word == "colortbl" || word == "stylesheet" || word == "info" ||
            word == "pict" || word == "object" || word == "generator")
          skip_depth = depth;
      }
      continue;
    }
    if (c == '}') {
      if (skip_depth == depth) skip_depth = -1;
      --depth;
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= r.size()) break;
      const char n = r[i + 1];
      if (n == '\\' || n == '{' || n == '}') {
        if (skip_depth < 0) out.push_back(n);
        i += 2;
        continue;
      }
      if (n == '\'' && i + 3 < r.size() && is_xdigit(r[i + 2]) && is_xdigit(r[i + 3])) {
        const char b = static_cast<char>(std::stoi(std::string(r.substr(i + 2, 2)), nullptr, 16));
        if (skip_depth < 0) out += codepage_to_utf8(std::string_view(&b, 1), 1252);
        i += 4;
        continue;
      }
      std::size_t j = i + 1;
      while (j < r.size() && is_alpha(r[j])) ++j;
      const std::string_view word = r.substr(i + 1, j - i - 1);
      if (j < r.size() && (r[j] == '-' || is_digit(r[j]))) {
        ++j;
        while (j < r.size() && is_digit(r[j])) ++j;
      }
      if (j < r.size() && r[j] == ' ') ++j;
      if (skip_depth < 0 && (word == "par" || word == "line")) out.push_back('\n');
      if (skip_depth < 0 && word == "tab") out.push_back('\t');
      i = j == i + 1 ? i + 2 : j;
      continue;
    }
    if (skip_depth < 0) out.push_back(c);
    ++i;
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();  // the final \par, not trailing spaces
  return out;
}

std::string name_of(const std::vector<std::uint8_t>& b) {
  // OCXNAME is UTF-16LE, NUL-terminated.
  return utf16le_to_utf8(ByteView(b.data(), b.size()), b.size() / 2);
}

void add(DocumentStrings& d, std::string form, std::string control, std::string property, std::string value) {
  if (value.empty() || d.forms.size() >= limits::max_form_strings) return;
  d.forms.push_back({std::move(form), std::move(control), std::move(property), std::move(value)});
}

// An [MS-OFORMS] fmString is padded to 4 bytes and followed by other fields, so a printable run can overrun the
// string by a few bytes. The control's DataBlock, before the strings, holds each string's size with the
// "compressed" top bit set for 8-bit text. A run that such a size fits (equal, or the run longer by at most the
// padding) is cut to it; nullopt when no declared size fits the run.
std::optional<std::string> fit_declared_size(const std::vector<std::uint8_t>& data, const Run& run) {
  const ByteView v(data.data(), data.size());
  const std::size_t len = run.text.size();
  const bool ascii = run.offset + len <= data.size() &&
                     std::equal(run.text.begin(), run.text.end(), data.begin() + static_cast<std::ptrdiff_t>(run.offset));
  if (!ascii) return std::nullopt;
  const std::uint64_t limit = std::min<std::uint64_t>(run.offset, 512);
  for (std::uint64_t o = 0; o + 4 <= limit; o += 4) {
    const std::uint32_t x = v.le_or<std::uint32_t>(o, 0);
    if ((x & 0x80000000u) == 0) continue;
    const std::uint32_t n = x & 0x7FFFFFFFu;
    if (n >= 1 && n <= len && len - n <= 3) return run.text.substr(0, n);
  }
  return std::nullopt;
}

// The text of one control's data stream: RTF text, or the longest printable run, plus other long runs.
void control_strings(DocumentStrings& d, const std::string& form, const std::string& name,
                     const std::vector<std::uint8_t>& data) {
  const std::string_view as_text(reinterpret_cast<const char*>(data.data()), data.size());
  if (const auto p = as_text.find("{\\rtf"); p != std::string_view::npos) {
    add(d, form, name, "", rtf_text(as_text.substr(p)));
    return;
  }
  // RichEdit controls (InkEdit) store their RTF as UTF-16LE.
  static constexpr char kWideRtf[] = {'{', 0, '\\', 0, 'r', 0, 't', 0, 'f', 0};
  if (const auto p = as_text.find(std::string_view(kWideRtf, sizeof kWideRtf)); p != std::string_view::npos) {
    const ByteView rest = ByteView(data.data(), data.size()).from(p);
    add(d, form, name, "", rtf_text(utf16le_to_utf8(rest, rest.size() / 2)));
    return;
  }
  auto runs = printable_runs(data, 1);
  runs.erase(std::remove_if(runs.begin(), runs.end(), [](const Run& r) { return font_name(r.text); }), runs.end());
  if (runs.empty()) return;
  // The control's text: the longest run a declared string size fits (later wins a tie: strings follow the
  // header), else the longest run.
  const Run* best = nullptr;
  std::string best_text;
  for (const auto& r : runs) {
    auto fitted = fit_declared_size(data, r);
    if (!fitted || font_name(*fitted)) continue;
    if (best == nullptr || fitted->size() >= best_text.size()) {
      best = &r;
      best_text = std::move(*fitted);
    }
  }
  if (best == nullptr) {
    best = &*std::max_element(runs.begin(), runs.end(),
                              [](const Run& a, const Run& b) { return a.text.size() < b.text.size(); });
    best_text = best->text;
  }
  add(d, form, name, "", best_text);
  for (const auto& r : runs)
    if (&r != best && r.text.size() >= 16) add(d, form, name, "Other", r.text);
}

// "Caption = "text"" lines of a \x03VBFrame stream describe the form itself.
void vbframe_strings(DocumentStrings& d, const std::string& form, std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view line = text.substr(i, j - i);
    i = j + 1;
    while (!line.empty() && is_space(line.front())) line.remove_prefix(1);
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = line.substr(0, eq);
    while (!key.empty() && is_space(key.back())) key.remove_suffix(1);
    std::string_view val = line.substr(eq + 1);
    while (!val.empty() && is_space(val.front())) val.remove_prefix(1);
    while (!val.empty() && is_space(val.back())) val.remove_suffix(1);
    if (val.size() < 2 || val.front() != '"' || val.back() != '"') continue;
    add(d, form, form, std::string(key), std::string(val.substr(1, val.size() - 2)));
  }
}

bool identifier(std::string_view s) {
  if (s.empty() || s.size() > 64 || !is_alpha(s[0])) return false;
  for (char c : s)
    if (!is_alnum(c) && c != '_') return false;
  return true;
}

// One OleSiteConcreteControl ([MS-OFORMS] 2.2.10.10) read from the "f" stream: the control's name, Tag and
// ControlTipText, and how many bytes of the "o" stream hold its data.
struct Site {
  std::string name, tag, tip;
  std::uint32_t object_size = 0;
  std::uint64_t next = 0;  // offset of the following site
};

// SitePropMask bits.
enum : std::uint32_t {
  kSiteName = 0x1, kSiteTag = 0x2, kSiteId = 0x4, kSiteHelp = 0x8, kSiteBitFlags = 0x10, kSiteObjectSize = 0x20,
  kSiteTabIndex = 0x40, kSiteClsid = 0x80, kSitePosition = 0x100, kSiteGroup = 0x200, kSiteTip = 0x800,
  kSiteLicKey = 0x1000, kSiteSource = 0x2000, kSiteRowSource = 0x4000, kSiteUnused = 0xFFFF8400u,
};

std::optional<Site> parse_site(ByteView f, std::uint64_t o) {
  if (f.le_or<std::uint16_t>(o, 1) != 0) return std::nullopt;  // Version
  const auto cb = f.u16(o + 2);
  const auto mask = f.u32(o + 4);
  if (!cb || !mask || (*mask & kSiteUnused) != 0 || (*mask & kSiteName) == 0 || *cb < 12) return std::nullopt;
  const auto block = f.sub(o + 4, *cb);  // cbSite counts from PropMask
  if (!block) return std::nullopt;
  const ByteView b = *block;
  std::uint64_t pos = 4;  // past PropMask
  auto align = [&](std::uint64_t n) { pos = (pos + n - 1) / n * n; };
  auto u32 = [&]() { align(4); const auto v = b.le_or<std::uint32_t>(pos, 0); pos += 4; return v; };
  auto u16 = [&]() { align(2); const auto v = b.le_or<std::uint16_t>(pos, 0); pos += 2; return v; };
  const std::uint32_t m = *mask;
  std::uint32_t name_len = 0, tag_len = 0, tip_len = 0, lic_len = 0, src_len = 0, row_len = 0;
  Site s;
  if (m & kSiteName) name_len = u32();
  if (m & kSiteTag) tag_len = u32();
  if (m & kSiteId) u32();
  if (m & kSiteHelp) u32();
  if (m & kSiteBitFlags) u32();
  if (m & kSiteObjectSize) s.object_size = u32();
  if (m & kSiteTabIndex) u16();
  if (m & kSiteClsid) u16();
  if (m & kSiteGroup) u16();
  if (m & kSiteTip) tip_len = u32();
  if (m & kSiteLicKey) lic_len = u32();
  if (m & kSiteSource) src_len = u32();
  if (m & kSiteRowSource) row_len = u32();
  bool ok = true;
  // fmString: 31-bit byte count, top bit set when the text is stored as 8-bit characters.
  auto str = [&](std::uint32_t spec) -> std::string {
    align(4);
    const std::uint32_t n = spec & 0x7FFFFFFFu;
    const auto bytes = b.sub(pos, n);
    if (!bytes) {
      ok = false;
      return {};
    }
    pos += n;
    if (spec & 0x80000000u) return codepage_to_utf8(std::string_view(reinterpret_cast<const char*>(bytes->data()), n), 1252);
    return utf16le_to_utf8(*bytes, n / 2);
  };
  s.name = str(name_len);
  if (m & kSiteTag) s.tag = str(tag_len);
  if (m & kSitePosition) {
    align(4);
    pos += 8;
  }
  if (m & kSiteTip) s.tip = str(tip_len);
  if (m & kSiteLicKey) str(lic_len);
  if (m & kSiteSource) str(src_len);
  if (m & kSiteRowSource) str(row_len);
  if (!ok || pos > b.size() || !identifier(s.name)) return std::nullopt;
  s.next = o + 4 + *cb;
  return s;
}

// The sites of a form: the first offset from which valid sites follow one another. Scanning (rather than walking
// the form's header, font and class table) keeps this independent of the parts droppers never use.
std::vector<Site> parse_sites(ByteView f) {
  constexpr std::size_t kMaxSites = 1024;
  for (std::uint64_t start = 4; start + 12 <= f.size(); ++start) {
    std::vector<Site> sites;
    std::uint64_t o = start;
    while (sites.size() < kMaxSites) {
      auto s = parse_site(f, o);
      if (!s) break;
      o = s->next;
      sites.push_back(std::move(*s));
    }
    if (!sites.empty()) return sites;
  }
  return {};
}

void userform_strings(DocumentStrings& d, const ole2::File& file, const ole2::DirEntry& storage) {
  const std::string& form = storage.name;
  if (auto vf = file.read_stream(storage.path + "/\x03VBFrame")) {
    const std::string t(vf->bytes.begin(), vf->bytes.end());
    vbframe_strings(d, form, t);
  }
  auto fs = file.read_stream(storage.path + "/f");
  auto os = file.read_stream(storage.path + "/o");
  if (!fs || !os) return;
  const std::vector<Site> sites = parse_sites(ByteView(fs->bytes.data(), fs->bytes.size()));
  std::uint64_t off = 0;
  for (const auto& s : sites) {
    if (!s.tag.empty()) add(d, form, s.name, "Tag", s.tag);
    if (!s.tip.empty()) add(d, form, s.name, "ControlTipText", s.tip);
    if (s.object_size == 0) continue;
    const std::uint64_t n = std::min<std::uint64_t>(s.object_size, os->bytes.size() - std::min<std::uint64_t>(off, os->bytes.size()));
    std::vector<std::uint8_t> chunk(os->bytes.begin() + static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(off, os->bytes.size())),
                                    os->bytes.begin() + static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(off + n, os->bytes.size())));
    off += s.object_size;
    control_strings(d, form, s.name, chunk);
  }
  if (sites.empty()) {
    // Unreadable site table: keep the longer strings of "o" without names.
    for (auto& r : printable_runs(os->bytes, 8))
      if (!font_name(r.text)) add(d, form, "", "", r.text);
  }
}

}  // namespace

DocumentStrings document_strings(const ole2::File& file, std::string_view vba_storage) {
  DocumentStrings d;
  // ActiveX controls in the document body.
  for (const auto& e : file.entries) {
    if (!e.reachable || !e.is_storage() || e.parent == ole2::kNoStream || e.parent >= file.entries.size()) continue;
    if (!iequals(file.entries[e.parent].name, "ObjectPool")) continue;
    auto name = file.read_stream(e.path + "/\x03OCXNAME");
    if (!name) name = file.read_stream(e.path + "/OCXNAME");
    auto data = file.read_stream(e.path + "/contents");  // find() is case-insensitive: "Contents" too
    if (!name || !data) continue;
    control_strings(d, "", name_of(name->bytes), data->bytes);
    if (d.forms.size() >= limits::max_form_strings) return d;
  }
  // UserForms: storages next to the VBA storage holding "f" and "o".
  const std::size_t slash = vba_storage.rfind('/');
  const std::string parent = slash == std::string_view::npos ? std::string() : std::string(vba_storage.substr(0, slash));
  for (const auto& e : file.entries) {
    if (!e.reachable || !e.is_storage() || e.parent == ole2::kNoStream || e.parent >= file.entries.size()) continue;
    if (!ole2::path_equal(file.entries[e.parent].path, parent)) continue;
    const ole2::DirEntry* f = file.find(e.path + "/f");
    const ole2::DirEntry* o = file.find(e.path + "/o");
    if (f == nullptr || o == nullptr || !f->is_stream() || !o->is_stream()) continue;
    userform_strings(d, file, e);
    if (d.forms.size() >= limits::max_form_strings) return d;
  }
  // Summary properties (BuiltInDocumentProperties("Comments") and friends).
  const auto& s = file.summary;
  if (s.present) {
    add(d, "", "Title", "Property", s.title);
    add(d, "", "Subject", "Property", s.subject);
    add(d, "", "Author", "Property", s.author);
    add(d, "", "Keywords", "Property", s.keywords);
    add(d, "", "Comments", "Property", s.comments);
    add(d, "", "Template", "Property", s.template_name);
    add(d, "", "Last Author", "Property", s.last_author);
  }
  return d;
}

std::vector<engine::Ioc> iocs_from_ole2(const ole2::File& file) {
  std::vector<engine::Ioc> out;
  for (const auto& storage : vba::find_projects(file)) {
    auto p = vba::extract(file, storage);
    if (!p) continue;
    merge_iocs(out, iocs_from_vba(*p, document_strings(file, storage)));
  }
  return out;
}

}  // namespace mamori::analysis
