// RTF tokenizer and object extraction. One pass; the destination stack is a vector bounded by
// limits::max_group_depth, deeper groups are counted but share their parent's frame.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "common/anomalies.hpp"
#include "common/codepage.hpp"
#include "common/mapped_file.hpp"
#include "formats/ole2/ole2.hpp"
#include "formats/rtf/rtf.hpp"

namespace mamori::rtf {

const char* anomaly_name(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::header_variant: return "header_variant";
    case Anomaly::group_too_deep: return "group_too_deep";
    case Anomaly::control_word_too_long: return "control_word_too_long";
    case Anomaly::parameter_too_long: return "parameter_too_long";
    case Anomaly::unclosed_groups: return "unclosed_groups";
    case Anomaly::extra_closing_brace: return "extra_closing_brace";
    case Anomaly::data_after_end: return "data_after_end";
    case Anomaly::objdata_obfuscated: return "objdata_obfuscated";
    case Anomaly::objdata_odd_nibbles: return "objdata_odd_nibbles";
    case Anomaly::objdata_non_hex: return "objdata_non_hex";
    case Anomaly::objdata_truncated_by_limit: return "objdata_truncated_by_limit";
    case Anomaly::objects_truncated_by_limit: return "objects_truncated_by_limit";
    case Anomaly::objdata_without_object: return "objdata_without_object";
    case Anomaly::ole1_header_invalid: return "ole1_header_invalid";
    case Anomaly::ole1_truncated: return "ole1_truncated";
    case Anomaly::native_size_mismatch: return "native_size_mismatch";
    case Anomaly::native_ole2_malformed: return "native_ole2_malformed";
    case Anomaly::package_malformed: return "package_malformed";
    case Anomaly::package_executable: return "package_executable";
    case Anomaly::equation_editor: return "equation_editor";
    case Anomaly::ole_link: return "ole_link";
    case Anomaly::bin_run_truncated: return "bin_run_truncated";
    case Anomaly::nul_in_control_word: return "nul_in_control_word";
    case Anomaly::kCount: break;
  }
  return "unknown";
}

void Document::add(Anomaly a, std::uint64_t detail) { flag_each(*this, a, detail); }

bool sniff(ByteView bytes) noexcept { return bytes.starts_with("{\\rt"); }

std::string clsid_to_string(const std::array<std::uint8_t, 16>& c) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", c[3], c[2],
                c[1], c[0], c[5], c[4], c[7], c[6], c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15]);
  return buf;
}

bool executable_name(std::string_view name) noexcept {
  // Windows drops trailing spaces and dots, so "a.exe. " is still an .exe.
  while (!name.empty() && (name.back() == ' ' || name.back() == '.')) name.remove_suffix(1);
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string ext;
  for (char c : name.substr(dot + 1)) {
    if (ext.size() > 8) return false;
    ext += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  static constexpr std::string_view kExt[] = {"exe", "dll", "scr", "com", "pif", "bat", "cmd", "vbs", "vbe", "js",
                                              "jse", "wsf", "wsh", "hta", "ps1", "lnk", "jar", "msi", "cpl", "sct",
                                              "reg", "inf", "msc", "application", "gadget", "url", "chm", "iqy",
                                              "settingcontent-ms", "xll", "wll", "appref-ms"};
  return std::find(std::begin(kExt), std::end(kExt), ext) != std::end(kExt);
}

namespace {

std::string ansi(ByteView v) {
  return codepage_to_utf8(std::string_view(reinterpret_cast<const char*>(v.data()), v.size()), 1252);
}

bool istarts(std::string_view s, std::string_view p) {
  if (s.size() < p.size()) return false;
  for (std::size_t k = 0; k < p.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(s[k])) != std::tolower(static_cast<unsigned char>(p[k]))) return false;
  return true;
}

bool iequal(std::string_view a, std::string_view b) { return a.size() == b.size() && istarts(a, b); }

// A NUL-terminated string of at most `max` bytes at `off`; advances `off` past the NUL.
std::optional<std::string> cstring(ByteView v, std::uint64_t& off, std::size_t max) {
  const auto s = v.cstr(off, max);
  if (!s) return std::nullopt;
  off += s->size() + 1;
  return ansi(ByteView(s->data(), s->size()));
}

// LengthPrefixedAnsiString ([MS-OLEDS] 2.1.4): u32 length including the NUL, then the characters.
std::optional<std::string> lpas(ByteView v, std::uint64_t& off) {
  const auto len = v.u32(off);
  if (!len || !v.fits(off + 4, *len)) return std::nullopt;
  const ByteView s = v.clamp(off + 4, std::min<std::uint32_t>(*len, limits::max_class_name));
  std::size_t n = 0;
  while (n < s.size() && s.data()[n] != 0) ++n;
  off += 4 + std::uint64_t{*len};
  return ansi(s.clamp(0, n));
}

int hexval(std::uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void analyse_ole2(Object& obj, Document& doc) {
  const ByteView nv(obj.native.data(), obj.native.size());
  if (!ole2::sniff(nv)) return;
  auto f = ole2::parse(nv);
  if (!f.ok()) {
    doc.add(Anomaly::native_ole2_malformed, obj.offset);
    return;
  }
  obj.native_is_ole2 = true;
  if (!f->entries.empty() && f->entries[0].type == ole2::EntryType::root) {
    obj.clsid = f->entries[0].clsid;
    obj.clsid_text = clsid_to_string(f->entries[0].clsid);
  }
  for (const auto& e : f->entries) {
    if (!e.reachable || !e.is_stream()) continue;
    if (obj.ole2_streams.size() < limits::max_streams_listed) obj.ole2_streams.push_back(e.path);
    if (iequal(e.name, "Equation Native")) obj.equation_editor = true;
    if (iequal(e.name, "\x01Ole10Native") && !obj.package) {
      // An OLE2-wrapped Package: a u32 size, then the Packager layout.
      const auto data = f->read_stream(e);
      const ByteView sv(data.bytes.data(), data.bytes.size());
      if (auto p = parse_package(sv.from(4))) obj.package = std::move(p);
    }
  }
}

}  // namespace

std::optional<Package> parse_package(ByteView v) {
  Package p;
  std::uint64_t off = 2;  // u16 header (2)
  auto label = cstring(v, off, 4096);
  if (!label) return std::nullopt;
  auto src = cstring(v, off, 4096);
  if (!src) return std::nullopt;
  off += 4;  // u32: 0x00030000 for an embedded file
  const auto tlen = v.u32(off);
  if (!tlen || !v.fits(off + 4, *tlen)) return std::nullopt;
  const ByteView t = v.clamp(off + 4, std::min<std::uint32_t>(*tlen, 4096));
  std::size_t n = 0;
  while (n < t.size() && t.data()[n] != 0) ++n;
  p.temp_path = ansi(t.clamp(0, n));
  off += 4 + std::uint64_t{*tlen};
  const auto size = v.u32(off);
  if (!size) return std::nullopt;
  p.payload_size_declared = *size;
  const ByteView payload = v.clamp(off + 4, std::min<std::uint64_t>(*size, limits::max_object_bytes));
  p.payload.assign(payload.data(), payload.data() + payload.size());
  p.file_name = std::move(*label);
  p.source_path = std::move(*src);
  p.executable = executable_name(p.file_name) || executable_name(p.source_path) || executable_name(p.temp_path);
  return p;
}

namespace {

// An OLE1 ObjectHeader at `at`: FormatID 1 or 2 and a ClassName that is short, printable text. Word ignores
// OLEVersion (kits put random bytes there), so it is recorded, not required.
bool ole1_at(ByteView v, std::uint64_t at, Object& obj, Document& doc) {
  const std::uint32_t format = v.le_or<std::uint32_t>(at + 4, 0);
  if (format != 1 && format != 2) return false;
  const std::uint32_t clen = v.le_or<std::uint32_t>(at + 8, 0);
  if (clen < 2 || clen > limits::max_class_name || !v.fits(at + 12, clen)) return false;
  for (std::uint32_t k = 0; k + 1 < clen; ++k) {
    const std::uint8_t c = v.data()[at + 12 + k];
    if (c < 0x20 || c > 0x7E) return false;
  }
  std::uint64_t off = at + 8;
  auto cls = lpas(v, off);
  auto topic = cls ? lpas(v, off) : std::nullopt;
  auto item = topic ? lpas(v, off) : std::nullopt;
  if (!cls) return false;
  obj.ole1 = true;
  obj.ole_version = v.le_or<std::uint32_t>(at, 0);
  obj.format_id = format;
  obj.class_name = std::move(*cls);
  if ((obj.ole_version & 0xFFFFu) != 0x0501u || at != 0) doc.add(Anomaly::ole1_header_invalid, obj.offset);
  if (!topic || !item) {
    doc.add(Anomaly::ole1_truncated, obj.offset);
    return true;
  }
  obj.topic_name = std::move(*topic);
  obj.item_name = std::move(*item);
  if (format == 1) {
    obj.link = true;
    doc.add(Anomaly::ole_link, obj.offset);
    return true;
  }
  const auto size = v.u32(off);
  if (!size) {
    doc.add(Anomaly::ole1_truncated, obj.offset);
    return true;
  }
  obj.native_size_declared = *size;
  const ByteView nat = v.clamp(off + 4, *size);
  if (nat.size() < *size) doc.add(Anomaly::native_size_mismatch, obj.offset);
  obj.native.assign(nat.data(), nat.data() + nat.size());
  return true;
}

}  // namespace

void unwrap_object_data(std::vector<std::uint8_t> data, Object& obj, Document& doc) {
  const ByteView v(data.data(), data.size());
  // The header where it belongs, else a little further in (kits prepend junk bytes Word skips).
  bool found = false;
  for (std::uint64_t at = 0; at <= 64 && at + 12 <= v.size() && !found; ++at) found = ole1_at(v, at, obj, doc);
  if (!found) {
    doc.add(Anomaly::ole1_header_invalid, obj.offset);
    // Raw data: keep it, starting at a compound file signature when one is near the start.
    static constexpr std::uint8_t kCfb[] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
    const ByteView head = v.clamp(0, 512);
    const auto* p = std::search(head.data(), head.data() + head.size(), std::begin(kCfb), std::end(kCfb));
    const std::size_t skip = p == head.data() + head.size() ? 0 : static_cast<std::size_t>(p - head.data());
    data.erase(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(skip));
    obj.native = std::move(data);
  }
  analyse_ole2(obj, doc);
  const std::string_view cls = !obj.class_name.empty() ? std::string_view(obj.class_name) : std::string_view(obj.objclass);
  if (istarts(obj.class_name, "equation.") || istarts(obj.objclass, "equation.") ||
      (obj.clsid && *obj.clsid == kEquationClsid))
    obj.equation_editor = true;
  if (!obj.package && (iequal(obj.class_name, "Package") || iequal(obj.objclass, "Package"))) {
    const ByteView nv(obj.native.data(), obj.native.size());
    obj.package = parse_package(nv);
    if (!obj.package) doc.add(Anomaly::package_malformed, obj.offset);
  }
  (void)cls;
  if (obj.equation_editor) doc.add(Anomaly::equation_editor, obj.offset);
  if (obj.package && obj.package->executable) doc.add(Anomaly::package_executable, obj.offset);
}

namespace {

enum class Dest : std::uint8_t { normal, objclass, objdata, ignored, fldinst };

// RTF destination control words (RTF 1.9.1 spec, "destination" entries) that exploit documents nest inside
// \objdata; a group opened with one of them is not object data.
bool is_destination(std::string_view w) {
  static constexpr std::string_view kDest[] = {
      "aftncn", "aftnsep", "aftnsepc", "annotation", "atnauthor", "atndate", "atnicn", "atnid", "atnparent",
      "atnref", "atntime", "atrfend", "atrfstart", "author", "background", "bkmkend", "bkmkstart", "blipuid",
      "buptim", "category", "colorschememapping", "colortbl", "comment", "company", "creatim", "datafield",
      "datastore", "defchp", "defpap", "do", "doccomm", "docvar", "dptxbxtext", "ebcend", "ebcstart", "factoidname",
      "falt", "fchars", "ffdeftext", "ffentrymcr", "ffexitmcr", "ffformat", "ffhelptext", "ffl", "ffname",
      "ffstattext", "field", "file", "filetbl", "fldinst", "fldrslt", "fldtype", "fname", "fontemb", "fontfile",
      "fonttbl", "footer", "footerf", "footerl", "footerr", "footnote", "formfield", "ftncn", "ftnsep", "ftnsepc",
      "g", "generator", "gridtbl", "header", "headerf", "headerl", "headerr", "hl", "hlfr", "hlinkbase", "hlloc",
      "hlsrc", "hsv", "htmltag", "info", "keycode", "keywords", "latentstyles", "lchars", "levelnumbers",
      "leveltext", "lfolevel", "linkval", "list", "listlevel", "listname", "listoverride", "listoverridetable",
      "listpicture", "liststylename", "listtable", "listtext", "lsdlockedexcept", "macc", "maccPr", "mailmerge",
      "manager", "mhtmltag", "mmath", "mmathPr", "mmathPict", "nesttableprops", "nextfile", "nonesttables",
      "nonshppict", "objalias", "objclass", "objdata", "object", "objname", "objsect", "objtime", "oldcprops",
      "oldpprops", "oldsprops", "oldtprops", "oleclsid", "operator", "panose", "password", "passwordhash", "pgp",
      "pgptbl", "picprop", "pict", "pn", "pnseclvl", "pntext", "pntxta", "pntxtb", "printim", "private",
      "propname", "protend", "protstart", "protusertbl", "pxe", "result", "revtbl", "revtim", "rsidtbl", "rxe",
      "shp", "shpgrp", "shpinst", "shppict", "shprslt", "shptxt", "sn", "sp", "staticval", "stylesheet", "subject",
      "sv", "svb", "tc", "template", "themedata", "title", "txe", "ud", "upr", "userprops", "wgrffmtfilter",
      "windowcaption", "writereservation", "writereservhash", "xe", "xform", "xmlattrname", "xmlattrvalue",
      "xmlclose", "xmlname", "xmlnstbl", "xmlopen"};
  return std::find(std::begin(kDest), std::end(kDest), w) != std::end(kDest);
}

struct Frame {
  Dest dest = Dest::normal;
  int object = -1;
  bool fresh = true;  // no token seen yet in this group
};

class Parser {
 public:
  explicit Parser(ByteView in) : in_(in) {}

  Result<Document> run() {
    if (!sniff(in_)) return make_error(ErrorCode::not_this_format, "not RTF (no {\\rt)");
    if (!in_.starts_with("{\\rtf1")) {
      doc_.header_variant = true;
      doc_.add(Anomaly::header_variant, 0);
    }
    frames_.reserve(64);
    frames_.push_back(Frame{});  // depth 0: outside every group
    tokenize();
    if (top().dest == Dest::fldinst) finish_field();  // the input ended inside a field instruction
    doc_.counts.objects = static_cast<std::uint32_t>(doc_.objects.size());
    for (const auto& o : doc_.objects) {
      if (o.has_objdata) ++doc_.counts.objdata;
      if (o.native_is_ole2) ++doc_.counts.ole2_objects;
      if (o.equation_editor) ++doc_.counts.equation_objects;
      if (o.package) ++doc_.counts.package_objects;
      if (o.package && o.package->executable) ++doc_.counts.executable_packages;
      if (o.link) ++doc_.counts.links;
      if (o.update) ++doc_.counts.objupdate;
    }
    return std::move(doc_);
  }

 private:
  Frame& top() { return frames_.back(); }

  Object* object_of(const Frame& f) {
    return f.object >= 0 && static_cast<std::size_t>(f.object) < doc_.objects.size() ? &doc_.objects[static_cast<std::size_t>(f.object)]
                                                                                     : nullptr;
  }

  int new_object(std::uint64_t offset) {
    if (doc_.objects.size() >= limits::max_objects) {
      doc_.add(Anomaly::objects_truncated_by_limit, offset);
      return -1;
    }
    Object o;
    o.offset = offset;
    doc_.objects.push_back(std::move(o));
    hex_.emplace_back();
    return static_cast<int>(doc_.objects.size() - 1);
  }

  void open_group(std::uint64_t pos) {
    ++doc_.counts.groups;
    ++depth_;
    doc_.counts.max_depth = std::max<std::uint64_t>(doc_.counts.max_depth, depth_);
    if (top().dest == Dest::objdata) note_interruption();
    if (frames_.size() > limits::max_group_depth) {
      if (!doc_.has(Anomaly::group_too_deep)) doc_.add(Anomaly::group_too_deep, pos);
      return;  // deeper groups share the innermost tracked frame
    }
    Frame f = top();
    f.fresh = true;
    frames_.push_back(f);
  }

  void close_group(std::uint64_t pos) {
    if (depth_ == 0) {
      ++doc_.counts.extra_closing_braces;
      doc_.add(Anomaly::extra_closing_brace, pos);
      return;
    }
    --depth_;
    if (frames_.size() - 1 > depth_ && frames_.size() > 1) {
      const Frame closed = frames_.back();
      frames_.pop_back();
      if (closed.dest == Dest::objdata && top().dest != Dest::objdata) finish_objdata(closed.object);
      if (closed.dest == Dest::fldinst && top().dest != Dest::fldinst) finish_field();
    }
    if (depth_ == 0 && !ended_) {
      ended_ = true;
      doc_.end_offset = pos + 1;
      check_after_end(pos + 1);
    }
  }

  // Whether anything but blanks follows the document. Padding after it is read here once more, in chunks that go
  // back to the page cache, and the look stops at the first byte that is not blank.
  void check_after_end(std::uint64_t from) {
    bool data = false;
    for_each_chunk(in_.from(from), 8u << 20, [&](ByteView c) {
      for (std::uint64_t k = 0; !data && k < c.size(); ++k) {
        const std::uint8_t b = c.data()[k];
        data = !(b == ' ' || b == '\r' || b == '\n' || b == '\t' || b == 0);
      }
    });
    doc_.counts.bytes_after_end = in_.size() - from;
    if (data) doc_.add(Anomaly::data_after_end, in_.size() - from);
  }

  void note_interruption() {
    ++doc_.counts.objdata_interruptions;
    if (!doc_.has(Anomaly::objdata_obfuscated)) doc_.add(Anomaly::objdata_obfuscated, 0);
  }

  struct Hex {
    std::vector<std::uint8_t> bytes;
    int pending = -1;  // high nibble waiting for its low one
    std::uint64_t total = 0;
    bool capped = false;
    bool last_from_hex = false;  // the last byte came from two hex digits (not from \bin)
  };

  void put_byte(Hex& h, std::uint8_t b) {
    ++h.total;
    if (h.bytes.size() >= limits::max_object_bytes || total_kept_ >= limits::max_total_object_bytes) {
      h.capped = true;
      return;
    }
    h.bytes.push_back(b);
    ++total_kept_;
  }

  void unread_nibble(Hex& h) {
    if (h.pending >= 0) {
      h.pending = -1;
    } else if (h.last_from_hex && !h.bytes.empty()) {
      h.pending = h.bytes.back() >> 4;
      h.bytes.pop_back();
      --h.total;
      --total_kept_;
      h.last_from_hex = false;
    }
  }

  void finish_objdata(int idx) {
    Object* o = idx >= 0 && static_cast<std::size_t>(idx) < doc_.objects.size() ? &doc_.objects[static_cast<std::size_t>(idx)] : nullptr;
    if (o == nullptr || o->native.size() || o->ole1) return;
    Hex& h = hex_[static_cast<std::size_t>(idx)];
    if (h.pending >= 0) doc_.add(Anomaly::objdata_odd_nibbles, o->offset);
    if (h.capped) doc_.add(Anomaly::objdata_truncated_by_limit, o->offset);
    o->objdata_bytes = h.total;
    doc_.counts.objdata_bytes += h.total;
    std::vector<std::uint8_t> data = std::move(h.bytes);
    h = Hex{};
    unwrap_object_data(std::move(data), *o, doc_);
  }

  void control_word(std::string_view word, bool has_param, std::int64_t param, std::uint64_t at) {
    ++doc_.counts.control_words;
    Frame& f = top();
    const bool fresh = f.fresh;
    f.fresh = false;
    if (f.dest == Dest::objdata) {
      // Inside object data a control word is noise Word skips, except that a nested group opened with a
      // destination ({\hlsrc ...}, {\datastore ...}) takes its text away from the object data.
      note_interruption();
      if (fresh && frames_.size() > 1 && frames_[frames_.size() - 2].dest == Dest::objdata && is_destination(word))
        f.dest = Dest::ignored;
      return;
    }
    if (f.dest == Dest::ignored || f.dest == Dest::fldinst) return;
    if (word == "fldinst") {
      f.dest = Dest::fldinst;
      ++doc_.counts.fields;
      field_.clear();
      return;
    }
    if (word == "object") {
      f.object = new_object(at);
      return;
    }
    if (word == "objdata") {
      if (object_of(f) == nullptr || object_of(f)->has_objdata) {
        if (object_of(f) == nullptr) doc_.add(Anomaly::objdata_without_object, at);
        f.object = new_object(at);
      }
      if (Object* o = object_of(f)) {
        o->has_objdata = true;
        f.dest = Dest::objdata;
      }
      return;
    }
    if (word == "pict") {
      ++doc_.counts.pict;
      return;
    }
    Object* o = object_of(f);
    if (o == nullptr) return;
    if (word == "objclass") {
      f.dest = Dest::objclass;
    } else if (word == "objemb") {
      o->kind = ObjectKind::embedded;
    } else if (word == "objlink" || word == "objautlink") {
      o->kind = word == "objlink" ? ObjectKind::link : ObjectKind::autolink;
      if (!o->link) doc_.add(Anomaly::ole_link, o->offset);
      o->link = true;
    } else if (word == "objhtml") {
      o->kind = ObjectKind::html;
    } else if (word == "objocx") {
      o->kind = ObjectKind::ocx;
    } else if (word == "objupdate") {
      o->update = true;
    }
    (void)has_param;
    (void)param;
  }

  void text_char(std::uint8_t c) {
    Frame& f = top();
    if (f.dest == Dest::objdata) {
      const int v = hexval(c);
      if (v >= 0) {
        Hex& h = hex_[static_cast<std::size_t>(f.object)];
        if (h.pending < 0) {
          h.pending = v;
        } else {
          put_byte(h, static_cast<std::uint8_t>((h.pending << 4) | v));
          h.last_from_hex = !h.capped;
          h.pending = -1;
        }
      } else if (c == ' ' || c == '\r' || c == '\n' || c == '\t' || c == 0) {
        if (c != 0) ++doc_.counts.objdata_whitespace;
      } else if (!doc_.has(Anomaly::objdata_non_hex)) {
        doc_.add(Anomaly::objdata_non_hex, 0);
      }
      return;
    }
    if (f.dest == Dest::fldinst) {
      if (field_.size() < limits::max_field_text && c != '\r' && c != '\n') field_ += static_cast<char>(c);
      return;
    }
    if (f.dest == Dest::objclass) {
      if (Object* o = object_of(f); o && o->objclass.size() < limits::max_class_name && c != '\r' && c != '\n')
        o->objclass += static_cast<char>(c);
    }
  }

  void tokenize() {
    const std::uint8_t* p = in_.data();
    const std::uint64_t n = in_.size();
    std::uint64_t i = 0;
    // One forward pass: a document padded to hundreds of MB must not become resident as a whole.
    ForwardRelease release(p);
    while (i < n) {
      const std::uint8_t c = p[i];
      release.behind(i);
      if (c == '{') {
        open_group(i);
        ++i;
        continue;
      }
      if (c == '}') {
        close_group(i);
        ++i;
        continue;
      }
      if (c != '\\') {
        // Plain text: only object data and class names need it, so other runs are skipped in bulk.
        const Dest d = top().dest;
        if (d == Dest::objdata || d == Dest::objclass || d == Dest::fldinst) {
          text_char(c);
          top().fresh = false;
          ++i;
        } else {
          ++i;
          while (i < n && p[i] != '{' && p[i] != '}' && p[i] != '\\') {
            ++i;
            if ((i & 0xffff) == 0) release.behind(i);
          }
        }
        continue;
      }
      // Control word or symbol.
      const std::uint64_t at = i;
      ++i;
      if (i >= n) break;
      const std::uint8_t c1 = p[i];
      if (std::isalpha(c1)) {
        const std::uint64_t ws = i;
        while (i < n && std::isalpha(p[i])) ++i;
        const std::uint64_t wlen = i - ws;
        if (wlen > limits::max_control_word) doc_.add(Anomaly::control_word_too_long, at);
        bool has_param = false;
        bool neg = false;
        std::int64_t param = 0;
        if (i < n && p[i] == '-' && i + 1 < n && std::isdigit(p[i + 1])) {
          neg = true;
          ++i;
        }
        const std::uint64_t ds = i;
        while (i < n && std::isdigit(p[i])) {
          if (param < (std::int64_t{1} << 40)) param = param * 10 + (p[i] - '0');
          ++i;
        }
        if (i > ds) has_param = true;
        if (i - ds > limits::max_param_digits) doc_.add(Anomaly::parameter_too_long, at);
        if (neg) param = -param;
        if (i < n && p[i] == ' ') ++i;  // the delimiter space belongs to the control word
        const std::string_view word(reinterpret_cast<const char*>(p + ws),
                                    static_cast<std::size_t>(std::min<std::uint64_t>(wlen, 64)));
        if (word == "bin" && has_param) {
          i = bin_run(i, param);
          continue;
        }
        control_word(word, has_param, param, at);
        continue;
      }
      ++doc_.counts.control_symbols;
      Frame& f = top();
      const bool fresh = f.fresh;
      f.fresh = false;
      if (c1 == '\'') {
        // \'hh: a character in text; inside object data Word does not take it as hex data.
        std::uint8_t v = 0;
        const int h1 = i + 1 < n ? hexval(p[i + 1]) : -1, h2 = i + 2 < n ? hexval(p[i + 2]) : -1;
        if (h1 >= 0 && h2 >= 0) v = static_cast<std::uint8_t>(h1 * 16 + h2);
        i += 1 + (h1 >= 0 ? 1 : 0) + (h1 >= 0 && h2 >= 0 ? 1 : 0);
        if (f.dest == Dest::objdata) {
          // Word takes back the hex digit read just before \' (exploit kits interleave "0f\'cc1f\'cc..."; the
          // data is 01...), and ignores the two digits after it.
          note_interruption();
          unread_nibble(hex_[static_cast<std::size_t>(f.object)]);
        } else if ((f.dest == Dest::objclass || f.dest == Dest::fldinst) && h1 >= 0 && h2 >= 0) {
          text_char(v);
        }
        continue;
      }
      if (c1 == '*') {
        // An ignorable destination opened inside object data is skipped whole.
        if (f.dest == Dest::objdata && fresh && frames_.size() > 1) {
          f.dest = Dest::ignored;
          note_interruption();
        }
        ++i;
        continue;
      }
      if ((f.dest == Dest::objclass || f.dest == Dest::fldinst) && (c1 == '\\' || c1 == '{' || c1 == '}')) text_char(c1);
      else if (f.dest == Dest::objdata) note_interruption();
      ++i;
    }
    if (depth_ > 0) {
      doc_.add(Anomaly::unclosed_groups, depth_);
      // Objects whose data group never closed are still decoded.
      for (std::size_t k = frames_.size(); k-- > 1;) {
        if (frames_[k].dest == Dest::objdata && (k == 1 || frames_[k - 1].dest != Dest::objdata))
          finish_objdata(frames_[k].object);
      }
      doc_.end_offset = n;
    }
  }

  std::uint64_t bin_run(std::uint64_t i, std::int64_t param) {
    ++doc_.counts.bin_runs;
    ++doc_.counts.control_words;
    std::uint64_t len = param > 0 ? static_cast<std::uint64_t>(param) : 0;
    if (len > in_.size() - i) {
      doc_.add(Anomaly::bin_run_truncated, i);
      len = in_.size() - i;
    }
    doc_.counts.bin_bytes += len;
    Frame& f = top();
    f.fresh = false;
    if (f.dest == Dest::objdata) {
      // Raw bytes go straight into the object data.
      note_interruption();
      Hex& h = hex_[static_cast<std::size_t>(f.object)];
      for (std::uint64_t k = 0; k < len; ++k) put_byte(h, in_.data()[i + k]);
      if (len > 0) h.last_from_hex = false;
    }
    return i + len;
  }

  void finish_field() {
    if (doc_.fields.size() < limits::max_fields) doc_.fields.push_back(std::move(field_));
    field_.clear();
  }

  ByteView in_;
  Document doc_;
  std::string field_;  // the open \fldinst's text (fields do not nest: an inner \fldinst is part of the outer)
  std::vector<Frame> frames_;
  std::vector<Hex> hex_;
  std::uint64_t depth_ = 0;
  std::uint64_t total_kept_ = 0;
  bool ended_ = false;
};

}  // namespace

Result<Document> parse(ByteView bytes) { return Parser(bytes).run(); }

}  // namespace mamori::rtf
