#include "model/train.hpp"

#include <fnmatch.h>
#include <xgboost/c_api.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <numeric>
#include <random>
#include <sstream>

#include "features/office_features.hpp"
#include "features/pe_features.hpp"
#include "model/metrics.hpp"

namespace mamori::model {

namespace {

// Owns an XGBoost handle; move-only so a handle is freed exactly once.
struct Booster {
  BoosterHandle h = nullptr;
  Booster() = default;
  Booster(Booster&& o) noexcept : h(o.h) { o.h = nullptr; }
  Booster& operator=(Booster&&) = delete;
  Booster(const Booster&) = delete;
  ~Booster() {
    if (h) XGBoosterFree(h);
  }
};
// Owns an XGBoost handle; move-only so a handle is freed exactly once.
struct Matrix {
  DMatrixHandle h = nullptr;
  Matrix() = default;
  Matrix(Matrix&& o) noexcept : h(o.h) { o.h = nullptr; }
  Matrix& operator=(Matrix&&) = delete;
  Matrix(const Matrix&) = delete;
  ~Matrix() {
    if (h) XGDMatrixFree(h);
  }
};

Matrix make_matrix(const Dataset& ds, const std::vector<std::size_t>& idx) {
  std::vector<float> x;
  x.reserve(idx.size() * ds.n_features);
  for (auto i : idx) x.insert(x.end(), ds.x.begin() + static_cast<std::ptrdiff_t>(i * ds.n_features),
                              ds.x.begin() + static_cast<std::ptrdiff_t>((i + 1) * ds.n_features));
  Matrix m;
  XGDMatrixCreateFromMat(x.data(), idx.size(), ds.n_features, std::nanf(""), &m.h);
  return m;
}

Result<Booster> fit(const Dataset& ds, const std::vector<std::size_t>& idx, const TrainOptions& opt) {
  Matrix m = make_matrix(ds, idx);
  if (!m.h) return make_error(ErrorCode::internal, xgb_last_error());
  std::vector<float> y(idx.size());
  for (std::size_t k = 0; k < idx.size(); ++k) y[k] = static_cast<float>(ds.rows[idx[k]].y);
  const auto w = sample_weights(ds, idx, opt.balance_by_type, opt.group_weight_power);
  XGDMatrixSetFloatInfo(m.h, "label", y.data(), y.size());
  XGDMatrixSetFloatInfo(m.h, "weight", w.data(), w.size());
  Booster b;
  if (XGBoosterCreate(&m.h, 1, &b.h) != 0) return make_error(ErrorCode::internal, xgb_last_error());
  auto set = [&](const char* k, const std::string& v) { XGBoosterSetParam(b.h, k, v.c_str()); };
  set("objective", "binary:logistic");
  set("tree_method", "hist");
  set("max_depth", std::to_string(opt.max_depth));
  set("eta", std::to_string(opt.eta));
  set("subsample", std::to_string(opt.subsample));
  set("colsample_bytree", std::to_string(opt.colsample));
  set("min_child_weight", std::to_string(opt.min_child_weight));
  set("seed", std::to_string(opt.seed));
  set("nthread", std::to_string(opt.threads));
  set("verbosity", "0");
  if (!opt.monotone.empty()) {
    std::string c = "(";
    for (std::size_t k = 0; k < opt.monotone.size(); ++k) c += (k ? "," : "") + std::to_string(opt.monotone[k]);
    set("monotone_constraints", c + ")");
  }
  for (int it = 0; it < opt.rounds; ++it)
    if (XGBoosterUpdateOneIter(b.h, it, m.h) != 0) return make_error(ErrorCode::internal, xgb_last_error());
  return b;
}

std::vector<double> predict(const Booster& b, const Dataset& ds, const std::vector<std::size_t>& idx) {
  Matrix m = make_matrix(ds, idx);
  static constexpr const char* kConfig =
      R"({"type":0,"training":false,"iteration_begin":0,"iteration_end":0,"strict_shape":false})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  std::vector<double> s(idx.size(), std::nan(""));
  if (XGBoosterPredictFromDMatrix(b.h, m.h, kConfig, &shape, &dim, &out) == 0)
    for (std::size_t k = 0; k < idx.size(); ++k) s[k] = out[k];
  return s;
}

// Deterministic group -> fold assignment: largest groups first, each to the currently lightest fold; the seed
// breaks ties between equal-sized groups. Train-only groups are set aside before the packing. repeat > 0 flips a
// seeded coin between the two lightest folds instead, for another packing of about the same balance.
std::vector<int> assign_folds_impl(const Dataset& ds, int folds, int seed, bool loso, const std::string& loso_label,
                                   const std::vector<std::string>& train_only, int repeat) {
  std::map<std::string, std::size_t> gsize;
  std::map<std::string, bool> has_label;
  std::map<std::string, int> fold_of;
  auto always_trains = [&](const std::string& g) {
    return std::any_of(train_only.begin(), train_only.end(),
                       [&](const std::string& glob) { return ::fnmatch(glob.c_str(), g.c_str(), 0) == 0; });
  };
  for (const auto& r : ds.rows) {
    if (fold_of.count(r.group)) continue;
    if (always_trains(r.group)) fold_of[r.group] = -1;
  }
  for (const auto& r : ds.rows) {
    if (fold_of.count(r.group)) continue;
    ++gsize[r.group];
    if (r.label == loso_label) has_label[r.group] = true;
  }
  std::vector<std::pair<std::string, std::size_t>> groups(gsize.begin(), gsize.end());
  if (loso) {
    int f = 0;
    for (const auto& g : groups) fold_of[g.first] = loso_label.empty() || has_label[g.first] ? f++ : -1;
  } else {
    auto tiebreak = [seed](const std::string& s) {
      std::uint32_t h = 2166136261u ^ static_cast<std::uint32_t>(seed);
      for (char c : s) h = (h ^ static_cast<std::uint8_t>(c)) * 16777619u;
      return h;
    };
    std::sort(groups.begin(), groups.end(), [&](const auto& a, const auto& b) {
      if (a.second != b.second) return a.second > b.second;
      return tiebreak(a.first) < tiebreak(b.first);
    });
    std::vector<std::size_t> load(static_cast<std::size_t>(folds), 0);
    // mt19937's output sequence is fixed by the standard, so a packing is the same on every platform.
    std::mt19937 coin(static_cast<std::uint32_t>(seed) * 7919u + static_cast<std::uint32_t>(repeat));
    for (const auto& g : groups) {
      auto f = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
      if (repeat > 0 && load.size() > 1 && (coin() & 1u)) {
        std::size_t second = f == 0 ? 1 : 0;
        for (std::size_t k = 0; k < load.size(); ++k)
          if (k != f && load[k] < load[second]) second = k;
        f = second;
      }
      fold_of[g.first] = static_cast<int>(f);
      load[f] += g.second;
    }
  }
  std::vector<int> fold(ds.rows.size());
  for (std::size_t i = 0; i < ds.rows.size(); ++i) fold[i] = fold_of[ds.rows[i].group];
  return fold;
}

// File-type bucket from the vector itself, so it is the same for every source whatever its manifest says.
std::string pe_bucket(const Dataset& ds, std::size_t i) {
  if (ds.kind == "office") return features::office_bucket(ds.x.data() + i * ds.n_features);
  const auto& names = features::pe_schema().features;
  auto val = [&](const char* n) {
    for (std::size_t k = 0; k < names.size(); ++k)
      if (names[k].name == n) return ds.x[i * ds.n_features + k];
    return 0.0f;
  };
  std::string s = val("general.is_pe32_plus") > 0.5f ? "64" : "32";
  s += val("general.is_dll") > 0.5f ? "-dll" : "-exe";
  if (val("general.is_dotnet") > 0.5f) s += "-dotnet";
  return s;
}

// JSON cannot carry NaN; a metric that does not apply (one class absent) is null.
nlohmann::json num(double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }

nlohmann::json op_json(const OperatingPoint& op) {
  return {{"threshold", op.threshold}, {"tpr", num(op.tpr)}, {"fpr", num(op.fpr)}, {"tp", op.tp},
          {"fp", op.fp}, {"positives", op.positives}, {"negatives", op.negatives}};
}

}  // namespace

// A bucket's rarer class is weighted up at most this much: a handful of 64-bit .NET DLLs must not each count as a
// hundred files.
constexpr double kMaxTypeBalance = 8.0;

// Weights that keep one big source or one class from dominating: 1/sqrt(group size), optionally the two classes
// brought level inside each file-type bucket, then both classes summed to the same total.
namespace {
// 1/sqrt stays the exact expression of the models trained before the power was an option, so their retraining
// commands still reproduce model.json byte for byte.
double group_weight(std::size_t n, double power) {
  const auto d = static_cast<double>(n);
  return power == 0.5 ? 1.0 / std::sqrt(d) : std::pow(d, -power);
}

std::string group_weight_text(double power) {
  if (power == 0.5) return "1/sqrt(group size)";
  std::ostringstream s;
  s << "group size^-" << power;
  return s.str();
}
}  // namespace

std::vector<float> sample_weights(const Dataset& ds, const std::vector<std::size_t>& idx, bool balance_by_type,
                                  double group_power) {
  std::map<std::string, std::size_t> gsize;
  for (auto i : idx) ++gsize[ds.rows[i].group];
  std::vector<float> w(idx.size());
  for (std::size_t k = 0; k < idx.size(); ++k)
    w[k] = static_cast<float>(group_weight(gsize[ds.rows[idx[k]].group], group_power));
  if (balance_by_type) {
    std::vector<std::string> bucket(idx.size());
    std::map<std::string, std::array<double, 2>> bsum;
    for (std::size_t k = 0; k < idx.size(); ++k) {
      bucket[k] = pe_bucket(ds, idx[k]);
      bsum[bucket[k]][static_cast<std::size_t>(ds.rows[idx[k]].y)] += w[k];
    }
    // Each class of a bucket moves toward half the bucket's weight; the bucket keeps its total when no factor is
    // clamped. A bucket with one class only is left as it is.
    std::map<std::string, std::array<double, 2>> factor;
    for (const auto& [b, s2] : bsum) {
      if (s2[0] <= 0 || s2[1] <= 0) {
        factor[b] = {1.0, 1.0};
        continue;
      }
      const double half = (s2[0] + s2[1]) / 2;
      for (std::size_t c = 0; c < 2; ++c) factor[b][c] = std::clamp(half / s2[c], 1.0 / kMaxTypeBalance, kMaxTypeBalance);
    }
    for (std::size_t k = 0; k < idx.size(); ++k)
      w[k] = static_cast<float>(w[k] * factor[bucket[k]][static_cast<std::size_t>(ds.rows[idx[k]].y)]);
  }
  double sum[2] = {0, 0};
  for (std::size_t k = 0; k < idx.size(); ++k) sum[ds.rows[idx[k]].y] += w[k];
  for (std::size_t k = 0; k < idx.size(); ++k) {
    const int y = ds.rows[idx[k]].y;
    if (sum[y] > 0) w[k] = static_cast<float>(w[k] * static_cast<double>(idx.size()) / 2.0 / sum[y]);
  }
  return w;
}

std::vector<int> assign_folds(const Dataset& ds, const TrainOptions& opt, int repeat) {
  return assign_folds_impl(ds, opt.folds, opt.seed, opt.leave_one_source_out, opt.loso_label, opt.train_only_groups,
                           repeat);
}

std::vector<double> cross_validate(const Dataset& ds, const TrainOptions& opt, std::ostream& log, int repeat) {
  const auto fold = assign_folds(ds, opt, repeat);
  const int nfolds = fold.empty() ? 0 : *std::max_element(fold.begin(), fold.end()) + 1;
  std::vector<double> oof(ds.rows.size(), std::nan(""));
  for (int f = 0; f < nfolds; ++f) {
    std::vector<std::size_t> tr, te;
    for (std::size_t i = 0; i < fold.size(); ++i) (fold[i] == f ? te : tr).push_back(i);
    if (te.empty() || tr.empty()) continue;
    auto b = fit(ds, tr, opt);
    if (!b.ok()) {
      log << "fold " << f << ": " << b.error().message << "\n";
      continue;
    }
    const auto s = predict(*b, ds, te);
    for (std::size_t k = 0; k < te.size(); ++k) oof[te[k]] = s[k];
    log << "  fold " << (f + 1) << "/" << nfolds << ": " << tr.size() << " train, " << te.size() << " test\n"
        << std::flush;
  }
  return oof;
}

std::vector<char> threshold_population(const Dataset& ds, const std::vector<std::string>& exclude_globs) {
  std::vector<char> in(ds.rows.size(), 1);
  for (std::size_t i = 0; i < ds.rows.size(); ++i)
    if (ds.rows[i].y == 0)
      for (const auto& g : exclude_globs)
        if (::fnmatch(g.c_str(), ds.rows[i].group.c_str(), 0) == 0) {
          in[i] = 0;
          break;
        }
  return in;
}

OperatingPoint at_fpr_over(const std::vector<double>& score, const std::vector<int>& y,
                           const std::vector<char>& population, double max_fpr) {
  if (population.empty()) return at_fpr(score, y, max_fpr);
  std::vector<double> s;
  std::vector<int> yy;
  for (std::size_t i = 0; i < score.size() && i < population.size(); ++i)
    if (population[i]) s.push_back(score[i]), yy.push_back(y[i]);
  return at_fpr(s, yy, max_fpr);
}

nlohmann::json report(const Dataset& ds, const std::vector<double>& score, double threshold,
                      const std::vector<char>& population, const std::map<std::string, double>& type_thresholds) {
  std::vector<int> y(ds.rows.size());
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = ds.rows[i].y;
  nlohmann::json r;
  r["files"] = ds.rows.size();
  r["malicious"] = std::count(y.begin(), y.end(), 1);
  r["benign"] = std::count(y.begin(), y.end(), 0);
  r["roc_auc"] = num(roc_auc(score, y));
  if (!population.empty()) {
    std::size_t left_out = 0;
    for (std::size_t i = 0; i < y.size() && i < population.size(); ++i) left_out += y[i] == 0 && !population[i];
    r["threshold_benign_left_out"] = left_out;
  }
  const auto p01 = at_fpr_over(score, y, population, 0.001), p05 = at_fpr_over(score, y, population, 0.005),
             p1 = at_fpr_over(score, y, population, 0.01);
  r["at_fpr_0.1%"] = op_json(p01);
  r["at_fpr_0.5%"] = op_json(p05);
  r["at_fpr_1%"] = op_json(p1);
  const double thr = threshold >= 0 ? threshold : p1.threshold;
  // Figures at the operating point: a row of a type with its own threshold is flagged at that threshold. `flag_score`
  // shifts each such row's score by the difference of the two thresholds, so `>= thr` flags exactly those rows and
  // at_threshold serves both cases; AUCs still use the real scores.
  std::vector<double> flag_score = score;
  if (!type_thresholds.empty()) {
    r["type_thresholds"] = type_thresholds;
    for (std::size_t i = 0; i < score.size(); ++i)
      if (auto it = type_thresholds.find(pe_bucket(ds, i)); it != type_thresholds.end())
        flag_score[i] = score[i] - it->second + thr;
  }
  if (threshold >= 0) r["at_model_threshold"] = op_json(at_threshold(flag_score, y, threshold));
  r["operating_threshold"] = thr;

  auto subset_report = [&](auto&& key_of) {
    std::map<std::string, std::vector<std::size_t>> by;
    for (std::size_t i = 0; i < ds.rows.size(); ++i) by[key_of(i)].push_back(i);
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, idx] : by) {
      std::vector<double> s, fs;
      std::vector<int> yy;
      for (auto i : idx) s.push_back(score[i]), fs.push_back(flag_score[i]), yy.push_back(y[i]);
      const auto op = at_threshold(fs, yy, thr);
      out[k] = {{"files", idx.size()}, {"malicious", op.positives}, {"benign", op.negatives},
                {"tpr", num(op.tpr)}, {"fpr", num(op.fpr)}, {"roc_auc", num(roc_auc(s, yy))}};
    }
    return out;
  };
  r["by_group"] = subset_report([&](std::size_t i) { return ds.rows[i].group; });
  if (ds.kind == "office") {
    // Documents: the plain rule "auto-exec AND (write OR execute)" on the same files, so the model's gain shows;
    // the manifest's subkinds; and the benign documents that carry macros, where false positives come from.
    std::vector<double> rule(ds.rows.size());
    for (std::size_t i = 0; i < ds.rows.size(); ++i) {
      const std::vector<float> x(ds.x.begin() + static_cast<std::ptrdiff_t>(i * ds.n_features),
                                 ds.x.begin() + static_cast<std::ptrdiff_t>((i + 1) * ds.n_features));
      rule[i] = features::office_baseline_rule(x) ? 1.0 : 0.0;
    }
    r["baseline_rule"] = op_json(at_threshold(rule, y, 0.5));
    r["by_subkind"] = subset_report([&](std::size_t i) { return ds.rows[i].kind + ":" + ds.rows[i].subkind; });
    static const std::size_t code = [] {
      const auto& f = features::office_schema().features;
      for (std::size_t k = 0; k < f.size(); ++k)
        if (f[k].name == "macro.code_lines") return k;
      return std::size_t{0};
    }();
    static const std::size_t xlm = [] {
      const auto& f = features::office_schema().features;
      for (std::size_t k = 0; k < f.size(); ++k)
        if (f[k].name == "xlm.macro_sheets") return k;
      return std::size_t{0};
    }();
    std::size_t n = 0, fp_op = 0, fp_05 = 0, fp_rule = 0;
    for (std::size_t i = 0; i < ds.rows.size(); ++i) {
      if (y[i] != 0) continue;
      const float* x = ds.x.data() + i * ds.n_features;
      if (!(x[code] > 0 || x[xlm] > 0)) continue;
      ++n;
      if (flag_score[i] >= thr) ++fp_op;
      if (score[i] >= p05.threshold) ++fp_05;
      if (rule[i] > 0.5) ++fp_rule;
    }
    r["benign_with_macros"] = {{"files", n}, {"fp_at_operating_threshold", fp_op}, {"fp_at_fpr_0.5%", fp_05},
                               {"fp_baseline_rule", fp_rule}};
  }
  r["by_file_type"] = subset_report([&](std::size_t i) { return pe_bucket(ds, i); });
  {
    std::vector<double> s;
    std::vector<int> yy;
    for (std::size_t i = 0; i < ds.rows.size(); ++i)
      if (ds.rows[i].family == "Emotet") s.push_back(flag_score[i]), yy.push_back(y[i]);
    const auto op = at_threshold(s, yy, thr);
    r["family_emotet"] = {{"files", s.size()}, {"tpr", num(op.tpr)}};
  }
  // Worst source among those with at least 5 files of a class.
  double worst_tpr = 2, worst_fpr = -1;
  std::string worst_tpr_g, worst_fpr_g;
  for (const auto& [g, v] : r["by_group"].items()) {
    if (v["malicious"].get<std::size_t>() >= 5 && !v["tpr"].is_null() && v["tpr"].get<double>() < worst_tpr)
      worst_tpr = v["tpr"].get<double>(), worst_tpr_g = g;
    if (v["benign"].get<std::size_t>() >= 5 && !v["fpr"].is_null() && v["fpr"].get<double>() > worst_fpr)
      worst_fpr = v["fpr"].get<double>(), worst_fpr_g = g;
  }
  if (!worst_tpr_g.empty()) r["worst_group_tpr"] = {{"group", worst_tpr_g}, {"tpr", worst_tpr}};
  if (!worst_fpr_g.empty()) r["worst_group_fpr"] = {{"group", worst_fpr_g}, {"fpr", worst_fpr}};
  nlohmann::json errs = nlohmann::json::array();
  for (std::size_t i = 0; i < ds.rows.size(); ++i) {
    if (std::isnan(score[i])) continue;
    const bool flagged = flag_score[i] >= thr;
    if (flagged != (y[i] == 1))
      errs.push_back({{"sha256", ds.rows[i].sha256}, {"label", ds.rows[i].label}, {"group", ds.rows[i].group},
                      {"family", ds.rows[i].family}, {"type", pe_bucket(ds, i)}, {"score", score[i]},
                      {"path", ds.rows[i].path}});
  }
  std::sort(errs.begin(), errs.end(), [](const auto& a, const auto& b) { return a["group"] < b["group"]; });
  r["misclassified"] = errs;
  return r;
}

void print_report(const nlohmann::json& rep, std::ostream& out, std::size_t max_errors) {
  auto pct = [](const nlohmann::json& v) {
    std::ostringstream s;
    if (v.is_null()) s << "   n/a";
    else s << std::fixed << std::setprecision(2) << std::setw(6) << v.get<double>() * 100 << "%";
    return s.str();
  };
  out << "files " << rep["files"] << " (malicious " << rep["malicious"] << ", benign " << rep["benign"] << ")\n";
  out << "ROC AUC            " << (rep["roc_auc"].is_null() ? std::string("n/a") : std::to_string(rep["roc_auc"].get<double>())) << "\n";
  if (rep.contains("threshold_benign_left_out"))
    out << "FPR operating points chosen without " << rep["threshold_benign_left_out"]
        << " benign files (--threshold-exclude-group); their FPR is over the other benign files\n";
  for (const char* k : {"at_fpr_0.1%", "at_fpr_0.5%", "at_fpr_1%", "at_model_threshold", "baseline_rule"}) {
    if (!rep.contains(k)) continue;
    const auto& op = rep[k];
    out << std::left << std::setw(19) << k << "TPR " << pct(op["tpr"]) << "  FPR " << pct(op["fpr"])
        << "  threshold " << op["threshold"].get<double>() << "\n";
  }
  out << "Emotet             TPR " << pct(rep["family_emotet"]["tpr"]) << " of " << rep["family_emotet"]["files"]
      << " files (at threshold " << rep["operating_threshold"].get<double>() << ")\n";
  if (rep.contains("worst_group_tpr"))
    out << "worst source (TPR) " << rep["worst_group_tpr"]["group"].get<std::string>() << " " << pct(rep["worst_group_tpr"]["tpr"]) << "\n";
  if (rep.contains("worst_group_fpr"))
    out << "worst source (FPR) " << rep["worst_group_fpr"]["group"].get<std::string>() << " " << pct(rep["worst_group_fpr"]["fpr"]) << "\n";
  if (rep.contains("benign_with_macros")) {
    const auto& b = rep["benign_with_macros"];
    out << "benign with macros " << b["files"] << " files: FP " << b["fp_at_operating_threshold"]
        << " at the operating threshold, " << b["fp_at_fpr_0.5%"] << " at FPR 0.5%, " << b["fp_baseline_rule"]
        << " by the baseline rule\n";
  }
  if (rep.contains("by_subkind")) {
    out << "\nby manifest subkind (at the operating threshold)\n";
    for (const auto& [k, v] : rep["by_subkind"].items())
      out << "  " << std::left << std::setw(40) << k.substr(0, 39) << " mal " << std::setw(5) << v["malicious"].get<std::size_t>()
          << " TPR " << pct(v["tpr"]) << "   ben " << std::setw(5) << v["benign"].get<std::size_t>() << " FPR " << pct(v["fpr"]) << "\n";
  }
  out << "\nby file type (at the operating threshold)\n";
  for (const auto& [k, v] : rep["by_file_type"].items())
    out << "  " << std::left << std::setw(20) << k << " mal " << std::setw(5) << v["malicious"].get<std::size_t>()
        << " TPR " << pct(v["tpr"]) << "   ben " << std::setw(5) << v["benign"].get<std::size_t>() << " FPR " << pct(v["fpr"]) << "\n";
  out << "\nby source group (at the operating threshold; groups with errors first)\n";
  std::vector<std::pair<std::string, nlohmann::json>> groups;
  for (const auto& [g, v] : rep["by_group"].items()) groups.emplace_back(g, v);
  auto errors_of = [](const nlohmann::json& v) {
    double e = 0;
    if (!v["tpr"].is_null()) e += (1 - v["tpr"].get<double>()) * v["malicious"].get<double>();
    if (!v["fpr"].is_null()) e += v["fpr"].get<double>() * v["benign"].get<double>();
    return e;
  };
  std::stable_sort(groups.begin(), groups.end(), [&](const auto& a, const auto& b) { return errors_of(a.second) > errors_of(b.second); });
  for (const auto& [g, v] : groups) {
    out << "  " << std::left << std::setw(48) << g.substr(0, 47) << " mal " << std::setw(5) << v["malicious"].get<std::size_t>()
        << " TPR " << pct(v["tpr"]) << "   ben " << std::setw(5) << v["benign"].get<std::size_t>() << " FPR " << pct(v["fpr"]) << "\n";
  }
  const auto& errs = rep["misclassified"];
  out << "\nmisclassified: " << errs.size() << "\n";
  for (std::size_t i = 0; i < errs.size() && i < max_errors; ++i) {
    const auto& e = errs[i];
    out << "  " << e["label"].get<std::string>() << " " << std::fixed << std::setprecision(4) << e["score"].get<double>()
        << " " << e["type"].get<std::string>() << " " << e["group"].get<std::string>() << " " << e["sha256"].get<std::string>() << "\n";
  }
  if (errs.size() > max_errors) out << "  ... " << (errs.size() - max_errors) << " more (see the JSON report)\n";
}

Result<nlohmann::json> train_pe(const Dataset& ds, const TrainOptions& opt, const std::string& out_dir, std::ostream& log,
                                std::vector<std::vector<double>>* oof_out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return make_error(ErrorCode::io, "cannot create " + out_dir + ": " + ec.message());

  log << "cross-validating (" << (opt.leave_one_source_out ? "leave one source out" : std::to_string(opt.folds) + "-fold by source group") << ")\n";
  const auto oof = cross_validate(ds, opt, log);
  std::vector<int> y(ds.rows.size());
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = ds.rows[i].y;
  const auto pop = opt.threshold_exclude_groups.empty() ? std::vector<char>{}
                                                        : threshold_population(ds, opt.threshold_exclude_groups);
  // Thresholds from the out-of-fold scores of every packing pooled: each benign file counts once per packing, so the
  // threshold no longer rests on which few hard groups one packing happened to put out of fold together.
  std::vector<std::vector<double>> runs{oof};
  const int repeats = opt.leave_one_source_out ? 1 : std::max(1, opt.threshold_repeats);
  for (int r = 1; r < repeats; ++r) {
    log << "cross-validating packing " << (r + 1) << "/" << repeats << " for the thresholds\n";
    runs.push_back(cross_validate(ds, opt, log, r));
  }
  std::vector<double> pooled;
  std::vector<int> pooled_y;
  std::vector<char> pooled_pop;
  for (const auto& run : runs) {
    pooled.insert(pooled.end(), run.begin(), run.end());
    pooled_y.insert(pooled_y.end(), y.begin(), y.end());
    pooled_pop.insert(pooled_pop.end(), pop.begin(), pop.end());
  }
  // Types with thresholds of their own leave the population of the model's thresholds (both classes) and get theirs
  // over their own rows, benign files of every group counted: the excluded groups are left out of the model's
  // choice because they are easy bulk files of one format, and a format's own threshold must spare exactly those.
  std::vector<char> main_pop = pooled_pop;
  std::map<std::string, std::vector<char>> type_pop;
  if (!opt.type_thresholds.empty()) {
    if (main_pop.empty()) main_pop.assign(pooled.size(), 1);
    for (const auto& t : opt.type_thresholds) type_pop[t].assign(pooled.size(), 0);
    for (std::size_t i = 0; i < ds.rows.size(); ++i) {
      const auto it = type_pop.find(pe_bucket(ds, i));
      if (it == type_pop.end()) continue;
      for (std::size_t r = 0; r < runs.size(); ++r) {
        main_pop[r * ds.rows.size() + i] = 0;
        it->second[r * ds.rows.size() + i] = 1;
      }
    }
  }
  const auto thr = at_fpr_over(pooled, pooled_y, main_pop, opt.target_fpr);
  const auto sthr = at_fpr_over(pooled, pooled_y, main_pop, opt.suspicious_fpr);
  std::map<std::string, std::pair<OperatingPoint, OperatingPoint>> type_thr;
  std::map<std::string, double> type_thr_report;
  for (const auto& [t, tp] : type_pop) {
    type_thr[t] = {at_fpr_over(pooled, pooled_y, tp, opt.target_fpr), at_fpr_over(pooled, pooled_y, tp, opt.suspicious_fpr)};
    type_thr_report[t] = type_thr[t].first.threshold;
  }
  auto cv = report(ds, oof, thr.threshold, pop, type_thr_report);
  if (oof_out) *oof_out = runs;

  log << "training the final model on " << ds.rows.size() << " files\n";
  std::vector<std::size_t> all(ds.rows.size());
  std::iota(all.begin(), all.end(), 0);
  auto b = fit(ds, all, opt);
  if (!b.ok()) return std::move(b).error();
  const std::string model_path = (fs::path(out_dir) / "model.json").string();
  if (XGBoosterSaveModel(b->h, model_path.c_str()) != 0) return make_error(ErrorCode::io, xgb_last_error());

  const auto& schema = ds.kind == "office" ? features::office_schema() : features::pe_schema();
  nlohmann::json meta;
  meta["name"] = "mamori-" + (opt.only_type.empty() ? ds.kind : opt.only_type);
  if (!opt.only_type.empty()) meta["only_type"] = opt.only_type;
  meta["kind"] = ds.kind;
  meta["schema_version"] = schema.version;
  meta["schema_hash"] = schema.hash;
  meta["n_features"] = schema.features.size();
  meta["threshold"] = thr.threshold;
  std::string population = " on the cross-validated data";
  if (!pop.empty()) {
    population = " over the " + std::to_string(thr.negatives) + " cross-validated benign files outside the groups";
    for (const auto& g : opt.threshold_exclude_groups) population += " " + g;
    population += " (" + cv["threshold_benign_left_out"].dump() + " benign files left out of the choice, still trained on)";
    meta["threshold_exclude_groups"] = opt.threshold_exclude_groups;
  }
  if (!type_thr.empty()) {
    population += ", files of the types";
    for (const auto& [t, _] : type_thr) population += " " + t;
    population += " left out (they have thresholds of their own, type_thresholds)";
    nlohmann::json types = nlohmann::json::object();
    for (const auto& [t, ops] : type_thr) {
      const auto& [m, s] = ops;
      const std::string basis = " over the " + std::to_string(m.negatives) + " cross-validated benign files of type " + t +
                                " (every group; pooled over " + std::to_string(repeats) + " fold packings): ";
      types[t] = {{"threshold", m.threshold},
                  {"suspicious_threshold", std::min(s.threshold, m.threshold)},
                  {"threshold_basis", "out-of-fold score at FPR <= " + std::to_string(opt.target_fpr) + basis +
                                          std::to_string(m.fp) + " false positives, TPR " + std::to_string(m.tpr)},
                  {"suspicious_basis", "out-of-fold score at FPR <= " + std::to_string(opt.suspicious_fpr) + basis +
                                           std::to_string(s.fp) + " false positives, TPR " + std::to_string(s.tpr)}};
    }
    meta["type_thresholds"] = types;
  }
  meta["threshold_basis"] = "out-of-fold score at FPR <= " + std::to_string(opt.target_fpr) + population + ": " +
                            std::to_string(thr.fp) + " false positives";
  meta["suspicious_threshold"] = std::min(sthr.threshold, thr.threshold);
  meta["suspicious_basis"] = "out-of-fold score at FPR <= " + std::to_string(opt.suspicious_fpr) + population + ": " +
                             std::to_string(sthr.fp) + " false positives";
  if (repeats > 1) {
    const std::string pooled_note = " (the out-of-fold scores of " + std::to_string(repeats) +
                                    " fold packings pooled; false positives counted over all of them)";
    meta["threshold_basis"] = meta["threshold_basis"].get<std::string>() + pooled_note;
    meta["suspicious_basis"] = meta["suspicious_basis"].get<std::string>() + pooled_note;
    // What one packing alone would have chosen, and each packing's TPR at the pooled thresholds: the fold noise.
    nlohmann::json per = nlohmann::json::array();
    for (std::size_t r = 0; r < runs.size(); ++r) {
      const auto& run = runs[r];
      // This packing's slice of the population the model's thresholds were chosen over.
      const std::vector<char> rpop = main_pop.empty() ? std::vector<char>{}
                                                      : std::vector<char>(main_pop.begin() + static_cast<std::ptrdiff_t>(r * run.size()),
                                                                          main_pop.begin() + static_cast<std::ptrdiff_t>((r + 1) * run.size()));
      const auto own = at_fpr_over(run, y, rpop, opt.target_fpr), own_s = at_fpr_over(run, y, rpop, opt.suspicious_fpr);
      std::vector<double> rs;
      std::vector<int> ry;
      for (std::size_t i = 0; i < run.size(); ++i)
        if (rpop.empty() || rpop[i]) rs.push_back(run[i]), ry.push_back(y[i]);
      const auto at_m = at_threshold(rs, ry, thr.threshold), at_s = at_threshold(rs, ry, meta["suspicious_threshold"].get<double>());
      per.push_back({{"own_threshold", own.threshold}, {"own_suspicious_threshold", own_s.threshold},
                     {"tpr_at_threshold", num(at_m.tpr)}, {"fp_at_threshold", at_m.fp},
                     {"tpr_at_suspicious", num(at_s.tpr)}, {"fp_at_suspicious", at_s.fp}});
    }
    meta["threshold_packings"] = per;
  }
  meta["training_command"] = opt.command;
  meta["params"] = {{"folds", opt.folds}, {"seed", opt.seed}, {"rounds", opt.rounds}, {"max_depth", opt.max_depth},
                    {"eta", opt.eta}, {"subsample", opt.subsample}, {"colsample_bytree", opt.colsample},
                    {"threshold_repeats", repeats},
                    {"min_child_weight", opt.min_child_weight}, {"weights", group_weight_text(opt.group_weight_power) +
                                                    (opt.balance_by_type ? ", classes balanced within each file type (factor <= 8) and overall"
                                                                         : ", classes balanced")}};
  meta["training_files"] = ds.rows.size();
  nlohmann::json summary = cv;
  summary.erase("misclassified");
  summary.erase("by_group");
  meta["cv_metrics"] = summary;
  {
    std::ofstream m(fs::path(out_dir) / "meta.json");
    m << meta.dump(2) << "\n";
  }
  {
    std::ofstream c(fs::path(out_dir) / "cv-report.json");
    c << cv.dump(1) << "\n";
  }
  // The training set, so that overlap with any evaluation set can be found and removed.
  gzFile gz = gzopen((fs::path(out_dir) / "training-set.tsv.gz").c_str(), "wb9");
  if (!gz) return make_error(ErrorCode::io, "cannot write training-set.tsv.gz");
  std::vector<std::size_t> order(ds.rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto a, auto b2) { return ds.rows[a].sha256 < ds.rows[b2].sha256; });
  const std::string header = "sha256\tlabel\tgroup\tfamily\n";
  gzwrite(gz, header.data(), static_cast<unsigned>(header.size()));
  for (auto i : order) {
    const auto& r = ds.rows[i];
    const std::string line = r.sha256 + "\t" + r.label + "\t" + r.group + "\t" + r.family + "\n";
    gzwrite(gz, line.data(), static_cast<unsigned>(line.size()));
  }
  gzclose(gz);
  meta["cv_report"] = cv;
  return meta;
}

std::vector<double> score_rows(const Dataset& ds, const Model& m) {
  std::vector<double> s(ds.rows.size());
  for (std::size_t i = 0; i < ds.rows.size(); ++i) {
    std::vector<float> x(ds.x.begin() + static_cast<std::ptrdiff_t>(i * ds.n_features),
                         ds.x.begin() + static_cast<std::ptrdiff_t>((i + 1) * ds.n_features));
    auto r = m.score(x);
    s[i] = r.ok() ? *r : std::nan("");
  }
  return s;
}

std::string file_type(const Dataset& ds, std::size_t i) { return pe_bucket(ds, i); }

nlohmann::json evaluate(const Dataset& ds, const Model& m, const std::vector<char>& population) {
  std::map<std::string, double> types;
  for (const auto& [t, th] : m.type_thresholds()) types[t] = th.first;
  return report(ds, score_rows(ds, m), m.threshold(), population, types);
}

}  // namespace mamori::model
