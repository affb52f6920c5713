// A trained classifier: an XGBoost booster plus its metadata (schema hash, thresholds, how it was trained).
//
// A model directory holds model.json (XGBoost's JSON model), meta.json and training-set.tsv.gz. Loading checks that
// the model was trained on the same feature schema as this build's extractor and refuses it otherwise: a model
// scoring a vector whose columns mean something else would produce confident nonsense.
//
// Thread safety: score() may be called from many threads on one Model (XGBoost's in-place prediction keeps its
// buffers per thread). explain() goes through a DMatrix and XGBoost's prediction cache, which is not documented as
// thread-safe, so it is serialised.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "features/pe_features.hpp"

namespace mamori::model {

struct Contribution {
  std::size_t feature = 0;
  float value = 0;         // the feature's value in this file
  double contribution = 0; // its SHAP contribution to the log-odds
};

class Model {
 public:
  Model();
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  /// Loads `dir`/model.json and `dir`/meta.json, checking the schema against `expected`.
  static Result<Model> load(const std::string& dir, const features::Schema& expected);

  /// Probability of malicious, 0..1.
  Result<double> score(const std::vector<float>& x) const;
  /// Per-feature contributions to the log-odds, largest absolute value first, at most `k` of them.
  Result<std::vector<Contribution>> explain(const std::vector<float>& x, std::size_t k) const;

  const std::string& name() const noexcept { return name_; }
  double threshold() const noexcept { return threshold_; }
  double suspicious_threshold() const noexcept { return suspicious_threshold_; }
  /// The thresholds for a file of type `type` (the file-type bucket, features::office_bucket: "pdf", "rtf", ...):
  /// its own when meta.json's "type_thresholds" names the type, the model's otherwise. A document model scores
  /// every format, but one format's benign files (the bulk PDFs) can need another operating point than the rest.
  double threshold_for(std::string_view type) const noexcept;
  double suspicious_threshold_for(std::string_view type) const noexcept;
  /// meta.json's "type_thresholds": type -> {malicious, suspicious}.
  const std::map<std::string, std::pair<double, double>, std::less<>>& type_thresholds() const noexcept {
    return type_thresholds_;
  }
  const nlohmann::json& meta() const noexcept { return meta_; }

 private:
  void* booster_ = nullptr;  // BoosterHandle
  std::string name_;
  double threshold_ = 0.5;
  double suspicious_threshold_ = 0.5;
  std::map<std::string, std::pair<double, double>, std::less<>> type_thresholds_;
  std::size_t n_features_ = 0;
  nlohmann::json meta_;
  std::unique_ptr<std::mutex> explain_mutex_ = std::make_unique<std::mutex>();
};

/// The last XGBoost error message, for diagnostics.
std::string xgb_last_error();

}  // namespace mamori::model
