#include "model/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

namespace mamori::model {

double roc_auc(const std::vector<double>& score, const std::vector<int>& y) {
  const std::size_t n = score.size();
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](auto a, auto b) { return score[a] < score[b]; });
  // Mann-Whitney U with average ranks for ties.
  double rank_sum = 0;
  std::size_t pos = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && score[idx[j]] == score[idx[i]]) ++j;
    const double avg_rank = (static_cast<double>(i) + static_cast<double>(j - 1)) / 2.0 + 1.0;
    for (std::size_t k = i; k < j; ++k)
      if (y[idx[k]] == 1) rank_sum += avg_rank, ++pos;
    i = j;
  }
  const std::size_t neg = n - pos;
  if (pos == 0 || neg == 0) return std::nan("");
  return (rank_sum - static_cast<double>(pos) * static_cast<double>(pos + 1) / 2.0) /
         (static_cast<double>(pos) * static_cast<double>(neg));
}

OperatingPoint at_threshold(const std::vector<double>& score, const std::vector<int>& y, double threshold) {
  OperatingPoint op;
  op.threshold = threshold;
  for (std::size_t i = 0; i < score.size(); ++i) {
    if (y[i] == 1) {
      ++op.positives;
      op.tp += score[i] >= threshold;
    } else {
      ++op.negatives;
      op.fp += score[i] >= threshold;
    }
  }
  op.tpr = op.positives ? static_cast<double>(op.tp) / static_cast<double>(op.positives) : std::nan("");
  op.fpr = op.negatives ? static_cast<double>(op.fp) / static_cast<double>(op.negatives) : std::nan("");
  return op;
}

OperatingPoint at_fpr(const std::vector<double>& score, const std::vector<int>& y, double max_fpr) {
  std::vector<double> neg;
  for (std::size_t i = 0; i < score.size(); ++i)
    if (y[i] == 0) neg.push_back(score[i]);
  std::sort(neg.begin(), neg.end(), std::greater<>());
  const auto allowed = static_cast<std::size_t>(std::floor(max_fpr * static_cast<double>(neg.size()) + 1e-9));
  // Flag strictly above the (allowed+1)-th highest benign score: at most `allowed` false positives.
  double thr = 0.0;
  if (allowed < neg.size()) thr = std::nextafter(neg[allowed], 2.0);
  return at_threshold(score, y, thr);
}

}  // namespace mamori::model
