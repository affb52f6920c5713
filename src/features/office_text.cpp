// RTF and PDF: one linear pass each. RTF: group depth, control words that embed or refresh objects, \objdata decoded
// and its OLE1 header read (class name, native data handed back for scanning), field codes (DDEAUTO). PDF: the
// keyword counts pdfid made popular (our own list and scanner), names obfuscated with #xx escapes, header and
// trailer oddities. Light passes that stand in until the full rtf/pdf parsers land.
#include <algorithm>
#include <cctype>
#include <cstring>

#include "features/office_internal.hpp"
#include "formats/pdf/pdf.hpp"

namespace mamori::features::office {

namespace {

int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The OLE1 object header ([MS-OLEDS] 2.2.4/2.2.5): version, format id, class name, and for embedded objects the
// topic and item names then the native data. Returns false when the layout does not hold.
bool read_ole1(ByteView v, std::string& cls, ByteView& native) {
  const auto fmt = v.u32(4);
  const auto clen = v.u32(8);
  if (!fmt || !clen || *clen > 256 || !v.fits(12, *clen)) return false;
  auto c = v.sub(12, *clen);
  cls.assign(reinterpret_cast<const char*>(c->data()), c->size());
  while (!cls.empty() && cls.back() == '\0') cls.pop_back();
  std::uint64_t off = 12 + *clen;
  if (*fmt != 2) return true;  // linked (1) or static: no native data
  for (int i = 0; i < 2; ++i) {
    const auto n = v.u32(off);
    if (!n || *n > 65536 || !v.fits(off + 4, *n)) return false;
    off += 4 + *n;
  }
  const auto n = v.u32(off);
  if (!n) return false;
  native = v.clamp(off + 4, *n);
  return true;
}

void finish_rtf_object(std::vector<std::uint8_t>& data, Acc& a) {
  RtfStats& r = a.rtf;
  r.decoded_bytes += static_cast<double>(data.size());
  if (r.objdata > static_cast<double>(office_limits::max_rtf_objects)) return;
  ByteView v(data.data(), data.size());
  std::string cls;
  ByteView native;
  static constexpr std::uint8_t kEquationClsid[16] = {0x02, 0xCE, 0x02, 0x00, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46};
  const bool eq_clsid = std::search(data.begin(), data.end(), kEquationClsid, kEquationClsid + 16) != data.end();
  if (!read_ole1(v, cls, native)) {
    r.ole1_bad += 1;
    native = v;
  }
  const std::string lc = lower(cls);
  if (lc.find("equation") != std::string::npos || eq_clsid) r.equation += 1;
  else if (lc.find("package") != std::string::npos) r.package += 1;
  else if (lc.find("ole2link") != std::string::npos) r.ole2link += 1;
  else if (lc.find("word.") != std::string::npos) r.word_doc += 1;
  else if (lc.find("excel.") != std::string::npos) r.excel += 1;
  else r.other_class += 1;
  if (native.size() >= 2 && native.data()[0] == 'M' && native.data()[1] == 'Z') r.embedded_pe += 1;
  if (native.size() >= 4 && std::memcmp(native.data(), "\xD0\xCF\x11\xE0", 4) == 0) r.embedded_ole2 += 1;
  if (!cls.empty()) a.hit("rtf:object " + std::to_string(static_cast<int>(r.objdata)), "embedded-object", "class " + cls);
  if (!native.empty())
    a.embed("rtf-object-" + std::to_string(static_cast<int>(r.objdata)) + (cls.empty() ? "" : "-" + cls),
            std::vector<std::uint8_t>(native.data(), native.data() + native.size()));
}

}  // namespace

void analyze_rtf(ByteView b, Acc& a) {
  RtfStats& r = a.rtf;
  const std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
  r.header_nonstandard = s.rfind("{\\rtf1", 0) != 0;
  constexpr std::size_t kMaxDepth = 1u << 16;
  std::size_t depth = 0, last_close = 0;
  // The group depth at which an \objdata or \fldinst destination started; 0 when none is open.
  std::size_t obj_depth = 0, fld_depth = 0;
  std::vector<std::uint8_t> obj;
  std::string fld;
  int nibble = -1;
  std::uint64_t decoded_total = 0;
  auto close_obj = [&] {
    if (obj_depth == 0) return;
    if (nibble >= 0) r.odd_hex += 1;
    nibble = -1;
    finish_rtf_object(obj, a);
    obj.clear();
    obj_depth = 0;
  };
  auto close_fld = [&] {
    if (fld_depth == 0) return;
    r.fields += 1;
    const auto auto_n = count_ci(fld, "ddeauto");
    const auto dde_n = count_ci(fld, "dde");
    r.ddeauto += static_cast<double>(auto_n);
    r.dde += static_cast<double>(dde_n);
    if (dde_n) a.hit("rtf:field", "dde", fld.substr(0, 300));
    fld.clear();
    fld_depth = 0;
  };
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '{') {
      if (++depth > kMaxDepth) {
        a.anomaly("rtf_depth_truncated_by_limit");
        break;
      }
      r.max_depth = std::max(r.max_depth, static_cast<double>(depth));
      ++i;
      continue;
    }
    if (c == '}') {
      if (depth == 0) r.unbalanced += 1;
      else {
        if (obj_depth == depth) close_obj();
        if (fld_depth == depth) close_fld();
        --depth;
      }
      last_close = i;
      ++i;
      continue;
    }
    if (c == '\\' && i + 1 < s.size()) {
      const unsigned char n = static_cast<unsigned char>(s[i + 1]);
      if (std::isalpha(n)) {
        std::size_t j = i + 1;
        while (j < s.size() && j - i < 64 && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
        const std::string_view word = s.substr(i + 1, j - i - 1);
        std::size_t k = j;
        if (k < s.size() && (s[k] == '-' || std::isdigit(static_cast<unsigned char>(s[k])))) {
          ++k;
          while (k < s.size() && k - j < 12 && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
        }
        const std::string_view param = s.substr(j, k - j);
        if (k < s.size() && s[k] == ' ') ++k;
        r.control_words += 1;
        if (word == "object") r.objects += 1;
        else if (word == "objdata") {
          close_obj();
          r.objdata += 1;
          obj_depth = depth;
        } else if (word == "objupdate") r.objupdate += 1;
        else if (word == "objemb") r.objemb += 1;
        else if (word == "objlink") r.objlink += 1;
        else if (word == "objautlink") r.objautlink += 1;
        else if (word == "objocx") r.objocx += 1;
        else if (word == "objhtml") r.objhtml += 1;
        else if (word == "fldinst") {
          close_fld();
          fld_depth = depth;
        } else if (word == "bin") {
          // \binN: N raw bytes follow; they are data, not syntax.
          r.bin += 1;
          std::uint64_t n_raw = 0;
          for (char d : param)
            if (std::isdigit(static_cast<unsigned char>(d)) && n_raw < (1ull << 40)) n_raw = n_raw * 10 + static_cast<unsigned>(d - '0');
          k = static_cast<std::size_t>(std::min<std::uint64_t>(s.size(), k + n_raw));
        }
        i = k;
        continue;
      }
      if (n == '\'' && i + 3 < s.size()) {  // \'hh: one character by its code
        if (fld_depth) fld.push_back(static_cast<char>(hexval(static_cast<unsigned char>(s[i + 2])) * 16 + hexval(static_cast<unsigned char>(s[i + 3]))));
        i += 4;
        continue;
      }
      i += 2;
      continue;
    }
    if (obj_depth) {
      const int h = hexval(c);
      if (h >= 0) {
        r.hex_bytes += 0.5;
        if (nibble < 0) nibble = h;
        else {
          if (decoded_total < office_limits::max_embedded_bytes) obj.push_back(static_cast<std::uint8_t>(nibble * 16 + h));
          ++decoded_total;
          nibble = -1;
        }
      } else if (c == ' ' || c == '\r' || c == '\n' || c == '\t') {
        r.hex_whitespace += 1;
      }
    } else if (fld_depth && fld.size() < 4096 && c != '\r' && c != '\n') {
      fld.push_back(static_cast<char>(c));
    }
    ++i;
  }
  close_obj();
  close_fld();
  if (depth != 0) {
    r.unbalanced += 1;
    a.anomaly("rtf_unbalanced_groups");
  }
  if (last_close + 1 < s.size()) r.after_last_brace = static_cast<double>(s.size() - last_close - 1);
  if (r.header_nonstandard) a.anomaly("rtf_header_nonstandard");
  if (r.odd_hex) a.anomaly("rtf_objdata_odd_hex_digits");
  if (r.ole1_bad) a.anomaly("rtf_object_header_malformed");
}

const std::vector<const char*>& pdf_keywords() {
  static const std::vector<const char*> k = {
      "obj", "endobj", "stream", "endstream", "xref", "trailer", "startxref", "/Page", "/Encrypt", "/ObjStm", "/JS",
      "/JavaScript", "/AA", "/OpenAction", "/AcroForm", "/JBIG2Decode", "/RichMedia", "/Launch", "/EmbeddedFile",
      "/XFA", "/URI", "/SubmitForm", "/GoToR", "/Colors>2^24"};
  return k;
}

// Through the pdf module when it reads the file (keyword counts including object streams, embedded files decoded);
// the scanner below is the fallback for bytes it refuses.
void analyze_pdf(ByteView b, Acc& a) {
  auto doc = pdf::parse(b);
  if (doc.ok()) {
    PdfStats& p = a.pdf;
    const pdf::Document& d = *doc;
    for (std::size_t k = 0; k < pdf::key_count && k < p.kw.size(); ++k) p.kw[k] = d.counts[k];
    p.obfuscated_names = d.stats.names_obfuscated;
    p.header_offset = static_cast<double>(d.header_offset);
    if (d.version.size() >= 3 && std::isdigit(static_cast<unsigned char>(d.version[0])) &&
        std::isdigit(static_cast<unsigned char>(d.version[2])))
      p.version = (d.version[0] - '0') * 10 + (d.version[2] - '0');
    p.eofs = d.eof_markers;
    p.after_eof = static_cast<double>(d.bytes_after_eof);
    p.urls = static_cast<double>(d.uris.size());
    p.js_bytes = static_cast<double>(d.javascript.size() + d.stats.js_streams);
    std::uint64_t seen = 0;
    for (const auto& rec : d.anomalies) {
      const auto bit = static_cast<unsigned>(rec.code);
      if (bit < 64 && !((seen >> bit) & 1u)) a.anomaly(std::string("pdf.") + pdf::anomaly_name(rec.code));
      if (bit < 64) seen |= 1ull << bit;
    }
    for (const auto& l : d.launches) a.hit("pdf:/Launch", "execute", l);
    for (const auto& j : d.javascript) a.hit("pdf:/JavaScript", "javascript", j);
    for (std::size_t i = 0; i < d.uris.size() && i < 3; ++i) a.hit("pdf:/URI", "url", d.uris[i]);
    for (const auto& e : d.embedded_files)
      a.embed("pdf-embedded-" + std::to_string(e.object), std::vector<std::uint8_t>(e.bytes.begin(), e.bytes.end()));
    return;
  }
  PdfStats& p = a.pdf;
  const std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
  const auto& kw = pdf_keywords();
  const std::size_t hdr = s.substr(0, 1024).find("%PDF-");
  p.header_offset = hdr == std::string_view::npos ? -1 : static_cast<double>(hdr);
  if (hdr != std::string_view::npos && hdr + 7 < s.size() && std::isdigit(static_cast<unsigned char>(s[hdr + 7])))
    p.version = (s[hdr + 5] - '0') * 10 + (s[hdr + 7] - '0');
  auto delim = [](unsigned char c) {
    return std::isspace(c) || c == '/' || c == '[' || c == ']' || c == '<' || c == '>' || c == '(' || c == ')' ||
           c == '{' || c == '}' || c == '%' || c == 0;
  };
  std::string name;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '/') {
      std::size_t j = i + 1;
      name.assign("/");
      bool escaped = false;
      while (j < s.size() && !delim(static_cast<unsigned char>(s[j])) && j - i < 128) {
        if (s[j] == '#' && j + 2 < s.size() && hexval(static_cast<unsigned char>(s[j + 1])) >= 0 &&
            hexval(static_cast<unsigned char>(s[j + 2])) >= 0) {
          name.push_back(static_cast<char>(hexval(static_cast<unsigned char>(s[j + 1])) * 16 + hexval(static_cast<unsigned char>(s[j + 2]))));
          escaped = true;
          j += 3;
          continue;
        }
        name.push_back(s[j]);
        ++j;
      }
      for (std::size_t k = 7; k < kw.size(); ++k)
        if (name == kw[k]) {
          p.kw[k] += 1;
          if (escaped) p.obfuscated_names += 1;
        }
      i = j;
      continue;
    }
    if (std::isalpha(c) && (i == 0 || delim(static_cast<unsigned char>(s[i - 1])))) {
      std::size_t j = i;
      while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j])) && j - i < 16) ++j;
      if (j == s.size() || delim(static_cast<unsigned char>(s[j]))) {
        const std::string_view w = s.substr(i, j - i);
        for (std::size_t k = 0; k < 7; ++k)
          if (w == kw[k]) p.kw[k] += 1;
      }
      i = j;
      continue;
    }
    ++i;
  }
  std::size_t pos = 0, last = std::string_view::npos;
  while ((pos = s.find("%%EOF", pos)) != std::string_view::npos) {
    p.eofs += 1;
    last = pos;
    pos += 5;
  }
  if (last != std::string_view::npos) {
    std::size_t tail = last + 5;
    while (tail < s.size() && std::isspace(static_cast<unsigned char>(s[tail]))) ++tail;
    p.after_eof = static_cast<double>(s.size() - tail);
  }
  p.urls = static_cast<double>(count_ci(s, "http://") + count_ci(s, "https://"));
  p.js_bytes = static_cast<double>(count_ci(s, "eval(") + count_ci(s, "unescape("));
  if (p.obfuscated_names) a.anomaly("pdf_names_hex_escaped");
  if (p.header_offset > 0) a.anomaly("pdf_header_not_at_start");
  if (p.kw[0] != p.kw[1]) a.anomaly("pdf_obj_endobj_mismatch");
  if (p.kw[2] != p.kw[3]) a.anomaly("pdf_stream_endstream_mismatch");
  for (std::size_t k : {11u, 13u, 17u, 18u})
    if (p.kw[k] > 0 && a.opt->collect_hits) a.hit("pdf", "keyword", std::string(kw[k]) + " x" + std::to_string(static_cast<int>(p.kw[k])));
}

}  // namespace mamori::features::office
