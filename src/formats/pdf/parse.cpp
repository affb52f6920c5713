// The PDF lexer: one pass over the bytes with a small per-object state; object streams are lexed again from
// their decoded bytes (bounded by limits::max_objstm_depth). Names are decoded into a fixed buffer, so the hot
// loop allocates nothing per byte; strings are only kept when they are a value we return.
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/anomalies.hpp"
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

enum class Pending : std::uint8_t { none, uri, f, uf, p, js, length, colors, type, subtype, filter, s };

struct ObjState {
  std::uint32_t num = 0;
  bool open = false;
  std::string type, subtype;
  std::vector<std::string> filters;
  std::int64_t length = -1;
  bool launch = false, filespec = false, ef = false;
  std::string launch_f, launch_p, file_f, file_uf;
};

constexpr std::string_view kJsMarkers[] = {"eval(",          "unescape(",     "String.fromCharCode", "app.",
                                           "this.",          "util.printf",   "getAnnots",           "function",
                                           "var ",           "Collab.",       "media.newPlayer",     "getIcon",
                                           "exportDataObject", "spell.customDictionaryOpen", "app.launchURL"};

class Lexer {
 public:
  Lexer(ByteView in, Document& doc, std::uint32_t depth, std::uint64_t& decoded_total,
        std::vector<std::uint32_t>& js_refs)
      : in_(in), doc_(doc), depth_(depth), decoded_total_(decoded_total), js_refs_(js_refs) {}

  void run() {
    const std::uint8_t* p = in_.data();
    const std::uint64_t n = in_.size();
    std::uint64_t i = 0;
    while (i < n) {
      const std::uint8_t c = p[i];
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
            i += 2;
            continue;
          }
          i = hex_string(i);
          continue;
        case '>':
          i += (i + 1 < n && p[i + 1] == '>') ? 2 : 1;
          pending_ = Pending::none;
          continue;
        case '[':
          if (pending_ == Pending::filter) in_filter_array_ = true;
          ++i;
          continue;
        case ']':
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
        return;
      case Pending::filter:
        if (obj_.filters.size() < 8) obj_.filters.emplace_back(nm);
        if (!in_filter_array_) pending_ = Pending::none;
        return;
      case Pending::s:
        pending_ = Pending::none;
        if (nm == "Launch") obj_.launch = true;
        return;
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
      case Pending::js:
        push_list(doc_.javascript, std::move(s));
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
        if (s.size() < limits::max_string) s += static_cast<char>(c);
        continue;
      }
      if (c == '(') ++nest;
      if (c == ')' && --nest == 0) {
        if (keep) on_string(std::move(s));
        else pending_ = Pending::none;
        return i;
      }
      if (keep && s.size() < limits::max_string) s += static_cast<char>(c);
    }
    // No closing parenthesis: take the '(' as a stray byte and go on lexing after it.
    if (!doc_.has(Anomaly::string_unterminated)) doc_.add(Anomaly::string_unterminated, start);
    pending_ = Pending::none;
    return start + 1;
  }

  std::uint64_t hex_string(std::uint64_t start) {
    const std::uint8_t* p = in_.data();
    const std::uint64_t n = in_.size();
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
          if (s.size() < limits::max_string) s += static_cast<char>(hi * 16 + v);
          hi = -1;
        }
      }
      ++i;
    }
    if (i >= n) {
      if (!doc_.has(Anomaly::string_unterminated)) doc_.add(Anomaly::string_unterminated, start);
      return start + 1;
    }
    if (hi >= 0 && s.size() < limits::max_string) s += static_cast<char>(hi * 16);
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
      if (pending_ != Pending::filter) pending_ = Pending::none;
      num2_ = num1_;
      num1_ = v;
      ++nums_;
      return i;
    }
    if (w == "obj") {
      count(Key::obj, false);
      finish_object();
      obj_ = ObjState{};
      obj_.open = true;
      obj_.num = nums_ >= 2 && num2_ >= 0 ? static_cast<std::uint32_t>(std::min<std::int64_t>(num2_, 0xFFFFFFFF)) : 0;
    } else if (w == "endobj") {
      count(Key::endobj, false);
      finish_object();
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
    }
    pending_ = Pending::none;
    nums_ = 0;
    return i;
  }

  void finish_object() {
    if (!obj_.open) return;
    obj_.open = false;
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
        int hi = -1;
        for (std::uint64_t k = 0; k < cur.size() && next.size() < room; ++k) {
          const std::uint8_t c = cur.data()[k];
          if (c == '>') break;
          const int v = hexval(c);
          if (v < 0) continue;
          if (hi < 0) hi = v;
          else {
            next.push_back(static_cast<std::uint8_t>(hi * 16 + v));
            hi = -1;
          }
        }
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
      return;
    }
    if (!supported) return;
    if (obj_.type == "ObjStm") {
      if (depth_ < limits::max_objstm_depth) {
        ++doc_.stats.objstm_decoded;
        const ObjState saved = obj_;
        Lexer sub(cur, doc_, depth_ + 1, decoded_total_, js_refs_);
        sub.run();
        obj_ = saved;
      }
      return;
    }
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
      const ByteView snip = cur.clamp(0, limits::max_string);
      push_list(doc_.javascript, std::string(reinterpret_cast<const char*>(snip.data()), snip.size()));
    }
  }

  ByteView in_;
  Document& doc_;
  std::uint32_t depth_;
  std::uint64_t& decoded_total_;
  std::vector<std::uint32_t>& js_refs_;
  ObjState obj_;
  Pending pending_ = Pending::none;
  bool in_filter_array_ = false;
  std::int64_t num1_ = -1, num2_ = -1;
  std::uint32_t nums_ = 0, length_set_at_ = 0;
};

}  // namespace

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
  std::uint64_t decoded_total = 0;
  std::vector<std::uint32_t> js_refs;
  Lexer(bytes, doc, 0, decoded_total, js_refs).run();
  if (doc.eof_markers == 0) {
    doc.add(Anomaly::eof_missing, 0);
  } else {
    std::uint64_t junk = 0;
    for (std::uint64_t k = doc.last_eof_offset; k < bytes.size(); ++k)
      if (!is_ws(bytes.data()[k])) ++junk;
    doc.bytes_after_eof = junk;
    if (junk > 0) doc.add(Anomaly::data_after_eof, junk);
  }
  if (doc.count(Key::obj) != doc.count(Key::endobj)) doc.add(Anomaly::obj_endobj_mismatch, doc.count(Key::obj));
  if (doc.count(Key::encrypt) > 0) doc.add(Anomaly::encrypted, 0);
  return doc;
}

}  // namespace mamori::pdf
