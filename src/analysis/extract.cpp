// extract_document: OLE2 and OOXML documents taken apart for `mamori extract`.
#include "analysis/extract.hpp"

#include <algorithm>
#include <string>

#include "analysis/text_util.hpp"
#include "common/hash.hpp"
#include "formats/ole2/ole2.hpp"
#include "formats/ooxml/ooxml.hpp"
#include "formats/rtf/rtf.hpp"
#include "formats/vba/vba.hpp"
#include "formats/vba/wordbasic.hpp"
#include "formats/xls/xls.hpp"

namespace mamori::analysis {

namespace {

bool starts_with(ByteView b, std::string_view magic) {
  return b.size() >= magic.size() && std::equal(magic.begin(), magic.end(), b.data(),
                                                [](char c, std::uint8_t x) { return static_cast<std::uint8_t>(c) == x; });
}

// A stream that holds a whole file of its own: an executable, an archive or package, a PDF, RTF or a nested OLE2.
bool looks_like_file(ByteView b) {
  return starts_with(b, "MZ") || starts_with(b, "PK\x03\x04") || starts_with(b, "%PDF") || starts_with(b, "{\\rt") ||
         starts_with(b, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") || starts_with(b, "7z\xBC\xAF") || starts_with(b, "Rar!") ||
         starts_with(b, "\x7F" "ELF") || starts_with(b, "MSCF");
}

class Extractor {
 public:
  explicit Extractor(Extraction& x) : x_(x) {}

  void add_object(std::string origin, std::string kind, std::string label, ByteView data) {
    if (x_.objects.size() >= limits::max_objects) {
      note("embedded objects beyond " + std::to_string(limits::max_objects) + " not kept");
      return;
    }
    EmbeddedObject o;
    o.origin = std::move(origin);
    o.kind = std::move(kind);
    o.label = std::move(label);
    std::uint64_t n = std::min<std::uint64_t>(data.size(), limits::max_object_bytes);
    if (total_object_bytes_ + n > limits::max_total_object_bytes) n = limits::max_total_object_bytes - total_object_bytes_;
    o.truncated = n < data.size();
    o.data.assign(data.data(), data.data() + n);
    o.sha256 = sha256_hex(ByteView(o.data.data(), o.data.size()));
    total_object_bytes_ += n;
    if (o.truncated) note("object from " + o.origin + " truncated to " + std::to_string(n) + " bytes");
    x_.objects.push_back(std::move(o));
  }

  void note(std::string s) {
    if (x_.notes.size() < 256) x_.notes.push_back(std::move(s));
  }

  void ole2_document(ByteView bytes, const std::string& prefix, unsigned depth) {
    auto f = ole2::parse(bytes);
    if (!f) {
      note(prefix + "not readable as a compound file: " + f.error().message);
      return;
    }
    const ole2::File& file = *f;
    // VBA projects.
    for (const auto& storage : vba::find_projects(file)) {
      auto p = vba::extract(file, storage);
      if (!p) {
        note(prefix + storage + ": " + p.error().message);
        continue;
      }
      for (const auto& m : p->modules) {
        ExtractedModule em;
        em.project = prefix + storage;
        em.name = m.name.empty() ? m.stream_name : m.name;
        em.source = m.source;
        em.pcode_size = m.pcode_size;
        em.pcode_without_source = m.stomp_suspect;
        x_.modules.push_back(std::move(em));
      }
      if (p->excel5) {
        // The names the p-code refers to, for the analyst; not a module, so the macro features never count them.
        ExtractedModule ids;
        ids.project = prefix + storage;
        ids.name = "(identifier table)";
        ids.source = "' mamori: Excel 5/95 VBA: the names in _VBA_PROJECT/dir, one per line (not source)\n";
        for (const auto& n : p->identifiers) ids.source += "' " + n + "\n";
        x_.modules.push_back(std::move(ids));
        for (const auto& a : p->excel5_anomalies)
          note(prefix + storage + ": Excel 5/95 VBA " + vba::excel5_anomaly_name(a.code) + " (" +
               std::to_string(a.detail) + ")");
      }
      DocumentStrings ds = document_strings(file, storage);
      Evaluation ev = evaluate_vba(*p, ds);
      if (ev.limits_hit) note(prefix + storage + ": the evaluator reached a limit " + std::to_string(ev.limits_hit) + " times");
      for (auto& fs : ds.forms)
        if (x_.form_strings.size() < limits::max_form_strings) x_.form_strings.push_back(std::move(fs));
      take(ev, prefix);
    }
    // Word 6/95 WordBasic macros, kept in the WordDocument stream.
    if (const ole2::DirEntry* wd = file.find("WordDocument"); wd != nullptr && wd->is_stream()) {
      const ole2::StreamData s = file.read_stream(*wd);
      const ByteView w(s.bytes.data(), s.bytes.size());
      if (vba::wordbasic::is_word6_fib(w)) {
        if (auto p = vba::wordbasic::read(w)) {
          for (const auto& a : p->anomalies)
            note(prefix + "WordDocument: WordBasic " + vba::wordbasic::anomaly_name(a.code));
          for (const auto& m : p->macros) {
            ExtractedModule em;
            em.project = prefix + "WordDocument (WordBasic)";
            em.name = m.name;
            em.source = vba::wordbasic::listing(m);
            x_.modules.push_back(std::move(em));
          }
        }
      }
    }
    // Excel 4.0 macros.
    if (file.find("Workbook") != nullptr || file.find("Book") != nullptr) {
      auto wb = xls::parse_ole2(file);
      if (wb) workbook(*wb, prefix);
    }
    // Embedded objects.
    for (const auto& e : file.entries) {
      if (!e.reachable || !e.is_stream()) continue;
      const bool native = iequals(e.name, "\x01Ole10Native");
      const bool package = iequals(e.name, "Package");
      auto s = file.read_stream(e);
      const ByteView b(s.bytes.data(), s.bytes.size());
      if (native) {
        // A 4-byte size, then the Packager layout; other classes keep their native data as it is.
        const std::uint32_t size = b.le_or<std::uint32_t>(0, 0);
        const ByteView body = b.from(4).clamp(0, size);
        if (auto pkg = rtf::parse_package(body)) {
          add_object(prefix + e.path, "ole10native", pkg->file_name,
                     ByteView(pkg->payload.data(), pkg->payload.size()));
        } else {
          add_object(prefix + e.path, "ole10native", "", body);
        }
      } else if (package || (looks_like_file(b) && !iequals(e.name, "WordDocument"))) {
        add_object(prefix + e.path, package ? "package" : "stream", "", b);
        if (depth + 1 < limits::max_extract_depth && starts_with(b, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"))
          ole2_document(b, prefix + e.path + ":", depth + 1);
        else if (depth + 1 < limits::max_extract_depth && starts_with(b, "PK\x03\x04"))
          zip_document(b, prefix + e.path + ":", depth + 1);
      }
    }
  }

  void workbook(const xls::Workbook& wb, const std::string& prefix) {
    for (const auto& f : wb.formulas) {
      if (x_.xlm.size() >= xls::limits::max_formulas) break;
      const std::string sheet = f.sheet < wb.sheets.size() ? wb.sheets[f.sheet].name : std::string("?");
      x_.xlm.push_back({prefix + sheet + "!" + xls::a1(f.row, f.col), f.text});
    }
    Evaluation ev = evaluate_xlm(wb);
    take(ev, prefix);
  }

  void zip_document(ByteView bytes, const std::string& prefix, unsigned depth) {
    std::vector<std::uint8_t> workbook_bin, workbook_rels;
    std::vector<std::pair<std::string, std::vector<std::uint8_t>>> macro_sheets;
    auto kind = [](const ooxml::Part& p) {
      const std::string& l = p.lower;
      const bool xml = l.size() > 4 && l.compare(l.size() - 4, 4, ".xml") == 0;
      const bool bin = l.size() > 4 && l.compare(l.size() - 4, 4, ".bin") == 0;
      if (l.size() >= 14 && l.compare(l.size() - 14, 14, "vbaproject.bin") == 0) return 1;
      if (l.find("/embeddings/") != std::string::npos) return 2;
      if (l == "xl/workbook.xml" || l == "xl/workbook.bin") return 3;
      if (l == "xl/_rels/workbook.xml.rels" || l == "xl/_rels/workbook.bin.rels") return 4;
      if (l.rfind("xl/macrosheets/", 0) == 0 && (xml || bin)) return 5;
      return 0;
    };
    ooxml::Options opt;
    opt.max_entries = limits::max_zip_entries;
    opt.max_part_bytes = limits::max_zip_entry_bytes;
    auto walked = ooxml::for_each_part(
        bytes, opt, [&](const ooxml::Part& p) { return kind(p) != 0; },
        [&](const ooxml::Part& p, ByteView b, bool truncated) {
          const std::string& name = p.name;
          if (truncated) note(prefix + name + ": larger than " + std::to_string(limits::max_zip_entry_bytes) + " bytes, cut");
          switch (kind(p)) {
            case 1:
              if (depth + 1 < limits::max_extract_depth) ole2_document(b, prefix + name + ":", depth + 1);
              break;
            case 2:
              if (starts_with(b, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") && depth + 1 < limits::max_extract_depth) {
                // oleObject*.bin: its Ole10Native payload is the object; the compound file itself is a wrapper.
                const std::size_t before = x_.objects.size();
                ole2_document(b, prefix + name + ":", depth + 1);
                if (x_.objects.size() == before) add_object(prefix + name, "zip-entry", "", b);
              } else {
                add_object(prefix + name, "zip-entry", "", b);
              }
              break;
            case 3: workbook_bin.assign(b.data(), b.data() + b.size()); break;
            case 4: workbook_rels.assign(b.data(), b.data() + b.size()); break;
            case 5:
              if (macro_sheets.size() < 256) macro_sheets.emplace_back(name, std::vector<std::uint8_t>(b.data(), b.data() + b.size()));
              break;
            default: break;
          }
          return true;
        });
    if (!walked.ok()) {
      note(prefix + "not readable as a zip: " + walked.error().message);
      return;
    }
    if (walked->has(ooxml::Anomaly::entries_truncated_by_limit))
      note(prefix + "zip entries beyond " + std::to_string(limits::max_zip_entries) + " not read");
    if (walked->has(ooxml::Anomaly::data_error)) note(prefix + "some zip entries could not be inflated");
    if (!macro_sheets.empty()) {
      std::vector<xls::OoxmlPart> parts;
      for (const auto& [p, d] : macro_sheets) parts.push_back({p, ByteView(d.data(), d.size())});
      const auto wb = xls::parse_ooxml(ByteView(workbook_bin.data(), workbook_bin.size()),
                                       ByteView(workbook_rels.data(), workbook_rels.size()), parts);
      workbook(wb, prefix);
    }
  }

 private:
  void take(Evaluation& ev, const std::string& prefix) {
    for (auto& s : ev.strings)
      if (x_.strings.size() < limits::max_decoded_strings) x_.strings.push_back({std::move(s.value), prefix + s.where});
    for (auto& i : ev.iocs) i.where = prefix + i.where;
    merge_iocs(x_.iocs, ev.iocs);
  }

  Extraction& x_;
  std::uint64_t total_object_bytes_ = 0;
};

}  // namespace

Result<Extraction> extract_document(ByteView bytes) {
  Extraction x;
  Extractor ex(x);
  if (ole2::sniff(bytes)) {
    x.format = "ole2";
    ex.ole2_document(bytes, "", 0);
  } else if (starts_with(bytes, "PK\x03\x04")) {
    x.format = "ooxml";
    ex.zip_document(bytes, "", 0);
  } else {
    return make_error(ErrorCode::not_this_format, "not a compound file (OLE2) or an OOXML package");
  }
  return x;
}

}  // namespace mamori::analysis
