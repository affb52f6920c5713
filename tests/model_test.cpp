#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "features/pe_features.hpp"
#include "model/model.hpp"
#include "model/train.hpp"

using namespace mamori;
namespace fs = std::filesystem;

namespace {

// A synthetic dataset where one feature (index 5, or 1 in a narrower one) carries the label, with noise, spread over
// `groups` source groups. Width 0: the PE schema's. A few features keep repeated fits fast; meta.json takes its
// schema from the kind, the fits do not need it.
model::Dataset synthetic(std::size_t n, unsigned seed, std::size_t groups = 7, std::size_t width = 0, float sd = 0.3f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0, sd);
  model::Dataset ds;
  ds.n_features = width ? width : features::pe_schema().features.size();
  const std::size_t informative = ds.n_features > 5 ? 5 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    model::Row r;
    r.y = static_cast<int>(i % 2);
    r.label = r.y ? "malicious" : "benign";
    r.sha256 = std::string(60, 'a') + std::to_string(1000 + i);
    r.group = "g" + std::to_string(i % groups);
    r.family = r.y && i % 4 == 1 ? "Emotet" : "-";
    ds.rows.push_back(r);
    for (std::size_t k = 0; k < ds.n_features; ++k)
      ds.x.push_back(k == informative ? static_cast<float>(r.y) + noise(rng) : noise(rng));
  }
  return ds;
}

// Small, fast training settings with FPR targets that a few hundred rows can resolve.
model::TrainOptions small_training(int rounds, int folds) {
  model::TrainOptions o;
  o.rounds = rounds;
  o.eta = 0.3;
  o.folds = folds;
  o.threads = 2;
  o.target_fpr = 0.02;
  o.suspicious_fpr = 0.05;
  return o;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct TempDir {
  fs::path p;
  TempDir() {
    p = fs::temp_directory_path() / ("mamori-test-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
    fs::create_directories(p);
  }
  ~TempDir() { fs::remove_all(p); }
};

}  // namespace

TEST(Model, TrainingIsDeterministicAndTheModelLearnsTheSignal) {
  const auto ds = synthetic(200, 1);
  model::TrainOptions o;
  o.rounds = 20;
  o.eta = 0.3;
  o.folds = 3;
  o.threads = 2;
  TempDir a, b;
  std::ostringstream log;
  auto ma = model::train_pe(ds, o, a.p.string(), log);
  auto mb = model::train_pe(ds, o, b.p.string(), log);
  ASSERT_TRUE(ma.ok()) << ma.error().message;
  ASSERT_TRUE(mb.ok());
  EXPECT_EQ(slurp(a.p / "model.json"), slurp(b.p / "model.json"));
  EXPECT_TRUE(fs::exists(a.p / "training-set.tsv.gz"));
  EXPECT_GT((*ma)["cv_report"]["roc_auc"].get<double>(), 0.95);

  auto m = model::Model::load(a.p.string(), features::pe_schema());
  ASSERT_TRUE(m.ok()) << m.error().message;
  std::vector<float> x(ds.n_features, 0.0f);
  x[5] = 1.0f;
  const double hi = *m->score(x);
  x[5] = 0.0f;
  const double lo = *m->score(x);
  EXPECT_GT(hi, 0.8);
  EXPECT_LT(lo, 0.2);
  auto why = m->explain(std::vector<float>(ds.n_features, 0.0f), 3);
  ASSERT_TRUE(why.ok());
  ASSERT_FALSE(why->empty());
  EXPECT_EQ((*why)[0].feature, 5u);  // the informative feature explains the score
}

TEST(Model, RefusesAModelTrainedOnAnotherSchema) {
  const auto ds = synthetic(60, 2);
  model::TrainOptions o;
  o.rounds = 5;
  o.folds = 2;
  TempDir d;
  std::ostringstream log;
  ASSERT_TRUE(model::train_pe(ds, o, d.p.string(), log).ok());
  auto meta = nlohmann::json::parse(slurp(d.p / "meta.json"));
  meta["schema_hash"] = "deadbeef";
  std::ofstream(d.p / "meta.json") << meta.dump();
  auto m = model::Model::load(d.p.string(), features::pe_schema());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::incompatible);
  EXPECT_NE(m.error().message.find("schema"), std::string::npos);
}

TEST(Model, MissingModelIsAnIoError) {
  auto m = model::Model::load("/nonexistent/model", features::pe_schema());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::io);
}

// Added data measured on the same rows and folds: train-only groups never get a fold or a score, and the other
// groups keep exactly the folds they have without them (adding them to the packing would reshuffle every fold).
TEST(Model, TrainOnlyGroupsKeepTheOtherFoldsAndGetNoScore) {
  const auto base = synthetic(140, 3);
  auto more = base;
  for (std::size_t i = 0; i < 60; ++i) {
    model::Row r = base.rows[i];
    r.group = i < 40 ? "extra:big" : "extra:small";
    more.rows.push_back(r);
    more.x.insert(more.x.end(), base.x.begin() + static_cast<std::ptrdiff_t>(i * base.n_features),
                  base.x.begin() + static_cast<std::ptrdiff_t>((i + 1) * base.n_features));
  }
  model::TrainOptions o;
  o.folds = 3;
  o.rounds = 10;
  o.eta = 0.3;
  o.threads = 2;
  const auto f0 = model::assign_folds(base, o);
  const auto packed = model::assign_folds(more, o);  // the 40-row group takes a fold of its own first
  o.train_only_groups = {"extra:*"};
  const auto f1 = model::assign_folds(more, o);
  ASSERT_EQ(f1.size(), more.rows.size());
  bool reshuffled = false;
  for (std::size_t i = 0; i < base.rows.size(); ++i) {
    EXPECT_EQ(f1[i], f0[i]) << "row " << i;
    EXPECT_GE(f0[i], 0);
    reshuffled |= packed[i] != f0[i];
  }
  EXPECT_TRUE(reshuffled);
  for (std::size_t i = base.rows.size(); i < more.rows.size(); ++i) EXPECT_EQ(f1[i], -1);

  std::ostringstream log;
  const auto s = model::cross_validate(more, o, log);
  for (std::size_t i = 0; i < more.rows.size(); ++i)
    EXPECT_EQ(std::isnan(s[i]), i >= base.rows.size()) << "row " << i;
}

// --threshold-exclude-group: a bulk of easy benign files (scores near 0) must not pull the FPR-chosen threshold down;
// only benign rows of the matching groups leave the threshold population, malicious rows never do.
TEST(ModelThresholdExclude, PopulationLeavesOutOnlyBenignRowsOfMatchingGroups) {
  model::Dataset ds;
  ds.n_features = 1;
  const char* groups[] = {"gh:easy+pdfs", "gh:easy+pdfs", "gh:hard", "gh:other"};
  const int labels[] = {0, 1, 0, 1};
  for (int i = 0; i < 4; ++i) {
    model::Row r;
    r.y = labels[i];
    r.group = groups[i];
    ds.rows.push_back(r);
    ds.x.push_back(0.0f);
  }
  const auto pop = model::threshold_population(ds, {"gh:easy*"});
  ASSERT_EQ(pop.size(), 4u);
  EXPECT_EQ(pop[0], 0);  // benign, matching group: left out
  EXPECT_EQ(pop[1], 1);  // malicious rows always stay
  EXPECT_EQ(pop[2], 1);
  EXPECT_EQ(pop[3], 1);
  EXPECT_EQ(model::threshold_population(ds, {}), std::vector<char>(4, 1));
}

TEST(ModelThresholdExclude, EasyBenignNoLongerLowersTheThreshold) {
  std::vector<double> score;
  std::vector<int> y;
  std::vector<char> pop;
  for (int i = 0; i < 100; ++i) score.push_back(i / 100.0), y.push_back(0), pop.push_back(1);  // hard benign 0..0.99
  for (int i = 0; i < 900; ++i) score.push_back(0.001), y.push_back(0), pop.push_back(0);      // easy benign
  for (int i = 0; i < 50; ++i) score.push_back(0.9 + i / 1000.0), y.push_back(1), pop.push_back(1);
  const auto all = model::at_fpr_over(score, y, {}, 0.01);
  const auto hard = model::at_fpr_over(score, y, pop, 0.01);
  EXPECT_EQ(all.negatives, 1000u);
  EXPECT_EQ(all.fp, 10u);           // 1% of all benign: ten of the hard ones get through
  EXPECT_EQ(hard.negatives, 100u);  // chosen on the hard benign files only
  EXPECT_EQ(hard.fp, 1u);
  EXPECT_GT(hard.threshold, all.threshold);
  EXPECT_LT(hard.tpr, all.tpr);
}

TEST(ModelThresholdExclude, TrainChoosesThresholdsWithoutTheGroupButStillTrainsAndReportsIt) {
  auto ds = synthetic(200, 4);
  // An easy benign group: clearly benign values of the informative feature, many rows.
  for (int i = 0; i < 300; ++i) {
    model::Row r;
    r.y = 0;
    r.label = "benign";
    r.sha256 = std::string(60, 'e') + std::to_string(1000 + i);
    r.group = "gh:easy+pdfs";
    r.family = "-";
    ds.rows.push_back(r);
    for (std::size_t k = 0; k < ds.n_features; ++k) ds.x.push_back(k == 5 ? -1.0f : 0.0f);
  }
  auto o = small_training(20, 3);
  TempDir a, b;
  std::ostringstream log;
  auto plain = model::train_pe(ds, o, a.p.string(), log);
  o.threshold_exclude_groups = {"gh:easy*"};
  auto excl = model::train_pe(ds, o, b.p.string(), log);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  ASSERT_TRUE(excl.ok()) << excl.error().message;
  // Same model (the exclusion only moves thresholds), every row still trained on and reported.
  EXPECT_EQ(slurp(a.p / "model.json"), slurp(b.p / "model.json"));
  EXPECT_EQ((*excl)["training_files"].get<std::size_t>(), ds.rows.size());
  EXPECT_EQ((*excl)["cv_report"]["files"].get<std::size_t>(), ds.rows.size());
  EXPECT_EQ((*excl)["cv_report"]["threshold_benign_left_out"].get<std::size_t>(), 300u);
  EXPECT_FALSE((*plain)["cv_report"].contains("threshold_benign_left_out"));
  EXPECT_GE((*excl)["threshold"].get<double>(), (*plain)["threshold"].get<double>());
  EXPECT_EQ((*excl)["cv_report"]["at_fpr_1%"]["negatives"].get<std::size_t>(), 100u);  // the synthetic benign rows
  EXPECT_EQ((*excl)["threshold_exclude_groups"][0].get<std::string>(), "gh:easy*");
  EXPECT_NE((*excl)["threshold_basis"].get<std::string>().find("gh:easy*"), std::string::npos);
  auto meta = nlohmann::json::parse(slurp(b.p / "meta.json"));
  EXPECT_EQ(meta["threshold"], (*excl)["threshold"]);
}

TEST(ModelThresholdRepeats, OtherPackingsKeepGroupsWholeAndBalancedButDiffer) {
  // 30 groups of 2..31 rows: enough groups that a second packing can combine them differently.
  model::Dataset ds;
  ds.n_features = 1;
  for (int g = 0; g < 30; ++g)
    for (int k = 0; k < g + 2; ++k) {
      model::Row r;
      r.y = k % 2;
      r.group = "g" + std::to_string(g);
      ds.rows.push_back(r);
      ds.x.push_back(0.0f);
    }
  model::TrainOptions o;
  o.folds = 5;
  const auto base = model::assign_folds(ds, o);
  EXPECT_EQ(base, model::assign_folds(ds, o, 0));  // packing 0 is the one every earlier model used
  const auto p1 = model::assign_folds(ds, o, 1), p2 = model::assign_folds(ds, o, 2);
  EXPECT_EQ(p1, model::assign_folds(ds, o, 1));  // deterministic
  EXPECT_NE(p1, base);
  EXPECT_NE(p1, p2);
  for (const auto& f : {p1, p2}) {
    std::map<std::string, int> fold_of;
    std::vector<std::size_t> load(5, 0);
    for (std::size_t i = 0; i < ds.rows.size(); ++i) {
      ASSERT_GE(f[i], 0);
      ASSERT_LT(f[i], 5);
      auto [it, fresh] = fold_of.emplace(ds.rows[i].group, f[i]);
      EXPECT_EQ(it->second, f[i]) << "group split across folds";
      ++load[static_cast<std::size_t>(f[i])];
    }
    // 525 rows in 5 folds: no fold is starved or twice the mean.
    for (auto l : load) {
      EXPECT_GT(l, 525u / 5 / 2);
      EXPECT_LT(l, 525u / 5 * 2);
    }
  }
}

TEST(ModelThresholdRepeats, ThresholdsComeFromEveryPackingAndTheModelIsUnchanged) {
  const auto ds = synthetic(300, 6, 13, 4, 0.6f);
  auto o = small_training(15, 4);
  TempDir a, b;
  std::ostringstream log;
  auto one = model::train_pe(ds, o, a.p.string(), log);
  o.threshold_repeats = 3;
  auto three = model::train_pe(ds, o, b.p.string(), log);
  ASSERT_TRUE(one.ok()) << one.error().message;
  ASSERT_TRUE(three.ok()) << three.error().message;
  EXPECT_EQ(slurp(a.p / "model.json"), slurp(b.p / "model.json"));  // only the thresholds move
  EXPECT_EQ((*one)["cv_report"]["roc_auc"], (*three)["cv_report"]["roc_auc"]);
  EXPECT_FALSE((*one).contains("threshold_packings"));
  const auto& per = (*three)["threshold_packings"];
  ASSERT_EQ(per.size(), 3u);
  EXPECT_EQ(per[0]["own_threshold"], (*one)["threshold"]);  // packing 0 alone gives the single-run threshold
  // Pooled: at most 2% of the 3 x 150 benign out-of-fold scores reach the threshold, and it is re-derivable from
  // the packings' own false-positive counts at it.
  std::size_t fp = 0;
  for (const auto& p : per) fp += p["fp_at_threshold"].get<std::size_t>();
  EXPECT_LE(fp, 9u);
  EXPECT_NE((*three)["threshold_basis"].get<std::string>().find("3 fold packings pooled"), std::string::npos);
  EXPECT_EQ((*three)["params"]["threshold_repeats"].get<int>(), 3);
}

// train --scores hands back what chose the thresholds, so a model can be judged without a second cross-validation.
TEST(ModelThresholdRepeats, TrainHandsBackEveryPackingsOutOfFoldScores) {
  const auto ds = synthetic(300, 6, 13, 4, 0.6f);
  auto o = small_training(15, 4);
  o.threshold_repeats = 3;
  TempDir a;
  std::ostringstream log;
  std::vector<std::vector<double>> oof;
  auto meta = model::train_pe(ds, o, a.p.string(), log, &oof);
  ASSERT_TRUE(meta.ok()) << meta.error().message;
  ASSERT_EQ(oof.size(), 3u);
  for (int r = 0; r < 3; ++r) {
    ASSERT_EQ(oof[static_cast<std::size_t>(r)].size(), ds.rows.size());
    const auto again = model::cross_validate(ds, o, log, r);
    for (std::size_t i = 0; i < again.size(); ++i) EXPECT_DOUBLE_EQ(oof[static_cast<std::size_t>(r)][i], again[i]);
  }
  EXPECT_NE(oof[0], oof[1]);
  // The pooled false positives at the shipped threshold are the packings' own counts, recounted from the scores.
  const double thr = (*meta)["threshold"].get<double>();
  for (int r = 0; r < 3; ++r) {
    std::size_t fp = 0;
    for (std::size_t i = 0; i < ds.rows.size(); ++i)
      if (ds.rows[i].y == 0 && oof[static_cast<std::size_t>(r)][i] >= thr) ++fp;
    EXPECT_EQ(fp, (*meta)["threshold_packings"][static_cast<std::size_t>(r)]["fp_at_threshold"].get<std::size_t>());
  }
}

// A corpus rebuilt from its hash manifest lists its files in the builder's order; training must not depend on it.
TEST(ModelData, ManifestRowsAreReadInSha256OrderAndTheFirstListingWins) {
  TempDir d;
  const std::string a(64, 'a'), b(64, 'b'), c(64, 'c');
  auto write = [&](const std::string& name, const std::vector<std::string>& lines) {
    std::ofstream o(d.p / name);
    o << "sha256\tlabel\tkind\tgroup\tpath\n";
    for (const auto& l : lines) o << l << "\n";
    return (d.p / name).string();
  };
  const auto m1 = write("one.tsv", {c + "\tbenign\tpe\tg1\tc.exe", a + "\tmalicious\tpe\tg1\ta.exe", b + "\tbenign\tpe\tg2\tb.dll"});
  const auto m2 = write("two.tsv", {b + "\tbenign\tpe\tg2\tb.dll", c + "\tbenign\tpe\tg1\tc.exe", a + "\tmalicious\tpe\tg1\ta.exe"});
  const auto r1 = model::read_manifests({m1}, "pe"), r2 = model::read_manifests({m2}, "pe");
  ASSERT_TRUE(r1.ok() && r2.ok());
  ASSERT_EQ(r1->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*r1)[i].sha256, (*r2)[i].sha256);
    EXPECT_EQ((*r1)[i].path, (*r2)[i].path);
  }
  EXPECT_EQ((*r1)[0].sha256, a);
  EXPECT_EQ((*r1)[2].sha256, c);
  // A file in two manifests keeps the first manifest's row (label and group), wherever it sorts.
  const auto m3 = write("three.tsv", {a + "\tbenign\tpe\tother\ta.exe"});
  const auto both = model::read_manifests({m1, m3}, "pe");
  ASSERT_TRUE(both.ok());
  ASSERT_EQ(both->size(), 3u);
  EXPECT_EQ((*both)[0].group, "g1");
  EXPECT_EQ((*both)[0].y, 1);
}

// 64-bit files mostly benign and 32-bit mostly malicious, as in the PE corpora: balanced by type, each type weighs
// both classes alike, so "is 64-bit" stops predicting the label; without it, only the overall totals are level.
TEST(ModelWeights, BalanceByTypeLevelsTheClassesInsideEachFileType) {
  model::Dataset ds;
  ds.kind = "pe";
  ds.n_features = features::pe_schema().features.size();
  std::size_t is64 = ds.n_features;
  for (std::size_t k = 0; k < ds.n_features; ++k)
    if (features::pe_schema().features[k].name == "general.is_pe32_plus") is64 = k;
  ASSERT_LT(is64, ds.n_features);
  auto add = [&](bool wide, int y, int n) {
    for (int i = 0; i < n; ++i) {
      model::Row r;
      r.y = y;
      r.group = "g" + std::to_string(ds.rows.size());
      ds.rows.push_back(r);
      ds.x.resize(ds.rows.size() * ds.n_features, 0.0f);
      ds.x[(ds.rows.size() - 1) * ds.n_features + is64] = wide ? 1.0f : 0.0f;
    }
  };
  add(true, 0, 40), add(true, 1, 10), add(false, 0, 10), add(false, 1, 40);
  add(true, 1, 1);  // 64-bit: 40 benign against 11 malicious (factor 2.3, under the clamp)
  std::vector<std::size_t> idx(ds.rows.size());
  std::iota(idx.begin(), idx.end(), 0);
  auto sums = [&](const std::vector<float>& w) {
    std::map<std::pair<bool, int>, double> s;
    for (std::size_t i = 0; i < idx.size(); ++i) s[{ds.x[i * ds.n_features + is64] > 0.5f, ds.rows[i].y}] += w[i];
    return s;
  };
  const auto plain = sums(model::sample_weights(ds, idx, false));
  const auto typed = sums(model::sample_weights(ds, idx, true));
  EXPECT_GT(plain.at({true, 0}), 3 * plain.at({true, 1}));
  EXPECT_NEAR(typed.at({true, 0}), typed.at({true, 1}), 1e-3);
  EXPECT_NEAR(typed.at({false, 0}), typed.at({false, 1}), 1e-3);
  for (const auto& s : {plain, typed})  // both classes still weigh idx.size() / 2 in all
    EXPECT_NEAR(s.at({true, 0}) + s.at({false, 0}), idx.size() / 2.0, 1e-3);
  // The clamp: one malicious 64-bit file against 40 benign is raised 8 times, not 20.
  model::Dataset few = ds;
  few.rows.resize(61);
  few.x.resize(61 * ds.n_features);
  few.rows[40].y = 1;
  for (std::size_t i = 41; i < 50; ++i) few.rows[i].y = 0;  // 64-bit: 49 benign, 1 malicious
  std::vector<std::size_t> fidx(few.rows.size());
  std::iota(fidx.begin(), fidx.end(), 0);
  const auto fw = model::sample_weights(few, fidx, true);
  // 64-bit: 49 benign, 1 malicious (row 40): the malicious factor 25 is clamped to 8, the benign one is 25/49.
  // 32-bit: 10 benign, 1 malicious (row 60): factors 5.5 and 0.55, unclamped. The final per-class scaling is
  // common to a class, so ratios within a class show the factors.
  EXPECT_NEAR(fw[40] / fw[60], 8.0 / 5.5, 1e-4);
  EXPECT_NEAR(fw[0] / fw[50], (25.0 / 49.0) / 0.55, 1e-4);
}

// The group power decides how much a big source outweighs a small one: at 0 every file counts alike, at 1 every
// source counts alike, at the default 0.5 a source of 100 files weighs 10 times one file's source.
TEST(ModelWeights, GroupPowerSetsHowMuchABigSourceCounts) {
  model::Dataset ds;
  ds.kind = "pe";
  ds.n_features = 1;
  auto add = [&](const std::string& g, int y, int n) {
    for (int i = 0; i < n; ++i) {
      model::Row r;
      r.y = y;
      r.group = g;
      ds.rows.push_back(r);
      ds.x.push_back(0.0f);
    }
  };
  add("big", 1, 100), add("small", 1, 1), add("benign", 0, 101);
  std::vector<std::size_t> idx(ds.rows.size());
  std::iota(idx.begin(), idx.end(), 0);
  auto big_over_small = [&](double p) {
    const auto w = model::sample_weights(ds, idx, false, p);
    double big = 0;
    for (std::size_t i = 0; i < 100; ++i) big += w[i];
    return big / w[100];
  };
  EXPECT_NEAR(big_over_small(0.0), 100.0, 1e-3);
  EXPECT_NEAR(big_over_small(0.5), 10.0, 1e-3);
  EXPECT_NEAR(big_over_small(1.0), 1.0, 1e-4);
  EXPECT_EQ(model::sample_weights(ds, idx, false), model::sample_weights(ds, idx, false, 0.5));
}
