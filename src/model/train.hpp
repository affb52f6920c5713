// Training and evaluation of the PE model: group-aware cross-validation (no source is ever split between training
// and test), a final model on all data, and the reports that `mamori train` and `mamori eval` print.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/dataset.hpp"
#include "model/metrics.hpp"
#include "model/model.hpp"

namespace mamori::model {

struct TrainOptions {
  int folds = 5;
  int seed = 1;
  int rounds = 500;
  int max_depth = 7;
  double eta = 0.06;
  double subsample = 0.8;
  double colsample = 0.5;
  double min_child_weight = 2.0;
  // Balance the classes inside each file-type bucket (32/64-bit, EXE/DLL, .NET) as well as overall, each class's
  // factor at most kMaxTypeBalance. Without it the model can learn the type itself: the benign data is mostly 64-bit
  // and the malicious mostly 32-bit, and unseen 64-bit malware scored clean (docs/MEASUREMENTS.md, tenth session).
  bool balance_by_type = false;
  // Row weight = (rows of its source group)^-group_weight_power: 0 weighs every file alike, 1 every source alike.
  // The default 0.5 lets a big source count for more than a small one, but far less than its file count says.
  double group_weight_power = 0.5;
  // The one document type the rows were kept to (train --only-type): the model is named after it ("mamori-pdf").
  std::string only_type;
  int threads = 2;
  double target_fpr = 0.001;       // malicious threshold: FPR on the cross-validated dev data
  double suspicious_fpr = 0.005;   // suspicious threshold
  bool leave_one_source_out = false;  // evaluation mode: one fold per group
  // With leave_one_source_out: hold out only the groups that have a file of this label ("malicious": one fold per
  // malware source, every benign group always trains; their rows get no score). Empty: every group.
  std::string loso_label;
  // Source groups (globs) that are never held out: they train in every fold and get no out-of-fold score, and the
  // other groups are packed into exactly the folds they get without them. Measures what added data does to the
  // same rows and folds; adding groups to the packing instead reshuffles every fold (a different experiment).
  std::vector<std::string> train_only_groups;
  // Benign source groups (globs) left out when the FPR-based thresholds are chosen: they still train and are still
  // scored and reported, but a large population of easy benign files (the bulk benign PDFs) would otherwise lower the
  // threshold and let the harder benign documents through.
  std::vector<std::string> threshold_exclude_groups;
  // Cross-validation runs whose pooled out-of-fold scores choose the thresholds: run 0 is the packing the reports use,
  // runs 1.. pack the groups differently (seeded). One packing leaves a threshold at FPR 0.1% resting on the ~16
  // highest benign scores of whichever groups happen to be out of fold together, which moved the shipped malicious
  // threshold by several points of TPR between two almost identical training sets (docs/MEASUREMENTS.md, m15/m15b).
  int threshold_repeats = 1;
  // File types (office_bucket names, e.g. "pdf") that get thresholds of their own, chosen at the same target FPRs over
  // that type's out-of-fold scores (benign files of every group counted); the model's thresholds are then chosen over
  // the other files only. One population of easy benign files of one format otherwise moves the threshold of all
  // (docs/MEASUREMENTS.md, tenth and eleventh sessions). Written to meta.json's "type_thresholds".
  std::vector<std::string> type_thresholds;
  // Per-feature monotone constraint (1 = the score may only rise with the value, 0 = free); empty = none. Capability
  // counts get 1 so that a source with more of them is never scored lower for it (see docs/office.md).
  std::vector<int> monotone;
  std::string command;             // recorded in meta.json
};

/// Fold of every row (-1: never held out): whole groups, largest first, each to the lightest fold (one fold per group
/// with leave_one_source_out); groups matching opt.train_only_groups get -1 and take no part in the packing.
/// repeat > 0 gives another packing of the same groups, deterministic for (opt.seed, repeat): each group goes to one of
/// the two lightest folds, chosen by a seeded coin, so the folds stay balanced but hold other group combinations.
std::vector<int> assign_folds(const Dataset& ds, const TrainOptions& opt, int repeat = 0);

/// The rows that choose the FPR-based thresholds: 1 for every malicious row and every benign row whose group matches
/// none of `exclude_globs`, 0 for the benign rows left out. Empty globs: every row.
std::vector<char> threshold_population(const Dataset& ds, const std::vector<std::string>& exclude_globs);

/// at_fpr over the rows whose `population` entry is 1 (all rows when `population` is empty): the threshold and its
/// TPR/FPR on that population.
OperatingPoint at_fpr_over(const std::vector<double>& score, const std::vector<int>& y,
                           const std::vector<char>& population, double max_fpr);

/// Per-file out-of-fold scores from group k-fold (or leave-one-source-out) cross-validation, over the packing
/// assign_folds(ds, opt, repeat) gives.
std::vector<double> cross_validate(const Dataset& ds, const TrainOptions& opt, std::ostream& log, int repeat = 0);

/// Trains on everything (PE files or documents, by ds.kind; the name is historical), cross-validates, writes model.json, meta.json, training-set.tsv.gz and cv-report.json
/// into `out_dir`. Returns meta.json's content. With `oof`, also hands back the out-of-fold scores of every packing
/// (packing 0 first; NaN for rows never held out), so that a caller can judge the model without a second
/// cross-validation.
Result<nlohmann::json> train_pe(const Dataset& ds, const TrainOptions& opt, const std::string& out_dir, std::ostream& log,
                                std::vector<std::vector<double>>* oof = nullptr);

/// Training weight of each row of `idx`: its source group's size to the power -group_power (0.5: 1/sqrt), with
/// balance_by_type the two classes brought level inside each file-type bucket (file_type; factors clamped to
/// [1/8, 8]), then both classes summed to the same total (idx.size() / 2 each).
std::vector<float> sample_weights(const Dataset& ds, const std::vector<std::size_t>& idx, bool balance_by_type,
                                  double group_power = 0.5);

/// Scores every row with `m` (NaN where scoring failed).
std::vector<double> score_rows(const Dataset& ds, const Model& m);

/// The file-type bucket of row `i` as the reports use it (from the vector: "32-dll", "ole2:word-vba", ...).
std::string file_type(const Dataset& ds, std::size_t i);

/// Scores every row with `m` and returns the report (metrics overall, by group, by file type, Emotet, errors).
nlohmann::json evaluate(const Dataset& ds, const Model& m, const std::vector<char>& population = {});

/// Report over given scores: AUC, TPR at FPR 0.1% / 1%, per group, per file type, family Emotet, misclassified.
/// `threshold` (if >= 0) is the operating threshold for per-group figures and the misclassified list. A non-empty
/// `population` (threshold_population) chooses the FPR operating points on its rows only (and gives their TPR/FPR
/// there); every other figure still covers all rows.
/// `type_thresholds` (type -> threshold) replaces `threshold` for the rows of those file types in every figure taken
/// at the operating threshold.
nlohmann::json report(const Dataset& ds, const std::vector<double>& score, double threshold,
                      const std::vector<char>& population = {},
                      const std::map<std::string, double>& type_thresholds = {});

/// Human-readable rendering of a report.
void print_report(const nlohmann::json& rep, std::ostream& out, std::size_t max_errors);

}  // namespace mamori::model
