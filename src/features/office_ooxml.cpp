// OOXML packages (docx/xlsx/pptx and their macro-enabled forms): parts and content types, relationships (external
// targets, remote templates, external OLE links), DDE fields and links, Excel 4 macro sheets, vbaProject.bin, and
// embedded objects / ActiveX controls handed back for scanning. The zip is read with libarchive from memory.
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_set>

#include "features/office_internal.hpp"

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

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

}  // namespace

void analyze_ooxml(ByteView bytes, Acc& a) {
  OoxmlStats& z = a.ooxml;
  std::unique_ptr<archive, ArchiveDeleter> ar(archive_read_new());
  if (!ar) return;
  archive_read_support_format_zip(ar.get());
  if (archive_read_open_memory(ar.get(), bytes.data(), static_cast<std::size_t>(bytes.size())) != ARCHIVE_OK) {
    z.zip_errors += 1;
    a.anomaly("ooxml_unreadable_zip");
    return;
  }
  std::unordered_set<std::string> seen;
  std::uint64_t inflated = 0;
  std::vector<std::uint8_t> buf;
  archive_entry* ent = nullptr;
  for (;;) {
    const int rc = archive_read_next_header(ar.get(), &ent);
    if (rc == ARCHIVE_EOF) break;
    if (rc == ARCHIVE_FATAL) {
      z.zip_errors += 1;
      a.anomaly("ooxml_zip_fatal_error");
      break;
    }
    if (rc == ARCHIVE_WARN || rc == ARCHIVE_RETRY) z.zip_errors += 1;
    if (z.entries >= static_cast<double>(office_limits::max_zip_entries)) {
      a.anomaly("ooxml_entries_truncated_by_limit");
      break;
    }
    z.entries += 1;
    const char* pn = archive_entry_pathname(ent);
    const std::string name = pn ? pn : "";
    const std::int64_t claimed = archive_entry_size_is_set(ent) ? archive_entry_size(ent) : -1;
    if (claimed > 0) z.uncompressed_bytes += static_cast<double>(claimed);
    if (!seen.insert(name).second) z.duplicate_names += 1;
    if (name.find("..") != std::string::npos) z.dotdot_paths += 1;
    if (!name.empty() && (name[0] == '/' || name[0] == '\\')) z.absolute_paths += 1;
    if (archive_entry_is_encrypted(ent)) {
      z.encrypted_entries += 1;
      continue;
    }
    const std::string low = lower(name);
    const bool is_ct = low == "[content_types].xml";
    const bool is_rels = has_suffix(low, ".rels");
    const bool is_doc = low == "word/document.xml" || has_prefix(low, "word/header") || has_prefix(low, "word/footer") ||
                        low == "word/footnotes.xml" || low == "word/endnotes.xml";
    const bool is_workbook = low == "xl/workbook.xml";
    const bool is_macrosheet = has_prefix(low, "xl/macrosheets/");
    const bool is_extlink = has_prefix(low, "xl/externallinks/") && has_suffix(low, ".xml");
    const bool is_vba = has_suffix(low, "vbaproject.bin");
    const bool is_embedding = low.find("/embeddings/") != std::string::npos;
    const bool is_activex = low.find("/activex/") != std::string::npos;
    if (low == "word/document.xml" || is_workbook || low == "ppt/presentation.xml") z.has_document = 1;
    if (has_prefix(low, "customui/") || has_prefix(low, "customui14")) z.custom_ui += 1;
    if (low.find("webextension") != std::string::npos) z.webextensions += 1;
    if (has_prefix(low, "customxml/")) z.custom_xml += 1;
    if (is_macrosheet) {
      z.macrosheet_parts += 1;
      if (!is_rels) {
        a.xlm.macro_sheets += 1;
        a.out->has_macros = true;
      }
    }
    if (is_extlink) z.external_links_parts += 1;
    if (is_embedding) {
      z.embeddings += 1;
      if (low.find("oleobject") != std::string::npos) z.ole_objects += 1;
    }
    if (is_activex) {
      if (has_suffix(low, ".bin")) z.activex_bin += 1;
      else if (has_suffix(low, ".xml") && !is_rels) z.activex += 1;
    }
    const bool wanted = is_ct || is_rels || is_doc || is_workbook || (is_macrosheet && !is_rels) || is_extlink ||
                        is_vba || is_embedding || (is_activex && has_suffix(low, ".bin"));
    if (!wanted) continue;
    // Inflate the part, within the per-part and per-package caps.
    buf.clear();
    char chunk[65536];
    bool capped = false;
    for (;;) {
      const la_ssize_t got = archive_read_data(ar.get(), chunk, sizeof chunk);
      if (got < 0) {
        z.zip_errors += 1;
        break;
      }
      if (got == 0) break;
      if (buf.size() + static_cast<std::size_t>(got) > office_limits::max_part_bytes ||
          inflated + static_cast<std::uint64_t>(got) > office_limits::max_package_bytes) {
        capped = true;
        break;
      }
      buf.insert(buf.end(), chunk, chunk + got);
      inflated += static_cast<std::uint64_t>(got);
    }
    if (capped) a.anomaly("ooxml_part_truncated_by_limit");
    const std::string_view xml(reinterpret_cast<const char*>(buf.data()), buf.size());

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
        if (target.find("mhtml:") != std::string::npos || target.find("x-usc:") != std::string::npos) z.mhtml_targets += 1;
        if (mode != "external") return;
        z.external_rels += 1;
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
    } else if (is_workbook) {
      for_each_tag(xml, "sheet", [&](std::string_view tag) {
        a.xlm.sheets += 1;
        const std::string st = lower(attr(tag, "state"));
        if (st == "veryhidden") a.xlm.very_hidden_sheets += 1;
        else if (st == "hidden") a.xlm.hidden_sheets += 1;
      });
      for_each_tag(xml, "definedName", [&](std::string_view tag) {
        a.xlm.defined_names += 1;
        const std::string n = lower(attr(tag, "name"));
        if (attr(tag, "hidden") == "1" || attr(tag, "hidden") == "true") a.xlm.hidden_names += 1;
        if (n.find("auto_open") != std::string::npos) {
          a.xlm.auto_open_names += 1;
          a.hit("ooxml:" + name, "autoexec", "definedName " + std::string(attr(tag, "name")));
        }
        if (n.find("auto_close") != std::string::npos) a.xlm.auto_close_names += 1;
      });
    } else if (is_macrosheet) {
      XlmStats& x = a.xlm;
      x.formulas += static_cast<double>(count_ci(xml, "<f>") + count_ci(xml, "<f "));
      x.exec += static_cast<double>(count_ci(xml, "exec("));
      x.call += static_cast<double>(count_ci(xml, "call("));
      x.reg += static_cast<double>(count_ci(xml, "register("));
      x.chr += static_cast<double>(count_ci(xml, "char("));
      x.halt += static_cast<double>(count_ci(xml, "halt("));
      x.go_to += static_cast<double>(count_ci(xml, "goto("));
      x.formula_fn += static_cast<double>(count_ci(xml, "formula(") + count_ci(xml, "formula.fill("));
      x.run += static_cast<double>(count_ci(xml, "run("));
      x.get_workspace += static_cast<double>(count_ci(xml, "get.workspace("));
      x.url_strings += static_cast<double>(count_ci(xml, "http"));
      for (const char* api : {"urlmon", "kernel32", "shell32", "urldownloadtofile", "shellexecute", "virtualalloc"})
        x.api_strings += static_cast<double>(count_ci(xml, api));
      if (x.exec + x.call + x.reg > 0) a.hit("xlm:" + name, "execute", "EXEC/CALL/REGISTER in macro sheet");
    } else if (is_extlink) {
      const auto dde = count_ci(xml, "<ddeLink");
      z.dde_links += static_cast<double>(dde);
      if (dde) a.hit("ooxml:" + name, "dde", std::string(xml.substr(0, std::min<std::size_t>(xml.size(), 300))));
    } else if (is_vba) {
      z.vba_project += 1;
      if (a.depth == 0 && a.opt->collect_embedded && a.out->vba_project_bins.size() < 4) a.out->vba_project_bins.push_back(buf);
      if (a.depth < office_limits::max_inline_depth) {
        auto f = ole2::parse(ByteView(buf.data(), buf.size()));
        if (f.ok()) {
          ++a.depth;
          analyze_vba_projects(*f, a, name);
          for (const auto& rec : f->anomalies) a.anomaly(std::string("vbaProject.ole2.") + ole2::anomaly_name(rec.code));
          --a.depth;
        } else {
          a.anomaly("vbaproject_unreadable");
        }
      }
    } else if (is_embedding || is_activex) {
      if (buf.size() >= 2 && buf[0] == 'M' && buf[1] == 'Z') z.embedded_exe += 1;
      else if (buf.size() >= 4 && std::memcmp(buf.data(), "\xD0\xCF\x11\xE0", 4) == 0) z.embedded_ole2 += 1;
      else z.embedded_other += 1;
      a.embed(name, buf);
    }
  }
  if (z.has_document == 0 && z.entries > 0) a.anomaly("ooxml_no_main_part");
  if (z.content_types == 0) z.missing_content_types = 1;
  if (z.dotdot_paths) a.anomaly("ooxml_path_traversal");
  if (z.duplicate_names) a.anomaly("ooxml_duplicate_part_names");
  if (z.zip_errors) a.anomaly("ooxml_zip_errors");
}

}  // namespace mamori::features::office
