// xls over the corpus's Excel files, when the corpus is present (skipped otherwise). The files are only read as
// bytes. Prints, per label/subkind: workbooks parsed, XLM macro sheets, decoded formulas, and how many show
// EXEC / CALL / REGISTER / URLDownloadToFile; checks sane lower bounds.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "common/mapped_file.hpp"
#include "formats/ole2/ole2.hpp"
#include "formats/xls/xls.hpp"
#include "support/corpus_manifest.hpp"

namespace {

namespace xls = mamori::xls;

struct Tally {
  int files = 0, parsed = 0, xlm = 0, formulas_decoded = 0, exec_call_register = 0, url_download = 0, auto_open = 0,
      encrypted = 0, decrypted = 0, very_hidden = 0, xlsb_macros = 0;
};

// The parts of an OOXML package that parse_ooxml reads, extracted with libarchive (bounded).
struct Parts {
  std::vector<std::uint8_t> workbook, rels;
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> sheets;
  int bin_macrosheets = 0;
};

bool read_zip(mamori::ByteView bytes, Parts& out) {
  archive* a = archive_read_new();
  archive_read_support_format_zip(a);
  if (archive_read_open_memory(a, bytes.data(), bytes.size()) != ARCHIVE_OK) {
    archive_read_free(a);
    return false;
  }
  archive_entry* e = nullptr;
  int n = 0;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK && ++n < 10000) {
    const std::string name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    const bool sheet = name.rfind("xl/macrosheets/", 0) == 0 && name.find('/', 15) == std::string::npos &&
                       name.size() > 4 && (name.substr(name.size() - 4) == ".xml" || name.substr(name.size() - 4) == ".bin") &&
                       name.find("binaryIndex") == std::string::npos;
    const bool want = name == "xl/workbook.xml" || name == "xl/workbook.bin" || name == "xl/_rels/workbook.xml.rels" ||
                      name == "xl/_rels/workbook.bin.rels" || sheet;
    if (sheet && name.substr(name.size() - 4) == ".bin") ++out.bin_macrosheets;
    if (!want) continue;
    std::vector<std::uint8_t> buf;
    std::uint8_t chunk[65536];
    la_ssize_t got;
    while ((got = archive_read_data(a, chunk, sizeof chunk)) > 0 && buf.size() < (64u << 20))
      buf.insert(buf.end(), chunk, chunk + got);
    if (name == "xl/workbook.xml" || name == "xl/workbook.bin") out.workbook = std::move(buf);
    else if (name == "xl/_rels/workbook.xml.rels" || name == "xl/_rels/workbook.bin.rels") out.rels = std::move(buf);
    else out.sheets.emplace_back(name, std::move(buf));
  }
  archive_read_free(a);
  return !out.workbook.empty();
}

bool visible_macro(const xls::Workbook& wb) {
  return wb.counts.exec + wb.counts.call + wb.counts.register_ > 0;
}

TEST(XlsCorpus, ExcelFiles) {
  const auto rows = mamori::test::corpus_rows();
  if (rows.empty()) GTEST_SKIP() << "no corpus manifest";
  std::map<std::string, Tally> by;
  std::map<std::string, int> anomalies, details;
  std::vector<std::string> samples, incomplete;
  for (const auto& r : rows) {
    if (r.kind != "office") continue;
    const bool excel = r.subkind.find("excel") != std::string::npos || r.subkind.find("xls") != std::string::npos;
    if (!excel) continue;
    auto file = mamori::MappedFile::open(r.path);
    if (!file.ok()) continue;
    const auto bytes = file->view();
    Tally& t = by[r.label + " " + r.subkind];
    ++t.files;
    std::optional<xls::Workbook> wb;
    if (mamori::ole2::sniff(bytes)) {
      auto f = mamori::ole2::parse(bytes);
      if (!f.ok()) continue;
      auto w = xls::parse_ole2(*f);
      if (!w.ok()) continue;
      wb = std::move(*w);
    } else {
      Parts parts;
      if (!read_zip(bytes, parts)) continue;
      std::vector<xls::OoxmlPart> ps;
      for (const auto& [n, b] : parts.sheets) ps.push_back({n, mamori::ByteView(b.data(), b.size())});
      wb = xls::parse_ooxml(mamori::ByteView(parts.workbook.data(), parts.workbook.size()),
                            mamori::ByteView(parts.rels.data(), parts.rels.size()), ps);
      if (parts.bin_macrosheets > 0) ++t.xlsb_macros;
    }
    ++t.parsed;
    for (const auto& a : wb->anomalies) {
      ++anomalies[xls::anomaly_name(a.code)];
      if (a.code == xls::Anomaly::formula_unknown_token || a.code == xls::Anomaly::biff_version_old ||
          a.code == xls::Anomaly::formula_unknown_function)
        ++details[std::string(xls::anomaly_name(a.code)) + " " + std::to_string(a.detail)];
    }
    for (const auto& f : wb->formulas) {
      if (!f.complete && incomplete.size() < 12)
        incomplete.push_back(r.sha256.substr(0, 12) + " v" + std::to_string(wb->biff_version) + " " + f.text.substr(0, 100));
    }
    if (wb->has_xlm()) ++t.xlm;
    if (wb->counts.macro_formulas > 0) ++t.formulas_decoded;
    if (visible_macro(*wb)) ++t.exec_call_register;
    if (wb->counts.url_download > 0) ++t.url_download;
    if (wb->counts.auto_open_names > 0) ++t.auto_open;
    if (wb->encryption.method != xls::Encryption::none) ++t.encrypted;
    if (wb->encryption.decrypted) ++t.decrypted;
    if (wb->counts.very_hidden_sheets > 0) ++t.very_hidden;
    if (r.subkind.find("xlm") != std::string::npos && samples.size() < 6) {
      for (const auto& f : wb->formulas) {
        if (f.text.find("EXEC") != std::string::npos || f.text.find("CALL") != std::string::npos ||
            f.text.find("REGISTER") != std::string::npos) {
          samples.push_back(r.sha256.substr(0, 12) + " " + xls::a1(f.row, f.col) + ": " + f.text.substr(0, 160));
          break;
        }
      }
    }
  }
  if (by.empty()) GTEST_SKIP() << "no Excel files in the corpus";
  for (const auto& [k, t] : by)
    std::cout << "[corpus] " << k << ": files=" << t.files << " parsed=" << t.parsed << " xlm=" << t.xlm
              << " macro_formulas=" << t.formulas_decoded << " exec/call/register=" << t.exec_call_register
              << " urldownloadtofile=" << t.url_download << " auto_open=" << t.auto_open
              << " very_hidden=" << t.very_hidden << " encrypted=" << t.encrypted << " decrypted=" << t.decrypted
              << " xlsb_macrosheets=" << t.xlsb_macros << "\n";
  for (const auto& s : incomplete) std::cout << "[corpus] incomplete " << s << "\n";
  for (const auto& s : samples) std::cout << "[corpus] sample " << s << "\n";
  for (const auto& [n, k] : details) std::cout << "[corpus] detail " << n << ": " << k << "\n";
  for (const auto& [n, k] : anomalies) std::cout << "[corpus] anomaly " << n << ": " << k << "\n";
  // Sane lower bounds only: every file the container parsers open yields a workbook, and most XLM droppers show
  // their macro formulas.
  int xlm_files = 0, xlm_visible = 0;
  for (const auto& [k, t] : by) {
    if (k.find("xlm") != std::string::npos) {
      xlm_files += t.parsed;
      xlm_visible += t.formulas_decoded;
    }
  }
  if (xlm_files > 0) EXPECT_GE(xlm_visible * 2, xlm_files);
}

}  // namespace
