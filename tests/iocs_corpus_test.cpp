// Corpus figure: the share of Emotet Office droppers from which the evaluator recovers at least one download URL.
// Reads /tmp/mamori-corpus/manifest.tsv and /tmp/mamori-corpus2/manifest.tsv (rows with family Emotet and kind
// office); skips when neither is there. Files are only parsed, never executed. Prints the counts per subkind and
// per year of the document's creation time (SummaryInformation), and a few misses with the reason.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "analysis/extract.hpp"
#include "common/mapped_file.hpp"
#include "formats/ole2/ole2.hpp"

namespace {

namespace analysis = mamori::analysis;

struct Row {
  std::string sha256, subkind, path;
};

std::vector<Row> emotet_office_rows() {
  std::vector<Row> rows;
  for (const char* m : {"/tmp/mamori-corpus/manifest.tsv", "/tmp/mamori-corpus2/manifest.tsv"}) {
    std::ifstream in(m);
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> c;
      std::stringstream ss(line);
      std::string cell;
      while (std::getline(ss, cell, '\t')) c.push_back(cell);
      if (c.size() < 10 || c[4] != "Emotet" || c[2] != "office") continue;
      rows.push_back({c[0], c[3], c[9]});
    }
  }
  return rows;
}

// Year of a FILETIME (100 ns ticks since 1601), or 0.
int year_of(std::uint64_t filetime) {
  if (filetime < 116444736000000000ull) return 0;
  const std::time_t t = static_cast<std::time_t>((filetime - 116444736000000000ull) / 10000000ull);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm.tm_year + 1900;
}

TEST(IocsCorpus, EmotetDroppersYieldDownloadUrls) {
  const auto rows = emotet_office_rows();
  if (rows.empty()) GTEST_SKIP() << "corpus manifests absent (/tmp/mamori-corpus, /tmp/mamori-corpus2)";
  struct Tally {
    int files = 0, with_url = 0;
  };
  std::map<std::string, Tally> by_subkind;
  std::map<int, Tally> by_year;
  std::vector<std::string> misses;
  int files = 0, with_url = 0, urls = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& r : rows) {
    if (!std::filesystem::exists(r.path)) continue;
    auto f = mamori::MappedFile::open(r.path);
    if (!f.ok()) continue;
    ++files;
    int year = 0;
    if (auto o = mamori::ole2::parse(f->view()); o.ok()) year = year_of(o->summary.created);
    auto x = analysis::extract_document(f->view());
    int n = 0;
    if (x.ok())
      for (const auto& i : x->iocs) n += i.type == "url";
    const bool hit = n > 0;
    with_url += hit;
    urls += n;
    by_subkind[r.subkind].files++;
    by_subkind[r.subkind].with_url += hit;
    by_year[year].files++;
    by_year[year].with_url += hit;
    if (!hit && misses.size() < 12) {
      std::string why = !x.ok() ? x.error().message
                        : x->modules.empty() ? "no VBA module read"
                                             : std::to_string(x->modules.size()) + " modules, " +
                                                   std::to_string(x->form_strings.size()) + " form strings, " +
                                                   std::to_string(x->strings.size()) + " decoded strings";
      misses.push_back(r.sha256.substr(0, 16) + " " + r.subkind + ": " + why);
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (files == 0) GTEST_SKIP() << "corpus files absent";
  std::cout << "Emotet office droppers: " << files << " files, " << with_url << " with >= 1 download URL ("
            << (100.0 * with_url / files) << "%), " << urls << " URLs, " << secs << " s\n";
  for (const auto& [k, t] : by_subkind)
    std::cout << "  subkind " << k << ": " << t.with_url << "/" << t.files << "\n";
  for (const auto& [y, t] : by_year)
    std::cout << "  created " << (y ? std::to_string(y) : std::string("unknown")) << ": " << t.with_url << "/" << t.files
              << "\n";
  for (const auto& m : misses) std::cout << "  miss " << m << "\n";
  const auto& word = by_subkind["ole_word_vba"];
  if (word.files > 0) EXPECT_GE(100.0 * word.with_url / word.files, 90.0);
  EXPECT_GE(100.0 * with_url / files, 90.0);
}

}  // namespace
