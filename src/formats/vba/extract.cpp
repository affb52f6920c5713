// The dir stream ([MS-OVBA] 2.3.4.2), the module streams (2.3.4.3), _VBA_PROJECT (2.3.4.1) and the PROJECT stream
// (2.3.1), plus the stomping checks that compare p-code with source.
//
// dir records are read generically as (Id u16, Size u32, Size bytes) -- every record has that shape except
// PROJECTVERSION (0x0009), whose "size" field is a reserved 4 followed by 6 bytes of version. Records are applied
// by id rather than by a fixed order, so a reordered or padded dir stream still yields its modules.
#include <algorithm>
#include <cstring>

#include "common/anomalies.hpp"
#include "common/codepage.hpp"
#include "common/stats.hpp"
#include "formats/vba/vba.hpp"

namespace mamori::vba {

const char* anomaly_name(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::dir_decompress_failed: return "dir_decompress_failed";
    case Anomaly::dir_record_truncated: return "dir_record_truncated";
    case Anomaly::dir_records_truncated_by_limit: return "dir_records_truncated_by_limit";
    case Anomaly::dir_unexpected_record: return "dir_unexpected_record";
    case Anomaly::module_count_mismatch: return "module_count_mismatch";
    case Anomaly::modules_truncated_by_limit: return "modules_truncated_by_limit";
    case Anomaly::module_stream_missing: return "module_stream_missing";
    case Anomaly::module_offset_beyond_stream: return "module_offset_beyond_stream";
    case Anomaly::module_decompress_failed: return "module_decompress_failed";
    case Anomaly::module_source_empty: return "module_source_empty";
    case Anomaly::pcode_without_source: return "pcode_without_source";
    case Anomaly::source_without_pcode: return "source_without_pcode";
    case Anomaly::module_not_in_project_stream: return "module_not_in_project_stream";
    case Anomaly::project_module_not_in_dir: return "project_module_not_in_dir";
    case Anomaly::project_stream_missing: return "project_stream_missing";
    case Anomaly::vba_project_stream_missing: return "vba_project_stream_missing";
    case Anomaly::vba_project_stream_invalid: return "vba_project_stream_invalid";
    case Anomaly::codepage_unsupported: return "codepage_unsupported";
    case Anomaly::kCount: break;
  }
  return "unknown";
}

namespace {

void flag(VbaProject& p, Anomaly a, std::uint64_t detail = 0) { flag_first(p, a, detail); }

std::string join(std::string_view storage, std::string_view name) {
  if (storage.empty()) return std::string(name);
  std::string s(storage);
  s += '/';
  s += name;
  return s;
}

std::string_view as_chars(ByteView v) {
  return {reinterpret_cast<const char*>(v.data()), static_cast<std::size_t>(v.size())};
}

bool iequal(std::string_view a, std::string_view b) { return ole2::path_equal(a, b); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequal(s.substr(0, prefix.size()), prefix);
}

// Record ids ([MS-OVBA] 2.3.4.2).
enum : std::uint16_t {
  kSysKind = 0x0001, kLcid = 0x0002, kCodePage = 0x0003, kName = 0x0004, kDocString = 0x0005, kHelpFile = 0x0006,
  kHelpContext = 0x0007, kLibFlags = 0x0008, kVersion = 0x0009, kConstants = 0x000C, kRefRegistered = 0x000D,
  kRefProject = 0x000E, kModules = 0x000F, kTerminator = 0x0010, kCookie = 0x0013, kLcidInvoke = 0x0014,
  kRefName = 0x0016, kModuleName = 0x0019, kModuleStreamName = 0x001A, kModuleDocString = 0x001C,
  kModuleHelpContext = 0x001E, kModuleProcedural = 0x0021, kModuleClass = 0x0022, kModuleReadOnly = 0x0025,
  kModulePrivate = 0x0028, kModuleTerminator = 0x002B, kModuleCookie = 0x002C, kRefControl = 0x002F,
  kRefControlExtended = 0x0030, kModuleOffset = 0x0031, kModuleStreamNameUnicode = 0x0032, kRefOriginal = 0x0033,
  kConstantsUnicode = 0x003C, kHelpFile2 = 0x003D, kRefNameUnicode = 0x003E, kDocStringUnicode = 0x0040,
  kModuleNameUnicode = 0x0047, kModuleDocStringUnicode = 0x0048, kCompatVersion = 0x004A,
};

class Extractor {
 public:
  Extractor(const ole2::File& f, VbaProject& p) : f_(f), p_(p) {}

  void parse_dir(ByteView dir) {
    std::uint64_t pos = 0;
    std::uint32_t records = 0;
    std::size_t cur = npos;  // the module that module records apply to
    while (pos < dir.size()) {
      if (++records > limits::max_dir_records) {
        flag(p_, Anomaly::dir_records_truncated_by_limit, records);
        return;
      }
      const auto id = dir.u16(pos);
      const auto size = dir.u32(pos + 2);
      if (!id || !size) {
        flag(p_, Anomaly::dir_record_truncated, pos);
        return;
      }
      const std::uint64_t data_size = *id == kVersion ? 6 : *size;
      const auto data = dir.sub(pos + 6, data_size);
      if (!data) {
        flag(p_, Anomaly::dir_record_truncated, pos);
        return;
      }
      pos += 6 + data_size;
      const ByteView v = *data;
      const std::string_view text = as_chars(v);
      const auto u32 = v.le_or<std::uint32_t>(0, 0);
      const auto u16 = v.le_or<std::uint16_t>(0, 0);
      auto module = [&]() -> Module* {
        if (cur == npos) cur = start_module();
        return cur == npos ? nullptr : &p_.modules[cur];
      };
      switch (*id) {
        case kSysKind: p_.sys_kind = u32; break;
        case kLcid: p_.lcid = u32; break;
        case kLcidInvoke: p_.lcid_invoke = u32; break;
        case kCodePage: p_.code_page = u16; break;
        case kName: p_.name = text_of(text); break;
        case kDocString: p_.doc_string = text_of(text); break;
        case kHelpFile: p_.help_file = text_of(text); break;
        case kHelpContext: p_.help_context = u32; break;
        case kLibFlags: p_.lib_flags = u32; break;
        case kVersion:
          p_.version_major = u32;
          p_.version_minor = v.le_or<std::uint16_t>(4, 0);
          break;
        case kConstants: p_.constants = text_of(text); break;
        case kCompatVersion: case kDocStringUnicode: case kHelpFile2: case kConstantsUnicode: case kRefNameUnicode:
        case kRefControlExtended:
          break;
        case kRefName:
          p_.references.push_back({text_of(text), {}, 0});
          break;
        case kRefRegistered: case kRefProject: case kRefControl: case kRefOriginal: {
          if (p_.references.empty()) p_.references.push_back({});
          auto& r = p_.references.back();
          if (r.kind == 0 || *id != kRefControl) r.kind = *id;
          // Registered/project/original start with SizeOfLibid(Absolute) then the libid; control starts with
          // SizeOfLibidTwiddled after nothing else (the record's own size was already consumed).
          const std::uint32_t n = *id == kRefOriginal ? static_cast<std::uint32_t>(v.size()) : u32;
          const ByteView lib = *id == kRefOriginal ? v : v.clamp(4, n);
          if (r.libid.empty()) r.libid = text_of(as_chars(lib));
          break;
        }
        case kModules: p_.declared_modules = u16; break;
        case kCookie: p_.project_cookie = u16; break;
        case kModuleName:
          cur = start_module();
          if (cur != npos) p_.modules[cur].name = text_of(text);
          break;
        case kModuleNameUnicode: if (auto* m = module()) m->name_unicode = utf16le_to_utf8(v, v.size() / 2); break;
        case kModuleStreamName: if (auto* m = module()) m->stream_name = text_of(text); break;
        case kModuleStreamNameUnicode:
          if (auto* m = module()) m->stream_name_unicode = utf16le_to_utf8(v, v.size() / 2);
          break;
        case kModuleDocString: if (auto* m = module()) m->doc_string = text_of(text); break;
        case kModuleDocStringUnicode: break;
        case kModuleOffset: if (auto* m = module()) m->text_offset = u32; break;
        case kModuleHelpContext: if (auto* m = module()) m->help_context = u32; break;
        case kModuleCookie: if (auto* m = module()) m->cookie = u16; break;
        case kModuleProcedural: if (auto* m = module()) m->type = ModuleType::procedural; break;
        case kModuleClass: if (auto* m = module()) m->type = ModuleType::document_or_class; break;
        case kModuleReadOnly: if (auto* m = module()) m->read_only = true; break;
        case kModulePrivate: if (auto* m = module()) m->private_module = true; break;
        case kModuleTerminator: cur = npos; break;
        case kTerminator: return;
        default:
          flag(p_, Anomaly::dir_unexpected_record, *id);
          break;
      }
    }
  }

  // The module's source: decompress from MODULEOFFSET, convert, count lines, and compare with the p-code size.
  void read_module(std::size_t index) {
    Module& m = p_.modules[index];
    const ole2::DirEntry* e = nullptr;
    for (const std::string* candidate : {&m.stream_name_unicode, &m.stream_name, &m.name}) {
      if (candidate->empty()) continue;
      e = f_.find(join(storage_, *candidate));
      if (e != nullptr && e->is_stream()) break;
      e = nullptr;
    }
    if (e == nullptr) {
      flag(p_, Anomaly::module_stream_missing, index);
      return;
    }
    m.stream_found = true;
    const ole2::StreamData s = f_.read_stream(*e);
    m.stream_size = s.bytes.size();
    m.pcode_size = std::min<std::uint64_t>(m.text_offset, s.bytes.size());
    if (m.text_offset > s.bytes.size()) {
      flag(p_, Anomaly::module_offset_beyond_stream, index);
    } else {
      const ByteView src = ByteView(s.bytes.data(), s.bytes.size()).from(m.text_offset);
      m.compressed_size = src.size();
      Decompressed d = decompress(src);
      m.source_status = d.status;
      m.source_raw_size = d.bytes.size();
      if (d.status != DecompressStatus::ok) flag(p_, Anomaly::module_decompress_failed, index);
      m.source = text_of(std::string_view(reinterpret_cast<const char*>(d.bytes.data()), d.bytes.size()));
    }
    count_lines(m.source, m.lines, m.code_lines, m.attribute_lines);
    if (m.code_lines == 0) {
      flag(p_, Anomaly::module_source_empty, index);
      // p-code with no source to match it: the source was removed or replaced, but Office runs the p-code.
      if (m.pcode_size >= limits::stomp_min_pcode) {
        m.stomp_suspect = true;
        flag(p_, Anomaly::pcode_without_source, index);
      }
    } else if (m.text_offset == 0) {
      flag(p_, Anomaly::source_without_pcode, index);
    }
  }

  void read_vba_project_stream() {
    auto s = f_.read_stream(join(storage_, "_VBA_PROJECT"));
    if (!s) {
      flag(p_, Anomaly::vba_project_stream_missing);
      return;
    }
    p_.vba_project_present = true;
    const ByteView v(s->bytes.data(), s->bytes.size());
    if (v.le_or<std::uint16_t>(0, 0) != 0x61CC) flag(p_, Anomaly::vba_project_stream_invalid, v.le_or<std::uint16_t>(0, 0));
    p_.vba_version = v.le_or<std::uint16_t>(2, 0);
  }

  // PROJECT sits next to the VBA storage: "Macros/PROJECT" for "Macros/VBA", "PROJECT" for "VBA".
  void read_project_stream() {
    const std::size_t slash = storage_.rfind('/');
    const std::string parent = slash == std::string::npos ? std::string() : storage_.substr(0, slash);
    auto s = f_.read_stream(join(parent, "PROJECT"));
    if (!s) {
      flag(p_, Anomaly::project_stream_missing);
      return;
    }
    p_.project_stream_present = true;
    const std::string text = text_of(std::string_view(reinterpret_cast<const char*>(s->bytes.data()), s->bytes.size()));
    std::string_view rest = text;
    bool in_host_section = false;
    while (!rest.empty() && p_.project_lines.size() < limits::max_project_lines) {
      const std::size_t nl = rest.find('\n');
      std::string_view line = trim(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      if (line.empty()) continue;
      if (line.front() == '[') {
        in_host_section = true;  // [Host Extender Info], [Workspace]: no module declarations after these
        p_.project_lines.emplace_back(std::string(line), std::string());
        continue;
      }
      const std::size_t eq = line.find('=');
      const std::string_view key = trim(line.substr(0, eq));
      std::string_view value = eq == std::string_view::npos ? std::string_view() : trim(line.substr(eq + 1));
      p_.project_lines.emplace_back(std::string(key), std::string(value));
      if (in_host_section) continue;
      if (iequal(key, "Module") || iequal(key, "Class") || iequal(key, "BaseClass") || iequal(key, "Document")) {
        if (iequal(key, "Document")) value = value.substr(0, value.find('/'));  // "ThisDocument/&H00000000"
        p_.project_modules.emplace_back(value);
      }
    }
  }

  void cross_check() {
    if (p_.declared_modules != p_.modules.size()) flag(p_, Anomaly::module_count_mismatch, p_.declared_modules);
    if (!p_.project_stream_present) return;
    for (std::size_t i = 0; i < p_.modules.size(); ++i) {
      auto& m = p_.modules[i];
      m.in_project_stream = std::any_of(p_.project_modules.begin(), p_.project_modules.end(),
                                        [&](const std::string& n) { return iequal(n, m.name); });
      if (!m.in_project_stream) flag(p_, Anomaly::module_not_in_project_stream, i);
    }
    for (std::size_t i = 0; i < p_.project_modules.size(); ++i) {
      const auto& n = p_.project_modules[i];
      if (std::none_of(p_.modules.begin(), p_.modules.end(), [&](const Module& m) { return iequal(n, m.name); }))
        flag(p_, Anomaly::project_module_not_in_dir, i);
    }
  }

  std::string storage_;

 private:
  // Index of a new module, or npos past limits::max_modules.
  std::size_t start_module() {
    if (p_.modules.size() >= limits::max_modules) {
      flag(p_, Anomaly::modules_truncated_by_limit, p_.modules.size());
      return npos;
    }
    p_.modules.emplace_back();
    return p_.modules.size() - 1;
  }
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  std::string text_of(std::string_view bytes) const { return codepage_to_utf8(bytes, p_.code_page); }

  const ole2::File& f_;
  VbaProject& p_;
};

}  // namespace

void count_lines(std::string_view s, std::uint32_t& lines, std::uint32_t& code_lines, std::uint32_t& attribute_lines) {
  lines = code_lines = attribute_lines = 0;
  // The next '\r' and '\n' (s.size() for none), found with memchr and kept until a line passes them: the source is
  // searched once for each instead of byte by byte.
  const auto next_of = [&](char c, std::size_t from) {
    const void* p = std::memchr(s.data() + from, c, s.size() - from);
    return p == nullptr ? s.size() : static_cast<std::size_t>(static_cast<const char*>(p) - s.data());
  };
  std::size_t i = 0;
  std::size_t cr = s.empty() ? 0 : next_of('\r', 0), lf = s.empty() ? 0 : next_of('\n', 0);
  while (i < s.size()) {
    if (cr < i) cr = next_of('\r', i);
    if (lf < i) lf = next_of('\n', i);
    std::size_t j = std::min(cr, lf);
    const std::string_view line = trim(s.substr(i, j - i));
    ++lines;
    if (starts_with_icase(line, "Attribute ")) ++attribute_lines;
    else if (!line.empty()) ++code_lines;
    if (j < s.size() && s[j] == '\r' && j + 1 < s.size() && s[j + 1] == '\n') ++j;
    i = j + 1;
  }
}

std::vector<std::string> find_projects(const ole2::File& file) {
  std::vector<std::string> out;
  for (const auto& e : file.entries) {
    if (!e.reachable || !e.is_stream() || !iequal(e.name, "dir")) continue;
    if (e.parent == ole2::kNoStream || e.parent >= file.entries.size()) continue;
    const auto& storage = file.entries[e.parent];
    const std::string& path = storage.path;
    // The dir stream extract() will open: by path, a same-named sibling (a storage "DIR", a second "dir") may be
    // found first (fuzz_vba), and then there is no project to name.
    const ole2::DirEntry* opened = file.find(join(path, "dir"));
    if (opened == nullptr || !opened->is_stream()) continue;
    const ole2::DirEntry* vp = file.find(join(path, "_VBA_PROJECT"));
    // Excel 5/95 keeps the whole project in a storage named _VBA_PROJECT (extract() tells the layouts apart).
    if ((vp != nullptr && vp->is_stream()) || iequal(storage.name, "VBA") || iequal(storage.name, "_VBA_PROJECT"))
      out.push_back(path);
  }
  return out;
}

Result<VbaProject> extract(const ole2::File& file, std::string_view storage) {
  // `storage` is used as given: an empty-named storage makes a leading or trailing '/' part of a real path
  // (fuzz_vba), and File::find already treats a leading '/' as "from the root" when nothing matches exactly.
  const ole2::DirEntry* dir = file.find(join(storage, "dir"));
  if (dir == nullptr || !dir->is_stream())
    return make_error(ErrorCode::not_this_format, "no VBA dir stream in storage '" + std::string(storage) + "'");
  const ole2::StreamData raw = file.read_stream(*dir);
  if (is_excel5_dir(ByteView(raw.bytes.data(), raw.bytes.size())))
    return read_excel5(file, storage, ByteView(raw.bytes.data(), raw.bytes.size()));
  VbaProject p;
  p.storage = std::string(storage);
  Extractor x(file, p);
  x.storage_ = p.storage;
  Decompressed d = decompress(ByteView(raw.bytes.data(), raw.bytes.size()));
  if (d.status != DecompressStatus::ok) flag(p, Anomaly::dir_decompress_failed, static_cast<std::uint64_t>(d.status));
  p.dir_size = d.bytes.size();
  x.parse_dir(ByteView(d.bytes.data(), d.bytes.size()));
  if (p.code_page != 0 && !codepage_supported(p.code_page)) flag(p, Anomaly::codepage_unsupported, p.code_page);
  for (std::size_t i = 0; i < p.modules.size(); ++i) x.read_module(i);
  x.read_vba_project_stream();
  x.read_project_stream();
  x.cross_check();
  return p;
}

}  // namespace mamori::vba
