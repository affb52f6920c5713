// Labelled training/evaluation data: manifest rows, their feature vectors, and a feature cache so that repeated
// training runs do not re-read thousands of files.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace mamori::model {

struct Row {
  std::string sha256, label, kind, subkind, family, group, path;
  int y = 0;  // 1 malicious, 0 benign
};

/// Reads one or more manifests (TSV with a header naming the columns sha256, label, kind, group, path; subkind and
/// family optional). Relative paths resolve against the manifest's folder. Rows are filtered by `kind` ("" = all;
/// "office" takes the manifest kinds office, rtf and pdf),
/// de-duplicated by sha256 (first wins) and returned in a stable order.
Result<std::vector<Row>> read_manifests(const std::vector<std::string>& files, const std::string& kind);

struct Dataset {
  std::string kind = "pe";               // which featurizer and schema: "pe" or "office"
  std::vector<Row> rows;                 // rows that were featurised
  std::vector<float> x;                  // rows.size() * n_features, row-major
  std::size_t n_features = 0;
  std::vector<std::pair<Row, std::string>> skipped;  // row and why
  // Per row, the deterministic rule that names it (documents: features::office_rule), read from the full vector
  // before --drop-features blanks columns: the engine applies rules to the full vector, whatever the model uses.
  std::vector<std::string> rules;
};

/// Featurises rows of `kind` ("pe": PE files; "office": OLE2, OOXML, RTF and PDF documents) with `threads`
/// workers, reusing vectors from `cache_path` (if non-empty) keyed on sha256 + that kind's schema hash. Files of
/// another type are skipped with the reason.
Result<Dataset> build_dataset(std::vector<Row> rows, const std::string& kind, int threads, const std::string& cache_path,
                              const std::function<void(std::size_t, std::size_t)>& progress);

/// Featurises PE rows with `threads` workers, reusing vectors from `cache_path` (if non-empty) keyed on
/// sha256 + schema hash, and writing new ones back. `progress` is called with (done, total) now and then.
Result<Dataset> build_pe_dataset(std::vector<Row> rows, int threads, const std::string& cache_path,
                                 const std::function<void(std::size_t, std::size_t)>& progress);

}  // namespace mamori::model
