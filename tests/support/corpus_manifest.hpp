// Rows of the corpus manifests (/tmp/mamori-corpus/manifest.tsv and /tmp/mamori-corpus2/manifest.tsv, or
// $MAMORI_CORPUS_MANIFEST), for the corpus tests that skip cleanly when the corpus is absent.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mamori::test {

struct CorpusRow {
  std::string sha256, label, kind, subkind, family, group, path;
};

inline std::vector<CorpusRow> corpus_rows() {
  std::vector<std::string> manifests;
  if (const char* env = std::getenv("MAMORI_CORPUS_MANIFEST")) manifests.push_back(env);
  else manifests = {"/tmp/mamori-corpus/manifest.tsv", "/tmp/mamori-corpus2/manifest.tsv"};
  std::vector<CorpusRow> rows;
  for (const auto& m : manifests) {
    std::ifstream in(m);
    std::string line;
    if (!std::getline(in, line)) continue;
    while (std::getline(in, line)) {
      std::vector<std::string> c;
      std::string cur;
      std::istringstream ls(line);
      while (std::getline(ls, cur, '\t')) c.push_back(cur);
      if (c.size() < 10) continue;
      rows.push_back({c[0], c[1], c[2], c[3], c[4], c[6], c[9]});
    }
  }
  return rows;
}

}  // namespace mamori::test
