// ole2::parse + vba::extract over the starter corpus's OLE2 office documents, when the corpus is present
// (/tmp/mamori-corpus/manifest.tsv, or $MAMORI_CORPUS_MANIFEST); skipped otherwise. The files are only read as
// bytes. Prints the figures (files parsed, projects and modules found, anomalies) and checks the parsers against
// the manifest's own VBA tags: a file tagged with VBA code must yield at least one module with code.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/mapped_file.hpp"
#include "formats/ole2/ole2.hpp"
#include "formats/vba/vba.hpp"

namespace {

namespace ole2 = mamori::ole2;
namespace vba = mamori::vba;

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(line);
  while (std::getline(in, cur, '\t')) out.push_back(cur);
  return out;
}

TEST(Ole2Corpus, OfficeDocuments) {
  const char* env = std::getenv("MAMORI_CORPUS_MANIFEST");
  const std::string manifest = env ? env : "/tmp/mamori-corpus/manifest.tsv";
  std::ifstream in(manifest);
  if (!in) GTEST_SKIP() << "no corpus at " << manifest;
  std::string line;
  std::getline(in, line);
  struct Tally {
    int files = 0, ole2 = 0, parsed = 0, with_project = 0, projects = 0, modules = 0, modules_with_code = 0,
        modules_decompressed = 0, stomp = 0;
  };
  std::map<std::string, Tally> by_label;
  std::map<std::string, int> ole2_anoms, vba_anoms;
  int tagged_code = 0, tagged_code_found = 0, tagged_none_found = 0, tagged_none = 0;
  std::vector<std::string> missed;
  while (std::getline(in, line)) {
    const auto c = split_tabs(line);
    if (c.size() < 10 || c[2] != "office") continue;
    auto file = mamori::MappedFile::open(c[9]);
    if (!file.ok()) continue;
    const auto bytes = file->view();
    if (!ole2::sniff(bytes)) continue;
    Tally& t = by_label[c[1]];
    ++t.ole2;
    auto f = ole2::parse(bytes);
    if (!f.ok()) continue;
    ++t.parsed;
    for (const auto& a : f->anomalies) ++ole2_anoms[ole2::anomaly_name(a.code)];
    int code_modules = 0;
    std::string module_notes;
    const auto storages = vba::find_projects(*f);
    if (!storages.empty()) ++t.with_project;
    for (const auto& s : storages) {
      auto p = vba::extract(*f, s);
      if (!p.ok()) continue;
      ++t.projects;
      for (const auto& a : p->anomalies) {
        ++vba_anoms[vba::anomaly_name(a.code)];
        module_notes += std::string(" ") + vba::anomaly_name(a.code) + "(" + std::to_string(a.detail) + ")";
      }
      module_notes += " dir=" + std::to_string(p->dir_size) + " declared=" + std::to_string(p->declared_modules);
      for (const auto& m : p->modules) {
        ++t.modules;
        if (m.source_status == vba::DecompressStatus::ok) ++t.modules_decompressed;
        if (m.code_lines > 0) ++code_modules;
        if (m.stomp_suspect) ++t.stomp;
        module_notes += " [pcode=" + std::to_string(m.pcode_size) + " src=" + std::to_string(m.source_raw_size) +
                        (m.stomp_suspect ? " stomp]" : "]");
      }
    }
    t.modules_with_code += code_modules;
    const std::string& sub = c[3];
    const bool says_code = sub.find("vba-code") != std::string::npos || sub.find("_vba") != std::string::npos;
    const bool says_none = sub.find("vba") == std::string::npos;
    if (says_code) {
      ++tagged_code;
      if (code_modules > 0) ++tagged_code_found;
      else if (missed.size() < 20) {
        std::string why = c[0].substr(0, 16);
        why += " " + sub + ": projects=" + std::to_string(storages.size()) + " ole2:";
        for (const auto& a : f->anomalies) why += std::string(" ") + ole2::anomaly_name(a.code);
        why += " modules:" + module_notes;
        missed.push_back(why);
      }
    }
    if (says_none) {
      ++tagged_none;
      if (!storages.empty()) ++tagged_none_found;
    }
  }
  if (by_label.empty()) GTEST_SKIP() << "no OLE2 office documents in the corpus";
  for (const auto& [label, t] : by_label) {
    std::cout << "[corpus] " << label << ": ole2=" << t.ole2 << " parsed=" << t.parsed << " with_vba=" << t.with_project
              << " projects=" << t.projects << " modules=" << t.modules << " decompressed=" << t.modules_decompressed
              << " with_code=" << t.modules_with_code << " stomp_suspects=" << t.stomp << "\n";
  }
  std::cout << "[corpus] tagged vba code: " << tagged_code << ", found code in " << tagged_code_found
            << "; tagged no vba: " << tagged_none << ", project found in " << tagged_none_found << "\n";
  for (const auto& m : missed) std::cout << "[corpus] no code found: " << m << "\n";
  for (const auto& [n, k] : ole2_anoms) std::cout << "[corpus] ole2 anomaly " << n << ": " << k << "\n";
  for (const auto& [n, k] : vba_anoms) std::cout << "[corpus] vba anomaly " << n << ": " << k << "\n";
  for (const auto& [label, t] : by_label) EXPECT_EQ(t.parsed, t.ole2) << label;
  // The manifest's tags come from another tool; allow a few disagreements, not a systematic miss.
  EXPECT_GE(tagged_code_found * 100, tagged_code * 95);
}

}  // namespace
