// OOXML packages (docx/xlsx/pptx and their macro-enabled forms): parts and content types, relationships (external
// targets, remote templates, external OLE links), DDE fields and links, Excel 4 macro sheets, vbaProject.bin, and
// embedded objects / ActiveX controls handed back for scanning. The zip is walked by src/formats/ooxml (only the
// parts read here are inflated); workbooks and their macro sheets (XML or XLSB) are read by src/formats/xls.
#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_set>

#include "features/office_internal.hpp"
#include "features/office_parts.hpp"
#include "formats/ooxml/ooxml.hpp"
#include "formats/xls/xls.hpp"

namespace mamori::features::office {

namespace {

bool has_prefix(std::string_view s, std::string_view p) { return s.size() >= p.size() && s.substr(0, p.size()) == p; }
bool has_suffix(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// Value of attribute `name` inside one tag's text ("Target=\"...\""); empty when absent.
std::string_view attr(std::string_view tag, std::string_view name) {
  std::size_t p = 0;
  while ((p = tag.find(name, p)) != std::string_view::npos) {
    const bool boundary = p == 0 || tag[p - 1] == ' ' || tag[p - 1] == '\t' || tag[p - 1] == '\n' || tag[p - 1] == '\r' || tag[p - 1] == ':';
    std::size_t q = p + name.size();
    while (q < tag.size() && tag[q] == ' ') ++q;
    if (boundary && q < tag.size() && tag[q] == '=') {
      ++q;
      while (q < tag.size() && tag[q] == ' ') ++q;
      if (q < tag.size() && (tag[q] == '"' || tag[q] == '\'')) {
        const char quote = tag[q];
        const std::size_t end = tag.find(quote, q + 1);
        if (end == std::string_view::npos) return {};
        return tag.substr(q + 1, end - q - 1);
      }
    }
    p += name.size();
  }
  return {};
}

// Calls f(tag_text) for each element whose name ends with `local` ("Relationship" matches <Relationship and
// <r:Relationship). Bounded by the text.
template <class F>
void for_each_tag(std::string_view xml, std::string_view local, F&& f) {
  std::size_t p = 0;
  while ((p = xml.find('<', p)) != std::string_view::npos) {
    std::size_t q = p + 1;
    while (q < xml.size() && xml[q] != ' ' && xml[q] != '>' && xml[q] != '/' && xml[q] != '\t' && xml[q] != '\n' && xml[q] != '\r') ++q;
    const std::string_view name = xml.substr(p + 1, q - p - 1);
    const std::size_t colon = name.rfind(':');
    const std::string_view ln = colon == std::string_view::npos ? name : name.substr(colon + 1);
    const std::size_t end = xml.find('>', q);
    if (end == std::string_view::npos) return;
    if (ln == local) f(xml.substr(p, end - p + 1));
    p = end;
  }
}

// Concatenated text of every <w:instrText> element plus every fldSimple's w:instr: field codes, which Word splits
// over runs ("DD" + "EAUTO").
std::string field_codes(std::string_view xml, double& fields) {
  std::string out;
  std::size_t p = 0;
  while ((p = xml.find("instrText", p)) != std::string_view::npos) {
    if (p == 0 || (xml[p - 1] != ':' && xml[p - 1] != '<')) { p += 9; continue; }
    const std::size_t gt = xml.find('>', p);
    if (gt == std::string_view::npos) break;
    if (xml[gt - 1] == '/') { p = gt; continue; }
    const std::size_t close = xml.find('<', gt);
    if (close == std::string_view::npos) break;
    if (xml[p - 1] != '/') {
      out.append(xml.substr(gt + 1, close - gt - 1));
      fields += 1;
    }
    p = close;
  }
  for_each_tag(xml, "fldSimple", [&](std::string_view tag) {
    out += ' ';
    out.append(attr(tag, "instr"));
    fields += 1;
  });
  return out;
}

bool all_of(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s)
    if (!pred(c)) return false;
  return true;
}
bool digit_or_dot(char c) { return (c >= '0' && c <= '9') || c == '.'; }
bool hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Hosts written as numbers: dotted quads, one decimal or hex number (browsers and WebDAV accept 3232235777 and
// 0xc0a80001 for 192.168.0.1), bracketed IPv6.
bool ip_literal(std::string_view h) {
  if (h.empty()) return false;
  if (h.front() == '[') return true;
  if (h.size() > 2 && h[0] == '0' && h[1] == 'x') return all_of(h.substr(2), hex_digit);
  if (!all_of(h, digit_or_dot)) return false;
  return std::count(h.begin(), h.end(), '.') <= 3;
}

bool ends_with_host(std::string_view host, std::string_view domain) {
  return host == domain || (host.size() > domain.size() && has_suffix(host, domain) &&
                            host[host.size() - domain.size() - 1] == '.');
}

// A link target that names a script moniker rather than a file: "script:http://host/x.sct" (the CVE-2017-0199 /
// CVE-2017-8570 PowerPoint show, written %73cript:%68ttp:// to slip past plain-text matching), "scriptlet:",
// "javascript:", "vbscript:", "mhtml:" / "!x-usc:" (CVE-2021-40444) and "ms-msdt:" (CVE-2022-30190). Office resolves
// an external OLE object, frame or template through the URL moniker, which runs such a moniker's script. Percent
// escapes are decoded first (bounded: the first 4 KiB of the target).
bool script_moniker_target(std::string_view target) {
  std::string d;
  const std::size_t n = std::min<std::size_t>(target.size(), 4096);
  for (std::size_t i = 0; i < n; ++i) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (target[i] == '%' && i + 2 < n && hex(target[i + 1]) >= 0 && hex(target[i + 2]) >= 0) {
      d += static_cast<char>(hex(target[i + 1]) * 16 + hex(target[i + 2]));
      i += 2;
    } else {
      d += target[i];
    }
  }
  d = lower(d);
  std::string_view v(d);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  for (std::string_view scheme : {"script:", "scriptlet:", "javascript:", "vbscript:", "mhtml:", "ms-msdt:"})
    if (has_prefix(v, scheme)) return true;
  return v.find("!x-usc:") != std::string_view::npos;
}

}  // namespace

LinkTarget classify_link(std::string_view target) {
  LinkTarget t;
  std::string s = lower(target.substr(0, 4096));
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
  std::string_view v(s);
  std::string_view rest;
  if (has_prefix(v, "http://") || has_prefix(v, "https://")) {
    t.kind = LinkTarget::web;
    rest = v.substr(v.find("//") + 2);
  } else if (has_prefix(v, "file:")) {
    // file:///C:/x and file:///home/x are local; file://host/x, file:////host/x and file:///\\host\x are shares.
    std::string_view r = v.substr(5);
    std::size_t n = 0;
    while (n < r.size() && (r[n] == '/' || r[n] == '\\')) ++n;
    rest = r.substr(n);
    const bool drive = rest.size() >= 2 && rest[0] >= 'a' && rest[0] <= 'z' && (rest[1] == ':' || rest[1] == '|');
    t.kind = drive || n < 2 || n == 3 ? LinkTarget::local : LinkTarget::unc;
  } else if (has_prefix(v, "\\\\") || has_prefix(v, "//")) {
    t.kind = LinkTarget::unc;
    rest = v.substr(2);
  } else if (v.size() >= 2 && v[0] >= 'a' && v[0] <= 'z' && v[1] == ':') {
    t.kind = LinkTarget::local;
  }
  if (t.kind == LinkTarget::web || t.kind == LinkTarget::unc) {
    std::string_view auth = rest.substr(0, rest.find_first_of("/\\?#"));
    if (const auto at = auth.rfind('@'); at != std::string_view::npos) auth = auth.substr(at + 1);
    if (auth.empty() || auth.front() != '[') auth = auth.substr(0, auth.find(':'));
    t.host = std::string(auth);
    t.ip_host = ip_literal(auth);
    t.trusted = t.kind == LinkTarget::web && (ends_with_host(auth, "microsoft.com") || ends_with_host(auth, "office.com") ||
                                              ends_with_host(auth, "office.net"));
  }
  std::string_view path = v;
  if (t.kind == LinkTarget::web || t.kind == LinkTarget::unc) {
    const std::size_t slash = rest.find_first_of("/\\");
    path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  }
  path = path.substr(0, path.find_first_of("?#"));
  static constexpr std::string_view kRun[] = {".exe", ".scr", ".dll", ".pif", ".js", ".jse", ".vbs", ".vbe",
                                              ".wsf", ".hta", ".ps1", ".bat", ".cmd", ".msi", ".jar", ".lnk", ".iso",
                                              ".img", ".zip", ".rar", ".7z", ".cab"};
  for (const auto ext : kRun)
    if (has_suffix(path, ext)) t.executable = true;
  return t;
}

void analyze_ooxml(ByteView bytes, Acc& a) {
  OoxmlStats& z = a.ooxml;
  // Kept for the workbook reader, which needs the sheet list before the macro sheets.
  std::vector<std::uint8_t> workbook, workbook_rels;
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> macro_sheets;
  // altChunk parts: those found by name, and the targets of aFChunk relationships (which may name any part and may
  // come after the part in the zip: a second walk fetches those the first did not see).
  std::unordered_set<std::string> chunks_seen, chunk_targets;
  auto chunk = [&](const std::string& name, ByteView data) {
    if (!chunks_seen.insert(lower(name)).second || chunks_seen.size() > 64) return;
    a.hit("ooxml:" + name, "altchunk", "aFChunk part (" + std::to_string(data.size()) + " bytes) scanned as a document of its own");
    a.embed(name, std::vector<std::uint8_t>(data.data(), data.data() + data.size()));
  };
  auto classify = [](const ooxml::Part& p) {
    struct Kind {
      bool ct, rels, doc, workbook, workbook_rels, macrosheet, extlink, vba, embedding, activex;
    } k{};
    const std::string& low = p.lower;
    k.ct = low == "[content_types].xml";
    k.rels = has_suffix(low, ".rels");
    k.doc = low == "word/document.xml" || has_prefix(low, "word/header") || has_prefix(low, "word/footer") ||
            low == "word/footnotes.xml" || low == "word/endnotes.xml";
    k.workbook = low == "xl/workbook.xml" || low == "xl/workbook.bin";
    k.workbook_rels = low == "xl/_rels/workbook.xml.rels" || low == "xl/_rels/workbook.bin.rels";
    k.macrosheet = has_prefix(low, "xl/macrosheets/") && !k.rels && (has_suffix(low, ".xml") || has_suffix(low, ".bin"));
    k.extlink = has_prefix(low, "xl/externallinks/") && has_suffix(low, ".xml");
    k.vba = has_suffix(low, "vbaproject.bin");
    k.embedding = low.find("/embeddings/") != std::string::npos;
    k.activex = low.find("/activex/") != std::string::npos;
    return k;
  };
  auto want = [&](const ooxml::Part& p) {
    const auto k = classify(p);
    const std::string& low = p.lower;
    if (low == "word/document.xml" || k.workbook || low == "ppt/presentation.xml") z.has_document = 1;
    if (has_prefix(low, "customui/") || has_prefix(low, "customui14")) z.custom_ui += 1;
    if (low.find("webextension") != std::string::npos) z.webextensions += 1;
    if (has_prefix(low, "customxml/")) z.custom_xml += 1;
    if (has_prefix(low, "xl/macrosheets/")) z.macrosheet_parts += 1;
    if (k.extlink) z.external_links_parts += 1;
    if (k.embedding) {
      z.embeddings += 1;
      if (low.find("oleobject") != std::string::npos) z.ole_objects += 1;
    }
    if (k.activex) {
      if (has_suffix(low, ".bin")) z.activex_bin += 1;
      else if (has_suffix(low, ".xml") && !k.rels) z.activex += 1;
    }
    return k.ct || k.rels || k.doc || k.workbook || k.macrosheet || k.extlink || k.vba || k.embedding ||
           (k.activex && has_suffix(low, ".bin")) || (a.depth == 0 && (chunk_part_name(low) || has_suffix(low, ".eps")));
  };
  auto visit = [&](const ooxml::Part& p, ByteView data, bool /*truncated*/) {
    const auto k = classify(p);
    const std::string& name = p.name;
    const bool is_ct = k.ct, is_rels = k.rels, is_doc = k.doc, is_extlink = k.extlink, is_vba = k.vba;
    const bool is_embedding = k.embedding, is_activex = k.activex;
    const std::string_view xml(reinterpret_cast<const char*>(data.data()), data.size());
    if (k.workbook_rels) workbook_rels.assign(data.data(), data.data() + data.size());
    if (k.workbook) {
      workbook.assign(data.data(), data.data() + data.size());
      return true;
    }
    if (!k.embedding && !k.activex && a.depth == 0 && chunk_part_name(p.lower)) {
      chunk(name, data);
      return true;
    }
    if (has_suffix(p.lower, ".eps") && a.depth == 0) {
      // EPS images (Office has not rendered them since 2017; 0 of 2,029 benign OOXML documents of the corpora have
      // one): named only when the program holds a string no PostScript interpreter accepts.
      if (const std::size_t n = longest_ps_hex_string(xml); n > 65535) {
        a.hit("ooxml:" + name, "eps-exploit", "hex string literal of " + std::to_string(n) + " bytes (PostScript caps strings at 65,535)");
        if (a.out && a.out->structural_rule.empty()) a.out->structural_rule = "eps-oversized-string";
      }
      return true;
    }
    if (k.macrosheet) {
      if (macro_sheets.size() < 256) macro_sheets.emplace_back(name, std::vector<std::uint8_t>(data.data(), data.data() + data.size()));
      return true;
    }

    if (is_ct) {
      for_each_tag(xml, "Override", [&](std::string_view tag) {
        z.content_types += 1;
        const std::string ct = lower(attr(tag, "ContentType"));
        if (ct.find("macroenabled") != std::string::npos || ct.find("vbaproject") != std::string::npos) z.macro_enabled_ct += 1;
      });
      for_each_tag(xml, "Default", [&](std::string_view tag) {
        z.content_types += 1;
        const std::string ct = lower(attr(tag, "ContentType"));
        if (ct.find("vbaproject") != std::string::npos) z.macro_enabled_ct += 1;
      });
    } else if (is_rels) {
      z.rels += 1;
      for_each_tag(xml, "Relationship", [&](std::string_view tag) {
        z.relationships += 1;
        const std::string mode = lower(attr(tag, "TargetMode"));
        const std::string_view type = attr(tag, "Type");
        const std::string target = lower(attr(tag, "Target"));
        if (has_suffix(type, "/aFChunk") && mode != "external" && chunk_targets.size() < 64)
          if (auto part = resolve_part_target(name, attr(tag, "Target")); !part.empty()) chunk_targets.insert(std::move(part));
        if (target.find("mhtml:") != std::string::npos || target.find("x-usc:") != std::string::npos) z.mhtml_targets += 1;
        if (mode != "external") return;
        z.external_rels += 1;
        // Template injection and external OLE links fetch from the target on open; Word's own template hosts and
        // local paths (file:///C:/...) are what benign documents carry.
        const LinkTarget link = classify_link(attr(tag, "Target"));
        const bool untrusted_web = link.kind == LinkTarget::web && !link.trusted;
        if (link.ip_host) a.active.external_ip_hosts += 1;
        if (has_suffix(type, "/attachedTemplate")) {
          if (untrusted_web) a.active.remote_template_web += 1;
          else if (link.kind == LinkTarget::unc) a.active.remote_template_unc += 1;
        } else if (has_suffix(type, "/oleObject") || has_suffix(type, "/frame") || has_suffix(type, "/subDocument")) {
          if (untrusted_web || link.kind == LinkTarget::unc) a.active.external_object_web += 1;
        }
        if ((has_suffix(type, "/oleObject") || has_suffix(type, "/frame") || has_suffix(type, "/subDocument") ||
             has_suffix(type, "/attachedTemplate")) &&
            a.depth == 0 && a.out && a.out->structural_rule.empty() && script_moniker_target(attr(tag, "Target")))
          a.out->structural_rule = "script-moniker-link";
        const bool web = has_prefix(target, "http://") || has_prefix(target, "https://");
        const bool unc = has_prefix(target, "file:") || has_prefix(target, "\\\\") || has_prefix(target, "//");
        if (web) z.external_http += 1;
        if (unc) z.external_unc_file += 1;
        const char* cat = nullptr;
        if (has_suffix(type, "/attachedTemplate")) {
          z.remote_template += 1;
          cat = "remote-template";
        } else if (has_suffix(type, "/oleObject")) {
          z.external_oleobject += 1;
          cat = "external-ole-link";
        } else if (has_suffix(type, "/frame") || has_suffix(type, "/subDocument")) {
          z.external_frame += 1;
          cat = "external-frame";
        } else if (has_suffix(type, "/hyperlink")) {
          z.external_hyperlinks += 1;
        } else {
          z.external_other += 1;
          cat = "external-relationship";
        }
        if (cat) a.hit("ooxml:" + name, cat, std::string(type.substr(type.rfind('/') + 1)) + " -> " + std::string(attr(tag, "Target")));
      });
    } else if (is_doc) {
      const std::string codes = field_codes(xml, z.fields);
      const auto ddeauto = count_ci(codes, "ddeauto");
      const auto dde = count_ci(codes, "dde");
      z.ddeauto_fields += static_cast<double>(ddeauto);
      z.dde_fields += static_cast<double>(dde);
      if (dde) a.hit("ooxml:" + name, "dde", codes.substr(0, 400));
    } else if (is_extlink) {
      const auto dde = count_ci(xml, "<ddeLink");
      z.dde_links += static_cast<double>(dde);
      if (dde) a.hit("ooxml:" + name, "dde", std::string(xml.substr(0, std::min<std::size_t>(xml.size(), 300))));
    } else if (is_vba) {
      z.vba_project += 1;
      const bool report = a.depth == 0 && a.opt->collect_embedded && a.vba_bins++ < 4;
      if (a.depth < office_limits::max_inline_depth) {
        auto f = ole2::parse(data);
        if (f.ok()) {
          ++a.depth;
          a.report_iocs = report;
          analyze_vba_projects(*f, a, name);
          a.report_iocs = false;
          for (const auto& rec : f->anomalies) a.anomaly(std::string("vbaProject.ole2.") + ole2::anomaly_name(rec.code));
          --a.depth;
        } else {
          a.anomaly("vbaproject_unreadable");
        }
      }
    } else if (is_embedding || is_activex) {
      if (data.starts_with("MZ")) z.embedded_exe += 1;
      else if (data.starts_with("\xD0\xCF\x11\xE0")) z.embedded_ole2 += 1;
      else z.embedded_other += 1;
      a.scan_payload(data, "ooxml:" + name);
      a.embed(name, std::vector<std::uint8_t>(data.data(), data.data() + data.size()));
    }
    return true;
  };
  auto walked = ooxml::for_each_part(bytes, ooxml::Options{}, want, visit);
  if (!walked.ok()) {
    z.zip_errors += 1;
    a.anomaly("ooxml_unreadable_zip");
    return;
  }
  const ooxml::Summary& sum = *walked;
  // aFChunk targets with names the first walk did not take for chunks: one more header walk, only for those parts.
  bool unseen = false;
  for (const auto& t : chunk_targets) unseen = unseen || !chunks_seen.contains(t);
  if (unseen && a.depth == 0) {
    auto want_target = [&](const ooxml::Part& p) { return chunk_targets.contains(p.lower) && !chunks_seen.contains(p.lower); };
    auto visit_target = [&](const ooxml::Part& p, ByteView data, bool) {
      chunk(p.name, data);
      return true;
    };
    (void)ooxml::for_each_part(bytes, ooxml::Options{}, want_target, visit_target);
  }
  z.entries = static_cast<double>(sum.entries);
  z.uncompressed_bytes = sum.declared_bytes;
  z.zip_errors += static_cast<double>(sum.zip_errors);
  z.duplicate_names = static_cast<double>(sum.duplicate_names);
  z.dotdot_paths = static_cast<double>(sum.dotdot_paths);
  z.absolute_paths = static_cast<double>(sum.absolute_paths);
  z.encrypted_entries = static_cast<double>(sum.encrypted_entries);
  if (sum.has(ooxml::Anomaly::header_fatal)) a.anomaly("ooxml_zip_fatal_error");
  if (sum.has(ooxml::Anomaly::entries_truncated_by_limit)) a.anomaly("ooxml_entries_truncated_by_limit");
  if (sum.has(ooxml::Anomaly::part_truncated_by_limit)) a.anomaly("ooxml_part_truncated_by_limit");

  // Workbooks (xlsx, xlsm, xlsb) through the xls module, the same reader and the same counts as BIFF workbooks.
  if (!workbook.empty() || !macro_sheets.empty()) {
    std::vector<xls::OoxmlPart> parts;
    parts.reserve(macro_sheets.size());
    for (const auto& [path, bytes_] : macro_sheets) parts.push_back({path, ByteView(bytes_.data(), bytes_.size())});
    const xls::Workbook w = xls::parse_ooxml(ByteView(workbook.data(), workbook.size()),
                                             ByteView(workbook_rels.data(), workbook_rels.size()), parts);
    analyze_workbook(w, a);
  }
  if (z.has_document == 0 && z.entries > 0) a.anomaly("ooxml_no_main_part");
  if (z.content_types == 0) z.missing_content_types = 1;
  if (z.dotdot_paths) a.anomaly("ooxml_path_traversal");
  if (z.duplicate_names) a.anomaly("ooxml_duplicate_part_names");
  if (z.zip_errors) a.anomaly("ooxml_zip_errors");
}

}  // namespace mamori::features::office
