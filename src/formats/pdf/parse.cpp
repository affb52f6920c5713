// The PDF lexer: one pass over the bytes with a small per-object state; object streams are lexed again from
// their decoded bytes (bounded by limits::max_objstm_depth). Names are decoded into a fixed buffer, so the hot
// loop allocates nothing per byte; strings are only kept when they are a value we return.
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/anomalies.hpp"
#include "common/base64.hpp"
#include "common/mapped_file.hpp"
#include "formats/pdf/pdf.hpp"

namespace mamori::pdf {

const char* key_name(Key k) noexcept {
  switch (k) {
    case Key::obj: return "obj";
    case Key::endobj: return "endobj";
    case Key::stream: return "stream";
    case Key::endstream: return "endstream";
    case Key::xref: return "xref";
    case Key::trailer: return "trailer";
    case Key::startxref: return "startxref";
    case Key::page: return "/Page";
    case Key::encrypt: return "/Encrypt";
    case Key::objstm: return "/ObjStm";
    case Key::js: return "/JS";
    case Key::javascript: return "/JavaScript";
    case Key::aa: return "/AA";
    case Key::openaction: return "/OpenAction";
    case Key::acroform: return "/AcroForm";
    case Key::jbig2decode: return "/JBIG2Decode";
    case Key::richmedia: return "/RichMedia";
    case Key::launch: return "/Launch";
    case Key::embeddedfile: return "/EmbeddedFile";
    case Key::xfa: return "/XFA";
    case Key::uri: return "/URI";
    case Key::submitform: return "/SubmitForm";
    case Key::gotor: return "/GoToR";
    case Key::colors_gt_2_24: return "/Colors > 2^24";
    case Key::kCount: break;
  }
  return "unknown";
}

const char* anomaly_name(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::header_not_at_start: return "header_not_at_start";
    case Anomaly::header_late: return "header_late";
    case Anomaly::eof_missing: return "eof_missing";
    case Anomaly::data_after_eof: return "data_after_eof";
    case Anomaly::name_obfuscated: return "name_obfuscated";
    case Anomaly::stream_unterminated: return "stream_unterminated";
    case Anomaly::stream_length_mismatch: return "stream_length_mismatch";
    case Anomaly::stream_decode_error: return "stream_decode_error";
    case Anomaly::stream_decode_truncated_by_limit: return "stream_decode_truncated_by_limit";
    case Anomaly::streams_truncated_by_limit: return "streams_truncated_by_limit";
    case Anomaly::unsupported_filter: return "unsupported_filter";
    case Anomaly::obj_endobj_mismatch: return "obj_endobj_mismatch";
    case Anomaly::encrypted: return "encrypted";
    case Anomaly::list_truncated_by_limit: return "list_truncated_by_limit";
    case Anomaly::embedded_truncated_by_limit: return "embedded_truncated_by_limit";
    case Anomaly::string_unterminated: return "string_unterminated";
    case Anomaly::kCount: break;
  }
  return "unknown";
}

void Document::add(Anomaly a, std::uint64_t detail) { flag_each(*this, a, detail); }

namespace {

constexpr std::string_view kHeader = "%PDF-";

const std::uint8_t* find(const std::uint8_t* b, const std::uint8_t* e, std::string_view needle) {
  if (needle.empty() || e - b < static_cast<std::ptrdiff_t>(needle.size())) return nullptr;
  const auto* it = std::search(b, e, needle.begin(), needle.end(),
                               [](std::uint8_t x, char y) { return x == static_cast<std::uint8_t>(y); });
  return it == e ? nullptr : it;
}

}  // namespace

bool sniff(ByteView bytes) noexcept {
  const ByteView head = bytes.clamp(0, 1024);
  return find(head.data(), head.data() + head.size(), kHeader) != nullptr;
}

std::vector<std::uint8_t> flate_decode(ByteView data, std::uint64_t cap, bool& complete) {
  std::vector<std::uint8_t> out;
  complete = false;
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return out;
  zs.next_in = const_cast<Bytef*>(data.data());
  zs.avail_in = static_cast<uInt>(std::min<std::uint64_t>(data.size(), 0xFFFFFFFFu));
  std::uint8_t buf[16384];
  int rc = Z_OK;
  while (true) {
    zs.next_out = buf;
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    const std::size_t got = sizeof buf - zs.avail_out;
    const std::size_t room = static_cast<std::size_t>(std::min<std::uint64_t>(got, cap - out.size()));
    out.insert(out.end(), buf, buf + room);
    if (room < got || out.size() >= cap) {
      rc = Z_BUF_ERROR;  // capped
      break;
    }
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK) break;
    if (got == 0 && zs.avail_in == 0) break;
  }
  inflateEnd(&zs);
  complete = rc == Z_STREAM_END;
  return out;
}

namespace {

bool is_ws(std::uint8_t c) { return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '; }
bool is_delim(std::uint8_t c) {
  return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' || c == '}' || c == '/' ||
         c == '%';
}
int hexval(std::uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

enum class Pending : std::uint8_t {
  none, uri, f, uf, p, js, length, colors, type, subtype, filter, s,
  rect, mediabox, a, first, openaction, aa, aa_value
};

// Action kinds, as bits of a mask per object.
enum ActionBit : std::uint8_t { act_uri = 1, act_js = 2, act_launch = 4, act_submit = 8, act_other = 16 };

struct ObjState {
  std::uint32_t num = 0;
  bool open = false;
  std::string type, subtype;
  std::vector<std::string> filters;
  std::int64_t length = -1;
  std::int64_t first = -1;          // /First of an object stream
  bool launch = false, filespec = false, ef = false;
  bool is_link = false;             // /Subtype /Link
  double rect_area = -1;            // its /Rect
  std::uint32_t a_ref = 0;          // /A N G R
  std::uint8_t actions = 0;         // ActionBit mask of the /S values in the object
  std::string launch_f, launch_p, file_f, file_uf;
};

struct LinkRec {
  double area;
  std::uint32_t a_ref;
  bool uri;
};

struct LaterStream {
  std::uint32_t num;
  std::uint64_t offset, size;        // the raw bytes, in the file
  std::vector<std::string> filters;  // all of them decodable (handle_stream checked)
};

// State shared by the top-level lexer and the lexers of object streams, resolved once the file is read.
struct Shared {
  std::uint64_t decoded_total = 0;
  std::uint64_t js_scanned = 0;
  std::uint64_t exploit_scanned = 0;
  std::uint64_t content_scanned = 0;
  std::vector<std::uint32_t> js_refs;
  std::vector<std::uint32_t> open_refs;
  std::vector<std::pair<std::uint32_t, std::uint8_t>> actions;  // object number, ActionBit mask
  std::vector<LinkRec> links;
  // Streams of the file read before any /JS named them and not taken for JavaScript then (fewer than two markers):
  // a packed script stored ahead of the action that runs it. Where they lie and their filters, so that the exploit
  // scan decodes and reads them again once the references are known (the model's traits never see them).
  std::vector<LaterStream> later;
};

bool is_hex(std::uint8_t c) { return hexval(c) >= 0; }

// A number token of a /Rect or /MediaBox array ("612", "-0.5", ".25"); false for anything else.
bool parse_real(std::string_view w, double& out) {
  if (w.empty() || w.size() > 32) return false;
  std::size_t k = 0;
  bool neg = false;
  if (w[0] == '+' || w[0] == '-') {
    neg = w[0] == '-';
    k = 1;
  }
  double v = 0, scale = 1;
  bool digits = false, dot = false;
  for (; k < w.size(); ++k) {
    const char c = w[k];
    if (c == '.' && !dot) {
      dot = true;
    } else if (c >= '0' && c <= '9') {
      digits = true;
      if (dot) {
        scale /= 10;
        v += (c - '0') * scale;
      } else {
        v = v * 10 + (c - '0');
      }
    } else {
      return false;
    }
  }
  if (!digits) return false;
  out = neg ? -v : v;
  return true;
}

std::uint8_t action_bit(std::string_view nm) {
  if (nm == "URI") return act_uri;
  if (nm == "JavaScript") return act_js;
  if (nm == "Launch") return act_launch;
  if (nm == "SubmitForm") return act_submit;
  if (nm == "GoToR" || nm == "GoToE" || nm == "ImportData" || nm == "RichMediaExecute" || nm == "Rendition")
    return act_other;
  return 0;
}

bool web_url(std::string_view s) {
  auto ieq = [&](std::string_view pre) {
    if (s.size() < pre.size()) return false;
    for (std::size_t k = 0; k < pre.size(); ++k)
      if (static_cast<char>(std::tolower(static_cast<unsigned char>(s[k]))) != pre[k]) return false;
    return true;
  };
  return ieq("http://") || ieq("https://");
}

constexpr std::string_view kJsMarkers[] = {"eval(",          "unescape(",     "String.fromCharCode", "app.",
                                           "this.",          "util.printf",   "getAnnots",           "function",
                                           "var ",           "Collab.",       "media.newPlayer",     "getIcon",
                                           "exportDataObject", "spell.customDictionaryOpen", "app.launchURL"};

// ASCIIHexDecode: hex digit pairs up to '>', anything else skipped, at most `room` bytes.
std::vector<std::uint8_t> ahx_decode(ByteView in, std::uint64_t room) {
  std::vector<std::uint8_t> out;
  int hi = -1;
  for (std::uint64_t k = 0; k < in.size() && out.size() < room; ++k) {
    const std::uint8_t c = in.data()[k];
    if (c == '>') break;
    const int v = hexval(c);
    if (v < 0) continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

// TIFF tags whose count the format fixes (HalftoneHints: 2; TransferRange: 6) or bounds by the number of inks
// (DotRange: 2 per ink; 16 is eight inks). Readers that copied the values into a buffer of that size overflowed on
// more (CVE-2010-0188, Adobe Reader's TIFF reader, reached through an XFA image field).
bool tiff_overlong_tag(ByteView tif) {
  if (tif.size() < 8) return false;
  const bool le = tif.data()[0] == 'I';
  auto u16 = [&](std::uint64_t at) -> std::optional<std::uint16_t> {
    const auto v = tif.u16(at);
    if (!v) return std::nullopt;
    return le ? *v : static_cast<std::uint16_t>((*v >> 8) | (*v << 8));
  };
  auto u32 = [&](std::uint64_t at) -> std::optional<std::uint32_t> {
    const auto v = tif.u32(at);
    if (!v) return std::nullopt;
    return le ? *v : __builtin_bswap32(*v);
  };
  const auto ifd = u32(4);
  if (!ifd) return false;
  const auto n = u16(*ifd);
  if (!n) return false;
  for (std::uint32_t k = 0; k < *n && k < 4096; ++k) {
    const std::uint64_t at = std::uint64_t{*ifd} + 2 + 12ull * k;
    const auto tag = u16(at);
    const auto count = u32(at + 4);
    if (!tag || !count) break;
    if ((*tag == 0x0141 && *count > 2) || (*tag == 0x0156 && *count > 6) || (*tag == 0x0150 && *count > 16)) return true;
  }
  return false;
}

// XFA image fields carry their image as base64 element text (`<ImageField1 xfa:contentType="image/tif">SUkqA...`).
// A TIFF there ("II*\0" is "SUkqA" in base64, "MM\0*" is "TU0AK") whose tags overrun their fixed counts is the
// CVE-2010-0188 exploit; a TIFF header written as a script's string literal is the same image assembled at run time.
void scan_xfa_images(ByteView body, JsExploit& x) {
  const std::uint8_t* b = body.data();
  const std::uint8_t* e = b + body.size();
  std::uint32_t seen = 0;
  for (auto magic : {std::string_view("SUkqA"), std::string_view("TU0AK")}) {
    for (const std::uint8_t* p = find(b, e, magic); p != nullptr && seen < 64; p = find(p + magic.size(), e, magic)) {
      ++seen;
      const std::uint8_t* q = p;
      while (q > b && q - p > -64 && is_ws(q[-1])) --q;
      if (q > b && (q[-1] == '\'' || q[-1] == '"')) {
        ++x.script_tiff;
        continue;
      }
      if (q == b || q[-1] != '>') continue;  // element text only
      std::string text;
      for (const std::uint8_t* r = p; r < e && text.size() < (1u << 20); ++r) {
        const std::uint8_t c = *r;
        if (is_ws(c)) continue;
        if (!(std::isalnum(c) || c == '+' || c == '/' || c == '=')) break;
        text += static_cast<char>(c);
      }
      while (!text.empty() && text.back() == '=') text.pop_back();
      if (text.size() % 4 == 1) text.pop_back();
      while (text.size() % 4 != 0) text += '=';
      const auto tif = base64_decode(text, 1u << 20);
      if (tif && tiff_overlong_tag(ByteView(tif->data(), tif->size()))) ++x.xfa_tiff_overlong;
    }
  }
}

class Lexer {
 public:
  Lexer(ByteView in, Document& doc, std::uint32_t depth, Shared& shared)
      : in_(in), doc_(doc), depth_(depth), shared_(shared), decoded_total_(shared.decoded_total),
        js_refs_(shared.js_refs) {}

  // An object stream's header: "num offset" pairs, offsets counted from /First. Objects found at those offsets take
  // those numbers, so that references into the stream resolve.
  void set_objstm_index(std::vector<std::pair<std::uint64_t, std::uint32_t>> index) { objstm_index_ = std::move(index); }

  void run() {
    const std::uint8_t* p = in_.data();
    const std::uint64_t n = in_.size();
    std::uint64_t i = 0;
    // One forward pass: a file padded to hundreds of MB must not become resident as a whole.
    ForwardRelease release(p);
    while (i < n) {
      const std::uint8_t c = p[i];
      release.behind(i);
      if (is_ws(c)) {
        ++i;
        continue;
      }
      switch (c) {
        case '%': {
          if (depth_ == 0 && in_.starts_with("%%EOF", i)) {
            ++doc_.eof_markers;
            doc_.last_eof_offset = i + 5;
          }
          while (i < n && p[i] != '\r' && p[i] != '\n') ++i;
          continue;
        }
        case '/':
          i = name(i + 1);
          continue;
        case '(':
          i = literal_string(i);
          continue;
        case '<':
          if (i + 1 < n && p[i + 1] == '<') {
            open_dict(i);
            i += 2;
            continue;
          }
          i = hex_string(i);
          continue;
        case '>':
          if (i + 1 < n && p[i + 1] == '>') {
            close_dict();
            i += 2;
          } else {
            ++i;
          }
          pending_ = Pending::none;
          continue;
        case '[':
          if (pending_ == Pending::filter) in_filter_array_ = true;
          if (pending_ == Pending::rect || pending_ == Pending::mediabox) {
            in_box_ = true;
            box_kind_ = pending_;
            box_n_ = 0;
          }
          ++i;
          continue;
        case ']':
          if (in_box_) close_box();
          in_filter_array_ = false;
          pending_ = Pending::none;
          ++i;
          continue;
        case ')':
        case '{':
        case '}':
          ++i;
          continue;
        default:
          i = word(i);
      }
    }
    finish_object();
  }

 private:
  bool in_open_context() const { return open_dict_depth_ != 0 && dict_depth_ >= open_dict_depth_; }

  void open_dict(std::uint64_t at) {
    if (dict_depth_ < 0xFFFFFFF0u) ++dict_depth_;
    // Inside an object stream every top-level dictionary is an object of its own.
    if (depth_ > 0 && dict_depth_ == 1) {
      finish_object();
      obj_ = ObjState{};
      obj_.open = true;
      obj_.num = objstm_number(at);
    }
    if (pending_ == Pending::openaction || (pending_ == Pending::aa_value && aa_key_open_)) {
      if (open_dict_depth_ == 0) open_dict_depth_ = dict_depth_;
    } else if (pending_ == Pending::aa) {
      if (aa_dict_depth_ == 0) aa_dict_depth_ = dict_depth_;
    }
    if (pending_ == Pending::openaction || pending_ == Pending::aa || pending_ == Pending::aa_value ||
        pending_ == Pending::a)
      pending_ = Pending::none;
  }

  void close_dict() {
    if (dict_depth_ == 0) return;
    if (dict_depth_ == open_dict_depth_) open_dict_depth_ = 0;
    if (dict_depth_ == aa_dict_depth_) aa_dict_depth_ = 0;
    --dict_depth_;
    if (depth_ > 0 && dict_depth_ == 0) finish_object();
  }

  void reset_dicts() {
    dict_depth_ = open_dict_depth_ = aa_dict_depth_ = 0;
    aa_key_open_ = false;
    in_box_ = false;
  }

  std::uint32_t objstm_number(std::uint64_t at) const {
    // The entry with the largest offset at or before `at` (the index is sorted by offset).
    auto it = std::upper_bound(objstm_index_.begin(), objstm_index_.end(), at,
                               [](std::uint64_t v, const std::pair<std::uint64_t, std::uint32_t>& e) { return v < e.first; });
    if (it == objstm_index_.begin()) return 0;
    return std::prev(it)->second;
  }

  void close_box() {
    in_box_ = false;
    if (box_n_ != 4) return;
    const double w = std::fabs(box_[2] - box_[0]), h = std::fabs(box_[3] - box_[1]);
    double area = w * h;
    if (!std::isfinite(area) || area > 1e12) area = 1e12;
    if (box_kind_ == Pending::rect) obj_.rect_area = area;
    else if (box_kind_ == Pending::mediabox) doc_.shape.page_area = std::max(doc_.shape.page_area, area);
  }

  void scan_js(ByteView code) {
    if (shared_.js_scanned >= limits::max_js_scan_total) return;
    const ByteView part = code.clamp(0, std::min(limits::max_js_scan, limits::max_js_scan_total - shared_.js_scanned));
    shared_.js_scanned += part.size();
    scan_javascript(part, doc_.js);
  }

  void scan_exploit_shapes(ByteView code) {
    if (shared_.exploit_scanned >= limits::max_exploit_scan_total) return;
    const ByteView part =
        code.clamp(0, std::min(limits::max_exploit_scan, limits::max_exploit_scan_total - shared_.exploit_scanned));
    shared_.exploit_scanned += part.size();
    scan_exploit(part, doc_.exploit);
  }

  // Text (Tj, TJ) and drawing (Do) operators of a content stream: how much a reader shows as text versus images.
  void scan_content(ByteView c) {
    if (shared_.content_scanned >= limits::max_content_scan_total) return;
    const ByteView part =
        c.clamp(0, std::min(limits::max_content_scan, limits::max_content_scan_total - shared_.content_scanned));
    shared_.content_scanned += part.size();
    ++doc_.shape.content_streams;
    const std::uint8_t* b = part.data();
    const std::uint64_t n = part.size();
    for (std::uint64_t k = 0; k + 1 < n; ++k) {
      const std::uint8_t x = b[k], y = b[k + 1];
      const bool text = x == 'T' && (y == 'j' || y == 'J');
      const bool draw = x == 'D' && y == 'o';
      if (!text && !draw) continue;
      const bool before = k == 0 || is_ws(b[k - 1]) || b[k - 1] == ')' || b[k - 1] == ']' || b[k - 1] == '>';
      const bool after = k + 2 >= n || is_ws(b[k + 2]) || is_delim(b[k + 2]);
      if (!before || !after) continue;
      if (text) ++doc_.shape.text_ops;
      else ++doc_.shape.draw_ops;
      ++k;
    }
  }

  void count(Key k, bool obfuscated) {
    ++doc_.counts[static_cast<std::size_t>(k)];
    if (obfuscated) {
      ++doc_.obfuscated[static_cast<std::size_t>(k)];
      doc_.add(Anomaly::name_obfuscated, static_cast<std::uint64_t>(k));
    }
  }

  void push_list(std::vector<std::string>& list, std::string s) {
    if (list.size() >= limits::max_list) {
      if (!doc_.has(Anomaly::list_truncated_by_limit)) doc_.add(Anomaly::list_truncated_by_limit, 0);
      return;
    }
    if (s.size() > limits::max_string) s.resize(limits::max_string);
    list.push_back(std::move(s));
  }

  std::uint64_t name(std::uint64_t i) {
    const std::uint8_t* p = in_.data();
    const std::uint64_t n = in_.size();
    char buf[limits::max_name];
    std::size_t len = 0;
    bool escaped = false, overlong = false;
    while (i < n && !is_ws(p[i]) && !is_delim(p[i])) {
      std::uint8_t c = p[i];
      if (c == '#' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
        c = static_cast<std::uint8_t>(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
        escaped = true;
        i += 3;
      } else {
        ++i;
      }
      if (len < sizeof buf) buf[len++] = static_cast<char>(c);
      else overlong = true;
    }
    if (escaped) ++doc_.stats.names_obfuscated;
    const std::string_view nm = overlong ? std::string_view() : std::string_view(buf, len);
    on_name(nm, escaped);
    return i;
  }

  void on_name(std::string_view nm, bool escaped) {
    // Keyword counts: every occurrence, whatever its role.
    static constexpr std::pair<std::string_view, Key> kNames[] = {
        {"Page", Key::page},           {"Encrypt", Key::encrypt},       {"ObjStm", Key::objstm},
        {"JS", Key::js},               {"JavaScript", Key::javascript}, {"AA", Key::aa},
        {"OpenAction", Key::openaction}, {"AcroForm", Key::acroform},   {"JBIG2Decode", Key::jbig2decode},
        {"RichMedia", Key::richmedia}, {"Launch", Key::launch},         {"EmbeddedFile", Key::embeddedfile},
        {"XFA", Key::xfa},             {"URI", Key::uri},               {"SubmitForm", Key::submitform},
        {"GoToR", Key::gotor}};
    for (const auto& [s, k] : kNames) {
      if (nm == s) {
        count(k, escaped);
        break;
      }
    }
    // The keys of an /AA dictionary are triggers: /O, /PO and /PV run when a page opens or shows; the others wait for
    // the reader (form field keystrokes, mouse, closing).
    if (aa_dict_depth_ != 0 && dict_depth_ == aa_dict_depth_) {
      aa_key_open_ = nm == "O" || nm == "PO" || nm == "PV";
      pending_ = Pending::aa_value;
      in_filter_array_ = false;
      nums_ = 0;
      return;
    }
    // Values.
    switch (pending_) {
      case Pending::type:
        obj_.type = std::string(nm);
        pending_ = Pending::none;
        if (nm == "Filespec") obj_.filespec = true;
        return;
      case Pending::subtype:
        obj_.subtype = std::string(nm);
        pending_ = Pending::none;
        if (nm == "Link") {
          obj_.is_link = true;
          ++doc_.shape.link_annots;
        } else if (nm == "Widget") {
          ++doc_.shape.widgets;
        } else if (nm == "Image") {
          ++doc_.shape.images;
        }
        return;
      case Pending::filter:
        if (obj_.filters.size() < 8) obj_.filters.emplace_back(nm);
        if (!in_filter_array_) pending_ = Pending::none;
        return;
      case Pending::s: {
        pending_ = Pending::none;
        if (nm == "Launch") obj_.launch = true;
        const std::uint8_t bit = action_bit(nm);
        obj_.actions |= bit;
        if (bit != 0 && in_open_context()) count_open(bit);
        return;
      }
      default:
        break;
    }
    if (nm == "Launch") obj_.launch = true;
    if (nm == "EF") obj_.ef = true;
    pending_ = nm == "URI" ? Pending::uri
               : nm == "F" ? Pending::f
               : nm == "UF" ? Pending::uf
               : nm == "P" ? Pending::p
               : nm == "JS" ? Pending::js
               : nm == "Length" ? Pending::length
               : nm == "Colors" ? Pending::colors
               : nm == "Type" ? Pending::type
               : nm == "Subtype" ? Pending::subtype
               : nm == "Filter" ? Pending::filter
               : nm == "S" ? Pending::s
               : nm == "Rect" ? Pending::rect
               : nm == "MediaBox" ? Pending::mediabox
               : nm == "A" ? Pending::a
               : nm == "First" ? Pending::first
               : nm == "OpenAction" ? Pending::openaction
               : nm == "AA" ? Pending::aa
                           : Pending::none;
    in_filter_array_ = false;
    nums_ = 0;
  }

  void on_string(std::string s) {
    switch (pending_) {
      case Pending::uri:
        push_list(doc_.uris, std::move(s));
        break;
      case Pending::f:
        if (obj_.launch_f.empty()) obj_.launch_f = s.substr(0, limits::max_string);
        if (obj_.file_f.empty()) obj_.file_f = std::move(s);
        break;
      case Pending::uf:
        if (obj_.file_uf.empty()) obj_.file_uf = s.substr(0, limits::max_string);
        break;
      case Pending::p:
        if (obj_.launch_p.empty()) obj_.launch_p = s.substr(0, limits::max_string);
        break;
      case Pending::js: {
        // The string was kept up to limits::max_exploit_scan bytes for the exploit scan; the traits (model features)
        // see its first limits::max_string bytes, as they always did.
        const ByteView all(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
        scan_js(all.clamp(0, limits::max_string));
        scan_exploit_shapes(all);
        push_list(doc_.javascript, std::move(s));
        break;
      }
        break;
      default:
        break;
    }
    pending_ = Pending::none;
  }

  std::uint64_t literal_string(std::uint64_t start) {
    const std::uint8_t* p = in_.data();
    const std::uint64_t n = in_.size();
    const bool keep = pending_ == Pending::uri || pending_ == Pending::f || pending_ == Pending::uf ||
                      pending_ == Pending::p || pending_ == Pending::js;
    const std::uint64_t cap = pending_ == Pending::js ? limits::max_exploit_scan : limits::max_string;
    std::string s;
    int nest = 1;
    std::uint64_t i = start + 1;
    while (i < n) {
      std::uint8_t c = p[i++];
      if (c == '\\') {
        if (i >= n) break;
        const std::uint8_t e = p[i++];
        if (!keep) continue;
        switch (e) {
          case 'n': c = '\n'; break;
          case 'r': c = '\r'; break;
          case 't': c = '\t'; break;
          case 'b': c = '\b'; break;
          case 'f': c = '\f'; break;
          case '\r':
            if (i < n && p[i] == '\n') ++i;
            continue;
          case '\n': continue;
          default:
            if (e >= '0' && e <= '7') {
              int v = e - '0';
              for (int k = 0; k < 2 && i < n && p[i] >= '0' && p[i] <= '7'; ++k) v = v * 8 + (p[i++] - '0');
              c = static_cast<std::uint8_t>(v);
            } else {
              c = e;
            }
        }
        if (s.size() < cap) s += static_cast<char>(c);
        continue;
      }
      if (c == '(') ++nest;
      if (c == ')' && --nest == 0) {
        if (keep) on_string(std::move(s));
        else pending_ = Pending::none;
        return i;
      }
      if (keep && s.size() < cap) s += static_cast<char>(c);
    }
    // No closing parenthesis: take the '(' as a stray byte and go on lexing after it.
    if (!doc_.has(Anomaly::string_unterminated)) doc_.add(Anomaly::string_unterminated, start);
    pending_ = Pending::none;
    return start + 1;
  }

  std::uint64_t hex_string(std::uint64_t start) {
    const std::uint8_t* p = in_.data();
    const std::uint64_t n = in_.size();
    const std::uint64_t cap = pending_ == Pending::js ? limits::max_exploit_scan : limits::max_string;
    std::string s;
    int hi = -1;
    std::uint64_t i = start + 1;
    while (i < n && p[i] != '>') {
      const int v = hexval(p[i]);
      if (v < 0 && !is_ws(p[i])) return start + 1;  // not a hex string: a stray '<'
      if (v >= 0) {
        if (hi < 0) {
          hi = v;
        } else {
          if (s.size() < cap) s += static_cast<char>(hi * 16 + v);
          hi = -1;
        }
      }
      ++i;
    }
    if (i >= n) {
      if (!doc_.has(Anomaly::string_unterminated)) doc_.add(Anomaly::string_unterminated, start);
      return start + 1;
    }
    if (hi >= 0 && s.size() < cap) s += static_cast<char>(hi * 16);
    on_string(std::move(s));
    return i + 1;
  }

  std::uint64_t word(std::uint64_t start) {
    const std::uint8_t* p = in_.data();
    const std::uint64_t n = in_.size();
    std::uint64_t i = start;
    while (i < n && !is_ws(p[i]) && !is_delim(p[i])) ++i;
    const std::string_view w(reinterpret_cast<const char*>(p + start), static_cast<std::size_t>(i - start));
    if (w.empty()) return i + 1;
    if (in_box_) {
      double v = 0;
      if (parse_real(w, v)) {
        if (box_n_ < 4) box_[box_n_] = v;
        ++box_n_;
        return i;
      }
      in_box_ = false;  // not a rectangle after all
    }
    // Integers feed "N G obj", "N G R", /Length N and /Colors N.
    bool integer = true;
    std::int64_t v = 0;
    for (std::size_t k = (w[0] == '+' || w[0] == '-') ? 1 : 0; k < w.size(); ++k) {
      if (w[k] < '0' || w[k] > '9') {
        integer = false;
        break;
      }
      if (v < (std::int64_t{1} << 50)) v = v * 10 + (w[k] - '0');
    }
    if (integer && w.size() > ((w[0] == '+' || w[0] == '-') ? 1u : 0u)) {
      if (w[0] == '-') v = -v;
      if (pending_ == Pending::length) {
        obj_.length = v;
        length_set_at_ = nums_ + 1;
      }
      if (pending_ == Pending::colors && v > (std::int64_t{1} << 24)) count(Key::colors_gt_2_24, false);
      if (pending_ == Pending::first) obj_.first = v;
      // Keys whose value may be a reference "N G R" keep waiting for the R.
      if (pending_ != Pending::filter && pending_ != Pending::js && pending_ != Pending::a &&
          pending_ != Pending::openaction && pending_ != Pending::aa_value)
        pending_ = Pending::none;
      num2_ = num1_;
      num1_ = v;
      ++nums_;
      return i;
    }
    if (w == "obj") {
      count(Key::obj, false);
      finish_object();
      reset_dicts();
      obj_ = ObjState{};
      obj_.open = true;
      obj_.num = nums_ >= 2 && num2_ >= 0 ? static_cast<std::uint32_t>(std::min<std::int64_t>(num2_, 0xFFFFFFFF)) : 0;
    } else if (w == "endobj") {
      count(Key::endobj, false);
      finish_object();
      reset_dicts();
    } else if (w == "stream") {
      count(Key::stream, false);
      i = stream(i);
    } else if (w == "endstream") {
      count(Key::endstream, false);
    } else if (w == "xref") {
      count(Key::xref, false);
    } else if (w == "trailer") {
      count(Key::trailer, false);
    } else if (w == "startxref") {
      count(Key::startxref, false);
    } else if (w == "R") {
      // "/Length 12 0 R": the length is in another object; fall back to finding endstream.
      if (nums_ >= 2 && length_set_at_ == nums_ - 1) obj_.length = -1;
      if (pending_ == Pending::js && nums_ >= 2 && num2_ >= 0 && js_refs_.size() < 4096)
        js_refs_.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(num2_, 0xFFFFFFFF)));
      if (nums_ >= 2 && num2_ > 0) {
        const auto ref = static_cast<std::uint32_t>(std::min<std::int64_t>(num2_, 0xFFFFFFFF));
        if (pending_ == Pending::a) obj_.a_ref = ref;
        if ((pending_ == Pending::openaction || (pending_ == Pending::aa_value && aa_key_open_)) &&
            shared_.open_refs.size() < limits::max_refs)
          shared_.open_refs.push_back(ref);
      }
    }
    pending_ = Pending::none;
    nums_ = 0;
    return i;
  }

  void count_open(std::uint8_t mask) { count_open_into(doc_.shape, mask); }

 public:
  static void count_open_into(Shape& sh, std::uint8_t mask) {
    if (mask & act_uri) ++sh.open_uri;
    if (mask & act_js) ++sh.open_javascript;
    if (mask & act_launch) ++sh.open_launch;
    if (mask & act_submit) ++sh.open_submit;
    if (mask & act_other) ++sh.open_other;
  }

 private:
  void finish_object() {
    if (!obj_.open) return;
    obj_.open = false;
    if (obj_.actions != 0 && obj_.num != 0 && shared_.actions.size() < limits::max_actions)
      shared_.actions.emplace_back(obj_.num, obj_.actions);
    if (obj_.is_link && shared_.links.size() < limits::max_links)
      shared_.links.push_back(LinkRec{obj_.rect_area, obj_.a_ref, (obj_.actions & act_uri) != 0});
    if ((obj_.actions & act_submit) && web_url(obj_.file_f)) ++doc_.shape.submit_web;
    if (obj_.launch && (!obj_.launch_f.empty() || !obj_.launch_p.empty())) {
      std::string cmd = obj_.launch_f;
      if (!obj_.launch_p.empty()) cmd += (cmd.empty() ? "" : " ") + obj_.launch_p;
      push_list(doc_.launches, std::move(cmd));
    }
    if (obj_.filespec || obj_.ef) {
      if (!obj_.file_uf.empty()) push_list(doc_.file_names, obj_.file_uf);
      else if (!obj_.file_f.empty()) push_list(doc_.file_names, obj_.file_f);
    }
  }

  std::uint64_t stream(std::uint64_t i) {
    const std::uint8_t* p = in_.data();
    const std::uint64_t n = in_.size();
    ++doc_.stats.streams;
    std::uint64_t start = i;
    if (start < n && p[start] == '\r') ++start;
    if (start < n && p[start] == '\n') ++start;
    std::uint64_t end = 0;
    bool found = false;
    if (obj_.length >= 0 && static_cast<std::uint64_t>(obj_.length) <= n - start) {
      std::uint64_t k = start + static_cast<std::uint64_t>(obj_.length);
      while (k < n && is_ws(p[k])) ++k;
      if (in_.starts_with("endstream", k)) {
        end = start + static_cast<std::uint64_t>(obj_.length);
        found = true;
      }
    }
    if (!found) {
      const std::uint8_t* e = find(p + start, p + n, "endstream");
      if (e == nullptr) {
        doc_.add(Anomaly::stream_unterminated, i);
        return i;  // lex on from the keyword; there is no stream body we can bound
      }
      if (obj_.length >= 0) doc_.add(Anomaly::stream_length_mismatch, obj_.num);
      end = static_cast<std::uint64_t>(e - p);
      if (end > start && p[end - 1] == '\n') --end;
      if (end > start && p[end - 1] == '\r') --end;
    }
    handle_stream(in_.clamp(start, end - start));
    return end;
  }

  bool wanted() const {
    if (obj_.type == "ObjStm" || obj_.type == "EmbeddedFile") return true;
    if (obj_.subtype == "Image" || obj_.type == "XRef" || obj_.type == "Metadata" || obj_.type == "XObject") return false;
    return true;
  }

  void handle_stream(ByteView raw) {
    if (!wanted()) return;
    if (doc_.stats.streams_decoded >= limits::max_streams_decoded) {
      if (!doc_.has(Anomaly::streams_truncated_by_limit)) doc_.add(Anomaly::streams_truncated_by_limit, 0);
      return;
    }
    // Apply the filters we know, in order; stop at the first one we do not.
    std::vector<std::uint8_t> buf;
    ByteView cur = raw;
    bool decoded = false, complete = true, supported = true;
    for (const auto& f : obj_.filters) {
      std::vector<std::uint8_t> next;
      const std::uint64_t room = std::min(limits::max_stream_decoded,
                                          limits::max_total_decoded - std::min(limits::max_total_decoded, decoded_total_));
      if (room == 0) {
        doc_.add(Anomaly::stream_decode_truncated_by_limit, obj_.num);
        return;
      }
      if (f == "FlateDecode" || f == "Fl") {
        bool ok = false;
        next = flate_decode(cur, room, ok);
        if (!ok) {
          complete = false;
          ++doc_.stats.decode_errors;
          if (next.size() >= room) doc_.add(Anomaly::stream_decode_truncated_by_limit, obj_.num);
          else doc_.add(Anomaly::stream_decode_error, obj_.num);
        }
      } else if (f == "ASCIIHexDecode" || f == "AHx") {
        next = ahx_decode(cur, room);
      } else {
        supported = false;
        break;
      }
      decoded = true;
      decoded_total_ += next.size();
      buf = std::move(next);
      cur = ByteView(buf.data(), buf.size());
    }
    if (!supported) {
      ++doc_.stats.undecoded_filters;
      if (obj_.type == "ObjStm" || obj_.type == "EmbeddedFile") doc_.add(Anomaly::unsupported_filter, obj_.num);
    }
    if (decoded) {
      ++doc_.stats.streams_decoded;
      doc_.stats.decoded_bytes += cur.size();
    }
    if (obj_.type == "EmbeddedFile") {
      if (doc_.embedded_files.size() >= limits::max_embedded_files) {
        doc_.add(Anomaly::embedded_truncated_by_limit, obj_.num);
      } else {
        EmbeddedFile ef;
        ef.object = obj_.num;
        const ByteView keep = cur.clamp(0, limits::max_embedded_size);
        ef.bytes.assign(keep.data(), keep.data() + keep.size());
        ef.decoded = decoded;
        ef.complete = complete && supported && keep.size() == cur.size();
        doc_.embedded_files.push_back(std::move(ef));
      }
      // XFA packets are sometimes stored as embedded-file streams; their scripts run like any other. An embedded web
      // page is a file the reader does not run: only a script inside an XFA template counts.
      const ByteView head = cur.clamp(0, 1u << 20);
      const std::uint8_t *hb = head.data(), *he = hb + head.size();
      if (supported && find(hb, he, "<script") != nullptr && find(hb, he, "<template") != nullptr)
        scan_exploit_shapes(cur);
      if (supported) scan_xfa_images(cur, doc_.exploit);
      return;
    }
    if (!supported) return;
    if (obj_.type == "ObjStm") {
      if (depth_ < limits::max_objstm_depth) {
        ++doc_.stats.objstm_decoded;
        const ObjState saved = obj_;
        Lexer sub(cur, doc_, depth_ + 1, shared_);
        sub.set_objstm_index(objstm_index(cur, obj_.first));
        sub.run();
        obj_ = saved;
      }
      return;
    }
    scan_xfa_images(cur, doc_.exploit);
    // JavaScript: a stream named by /JS, or one whose text carries two or more JavaScript markers.
    const ByteView head = cur.clamp(0, 1u << 20);
    const std::uint8_t* b = head.data();
    const std::uint8_t* e = b + head.size();
    int markers = 0;
    for (auto m : kJsMarkers)
      if (find(b, e, m) != nullptr && ++markers >= 2) break;
    const bool referenced = std::find(js_refs_.begin(), js_refs_.end(), obj_.num) != js_refs_.end();
    if (markers >= 2 || (referenced && !cur.empty())) {
      ++doc_.stats.js_streams;
      scan_js(cur);
      scan_exploit_shapes(cur);
      const ByteView snip = cur.clamp(0, limits::max_string);
      push_list(doc_.javascript, std::string(reinterpret_cast<const char*>(snip.data()), snip.size()));
      return;
    }
    if (depth_ == 0 && obj_.num != 0 && !cur.empty() && shared_.later.size() < limits::max_later_streams)
      shared_.later.push_back(LaterStream{obj_.num, static_cast<std::uint64_t>(raw.data() - in_.data()), raw.size(),
                                          obj_.filters});
    // An XFA packet whose script has too few of the markers above still runs: the exploit scan reads it.
    if (find(b, e, "<script") != nullptr && find(b, e, "<template") != nullptr) scan_exploit_shapes(cur);
    if (obj_.type.empty() && obj_.subtype.empty()) scan_content(cur);
  }

  // "num offset" pairs before /First, as (offset from the start of the decoded stream, number), sorted by offset.
  static std::vector<std::pair<std::uint64_t, std::uint32_t>> objstm_index(ByteView body, std::int64_t first) {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> idx;
    if (first <= 0 || static_cast<std::uint64_t>(first) > body.size()) return idx;
    const std::uint8_t* b = body.data();
    const std::uint64_t end = static_cast<std::uint64_t>(first);
    std::uint64_t k = 0, vals[2] = {0, 0};
    int have = 0;
    while (k < end && idx.size() < limits::max_objstm_objects) {
      while (k < end && is_ws(b[k])) ++k;
      if (k >= end || b[k] < '0' || b[k] > '9') break;
      std::uint64_t v = 0;
      while (k < end && b[k] >= '0' && b[k] <= '9') {
        if (v < (1ull << 40)) v = v * 10 + (b[k] - '0');
        ++k;
      }
      vals[have++] = v;
      if (have == 2) {
        if (vals[0] > 0 && vals[0] <= 0xFFFFFFFFu && vals[1] <= body.size() - end)
          idx.emplace_back(end + vals[1], static_cast<std::uint32_t>(vals[0]));
        have = 0;
      }
    }
    std::sort(idx.begin(), idx.end());
    return idx;
  }

  ByteView in_;
  Document& doc_;
  std::uint32_t depth_;
  Shared& shared_;
  std::uint64_t& decoded_total_;
  std::vector<std::uint32_t>& js_refs_;
  ObjState obj_;
  Pending pending_ = Pending::none;
  bool in_filter_array_ = false;
  // Dictionary nesting, and where an on-open action dictionary or an /AA dictionary started (0: none).
  std::uint32_t dict_depth_ = 0, open_dict_depth_ = 0, aa_dict_depth_ = 0;
  bool aa_key_open_ = false;
  // A /Rect or /MediaBox array being read.
  bool in_box_ = false;
  Pending box_kind_ = Pending::none;
  double box_[4] = {0, 0, 0, 0};
  std::uint32_t box_n_ = 0;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> objstm_index_;
  std::int64_t num1_ = -1, num2_ = -1;
  std::uint32_t nums_ = 0, length_set_at_ = 0;
};

}  // namespace

namespace {

// References are followed once the whole file is read: an /OpenAction or page-open /AA pointing at an action object,
// and a link annotation whose /A is an action object elsewhere (often in an object stream).
void resolve(Document& doc, Shared& sh) {
  std::sort(sh.actions.begin(), sh.actions.end());
  auto mask_of = [&](std::uint32_t num) {
    std::uint8_t m = 0;
    auto it = std::lower_bound(sh.actions.begin(), sh.actions.end(), std::make_pair(num, std::uint8_t{0}));
    for (; it != sh.actions.end() && it->first == num; ++it) m |= it->second;  // incremental updates redefine objects
    return m;
  };
  for (const std::uint32_t r : sh.open_refs) Lexer::count_open_into(doc.shape, mask_of(r));
  Shape& s = doc.shape;
  const double page = s.page_area > 0 ? s.page_area : 612.0 * 792.0;  // US Letter when no /MediaBox was read
  for (const LinkRec& l : sh.links) {
    const bool uri = l.uri || (l.a_ref != 0 && (mask_of(l.a_ref) & act_uri));
    if (!uri) continue;
    ++s.uri_links;
    if (l.area < 0) continue;
    const double f = std::min(1.0, l.area / page);
    s.max_uri_link_fraction = std::max(s.max_uri_link_fraction, f);
    if (f >= 0.25) ++s.big_uri_links;
  }
}

// Streams that a /JS named only after them: decoded a second time (silently: stats and anomalies were counted by
// the first pass) and read by the exploit scan alone, so the model's traits stay as the single forward pass made
// them. The decoded-bytes budget is the first pass's remainder.
void scan_later_streams(ByteView file, Document& doc, Shared& sh) {
  std::sort(sh.js_refs.begin(), sh.js_refs.end());
  for (const LaterStream& ls : sh.later) {
    if (!std::binary_search(sh.js_refs.begin(), sh.js_refs.end(), ls.num)) continue;
    if (sh.exploit_scanned >= limits::max_exploit_scan_total) break;
    if (ls.offset > file.size() || ls.size > file.size() - ls.offset) continue;
    std::vector<std::uint8_t> buf;
    ByteView cur = file.clamp(ls.offset, ls.size);
    bool ok = true;
    for (const auto& f : ls.filters) {
      const std::uint64_t room = std::min(limits::max_stream_decoded,
                                          limits::max_total_decoded - std::min(limits::max_total_decoded, sh.decoded_total));
      if (room == 0) {
        ok = false;
        break;
      }
      std::vector<std::uint8_t> next;
      if (f == "FlateDecode" || f == "Fl") {
        bool complete = false;
        next = flate_decode(cur, room, complete);
      } else {
        next = ahx_decode(cur, room);
      }
      sh.decoded_total += next.size();
      buf = std::move(next);
      cur = ByteView(buf.data(), buf.size());
    }
    if (!ok || cur.empty()) continue;
    const ByteView part = cur.clamp(0, std::min(limits::max_exploit_scan, limits::max_exploit_scan_total - sh.exploit_scanned));
    sh.exploit_scanned += part.size();
    scan_exploit(part, doc.exploit);
    ++doc.stats.js_streams_late;
  }
}

// Counts non-overlapping occurrences of `needle` in [b, e).
std::uint32_t occurrences(const std::uint8_t* b, const std::uint8_t* e, std::string_view needle) {
  std::uint32_t n = 0;
  for (const std::uint8_t* p = find(b, e, needle); p != nullptr; p = find(p + needle.size(), e, needle)) ++n;
  return n;
}

}  // namespace

void scan_javascript(ByteView code, JsTraits& t) noexcept {
  const ByteView c = code.clamp(0, limits::max_js_scan);
  const std::uint8_t* b = c.data();
  const std::uint8_t* e = b + c.size();
  const std::uint64_t n = c.size();
  t.bytes += n;
  t.eval += occurrences(b, e, "eval(") + occurrences(b, e, "eval (");
  t.unescape += occurrences(b, e, "unescape(");
  t.from_char_code += occurrences(b, e, "fromCharCode");
  t.timers += occurrences(b, e, "setTimeOut") + occurrences(b, e, "setInterval");
  t.annots += occurrences(b, e, "getAnnots") + occurrences(b, e, "syncAnnotScan");
  for (auto m : {"util.printf", "collectEmailInfo", "getIcon", "newPlayer", "customDictionaryOpen", "Collab.",
                 "printSeps", "getCosObj"})
    t.exploit_apis += occurrences(b, e, m);
  for (auto m : {"launchURL", "getURL", "submitForm", "openDoc", "exportDataObject", "mailDoc", "importDataObject"})
    t.navigation += occurrences(b, e, m);
  std::uint64_t run = 0;
  for (std::uint64_t k = 0; k < n; ++k) {
    const std::uint8_t x = b[k];
    if (x == '%' && k + 5 < n && (b[k + 1] == 'u' || b[k + 1] == 'U') && is_hex(b[k + 2]) && is_hex(b[k + 3]) &&
        is_hex(b[k + 4]) && is_hex(b[k + 5]))
      ++t.percent_u;
    if (x == '\\' && k + 3 < n && b[k + 1] == 'x' && is_hex(b[k + 2]) && is_hex(b[k + 3])) ++t.hex_escapes;
    if (is_hex(x)) {
      if (++run == 64) ++t.hex_runs;
    } else {
      run = 0;
    }
  }
  // String literals: from a quote to the same quote, backslash escapes skipped; an unclosed one runs to the end.
  for (std::uint64_t k = 0; k < n; ++k) {
    const std::uint8_t q = b[k];
    if (q != '"' && q != '\'') continue;
    std::uint64_t j = k + 1;
    while (j < n && b[j] != q && b[j] != '\n') j += (b[j] == '\\') ? 2 : 1;
    const std::uint64_t len = std::min<std::uint64_t>(j, n) - (k + 1);
    t.longest_string = std::max<std::uint32_t>(t.longest_string, static_cast<std::uint32_t>(std::min<std::uint64_t>(len, 0xFFFFFFFFu)));
    k = j;
  }
}

namespace {

bool ident_char(std::uint8_t c) { return std::isalnum(c) != 0 || c == '_' || c == '$'; }
// Letters, digits and '_': what a separator of a character-code list is not ('$' separates them as often as ',').
bool word_char(std::uint8_t c) { return std::isalnum(c) != 0 || c == '_'; }

// Code points a form may legitimately repeat many times in escaped text: Latin-1 (spaces, dashes, dots), general
// punctuation through box drawing and geometric shapes, CJK symbols and punctuation (ideographic space, brackets),
// the katakana middle dot and prolonged sound mark, CJK compatibility forms, full- and half-width forms.
bool filler_unit(std::uint32_t u) {
  return u <= 0xFF || (u >= 0x2000 && u <= 0x2BFF) || (u >= 0x3000 && u <= 0x303F) || u == 0x30FB || u == 0x30FC ||
         (u >= 0xFE30 && u <= 0xFE4F) || (u >= 0xFF00 && u <= 0xFFEF);
}
// Bytes a form may repeat in \xXX / %XX text: printable ASCII and whitespace.
bool filler_byte(std::uint32_t b) { return (b >= 0x09 && b <= 0x0D) || (b >= 0x20 && b <= 0x7E); }

// Follows one sequence of adjacent escapes (each starting where the previous one ended) and the longest run of a
// repeated unit in what they decode to: period 1 or 2 for 16-bit %u units, 1, 2 or 4 for bytes.
class SledTracker {
 public:
  explicit SledTracker(std::uint32_t& longest) : longest_(longest) {}

  // An escape of `width` (2: %uXXXX, 1: \xXX or %XX) decoding to `v`, spanning [at, end).
  void push(int width, std::uint32_t v, std::uint64_t at, std::uint64_t end) {
    if (width != width_ || at != next_) {
      width_ = width;
      n_ = 0;
      run_[0] = run_[1] = run_[2] = 0;
    }
    next_ = end;
    static constexpr std::uint32_t kPeriods[3] = {1, 2, 4};
    const int periods = width == 2 ? 2 : 3;
    for (int k = 0; k < periods; ++k) {
      const std::uint32_t p = kPeriods[k];
      if (n_ < p || hist_[(n_ - p) % 4] != v) {
        run_[k] = 0;
        continue;
      }
      ++run_[k];
      // The repeated unit: v and the p - 1 values before it. Filler text is not a sled.
      bool filler = width == 2 ? filler_unit(v) : filler_byte(v);
      for (std::uint32_t q = 1; q < p && filler; ++q) {
        const std::uint32_t u = hist_[(n_ - q) % 4];
        filler = width == 2 ? filler_unit(u) : filler_byte(u);
      }
      if (filler) continue;
      const std::uint64_t bytes = (static_cast<std::uint64_t>(run_[k]) + p) * static_cast<std::uint64_t>(width);
      const auto capped = static_cast<std::uint32_t>(std::min<std::uint64_t>(bytes, 0xFFFFFFFFu));
      longest_ = std::max(longest_, capped);
    }
    hist_[n_ % 4] = v;
    ++n_;
  }

 private:
  std::uint32_t& longest_;
  int width_ = 0;
  std::uint64_t next_ = ~std::uint64_t{0};
  std::uint32_t hist_[4] = {0, 0, 0, 0};
  std::uint32_t n_ = 0;
  std::uint32_t run_[3] = {0, 0, 0};
};

// The identifier that ends at `end` (spaces skipped backwards), as [start, end); empty when there is none or it is a
// property (`a.b`) or a number.
std::string_view ident_before(const std::uint8_t* b, std::uint64_t end, std::uint64_t& start) {
  while (end > 0 && (b[end - 1] == ' ' || b[end - 1] == '\t')) --end;
  std::uint64_t s = end;
  while (s > 0 && ident_char(b[s - 1]) && end - s < 256) --s;
  start = s;
  if (s == end || std::isdigit(b[s]) || (s > 0 && (b[s - 1] == '.' || ident_char(b[s - 1]))))
    return {};
  return {reinterpret_cast<const char*>(b + s), static_cast<std::size_t>(end - s)};
}

// The identifier that starts at `at` (spaces skipped); empty when it is called, indexed or a property owner.
std::string_view ident_after(const std::uint8_t* b, std::uint64_t n, std::uint64_t at) {
  while (at < n && (b[at] == ' ' || b[at] == '\t')) ++at;
  std::uint64_t e = at;
  while (e < n && ident_char(b[e]) && e - at < 256) ++e;
  if (e == at || std::isdigit(b[at])) return {};
  std::uint64_t k = e;
  while (k < n && (b[k] == ' ' || b[k] == '\t')) ++k;
  if (k < n && (b[k] == '(' || b[k] == '.' || b[k] == '[' || ident_char(b[k]))) return {};
  return {reinterpret_cast<const char*>(b + at), static_cast<std::size_t>(e - at)};
}

// Past spaces, line breaks and /* */ comments.
const std::uint8_t* skip_space_and_comments(const std::uint8_t* q, const std::uint8_t* e) {
  for (int guard = 0; q < e && guard < 64; ++guard) {
    while (q < e && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')) ++q;
    if (e - q >= 2 && q[0] == '/' && q[1] == '*') {
      const std::uint8_t* end = find(q + 2, e, "*/");
      q = end == nullptr ? e : end + 2;
      continue;
    }
    break;
  }
  return q;
}

// The longest run of 1-3 digit numbers joined by one repeated separator ("118$97$114", "10.118.97", "63,0,0"):
// character codes spelled out for String.fromCharCode.
std::uint32_t longest_code_list(const std::uint8_t* b, std::uint64_t n) {
  std::uint32_t best = 0, run = 0;
  std::uint8_t sep = 0;
  std::uint64_t k = 0;
  while (k < n) {
    if (!std::isdigit(b[k])) {
      ++k;
      continue;
    }
    std::uint64_t j = k;
    while (j < n && std::isdigit(b[j]) && j - k < 4) ++j;
    const bool number = j - k <= 3 && (j >= n || !std::isdigit(b[j])) && (k == 0 || !word_char(b[k - 1]));
    if (!number) {
      run = 0;
      while (j < n && std::isdigit(b[j])) ++j;
      k = j;
      continue;
    }
    ++run;
    best = std::max(best, run);
    // The separator after this number must be the one before it for the list to go on.
    if (j + 1 < n && !word_char(b[j]) && std::isdigit(b[j + 1]) && (run == 1 || b[j] == sep)) {
      sep = b[j];
      k = j + 1;
      continue;
    }
    run = 0;
    k = j;
  }
  return best;
}

}  // namespace

void scan_exploit(ByteView code, JsExploit& x) noexcept {
  const ByteView c = code.clamp(0, limits::max_exploit_scan);
  const std::uint8_t* b = c.data();
  const std::uint8_t* e = b + c.size();
  const std::uint64_t n = c.size();
  x.bytes += n;
  x.unescape += occurrences(b, e, "unescape");
  x.exploit_calls += occurrences(b, e, "Collab.getIcon") + occurrences(b, e, "collectEmailInfo") +
                     occurrences(b, e, "customDictionaryOpen");
  // media.newPlayer(null): the argument that crashed the reader, not a real player.
  for (const std::uint8_t* p = find(b, e, "newPlayer"); p != nullptr; p = find(p + 9, e, "newPlayer")) {
    const std::uint8_t* q = p + 9;
    while (q < e && (*q == ' ' || *q == '\t')) ++q;
    if (q < e && *q == '(') ++q;
    else continue;
    while (q < e && (*q == ' ' || *q == '\t')) ++q;
    if (e - q >= 4 && std::memcmp(q, "null", 4) == 0) ++x.null_player;
  }
  const bool annots = find(b, e, "getAnnot") != nullptr || find(b, e, "syncAnnotScan") != nullptr;
  if (annots) x.annot_subject += occurrences(b, e, ".subject");
  x.from_char_code += occurrences(b, e, "fromCharCode");
  for (auto m : {"this.creator", "this.author", "this.title", "this.keywords", "this.producer", "this.subject",
                 "this.info"})
    x.metadata_read += occurrences(b, e, m);
  for (auto word : {std::string_view("eval"), std::string_view("unescape")}) {
    for (const std::uint8_t* p = find(b, e, word); p != nullptr; p = find(p + word.size(), e, word)) {
      if (p > b && (ident_char(p[-1]) || p[-1] == '.')) continue;
      const std::uint8_t* q = skip_space_and_comments(p + word.size(), e);
      if (q < e && ident_char(*q)) continue;
      if (q < e && *q == '(') {
        if (word == "eval") ++x.eval_calls;
        continue;
      }
      if (q < e && (*q == ';' || *q == ',' || *q == ')' || *q == '}' || *q == '\n' || *q == '\r')) ++x.eval_value;
    }
  }
  for (auto owner : {std::string_view("app["), std::string_view("this["), std::string_view("doc[")}) {
    for (const std::uint8_t* p = find(b, e, owner); p != nullptr; p = find(p + owner.size(), e, owner)) {
      if (p > b && (ident_char(p[-1]) || p[-1] == '.')) continue;
      const std::uint8_t* q = p + owner.size();
      int depth = 1;
      while (q < e && depth > 0 && q - p < 256) {
        if (*q == '[') ++depth;
        else if (*q == ']') --depth;
        ++q;
      }
      if (depth != 0) continue;
      q = skip_space_and_comments(q, e);
      if (q < e && *q == '(') ++x.computed_call;
    }
  }
  // Any owner indexed by a name built from string pieces and called: obj['ev' + x + 'l'](...).
  for (const std::uint8_t* p = find(b, e, "["); p != nullptr; p = find(p + 1, e, "[")) {
    if (p == b || !(ident_char(p[-1]) || p[-1] == ' ' || p[-1] == ')' || p[-1] == ']')) continue;
    const std::uint8_t* q = p + 1;
    int depth = 1;
    bool quote = false, plus = false;
    while (q < e && depth > 0 && q - p < 256) {
      if (*q == '[') ++depth;
      else if (*q == ']') --depth;
      else if (*q == '"' || *q == '\'') quote = true;
      else if (*q == '+') plus = true;
      ++q;
    }
    if (depth != 0 || !quote || !plus) continue;
    const std::uint8_t* r = skip_space_and_comments(q, e);
    if (r < e && *r == '(') ++x.computed_call;
  }
  x.longest_code_list = std::max(x.longest_code_list, longest_code_list(b, n));
  // util.printf with a format field 1000 or more wide ("%45000f"): only where printf is called at all.
  const bool printf_called = find(b, e, "printf") != nullptr;
  SledTracker sled(x.longest_sled);
  for (std::uint64_t k = 0; k < n; ++k) {
    const std::uint8_t ch = b[k];
    if (ch == '%') {
      if (k + 5 < n && (b[k + 1] == 'u' || b[k + 1] == 'U') && is_hex(b[k + 2]) && is_hex(b[k + 3]) &&
          is_hex(b[k + 4]) && is_hex(b[k + 5])) {
        ++x.escapes;
        const auto v = static_cast<std::uint32_t>(hexval(b[k + 2]) << 12 | hexval(b[k + 3]) << 8 |
                                                  hexval(b[k + 4]) << 4 | hexval(b[k + 5]));
        sled.push(2, v, k, k + 6);
        k += 5;
        continue;
      }
      if (k + 2 < n && is_hex(b[k + 1]) && is_hex(b[k + 2])) {
        sled.push(1, static_cast<std::uint32_t>(hexval(b[k + 1]) * 16 + hexval(b[k + 2])), k, k + 3);
        // A format such as "%45000f" is also read below.
      }
      if (printf_called && k > 0 && (b[k - 1] == '"' || b[k - 1] == '\'')) {
        std::uint64_t j = k + 1, width = 0, digits = 0;
        while (j < n && std::isdigit(b[j]) && digits < 9) width = width * 10 + (b[j++] - '0'), ++digits;
        while (j < n && (std::isdigit(b[j]) || b[j] == '.') && j - k < 24) ++j;
        if (width >= 1000 && j < n && (b[j] == 'f' || b[j] == 'd' || b[j] == 's' || b[j] == 'x')) ++x.wide_printf;
      }
      continue;
    }
    if (ch == '\\' && k + 3 < n && b[k + 1] == 'x' && is_hex(b[k + 2]) && is_hex(b[k + 3])) {
      sled.push(1, static_cast<std::uint32_t>(hexval(b[k + 2]) * 16 + hexval(b[k + 3])), k, k + 4);
      k += 3;
      continue;
    }
    // `s += s` and `s = s + s`: the left operand is the right one.
    if (ch == '+' && !(k + 1 < n && b[k + 1] == '+') && !(k > 0 && b[k - 1] == '+')) {
      const bool compound = k + 1 < n && b[k + 1] == '=';
      std::uint64_t ls = 0;
      const std::string_view left = ident_before(b, k, ls);
      if (left.empty()) continue;
      const std::string_view right = ident_after(b, n, k + (compound ? 2 : 1));
      if (right != left) continue;
      if (compound) {
        ++x.doubling;
        continue;
      }
      std::uint64_t j = ls;
      while (j > 0 && (b[j - 1] == ' ' || b[j - 1] == '\t')) --j;
      if (j < 2 || b[j - 1] != '=' || std::strchr("=!<>+-*/%&|^", b[j - 2]) != nullptr) continue;
      std::uint64_t ts = 0;
      if (ident_before(b, j - 1, ts) == left) ++x.doubling;
    }
  }
}

Result<Document> parse(ByteView bytes) {
  Document doc;
  const auto* h = find(bytes.data(), bytes.data() + bytes.size(), kHeader);
  if (h == nullptr) return make_error(ErrorCode::not_this_format, "no %PDF- header");
  doc.header_offset = static_cast<std::uint64_t>(h - bytes.data());
  if (doc.header_offset > 0) doc.add(Anomaly::header_not_at_start, doc.header_offset);
  if (doc.header_offset >= 1024) doc.add(Anomaly::header_late, doc.header_offset);
  for (std::uint64_t k = doc.header_offset + kHeader.size(); k < bytes.size() && doc.version.size() < 8; ++k) {
    const std::uint8_t c = bytes.data()[k];
    if (!((c >= '0' && c <= '9') || c == '.')) break;
    doc.version += static_cast<char>(c);
  }
  Shared shared;
  Lexer(bytes, doc, 0, shared).run();
  resolve(doc, shared);
  scan_later_streams(bytes, doc, shared);
  if (doc.eof_markers == 0) {
    doc.add(Anomaly::eof_missing, 0);
  } else {
    // Padding after the last %%EOF is read here a second time, in chunks that go back to the page cache.
    std::uint64_t junk = 0;
    for_each_chunk(bytes.from(doc.last_eof_offset), 8u << 20, [&](ByteView c) {
      for (std::uint64_t k = 0; k < c.size(); ++k)
        if (!is_ws(c.data()[k])) ++junk;
    });
    doc.bytes_after_eof = junk;
    if (junk > 0) doc.add(Anomaly::data_after_eof, junk);
  }
  if (doc.count(Key::obj) != doc.count(Key::endobj)) doc.add(Anomaly::obj_endobj_mismatch, doc.count(Key::obj));
  if (doc.count(Key::encrypt) > 0) doc.add(Anomaly::encrypted, 0);
  return doc;
}

}  // namespace mamori::pdf
