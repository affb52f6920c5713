// RTF and PDF through their modules (src/formats/rtf, src/formats/pdf). RTF: group depth, control words that embed
// or refresh objects, \objdata decoded and its OLE1 header read (class name, native data handed back for
// scanning), field codes (DDEAUTO). PDF: the keyword counts pdfid made popular (our own list and scanner), names
// obfuscated with #xx escapes, header and trailer oddities; a light scanner remains for bytes the pdf module refuses.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <iterator>
#include <unordered_set>

#include "features/office_internal.hpp"
#include "formats/pdf/pdf.hpp"
#include "formats/rtf/rtf.hpp"

namespace mamori::features::office {

namespace {

int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The URL moniker's CLSID {79EAC9E0-BAF9-11CE-8C82-00AA004BA90B} as stored: an OLE2Link object that holds it
// fetches its source over HTTP when the object updates (the CVE-2017-0199 shape).
constexpr unsigned char kUrlMoniker[16] = {0xE0, 0xC9, 0xEA, 0x79, 0xF9, 0xBA, 0xCE, 0x11,
                                           0x8C, 0x82, 0x00, 0xAA, 0x00, 0x4B, 0xA9, 0x0B};

bool contains(const std::vector<std::uint8_t>& hay, const unsigned char (&needle)[16]) {
  return std::search(hay.begin(), hay.end(), std::begin(needle), std::end(needle)) != hay.end();
}

bool starts_with(const std::vector<std::uint8_t>& b, std::string_view magic) {
  return b.size() >= magic.size() && std::memcmp(b.data(), magic.data(), magic.size()) == 0;
}

// Equation Editor data too small to hold an MTEF record with a payload (a real exploit's native data is KBs; the
// oletools test file that declares an Equation object with \objupdate carries 242 bytes).
constexpr std::uint64_t kEquationExploitMinBytes = 1024;

}  // namespace

// Through the rtf module (src/formats/rtf): objects and their OLE1 wrappers as Word reads them, field instructions,
// group structure. Embedded objects go back to the engine: a Package's file, else the native data.
void analyze_rtf(ByteView b, Acc& a) {
  RtfStats& r = a.rtf;
  auto parsed = rtf::parse(b);
  if (!parsed.ok()) {
    r.header_nonstandard = 1;
    a.anomaly("rtf_unreadable: " + parsed.error().message);
    return;
  }
  const rtf::Document& d = *parsed;
  const rtf::Counts& c = d.counts;
  r.header_nonstandard = d.header_variant;
  r.objects = c.objects;
  r.objdata = c.objdata;
  r.objupdate = c.objupdate;
  r.bin = static_cast<double>(c.bin_runs);
  r.max_depth = static_cast<double>(c.max_depth);
  r.unbalanced = static_cast<double>(c.extra_closing_braces) + (d.has(rtf::Anomaly::unclosed_groups) ? 1 : 0);
  r.control_words = static_cast<double>(c.control_words);
  r.hex_bytes = static_cast<double>(c.objdata_bytes);
  r.hex_whitespace = static_cast<double>(c.objdata_whitespace);
  r.decoded_bytes = static_cast<double>(c.objdata_bytes);
  r.after_last_brace = d.end_offset < b.size() ? static_cast<double>(b.size() - d.end_offset) : 0;
  for (const auto& rec : d.anomalies)
    if (rec.code == rtf::Anomaly::objdata_odd_nibbles) r.odd_hex += 1;
  for (std::size_t i = 0; i < d.objects.size(); ++i) {
    const rtf::Object& o = d.objects[i];
    switch (o.kind) {
      case rtf::ObjectKind::embedded: r.objemb += 1; break;
      case rtf::ObjectKind::link: r.objlink += 1; break;
      case rtf::ObjectKind::autolink: r.objautlink += 1; break;
      case rtf::ObjectKind::html: r.objhtml += 1; break;
      case rtf::ObjectKind::ocx: r.objocx += 1; break;
      case rtf::ObjectKind::unknown: break;
    }
    if (!o.has_objdata) continue;
    if (!o.ole1) r.ole1_bad += 1;
    const std::string lc = lower(o.class_name);
    if (o.equation_editor || lc.find("equation") != std::string::npos) r.equation += 1;
    else if (lc.find("package") != std::string::npos) r.package += 1;
    else if (lc.find("ole2link") != std::string::npos) r.ole2link += 1;
    else if (lc.find("word.") != std::string::npos) r.word_doc += 1;
    else if (lc.find("excel.") != std::string::npos) r.excel += 1;
    else r.other_class += 1;
    // Objects that run without a click: \objupdate refreshes them on open, and Word activates linked, ActiveX and
    // HTML objects itself.
    const bool autoload = o.update || o.kind == rtf::ObjectKind::link || o.kind == rtf::ObjectKind::autolink ||
                          o.kind == rtf::ObjectKind::ocx || o.kind == rtf::ObjectKind::html;
    const bool equation = o.equation_editor || lc.find("equation") != std::string::npos;
    if (equation && autoload && o.objdata_bytes >= kEquationExploitMinBytes) a.active.rtf_equation_autoload += 1;
    if (lc.find("ole2link") != std::string::npos || contains(o.native, kUrlMoniker)) a.active.rtf_link_moniker += 1;
    if (o.update && !o.ole1) a.active.rtf_update_malformed += 1;
    const ByteView native(o.native.data(), o.native.size());
    const bool package_pe = o.package && o.package->payload.size() >= 2 && o.package->payload[0] == 'M' &&
                            o.package->payload[1] == 'Z';
    if (native.starts_with("MZ") || package_pe) r.embedded_pe += 1;
    if (native.starts_with("MZ") || package_pe || (o.package && o.package->executable)) a.active.rtf_executable_package += 1;
    if (o.native_is_ole2 || native.starts_with("\xD0\xCF\x11\xE0")) r.embedded_ole2 += 1;
    const std::string n = std::to_string(i + 1);
    // The hex is decoded here: the file's own bytes show the payload only as text.
    a.scan_payload(native, "rtf:object " + n);
    if (!o.class_name.empty()) a.hit("rtf:object " + n, "embedded-object", "class " + o.class_name);
    const std::string member = "rtf-object-" + n + (o.class_name.empty() ? "" : "-" + o.class_name);
    if (o.package && !o.package->payload.empty()) a.embed(member, o.package->payload);
    else if (!o.native.empty()) a.embed(member, o.native);
  }
  r.fields = static_cast<double>(c.fields);
  for (const auto& f : d.fields) {
    const auto auto_n = count_ci(f, "ddeauto");
    const auto dde_n = count_ci(f, "dde");
    r.ddeauto += static_cast<double>(auto_n);
    r.dde += static_cast<double>(dde_n);
    if (dde_n) a.hit("rtf:field", "dde", f.substr(0, 300));
  }
  for (const auto& rec : d.anomalies) {
    const std::string name = std::string("rtf.") + rtf::anomaly_name(rec.code);
    a.anomaly(name);
  }
}

const std::vector<const char*>& pdf_keywords() {
  static const std::vector<const char*> k = {
      "obj", "endobj", "stream", "endstream", "xref", "trailer", "startxref", "/Page", "/Encrypt", "/ObjStm", "/JS",
      "/JavaScript", "/AA", "/OpenAction", "/AcroForm", "/JBIG2Decode", "/RichMedia", "/Launch", "/EmbeddedFile",
      "/XFA", "/URI", "/SubmitForm", "/GoToR", "/Colors>2^24"};
  return k;
}

namespace {

bool host_is(std::string_view host, std::string_view domain) {
  return host == domain || (host.size() > domain.size() && host.substr(host.size() - domain.size()) == domain &&
                            host[host.size() - domain.size() - 1] == '.');
}

// Link shorteners hide where a link goes; lures use them, documents rarely do (LinkedIn's lnkd.in is left out: résumés).
constexpr std::string_view kShorteners[] = {"bit.ly", "tinyurl.com", "goo.gl", "t.co", "ow.ly", "is.gd", "buff.ly",
                                            "rebrand.ly", "cutt.ly", "shorturl.at", "rb.gy", "tiny.cc", "bit.do",
                                            "t.ly", "s.id", "v.gd", "shorte.st", "adf.ly", "qrco.de", "u.to"};
// File-sharing, free-hosting and cloud-storage hosts: where a lure's "document" or payload is downloaded from.
constexpr std::string_view kFileHosts[] = {
    "drive.google.com", "docs.google.com", "sites.google.com", "storage.googleapis.com", "firebasestorage.googleapis.com",
    "dropbox.com", "dropboxusercontent.com", "onedrive.live.com", "1drv.ms", "sharepoint.com", "mediafire.com",
    "wetransfer.com", "we.tl", "mega.nz", "sendspace.com", "box.com", "web.app", "firebaseapp.com", "weebly.com",
    "wixsite.com", "000webhostapp.com", "glitch.me", "ngrok.io", "ngrok-free.app", "r2.dev", "pages.dev",
    "workers.dev", "herokuapp.com", "azurewebsites.net", "blob.core.windows.net", "amazonaws.com",
    "cdn.discordapp.com", "discord.gg", "telegra.ph", "blogspot.com", "forms.gle", "anonfiles.com", "zippyshare.com",
    "4shared.com", "filetransfer.io", "gofile.io", "transfer.sh", "ipfs.io", "dweb.link"};

void pdf_uri_traits(const std::vector<std::string>& uris, PdfShapeStats& s) {
  std::unordered_set<std::string> distinct;
  for (const auto& raw : uris) {
    if (distinct.size() >= 4096 || !distinct.insert(raw).second) continue;
    const std::string u = lower(std::string_view(raw).substr(0, 4096));
    std::string_view v(u);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    if (v.size() > 100) s.uri_long += 1;
    std::size_t pct = 0;
    for (std::size_t k = 0; k + 2 < v.size(); ++k)
      if (v[k] == '%' && std::isxdigit(static_cast<unsigned char>(v[k + 1])) && std::isxdigit(static_cast<unsigned char>(v[k + 2]))) ++pct;
    if (pct > 3) s.uri_percent_encoded += 1;
    if (v.substr(0, 7) == "mailto:") {
      s.uri_mailto += 1;
      continue;
    }
    const bool https = v.substr(0, 8) == "https://", http = v.substr(0, 7) == "http://";
    if (!https && !http) {
      // www.example.com without a scheme is a web link too; javascript:, file:, data:, smb: are not
      if (v.find(':') != std::string_view::npos && v.substr(0, 4) != "www.") s.uri_other_scheme += 1;
      continue;
    }
    if (http) s.uri_plain_http += 1;
    std::string_view rest = v.substr(https ? 8 : 7);
    std::string_view auth = rest.substr(0, rest.find_first_of("/?#\\"));
    if (rest.find('?') != std::string_view::npos) s.uri_query += 1;
    if (const auto at = auth.rfind('@'); at != std::string_view::npos) {
      s.uri_userinfo += 1;
      auth = auth.substr(at + 1);
    }
    std::string_view host = auth;
    if (!host.empty() && host.front() != '[') {
      const auto colon = host.find(':');
      if (colon != std::string_view::npos) {
        const std::string_view port = host.substr(colon + 1);
        if (port != "80" && port != "443" && !port.empty()) s.uri_odd_port += 1;
        host = host.substr(0, colon);
      }
    }
    while (!host.empty() && host.back() == '.') host.remove_suffix(1);
    std::size_t digits = 0, dots = 0;
    for (char c : host) {
      digits += (c >= '0' && c <= '9') ? 1 : 0;
      dots += c == '.' ? 1 : 0;
    }
    if (digits >= 4 && !classify_link(raw).ip_host) s.uri_host_digits += 1;
    if (dots >= 4) s.uri_deep_hosts += 1;
    for (auto d : kShorteners)
      if (host_is(host, d)) {
        s.uri_shorteners += 1;
        break;
      }
    for (auto d : kFileHosts)
      if (host_is(host, d)) {
        s.uri_file_hosting += 1;
        break;
      }
  }
  s.uri_distinct = static_cast<double>(distinct.size());
}

// Actions that run when the file opens or a page shows (/OpenAction, /AA) next to JavaScript or /Launch. Counted
// per file, not per object: the scanner does not resolve the object graph.
void pdf_actions(Acc& a) {
  const auto& k = a.pdf.kw;
  const bool on_open = k[12] + k[13] > 0;  // /AA, /OpenAction
  a.active.pdf_auto_javascript = on_open && (k[10] + k[11] > 0 || a.pdf.js_bytes > 0);
  a.active.pdf_auto_launch = on_open && k[17] > 0;
}

// A sled of 32 bytes: 16 identical 16-bit units (or 8 of a 4-byte unit) decoded from escapes. Shellcode and spray
// fillers are spelled this way; escaped form text repeats a non-filler character so often nowhere in the corpora.
constexpr std::uint32_t kPdfSledBytes = 32;
// A list of 64 character codes: 64 bytes of decoded script, more than any form spells out with String.fromCharCode.
constexpr std::uint32_t kPdfCodeList = 64;

// The structural rules read from a PDF's JavaScript (pdf::JsExploit), strongest evidence first; see
// OfficeSample::structural_rule.
void pdf_exploit_rule(const pdf::JsExploit& x, Acc& a) {
  if (a.out == nullptr || !a.out->structural_rule.empty()) return;
  std::string rule, why;
  if (x.longest_sled >= kPdfSledBytes) {
    rule = "pdf-javascript-sled";
    why = "escaped bytes repeat one unit for " + std::to_string(x.longest_sled) + " bytes";
  } else if (x.doubling > 0 && x.unescape > 0) {
    rule = "pdf-heap-spray";
    why = "a string doubled in place next to unescape";
  } else if (x.wide_printf + x.null_player + x.exploit_calls > 0) {
    rule = "pdf-exploit-call";
    why = x.wide_printf ? "util.printf with a field of 1000+ characters"
          : x.null_player ? "media.newPlayer(null)"
                          : "Collab.getIcon / collectEmailInfo / spell.customDictionaryOpen";
  } else if (x.xfa_tiff_overlong + x.script_tiff > 0) {
    rule = "pdf-xfa-tiff-overflow";
    why = x.xfa_tiff_overlong ? "an XFA image field's TIFF has a tag longer than its fixed count"
                              : "a script assembles a base64 TIFF for an image field";
  } else if (x.annot_subject > 0 && x.computed_call + x.eval_calls + x.eval_value > 0) {
    rule = "pdf-annotation-payload";
    why = "the text of annotations is read and code is run from it";
  } else if (x.metadata_read > 0 && x.unescape > 0 && x.computed_call + x.eval_calls + x.eval_value > 0) {
    rule = "pdf-metadata-payload";
    why = "the document's information fields are unescaped and run";
  } else if (x.computed_call + x.eval_value > 0 &&
             (x.from_char_code + x.unescape > 0 || x.longest_code_list >= kPdfCodeList)) {
    // Decoded text and an indirect call. A direct eval next to fromCharCode is not enough: forms eval field names.
    rule = "pdf-javascript-decoder";
    why = x.computed_call ? "decoded text is run through a method called by a computed name"
                          : "decoded text is run through eval held in a variable";
  }
  if (rule.empty()) return;
  a.out->structural_rule = rule;
  if (a.opt->collect_hits) a.hit("pdf:/JavaScript", "exploit", why);
}
}  // namespace

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
    for (const auto& e : d.embedded_files) {
      if (starts_with(e.bytes, "MZ")) a.active.pdf_embedded_executable += 1;
      else if (starts_with(e.bytes, "\xD0\xCF\x11\xE0") || starts_with(e.bytes, "PK\x03\x04") ||
               starts_with(e.bytes, "{\\rt") || starts_with(e.bytes, "%PDF-"))
        a.active.pdf_embedded_document += 1;
      a.embed("pdf-embedded-" + std::to_string(e.object), std::vector<std::uint8_t>(e.bytes.begin(), e.bytes.end()));
    }
    std::unordered_set<std::string> hosts;
    for (const auto& u : d.uris) {
      const LinkTarget t = classify_link(u);
      if (!t.host.empty() && hosts.size() < 4096) hosts.insert(t.host);
      if (t.ip_host) a.active.pdf_uri_ip_hosts += 1;
      if (t.executable) a.active.pdf_uri_executables += 1;
    }
    a.active.pdf_uri_hosts = static_cast<double>(hosts.size());
    PdfShapeStats& sh = a.pdf_shape;
    const pdf::Shape& ds = d.shape;
    sh.link_annots = ds.link_annots;
    sh.uri_links = ds.uri_links;
    sh.max_uri_link_fraction = ds.max_uri_link_fraction;
    sh.big_uri_links = ds.big_uri_links;
    sh.widgets = ds.widgets;
    sh.images = ds.images;
    sh.content_streams = ds.content_streams;
    sh.text_ops = static_cast<double>(ds.text_ops);
    sh.draw_ops = static_cast<double>(ds.draw_ops);
    sh.pages = d.count(pdf::Key::page);
    sh.open_uri = ds.open_uri;
    sh.open_javascript = ds.open_javascript;
    sh.open_launch = ds.open_launch;
    sh.open_submit = ds.open_submit;
    sh.open_other = ds.open_other;
    sh.submit_web = ds.submit_web;
    const pdf::JsTraits& js = d.js;
    sh.js_bytes = static_cast<double>(js.bytes);
    sh.js_eval = js.eval;
    sh.js_unescape = js.unescape;
    sh.js_from_char_code = js.from_char_code;
    sh.js_percent_u = js.percent_u;
    sh.js_hex_escapes = js.hex_escapes;
    sh.js_hex_runs = js.hex_runs;
    sh.js_longest_string = js.longest_string;
    sh.js_timers = js.timers;
    sh.js_annots = js.annots;
    sh.js_exploit_apis = js.exploit_apis;
    sh.js_navigation = js.navigation;
    pdf_uri_traits(d.uris, sh);
    pdf_exploit_rule(d.exploit, a);
    if (ds.open_launch > 0 && a.opt->collect_hits) a.hit("pdf:/OpenAction", "execute", "a /Launch action runs on open");
    if (ds.big_uri_links > 0 && a.opt->collect_hits)
      a.hit("pdf:/Link", "url", "a link covers " + std::to_string(static_cast<int>(ds.max_uri_link_fraction * 100 + 0.5)) +
                                    "% of the page");
    pdf_actions(a);
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
  pdf_actions(a);
  for (std::size_t k : {11u, 13u, 17u, 18u})
    if (p.kw[k] > 0 && a.opt->collect_hits) a.hit("pdf", "keyword", std::string(kw[k]) + " x" + std::to_string(static_cast<int>(p.kw[k])));
}

}  // namespace mamori::features::office
