// Detection metrics. Scores are "higher = more malicious"; labels are 1 malicious, 0 benign.
#pragma once

#include <vector>

namespace mamori::model {

/// Area under the ROC curve (ties count half). NaN when one class is absent.
double roc_auc(const std::vector<double>& score, const std::vector<int>& y);

struct OperatingPoint {
  double threshold = 1.0;  // flag when score >= threshold
  double tpr = 0, fpr = 0;
  std::size_t tp = 0, fp = 0, positives = 0, negatives = 0;
};

/// The lowest threshold whose false-positive rate stays <= max_fpr, and the TPR there.
OperatingPoint at_fpr(const std::vector<double>& score, const std::vector<int>& y, double max_fpr);

/// TPR/FPR at a fixed threshold.
OperatingPoint at_threshold(const std::vector<double>& score, const std::vector<int>& y, double threshold);

}  // namespace mamori::model
