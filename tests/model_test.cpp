#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "features/pe_features.hpp"
#include "model/model.hpp"
#include "model/train.hpp"

using namespace mamori;
namespace fs = std::filesystem;

namespace {

// A synthetic dataset where one feature carries the label (with noise), spread over several source groups.
model::Dataset synthetic(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0, 0.3f);
  model::Dataset ds;
  ds.n_features = features::pe_schema().features.size();
  for (std::size_t i = 0; i < n; ++i) {
    model::Row r;
    r.y = static_cast<int>(i % 2);
    r.label = r.y ? "malicious" : "benign";
    r.sha256 = std::string(63, 'a') + std::to_string(i % 10);
    r.group = "g" + std::to_string(i % 7);
    r.family = r.y && i % 4 == 1 ? "Emotet" : "-";
    ds.rows.push_back(r);
    for (std::size_t k = 0; k < ds.n_features; ++k) ds.x.push_back(k == 5 ? static_cast<float>(r.y) + noise(rng) : noise(rng));
  }
  return ds;
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
