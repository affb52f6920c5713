#include "formats/mime/mime.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace mamori::mime {

const char* anomaly_name(AnomalyCode c) noexcept {
  switch (c) {
    case AnomalyCode::parser_warning: return "parser_warning";
    case AnomalyCode::parser_critical: return "parser_critical";
    case AnomalyCode::parts_truncated_by_limit: return "parts_truncated_by_limit";
    case AnomalyCode::depth_truncated_by_limit: return "depth_truncated_by_limit";
    case AnomalyCode::part_too_large: return "part_too_large";
    case AnomalyCode::no_headers: return "no_headers";
    case AnomalyCode::uuencode_truncated: return "uuencode_truncated";
  }
  return "unknown";
}

namespace {

void init_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

const char* warning_name(GMimeParserWarning w) {
  switch (w) {
    case GMIME_WARN_DUPLICATED_HEADER: return "duplicated_header";
    case GMIME_WARN_DUPLICATED_PARAMETER: return "duplicated_parameter";
    case GMIME_WARN_UNENCODED_8BIT_HEADER: return "unencoded_8bit_header";
    case GMIME_WARN_INVALID_CONTENT_TYPE: return "invalid_content_type";
    case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE: return "invalid_rfc2047_header_value";
    case GMIME_WARN_MALFORMED_MULTIPART: return "malformed_multipart";
    case GMIME_WARN_TRUNCATED_MESSAGE: return "truncated_message";
    case GMIME_WARN_MALFORMED_MESSAGE: return "malformed_message";
    case GMIME_CRIT_INVALID_HEADER_NAME: return "invalid_header_name";
    case GMIME_CRIT_CONFLICTING_HEADER: return "conflicting_header";
    case GMIME_CRIT_CONFLICTING_PARAMETER: return "conflicting_parameter";
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: return "multipart_without_boundary";
    case GMIME_WARN_INVALID_PARAMETER: return "invalid_parameter";
    case GMIME_WARN_INVALID_ADDRESS_LIST: return "invalid_address_list";
    case GMIME_CRIT_NESTING_OVERFLOW: return "nesting_overflow";
    case GMIME_WARN_PART_WITHOUT_CONTENT: return "part_without_content";
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: return "part_without_headers_or_content";
  }
  return "unknown";
}

struct WarningSink {
  std::vector<Anomaly>* out;
  unsigned count = 0;
};

void on_warning(gint64, GMimeParserWarning w, const gchar*, gpointer data) {
  auto* s = static_cast<WarningSink*>(data);
  // Each distinct warning once, and few in all: a hostile message can raise thousands.
  if (++s->count > 256) return;
  const char* name = warning_name(w);
  const AnomalyCode code = w >= GMIME_CRIT_INVALID_HEADER_NAME && w != GMIME_WARN_INVALID_PARAMETER &&
                                   w != GMIME_WARN_INVALID_ADDRESS_LIST && w != GMIME_WARN_PART_WITHOUT_CONTENT
                               ? AnomalyCode::parser_critical
                               : AnomalyCode::parser_warning;
  for (const auto& a : *s->out)
    if (a.code == code && a.detail == name) return;
  s->out->push_back({code, name});
}

std::string take_gstr(char* s) {
  std::string r = s ? s : "";
  g_free(s);
  return r;
}

std::vector<std::uint8_t> stream_bytes(GMimeStream* s) {
  GByteArray* ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
  if (!ba || ba->len == 0) return {};
  return std::vector<std::uint8_t>(ba->data, ba->data + ba->len);
}

std::string clean_name(std::string s) {
  if (s.size() > 255) s.resize(255);
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == '!' || c == '/' || c == '\\') c = '_';
  return s;
}

const char* ext_for(std::string_view mime_type) {
  if (mime_type == "text/html") return ".html";
  if (mime_type == "text/plain") return ".txt";
  if (mime_type == "message/rfc822") return ".eml";
  return ".bin";
}

// Owns the GMime objects of one parse; they are released in reverse order of creation.
struct Session {
  GByteArray* array = nullptr;
  GMimeStream* stream = nullptr;
  GMimeParser* parser = nullptr;
  GMimeParserOptions* options = nullptr;
  GMimeMessage* message = nullptr;
  ~Session() {
    if (message) g_object_unref(message);
    if (parser) g_object_unref(parser);
    if (stream) g_object_unref(stream);
    if (options) g_mime_parser_options_free(options);
    // The array borrows the caller's bytes: free the wrapper only.
    if (array) g_byte_array_free(array, FALSE);
  }
};

}  // namespace

Result<Message> parse_message(ByteView bytes, const ParseOptions& opt) {
  init_gmime();
  Message m;
  WarningSink sink{&m.anomalies};
  Session ss;
  static guint8 empty[1] = {0};
  // GMime only reads through the stream; the const_cast lends it the mapped bytes without a copy.
  guint8* data = bytes.empty() ? empty : const_cast<guint8*>(bytes.data());
  ss.array = g_byte_array_new_take(data, static_cast<gsize>(bytes.size()));
  ss.stream = g_mime_stream_mem_new_with_byte_array(ss.array);
  g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(ss.stream), FALSE);
  ss.options = g_mime_parser_options_new();
  g_mime_parser_options_set_rfc2047_compliance_mode(ss.options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode(ss.options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_address_compliance_mode(ss.options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_warning_callback(ss.options, &on_warning, &sink);
  ss.parser = g_mime_parser_new_with_stream(ss.stream);
  g_mime_parser_set_format(ss.parser, GMIME_FORMAT_MESSAGE);
  ss.message = g_mime_parser_construct_message(ss.parser, ss.options);
  if (!ss.message) return make_error(ErrorCode::not_this_format, "GMime could not read a message");

  GMimeMessage* msg = ss.message;
  m.from = take_gstr(internet_address_list_to_string(g_mime_message_get_from(msg), nullptr, FALSE));
  m.to = take_gstr(internet_address_list_to_string(g_mime_message_get_to(msg), nullptr, FALSE));
  if (const char* s = g_mime_message_get_subject(msg)) m.subject = s;
  if (GDateTime* d = g_mime_message_get_date(msg)) m.date = take_gstr(g_date_time_format_iso8601(d));
  if (const char* s = g_mime_message_get_message_id(msg)) m.message_id = s;
  if (const char* s = g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To")) m.in_reply_to = s;
  if (g_mime_header_list_get_count(g_mime_object_get_header_list(GMIME_OBJECT(msg))) == 0)
    m.anomalies.push_back({AnomalyCode::no_headers, ""});

  std::uint64_t budget = opt.max_part_bytes;
  std::uint32_t walked = 0, serial = 0;
  struct Item {
    GMimeObject* obj;
    std::uint32_t depth;
  };
  std::vector<Item> stack;
  if (GMimeObject* root = g_mime_message_get_mime_part(msg)) stack.push_back({root, 0});
  while (!stack.empty()) {
    const Item it = stack.back();
    stack.pop_back();
    if (++walked > limits::max_parts) {
      m.anomalies.push_back({AnomalyCode::parts_truncated_by_limit, std::to_string(limits::max_parts)});
      break;
    }
    GMimeObject* obj = it.obj;
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    const std::string mime_type = ct ? take_gstr(g_mime_content_type_get_mime_type(ct)) : "application/octet-stream";
    if (GMIME_IS_MULTIPART(obj)) {
      if (it.depth + 1 > limits::max_depth) {
        m.anomalies.push_back({AnomalyCode::depth_truncated_by_limit, std::to_string(limits::max_depth)});
        continue;
      }
      GMimeMultipart* mp = GMIME_MULTIPART(obj);
      const int n = g_mime_multipart_get_count(mp);
      for (int i = n; i-- > 0;)
        if (GMimeObject* c = g_mime_multipart_get_part(mp, i)) stack.push_back({c, it.depth + 1});
      continue;
    }
    ++serial;
    if (GMIME_IS_MESSAGE_PART(obj)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      if (!inner) continue;
      GMimeStream* out = g_mime_stream_mem_new();
      g_mime_object_write_to_stream(GMIME_OBJECT(inner), nullptr, out);
      Part p;
      p.data = stream_bytes(out);
      g_object_unref(out);
      if (p.data.size() > budget) {
        m.anomalies.push_back({AnomalyCode::part_too_large, "message/rfc822"});
        continue;
      }
      budget -= p.data.size();
      const char* fn = g_mime_object_get_content_disposition_parameter(obj, "filename");
      p.name = clean_name(fn ? fn : "message-" + std::to_string(serial) + ".eml");
      p.content_type = mime_type;
      p.message = true;
      p.attachment = true;
      m.parts.push_back(std::move(p));
      continue;
    }
    if (!GMIME_IS_PART(obj)) continue;
    GMimePart* part = GMIME_PART(obj);
    const char* filename = g_mime_part_get_filename(part);
    const bool attachment = g_mime_part_is_attachment(part);
    const bool body_text = GMIME_IS_TEXT_PART(obj) && !filename && !attachment;
    if (body_text && m.text.size() < limits::max_text_bytes) {
      std::string t = take_gstr(g_mime_text_part_get_text(GMIME_TEXT_PART(obj)));
      if (t.size() > limits::max_text_bytes - m.text.size()) t.resize(limits::max_text_bytes - m.text.size());
      if (!m.text.empty()) m.text += '\n';
      m.text += t;
      for (auto& u : uudecode_blocks(t, m.anomalies)) {
        if (u.data.size() > budget) continue;
        budget -= u.data.size();
        m.parts.push_back(std::move(u));
      }
      // Plain bodies are read for their words; HTML bodies are also scanned (HTML smuggling carries payloads).
      if (mime_type != "text/html") continue;
    }
    GMimeDataWrapper* w = g_mime_part_get_content(part);
    if (!w) continue;
    if (GMimeStream* raw = g_mime_data_wrapper_get_stream(w)) {
      const gint64 len = g_mime_stream_length(raw);
      if (len > 0 && static_cast<std::uint64_t>(len) / 2 > budget) {
        m.anomalies.push_back({AnomalyCode::part_too_large, filename ? filename : mime_type});
        continue;
      }
    }
    GMimeStream* out = g_mime_stream_mem_new();
    g_mime_data_wrapper_write_to_stream(w, out);
    Part p;
    p.data = stream_bytes(out);
    g_object_unref(out);
    if (p.data.size() > budget) {
      m.anomalies.push_back({AnomalyCode::part_too_large, filename ? filename : mime_type});
      continue;
    }
    budget -= p.data.size();
    p.name = clean_name(filename ? filename : "part-" + std::to_string(serial) + ext_for(mime_type));
    p.content_type = mime_type;
    p.attachment = attachment;
    m.parts.push_back(std::move(p));
  }
  m.reply = analyse_reply(m.subject, m.text);
  return m;
}

std::vector<ByteView> split_mbox(ByteView b, std::uint32_t max_messages) {
  std::vector<ByteView> out;
  const char* p = reinterpret_cast<const char*>(b.data());
  const std::size_t n = static_cast<std::size_t>(b.size());
  // Start of each separator line.
  std::vector<std::size_t> seps;
  if (n >= 5 && std::memcmp(p, "From ", 5) == 0) seps.push_back(0);
  for (std::size_t i = 0; i + 6 <= n && seps.size() <= max_messages; ++i) {
    const void* nl = std::memchr(p + i, '\n', n - i);
    if (!nl) break;
    i = static_cast<std::size_t>(static_cast<const char*>(nl) - p);
    if (i + 6 <= n && std::memcmp(p + i + 1, "From ", 5) == 0) seps.push_back(i + 1);
  }
  for (std::size_t k = 0; k < seps.size() && out.size() < max_messages; ++k) {
    const void* eol = std::memchr(p + seps[k], '\n', n - seps[k]);
    if (!eol) break;
    const std::size_t start = static_cast<std::size_t>(static_cast<const char*>(eol) - p) + 1;
    const std::size_t end = k + 1 < seps.size() ? seps[k + 1] : n;
    if (end > start) out.push_back(b.clamp(start, end - start));
  }
  return out;
}

namespace {

std::string lower_ascii(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return r;
}
}  // namespace

ReplyChain analyse_reply(std::string_view subject, std::string_view text) {
  ReplyChain r;
  static const char* kPrefixes[] = {"re", "aw", "fw", "fwd", "wg", "sv", "vs", "tr", "res", "rif",
                                    "\xe8\xbf\x94\xe4\xbf\xa1",   // 返信
                                    "\xe8\xbb\xa2\xe9\x80\x81",   // 転送
                                    "\xe5\x9b\x9e\xe5\xa4\x8d",   // 回复
                                    "\xe7\xad\x94\xe5\xa4\x8d"};  // 答复
  std::string low = lower_ascii(subject);
  std::size_t i = 0;
  for (int guard = 0; guard < 16; ++guard) {
    while (i < low.size() && (low[i] == ' ' || low[i] == '\t')) ++i;
    bool hit = false;
    for (const char* p : kPrefixes) {
      const std::size_t n = std::strlen(p);
      if (low.compare(i, n, p) != 0) continue;
      std::size_t j = i + n;
      if (j < low.size() && (low[j] == '[' || low[j] == '(')) {  // "RE[2]:"
        while (j < low.size() && low[j] != ':' && j - i < n + 6) ++j;
      }
      std::size_t colon = 0;
      if (low.compare(j, 1, ":") == 0) colon = 1;
      else if (low.compare(j, 3, "\xef\xbc\x9a") == 0) colon = 3;  // ：
      if (colon == 0) continue;
      std::string name(subject.substr(i, n));
      for (char& c : name)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
      r.subject_prefixes.push_back(name);
      i = j + colon;
      hit = true;
      break;
    }
    if (!hit) break;
  }
  std::size_t pos = 0;
  for (std::uint32_t lines = 0; pos < text.size() && lines < 100000; ++lines) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t k = 0;
    while (k < line.size() && (line[k] == ' ' || line[k] == '\t')) ++k;
    line.remove_prefix(k);
    if (!line.empty() && line[0] == '>') ++r.quoted_lines;
    const std::string l = lower_ascii(line.substr(0, 200));
    const bool marker = l.find("original message") != std::string::npos ||
                        l.find("\xe5\x85\x83\xe3\x81\xae\xe3\x83\xa1\xe3\x83\x83\xe3\x82\xbb\xe3\x83\xbc\xe3\x82\xb8") != std::string::npos ||  // 元のメッセージ
                        (l.rfind("on ", 0) == 0 && l.size() > 6 && l.compare(l.size() - 6, 6, "wrote:") == 0) ||
                        (l.rfind("am ", 0) == 0 && l.find("schrieb") != std::string::npos) ||
                        l.rfind("\xe5\xb7\xae\xe5\x87\xba\xe4\xba\xba:", 0) == 0 ||  // 差出人:
                        l.rfind("\xe5\xb7\xae\xe5\x87\xba\xe4\xba\xba\xef\xbc\x9a", 0) == 0;  // 差出人：
    if (marker && r.markers.size() < 5) r.markers.emplace_back(line.substr(0, 120));
    pos = eol + 1;
  }
  return r;
}

std::vector<Part> uudecode_blocks(std::string_view text, std::vector<Anomaly>& anomalies) {
  std::vector<Part> out;
  std::size_t pos = 0;
  while (out.size() < limits::max_uuencode_blocks) {
    std::size_t b = text.find("begin ", pos);
    if (b == std::string_view::npos) break;
    pos = b + 6;
    if (b > 0 && text[b - 1] != '\n') continue;
    // "begin 644 name"
    std::size_t eol = text.find('\n', b);
    if (eol == std::string_view::npos) break;
    std::string_view head = text.substr(b + 6, eol - b - 6);
    if (!head.empty() && head.back() == '\r') head.remove_suffix(1);
    std::size_t d = 0;
    while (d < head.size() && head[d] >= '0' && head[d] <= '7') ++d;
    if (d < 3 || d > 4 || d >= head.size() || head[d] != ' ') continue;
    Part p;
    p.name = clean_name(std::string(head.substr(d + 1)));
    if (p.name.empty()) p.name = "uuencoded.bin";
    p.uuencoded = true;
    p.content_type = "application/octet-stream";
    bool ended = false;
    std::size_t lp = eol + 1;
    while (lp < text.size()) {
      std::size_t le = text.find('\n', lp);
      if (le == std::string_view::npos) le = text.size();
      std::string_view line = text.substr(lp, le - lp);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      lp = le + 1;
      if (line == "end") {
        ended = true;
        break;
      }
      if (line.empty()) continue;
      const unsigned n = (static_cast<unsigned>(line[0]) - 32u) & 63u;
      std::uint32_t acc = 0;
      unsigned have = 0, produced = 0;
      for (std::size_t k = 1; k < line.size() && produced < n; ++k) {
        acc = (acc << 6) | ((static_cast<unsigned>(line[k]) - 32u) & 63u);
        if (++have == 4) {
          for (int s = 16; s >= 0 && produced < n; s -= 8, ++produced) p.data.push_back(static_cast<std::uint8_t>(acc >> s));
          acc = 0;
          have = 0;
        }
      }
    }
    if (!ended) anomalies.push_back({AnomalyCode::uuencode_truncated, p.name});
    pos = lp;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace mamori::mime
