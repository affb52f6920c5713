#include <gtest/gtest.h>

#include <cmath>

#include "model/metrics.hpp"

using namespace mamori::model;

TEST(Metrics, AucOfPerfectInvertedAndTiedScores) {
  EXPECT_DOUBLE_EQ(roc_auc({0.1, 0.2, 0.8, 0.9}, {0, 0, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(roc_auc({0.9, 0.8, 0.2, 0.1}, {0, 0, 1, 1}), 0.0);
  EXPECT_DOUBLE_EQ(roc_auc({0.5, 0.5, 0.5, 0.5}, {0, 1, 0, 1}), 0.5);
  // One inversion out of four positive/negative pairs.
  EXPECT_DOUBLE_EQ(roc_auc({0.1, 0.6, 0.5, 0.9}, {0, 0, 1, 1}), 0.75);
  EXPECT_TRUE(std::isnan(roc_auc({0.1, 0.2}, {1, 1})));
}

TEST(Metrics, TprAtFprNeverExceedsTheFprBudget) {
  // 1000 benign at 0..0.999; 5 malicious just below the top benign scores and 5 above all of them.
  // FPR 1% allows 10 false positives.
  std::vector<double> s;
  std::vector<int> y;
  for (int i = 0; i < 1000; ++i) s.push_back(i / 1000.0), y.push_back(0);
  for (int i = 0; i < 10; ++i) s.push_back(i < 5 ? 0.9955 : 1.0), y.push_back(1);
  const auto op = at_fpr(s, y, 0.01);
  EXPECT_LE(op.fp, 10u);
  EXPECT_LE(op.fpr, 0.01);
  EXPECT_EQ(op.tp, 10u);
  const auto strict = at_fpr(s, y, 0.0);
  EXPECT_EQ(strict.fp, 0u);
  EXPECT_EQ(strict.tp, 5u);  // only those above the highest benign score, 0.999
}

TEST(Metrics, AtThresholdCountsInclusive) {
  const auto op = at_threshold({0.2, 0.5, 0.5, 0.7}, {0, 0, 1, 1}, 0.5);
  EXPECT_EQ(op.tp, 2u);
  EXPECT_EQ(op.fp, 1u);
  EXPECT_DOUBLE_EQ(op.tpr, 1.0);
  EXPECT_DOUBLE_EQ(op.fpr, 0.5);
}
