// Corpus check for recursion: every sampled corpus file, wrapped at test time in (a) a zip, (b) a ZipCrypto zip
// whose password is in the body of an .eml carrying it, and (c) an .eml attachment, must get the verdict it gets
// unwrapped. Opt-in (slow: about 3.4 MB of corpus per CPU-second): MAMORI_CORPUS_WRAP=1, sample size per label
// MAMORI_CORPUS_WRAP_N (default 300, 0 = all), MAMORI_CORPUS_WRAP_LABEL=malicious|benign to run one label only (so
// that the two labels can run as two processes).
// Skips when the corpus is absent. Nothing is written to disk: the wrappers live in memory.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "common/mapped_file.hpp"
#include "engine/scanner.hpp"
#include "support/archive_builder.hpp"

namespace mamori {
namespace {

struct Row {
  std::string label, kind, path;
};

std::vector<Row> read_manifest(const std::string& p) {
  std::vector<Row> rows;
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, '\t');) f.push_back(x);
    if (f.size() >= 10) rows.push_back({f[1], f[2], f[9]});
  }
  return rows;
}

// Found or not, and which family of signature: what a user acts on.
std::string outcome(const engine::ScanResult& r) {
  if (r.verdict == engine::Verdict::error) return "error";
  return r.found() ? "found:" + r.signature : "not-found";
}

TEST(ContainersCorpus, WrappedFilesGetTheVerdictTheyGetUnwrapped) {
  const char* opt_in = std::getenv("MAMORI_CORPUS_WRAP");
  if (!opt_in || std::string(opt_in) != "1") GTEST_SKIP() << "set MAMORI_CORPUS_WRAP=1 to run";
  std::vector<Row> rows;
  for (const char* m : {"/tmp/mamori-corpus/manifest.tsv", "/tmp/mamori-corpus2/manifest.tsv"}) {
    auto r = read_manifest(m);
    rows.insert(rows.end(), r.begin(), r.end());
  }
  if (rows.empty()) GTEST_SKIP() << "corpus absent";
  const char* n_env = std::getenv("MAMORI_CORPUS_WRAP_N");
  const std::size_t per_label = n_env ? std::strtoull(n_env, nullptr, 10) : 300;
  const char* only_label = std::getenv("MAMORI_CORPUS_WRAP_LABEL");

  auto models = engine::load_models(engine::default_model_dir());
  ASSERT_TRUE(models.ok()) << models.error().message;
  engine::Options opt;
  opt.explain = false;
  const engine::Scanner scanner(std::move(models).value(), opt);

  // A deterministic spread over the manifests: every k-th row of each label.
  std::map<std::string, std::vector<const Row*>> by_label;
  for (const auto& r : rows) by_label[r.label].push_back(&r);
  struct Tally {
    std::size_t files = 0, same_zip = 0, same_pwzip = 0, same_eml = 0, found_unwrapped = 0;
  };
  std::map<std::string, Tally> tally;
  const std::string pw = "Rk4-tq82";
  for (auto& [label, list] : by_label) {
    if (only_label && *only_label && label != only_label) continue;
    const std::size_t take = per_label == 0 ? list.size() : std::min(per_label, list.size());
    const std::size_t step = std::max<std::size_t>(1, list.size() / std::max<std::size_t>(1, take));
    for (std::size_t i = 0, n = 0; i < list.size() && n < take; i += step, ++n) {
      const Row& row = *list[i];
      auto f = MappedFile::open(row.path, 256ull << 20);
      if (!f.ok()) continue;
      const ByteView v = f->view();
      const test::Blob bytes(v.data(), v.data() + v.size());
      const auto plain = scanner.scan_bytes(v, "sample");
      const std::string want = outcome(plain);
      Tally& t = tally[label];
      ++t.files;
      if (plain.found()) ++t.found_unwrapped;

      const test::Blob zip = test::make_zip({{"sample.bin", bytes, true}});
      const auto rz = scanner.scan_bytes(ByteView(zip.data(), zip.size()), "sample.zip");
      if (outcome(rz) == want) ++t.same_zip;
      else ADD_FAILURE() << row.path << " zip: " << outcome(rz) << " vs " << want;

      const test::Blob pz = test::write_archive("zip", "", {{"sample.bin", bytes, true}}, "zip:encryption=traditional", pw);
      const std::string eml_pw = test::make_eml("RE: documents", "Hello,\nPassword: " + pw + "\nThanks",
                                                {{"files.zip", "application/zip", pz}});
      const auto rp = scanner.scan_bytes(ByteView(eml_pw.data(), eml_pw.size()), "pw.eml");
      if (outcome(rp) == want) ++t.same_pwzip;
      else ADD_FAILURE() << row.path << " password zip in eml: " << outcome(rp) << " vs " << want;

      const std::string eml = test::make_eml("Invoice", "see attachment", {{"sample.bin", "application/octet-stream", bytes}});
      const auto re = scanner.scan_bytes(ByteView(eml.data(), eml.size()), "mail.eml");
      if (outcome(re) == want) ++t.same_eml;
      else ADD_FAILURE() << row.path << " eml: " << outcome(re) << " vs " << want;
    }
  }
  for (const auto& [label, t] : tally) {
    std::printf("[corpus-wrap] %-9s files %zu (found unwrapped %zu): same verdict zip %zu, password-zip-in-eml %zu, eml %zu\n",
                label.c_str(), t.files, t.found_unwrapped, t.same_zip, t.same_pwzip, t.same_eml);
  }
}

}  // namespace
}  // namespace mamori
