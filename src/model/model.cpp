#include "model/model.hpp"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace mamori::model {

std::string xgb_last_error() { return XGBGetLastError(); }

Model::Model() = default;
Model::~Model() {
  if (booster_) XGBoosterFree(booster_);
}
Model::Model(Model&& o) noexcept { *this = std::move(o); }
Model& Model::operator=(Model&& o) noexcept {
  if (this != &o) {
    if (booster_) XGBoosterFree(booster_);
    booster_ = o.booster_;
    o.booster_ = nullptr;
    name_ = std::move(o.name_);
    threshold_ = o.threshold_;
    suspicious_threshold_ = o.suspicious_threshold_;
    type_thresholds_ = std::move(o.type_thresholds_);
    n_features_ = o.n_features_;
    meta_ = std::move(o.meta_);
    explain_mutex_ = std::move(o.explain_mutex_);
  }
  return *this;
}

Result<Model> Model::load(const std::string& dir, const features::Schema& expected) {
  namespace fs = std::filesystem;
  const fs::path meta_path = fs::path(dir) / "meta.json";
  const fs::path model_path = fs::path(dir) / "model.json";
  std::ifstream in(meta_path);
  if (!in) return make_error(ErrorCode::io, "cannot read " + meta_path.string());
  Model m;
  try {
    m.meta_ = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::incompatible, meta_path.string() + ": " + e.what());
  }
  const auto& meta = m.meta_;
  const std::string hash = meta.value("schema_hash", "");
  const int version = meta.value("schema_version", -1);
  if (hash != expected.hash || version != expected.version) {
    return make_error(ErrorCode::incompatible,
                      "model " + dir + " was trained on feature schema v" + std::to_string(version) + " (" + hash +
                          ") but this mamori extracts v" + std::to_string(expected.version) + " (" + expected.hash +
                          "); retrain it with `mamori train` or use a matching mamori build");
  }
  m.name_ = meta.value("name", fs::path(dir).filename().string());
  m.threshold_ = meta.value("threshold", 0.5);
  m.suspicious_threshold_ = meta.value("suspicious_threshold", m.threshold_);
  // Per-type thresholds: a malformed entry refuses the model rather than scoring that type at the wrong point.
  if (auto it = meta.find("type_thresholds"); it != meta.end()) {
    auto bad = [&](const std::string& why) {
      return make_error(ErrorCode::incompatible, meta_path.string() + ": type_thresholds: " + why);
    };
    if (!it->is_object()) return bad("not an object");
    for (const auto& [type, t] : it->items()) {
      if (!t.is_object() || !t.contains("threshold") || !t["threshold"].is_number()) return bad(type + " has no threshold");
      const double thr = t["threshold"].get<double>();
      const auto s = t.find("suspicious_threshold");
      if (s != t.end() && !s->is_number()) return bad(type + ": suspicious_threshold is not a number");
      const double sthr = s != t.end() ? s->get<double>() : thr;
      if (!(thr >= 0 && thr <= 1 && sthr >= 0 && sthr <= thr)) return bad(type + ": thresholds out of order or range");
      m.type_thresholds_[type] = {thr, sthr};
    }
  }
  m.n_features_ = expected.features.size();
  if (XGBoosterCreate(nullptr, 0, &m.booster_) != 0) return make_error(ErrorCode::internal, xgb_last_error());
  if (XGBoosterLoadModel(m.booster_, model_path.c_str()) != 0)
    return make_error(ErrorCode::io, "cannot load " + model_path.string() + ": " + xgb_last_error());
  // One thread per prediction: the engine parallelises over files, not inside one.
  XGBoosterSetParam(m.booster_, "nthread", "1");
  bst_ulong nf = 0;
  if (XGBoosterGetNumFeature(m.booster_, &nf) == 0 && nf > m.n_features_)
    return make_error(ErrorCode::incompatible, "model expects " + std::to_string(nf) + " features");
  return m;
}

double Model::threshold_for(std::string_view type) const noexcept {
  const auto it = type_thresholds_.find(type);
  return it != type_thresholds_.end() ? it->second.first : threshold_;
}

double Model::suspicious_threshold_for(std::string_view type) const noexcept {
  const auto it = type_thresholds_.find(type);
  return it != type_thresholds_.end() ? it->second.second : suspicious_threshold_;
}

Result<double> Model::score(const std::vector<float>& x) const {
  if (x.size() != n_features_) return make_error(ErrorCode::invalid_argument, "feature vector has the wrong length");
  char iface[160];
  std::snprintf(iface, sizeof iface,
                R"({"data":[%llu,true],"shape":[1,%zu],"typestr":"<f4","version":3})",
                static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(x.data())), x.size());
  static constexpr const char* kConfig =
      R"({"type":0,"training":false,"iteration_begin":0,"iteration_end":0,"strict_shape":false,"cache_id":0,"missing":NaN})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  if (XGBoosterPredictFromDense(booster_, iface, kConfig, nullptr, &shape, &dim, &out) != 0)
    return make_error(ErrorCode::internal, "prediction failed: " + xgb_last_error());
  return static_cast<double>(out[0]);
}

Result<std::vector<Contribution>> Model::explain(const std::vector<float>& x, std::size_t k) const {
  if (x.size() != n_features_) return make_error(ErrorCode::invalid_argument, "feature vector has the wrong length");
  DMatrixHandle dm = nullptr;
  if (XGDMatrixCreateFromMat(x.data(), 1, x.size(), std::nanf(""), &dm) != 0)
    return make_error(ErrorCode::internal, xgb_last_error());
  static constexpr const char* kConfig =
      R"({"type":2,"training":false,"iteration_begin":0,"iteration_end":0,"strict_shape":false})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  std::lock_guard lock(*explain_mutex_);
  const int rc = XGBoosterPredictFromDMatrix(booster_, dm, kConfig, &shape, &dim, &out);
  std::vector<Contribution> c;
  if (rc == 0) {
    // Output is n_features + 1 values (the last is the bias).
    for (std::size_t i = 0; i < x.size(); ++i)
      if (out[i] != 0.0f) c.push_back({i, x[i], out[i]});
  }
  XGDMatrixFree(dm);
  if (rc != 0) return make_error(ErrorCode::internal, xgb_last_error());
  std::sort(c.begin(), c.end(), [](const auto& a, const auto& b) { return std::fabs(a.contribution) > std::fabs(b.contribution); });
  if (c.size() > k) c.resize(k);
  return c;
}

}  // namespace mamori::model
