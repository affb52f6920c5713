// pdf over the corpus's PDF files, when the corpus is present (skipped otherwise). The files are only read as
// bytes. Prints, per label: files parsed and how many carry each keyword, URIs, launch commands, JavaScript and
// embedded files; checks sane lower bounds.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <string>

#include "common/mapped_file.hpp"
#include "formats/pdf/pdf.hpp"
#include "support/corpus_manifest.hpp"

namespace {

namespace pdf = mamori::pdf;

TEST(PdfCorpus, PdfFiles) {
  const auto rows = mamori::test::corpus_rows();
  if (rows.empty()) GTEST_SKIP() << "no corpus manifest";
  struct Tally {
    int files = 0, parsed = 0, uris = 0, launches = 0, javascript = 0, embedded = 0, obfuscated = 0, after_eof = 0,
        objstm = 0;
    std::map<std::string, int> keys;
  };
  std::map<std::string, Tally> by;
  std::map<std::string, int> anomalies;
  for (const auto& r : rows) {
    if (r.kind != "pdf") continue;
    auto file = mamori::MappedFile::open(r.path);
    if (!file.ok()) continue;
    Tally& t = by[r.label];
    ++t.files;
    auto d = pdf::parse(file->view());
    if (!d.ok()) continue;
    ++t.parsed;
    for (std::size_t k = 0; k < pdf::key_count; ++k)
      if (d->counts[k] > 0) ++t.keys[pdf::key_name(static_cast<pdf::Key>(k))];
    for (const auto& a : d->anomalies) ++anomalies[r.label + " " + pdf::anomaly_name(a.code)];
    t.uris += !d->uris.empty();
    t.launches += !d->launches.empty();
    t.javascript += !d->javascript.empty() || d->stats.js_streams > 0;
    t.embedded += !d->embedded_files.empty();
    t.obfuscated += d->has(pdf::Anomaly::name_obfuscated);
    t.after_eof += d->has(pdf::Anomaly::data_after_eof);
    t.objstm += d->stats.objstm_decoded > 0;
  }
  if (by.empty()) GTEST_SKIP() << "no PDF files in the corpus";
  for (const auto& [k, t] : by) {
    std::cout << "[corpus] " << k << ": files=" << t.files << " parsed=" << t.parsed << " with_uri=" << t.uris
              << " with_launch=" << t.launches << " with_javascript=" << t.javascript << " with_embedded=" << t.embedded
              << " obfuscated_names=" << t.obfuscated << " data_after_eof=" << t.after_eof
              << " objstm_lexed=" << t.objstm << "\n";
    std::cout << "[corpus] " << k << " files with:";
    for (const auto& [n, c] : t.keys) std::cout << " " << n << "=" << c;
    std::cout << "\n";
  }
  for (const auto& [n, k] : anomalies) std::cout << "[corpus] anomaly " << n << ": " << k << "\n";
  for (const auto& [k, t] : by) EXPECT_EQ(t.parsed, t.files) << k;
}

}  // namespace
