// `mamori train`, `mamori eval`, `mamori features`: building and measuring models.
#include <fnmatch.h>

#include <cmath>

#include <fstream>
#include <iostream>
#include <set>

#include "cli/commands.hpp"
#include "common/mapped_file.hpp"
#include "engine/scanner.hpp"
#include "features/office_features.hpp"
#include "features/pe_features.hpp"
#include "model/train.hpp"

namespace mamori::cli {

namespace {

struct DataFlags {
  std::vector<std::string> manifests;
  std::string kind = "pe";
  std::string cache;
  int threads = 2;
  std::vector<std::string> exclude_groups;
  std::string exclude_file;
  std::vector<std::string> drop_features, only_features, increasing;
  std::string only_type;  // --kind office: keep the rows of this file-type bucket only (e.g. "pdf")
};

void add_data_flags(CLI::App* cmd, DataFlags& d) {
  cmd->add_option("--manifest", d.manifests, "Manifest TSV (sha256, label, kind, group, path columns); repeatable")->required();
  cmd->add_option("--kind", d.kind, "Which rows and model: 'pe' (Windows executables) or 'office' (documents: manifest "
                                    "kinds office, rtf and pdf)")->default_val("pe")->check(CLI::IsMember({"pe", "office"}));
  cmd->add_option("--cache", d.cache, "Feature cache file, reused across runs (keyed on sha256 and schema hash)");
  cmd->add_option("--only-type", d.only_type,
                  "--kind office: keep only the documents of this file-type bucket, as the reports name it (e.g. "
                  "'pdf': the model the engine loads from models/pdf scores PDFs in place of models/office)");
  cmd->add_option("-j,--threads", d.threads, "Worker threads")->default_val(2)->check(CLI::Range(1, 256));
  cmd->add_option("--exclude-group", d.exclude_groups, "Leave out rows whose source group matches this glob; repeatable");
  cmd->add_option("--exclude-groups-from", d.exclude_file,
                  "Leave out groups matching the globs in FILE (one a line, # comments; a line 'sha256:<hex>' leaves out that "
                  "one file), e.g. models/reserved-groups.txt");
  cmd->add_option("--drop-features", d.drop_features,
                  "Blank the features whose schema name matches this glob (e.g. 'rich.*'), so no tree can split on "
                  "them; repeatable");
  cmd->add_option("--only-features", d.only_features,
                  "Blank every feature except those matching this glob (a chance check: e.g. 'general.is_*'); repeatable");
  cmd->add_option("--increasing", d.increasing,
                  "Constrain the model to be monotone increasing in the features matching this glob (e.g. "
                  "'macro.cat_*': more capability never lowers the score); repeatable");
}

const std::vector<features::FeatureInfo>& schema_names(const DataFlags& d) {
  return d.kind == "office" ? features::office_schema().features : features::pe_schema().features;
}

// XGBoost's monotone_constraints vector from the --increasing globs; empty when none is given.
std::vector<int> monotone_of(const DataFlags& d) {
  if (d.increasing.empty()) return {};
  const auto& names = schema_names(d);
  std::vector<int> m(names.size(), 0);
  std::size_t n = 0;
  for (std::size_t f = 0; f < names.size(); ++f)
    for (const auto& g : d.increasing)
      if (::fnmatch(g.c_str(), names[f].name.c_str(), 0) == 0) {
        m[f] = 1;
        ++n;
        break;
      }
  std::cerr << "monotone increasing in " << n << " of " << names.size() << " features\n";
  return m;
}

// Blanking a column (constant zero in every row) removes it from the model: a tree only splits on values that
// differ. Scoring later still computes the column, and the model ignores it.
void mask_features(model::Dataset& ds, const DataFlags& d) {
  if (d.drop_features.empty() && d.only_features.empty()) return;
  const auto& names = schema_names(d);
  auto matches = [&](const std::vector<std::string>& globs, const std::string& name) {
    return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) { return ::fnmatch(g.c_str(), name.c_str(), 0) == 0; });
  };
  std::size_t blanked = 0;
  for (std::size_t f = 0; f < ds.n_features && f < names.size(); ++f) {
    const bool blank = matches(d.drop_features, names[f].name) ||
                       (!d.only_features.empty() && !matches(d.only_features, names[f].name));
    if (!blank) continue;
    ++blanked;
    for (std::size_t r = 0; r < ds.rows.size(); ++r) ds.x[r * ds.n_features + f] = 0.0f;
  }
  std::cerr << "blanked " << blanked << " of " << ds.n_features << " features\n";
}

// The office rule that names row i (docs/office.md, "Rules"), or "-": computed in load_data before any column is
// blanked.
std::string rule_of(const model::Dataset& ds, std::size_t i) {
  return i < ds.rules.size() && !ds.rules[i].empty() ? ds.rules[i] : "-";
}

// One row per file: sha256, label, group, family, type, score, rule, then one more score column per further run
// (train --threshold-repeats). tools/corpus/*.py read the first seven columns.
bool write_scores(const std::string& path, const model::Dataset& ds, const std::vector<std::vector<double>>& runs) {
  std::ofstream s(path);
  s << "sha256\tlabel\tgroup\tfamily\ttype\tscore\trule";
  for (std::size_t k = 1; k < runs.size(); ++k) s << "\tscore_packing" << (k + 1);
  s << "\n";
  for (std::size_t i = 0; i < ds.rows.size(); ++i) {
    const auto& r = ds.rows[i];
    s << r.sha256 << "\t" << r.label << "\t" << r.group << "\t" << r.family << "\t" << model::file_type(ds, i);
    s << "\t" << (runs.empty() || i >= runs[0].size() ? std::nan("") : runs[0][i]) << "\t" << rule_of(ds, i);
    for (std::size_t k = 1; k < runs.size(); ++k) s << "\t" << (i < runs[k].size() ? runs[k][i] : std::nan(""));
    s << "\n";
  }
  return static_cast<bool>(s);
}

// Globs of a file, one a line ('#' comments, blank lines skipped), appended to `out`.
Status read_globs(const std::string& file, std::vector<std::string>& out) {
  if (file.empty()) return {};
  std::ifstream in(file);
  if (!in) return make_error(ErrorCode::io, "cannot read " + file);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') out.push_back(line);
  return {};
}

// Keeps the rows whose bucket (model::file_type, the one the reports and type thresholds use) is `type`. Runs before
// --drop-features blanks columns, so the bucket is read from the full vector as the engine reads it.
void keep_type(model::Dataset& ds, const std::string& type) {
  std::size_t out = 0;
  for (std::size_t i = 0; i < ds.rows.size(); ++i) {
    if (model::file_type(ds, i) != type) continue;
    if (out != i) {
      ds.rows[out] = std::move(ds.rows[i]);
      ds.rules[out] = std::move(ds.rules[i]);
      std::copy_n(ds.x.begin() + static_cast<std::ptrdiff_t>(i * ds.n_features), ds.n_features,
                  ds.x.begin() + static_cast<std::ptrdiff_t>(out * ds.n_features));
    }
    ++out;
  }
  ds.rows.resize(out);
  ds.rules.resize(out);
  ds.x.resize(out * ds.n_features);
}

Result<model::Dataset> load_data(const DataFlags& d) {
  auto rows = model::read_manifests(d.manifests, d.kind);
  if (!rows.ok()) return std::move(rows).error();
  auto globs = d.exclude_groups;
  // Single files can be held out too ("sha256:<hex>" lines): reserved software that another project vendors, in a
  // source group whose other files are fair game.
  std::vector<std::string> lines;
  if (auto st = read_globs(d.exclude_file, lines); !st.ok()) return std::move(st).error();
  std::set<std::string> files;
  for (auto& line : lines) {
    if (line.rfind("sha256:", 0) == 0) files.insert(line.substr(7));
    else globs.push_back(std::move(line));
  }
  std::vector<model::Row> kept;
  std::size_t excluded = 0, excluded_files = 0;
  for (auto& r : *rows) {
    const bool drop = std::any_of(globs.begin(), globs.end(),
                                  [&](const std::string& g) { return ::fnmatch(g.c_str(), r.group.c_str(), 0) == 0; });
    if (drop) ++excluded;
    else if (files.count(r.sha256)) ++excluded_files;
    else kept.push_back(std::move(r));
  }
  if (excluded) std::cerr << "excluded " << excluded << " rows by source group\n";
  if (excluded_files) std::cerr << "excluded " << excluded_files << " rows by sha256\n";
  std::cerr << "featurising " << kept.size() << " files\n";
  auto ds = model::build_dataset(std::move(kept), d.kind, d.threads, d.cache, [](std::size_t done, std::size_t total) {
    std::cerr << "  " << done << "/" << total << "\r" << std::flush;
  });
  if (ds.ok()) {
    std::cerr << "\n";
    for (const auto& [row, why] : ds->skipped) std::cerr << "skipped " << row.path << ": " << why << "\n";
    if (ds->kind == "office") {
      ds->rules.resize(ds->rows.size());
      for (std::size_t i = 0; i < ds->rows.size(); ++i) {
        const auto row = ds->x.begin() + static_cast<std::ptrdiff_t>(i * ds->n_features);
        ds->rules[i] = features::office_rule(std::vector<float>(row, row + static_cast<std::ptrdiff_t>(ds->n_features)));
      }
    }
    if (!d.only_type.empty()) {
      if (ds->kind != "office") return make_error(ErrorCode::invalid_argument, "--only-type needs --kind office");
      keep_type(*ds, d.only_type);
      std::cerr << "kept " << ds->rows.size() << " rows of type " << d.only_type << "\n";
      if (ds->rows.empty()) return make_error(ErrorCode::invalid_argument, "no row of type '" + d.only_type + "'");
    }
    mask_features(*ds, d);
  }
  return ds;
}

std::string command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
  return s;
}

}  // namespace

int g_argc = 0;
char** g_argv = nullptr;

Runner add_train_command(CLI::App& app) {
  auto d = std::make_shared<DataFlags>();
  auto o = std::make_shared<model::TrainOptions>();
  auto out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("train", "Train a model: group-aware cross-validation, then a final model on all "
                                          "data. Writes model.json, meta.json (schema, thresholds, command, metrics), "
                                          "cv-report.json and training-set.tsv.gz into --out.");
  add_data_flags(cmd, *d);
  cmd->add_option("--out", *out, "Output model folder")->required();
  cmd->add_option("--folds", o->folds, "Cross-validation folds (whole source groups per fold)")->default_val(5)->check(CLI::Range(2, 100));
  cmd->add_option("--seed", o->seed, "Random seed; training is deterministic for a given seed")->default_val(1);
  cmd->add_option("--rounds", o->rounds, "Boosting rounds")->default_val(o->rounds);
  cmd->add_option("--max-depth", o->max_depth, "Tree depth")->default_val(o->max_depth);
  cmd->add_option("--eta", o->eta, "Learning rate")->default_val(o->eta);
  cmd->add_option("--target-fpr", o->target_fpr, "FPR on the cross-validated data that sets the malicious threshold")->default_val(o->target_fpr);
  cmd->add_option("--suspicious-fpr", o->suspicious_fpr, "FPR that sets the suspicious threshold")->default_val(o->suspicious_fpr);
  cmd->add_flag("--loso", o->leave_one_source_out, "Cross-validate leaving one source group out at a time");
  cmd->add_flag("--balance-by-type", o->balance_by_type,
               "Also balance the two classes inside each file type (32/64-bit, EXE/DLL, .NET; each class's weight "
               "raised or lowered at most 8 times), so that the type alone does not decide the score");
  cmd->add_option("--group-weight-power", o->group_weight_power,
                  "Weight each file by its source group's size to the power -P: 0 counts files alike, 1 counts sources "
                  "alike")->default_val(o->group_weight_power)->check(CLI::Range(0.0, 2.0));
  cmd->add_option("--threshold-repeats", o->threshold_repeats,
                  "Choose the thresholds on the pooled out-of-fold scores of N cross-validations, each packing the "
                  "source groups into folds differently (N times the cross-validation time); the report and the "
                  "cv metrics stay those of the first packing, meta.json's threshold_packings shows each one")
      ->default_val(1)
      ->check(CLI::Range(1, 20));
  cmd->add_option("--threshold-exclude-group", o->threshold_exclude_groups,
                  "Leave the benign rows whose source group matches this glob out when the --target-fpr and "
                  "--suspicious-fpr thresholds are chosen (they are still trained on and reported); repeatable");
  auto texcl_file = std::make_shared<std::string>();
  cmd->add_option("--threshold-exclude-groups-from", *texcl_file,
                  "Like --threshold-exclude-group for each glob in FILE (one a line, # comments), e.g. "
                  "models/office/threshold-exclude-groups.txt");
  cmd->add_option("--type-threshold", o->type_thresholds,
                  "Give the files of this type (--kind office: a file-type bucket as the reports name it, e.g. 'pdf') "
                  "malicious and suspicious thresholds of their own, chosen at --target-fpr / --suspicious-fpr over "
                  "that type's benign files of every group; the model's thresholds are then chosen over the other "
                  "files. Stored in meta.json's type_thresholds, which the scanner applies; repeatable");
  auto scores_out = std::make_shared<std::string>();
  cmd->add_option("--scores", *scores_out,
                  "Also write every file's out-of-fold score as TSV, as `eval --cv group --scores` does (sha256, "
                  "label, group, family, type, score of the first packing, office rule), plus one score column per "
                  "further --threshold-repeats packing");
  return [d, o, out, texcl_file, scores_out] {
    if (auto st = read_globs(*texcl_file, o->threshold_exclude_groups); !st.ok()) {
      std::cerr << "mamori train: " << st.error().message << "\n";
      return 2;
    }
    o->threads = d->threads;
    o->command = command_line(g_argc, g_argv);
    o->only_type = d->only_type;
    o->monotone = monotone_of(*d);
    auto ds = load_data(*d);
    if (!ds.ok()) {
      std::cerr << "mamori train: " << ds.error().message << "\n";
      return 2;
    }
    std::vector<std::vector<double>> oof;
    auto meta = model::train_pe(*ds, *o, *out, std::cerr, scores_out->empty() ? nullptr : &oof);
    if (!meta.ok()) {
      std::cerr << "mamori train: " << meta.error().message << "\n";
      return 2;
    }
    if (!scores_out->empty() && !write_scores(*scores_out, *ds, oof)) {
      std::cerr << "mamori train: cannot write " << *scores_out << "\n";
      return 2;
    }
    std::cout << "cross-validation (out-of-fold scores):\n";
    model::print_report((*meta)["cv_report"], std::cout, 40);
    std::cout << "\nmodel written to " << *out << " (threshold " << (*meta)["threshold"].get<double>() << ")\n";
    return 0;
  };
}

Runner add_eval_command(CLI::App& app) {
  auto d = std::make_shared<DataFlags>();
  auto model_dir = std::make_shared<std::string>();
  auto json_out = std::make_shared<std::string>();
  auto max_errors = std::make_shared<std::size_t>(50);
  auto cv = std::make_shared<std::string>();
  auto scores_out = std::make_shared<std::string>();
  auto o = std::make_shared<model::TrainOptions>();
  auto* cmd = app.add_subcommand("eval", "Evaluate: score a labelled manifest with a model (ROC AUC, TPR at FPR 0.1% "
                                         "and 1%, per source group, per file type, family Emotet, misclassified "
                                         "files), or with --cv cross-validate on it instead.");
  add_data_flags(cmd, *d);
  cmd->add_option("--model", *model_dir, "Model folder (default: the shipped model of --kind)");
  cmd->add_option("--json", *json_out, "Also write the full report as JSON to this file");
  cmd->add_option("--max-errors", *max_errors, "Misclassified files to list")->default_val(50);
  cmd->add_option("--cv", *cv, "Instead of a shipped model, cross-validate: 'group' (5-fold by source group), "
                               "'loso' (leave one source out) or 'loso-malicious' (leave out one source that has "
                               "malicious files at a time; benign sources always train and get no score)")
      ->check(CLI::IsMember({"group", "loso", "loso-malicious"}));
  cmd->add_option("--cv-train-only", o->train_only_groups,
                  "With --cv: rows whose source group matches this glob train in every fold and get no score, and "
                  "the other groups keep the folds they have without them (what added data does to the same rows "
                  "and folds); repeatable");
  cmd->add_option("--threshold-exclude-group", o->threshold_exclude_groups,
                  "Leave the benign rows whose source group matches this glob out when the FPR operating points "
                  "(0.1%, 0.5%, 1%) are chosen; they are still scored and reported; repeatable");
  auto texcl_file = std::make_shared<std::string>();
  cmd->add_option("--threshold-exclude-groups-from", *texcl_file,
                  "Like --threshold-exclude-group for each glob in FILE (one a line, # comments)");
  cmd->add_flag("--balance-by-type", o->balance_by_type, "With --cv: as train --balance-by-type");
  cmd->add_option("--group-weight-power", o->group_weight_power, "With --cv: as train --group-weight-power")
      ->default_val(o->group_weight_power)->check(CLI::Range(0.0, 2.0));
  cmd->add_option("--seed", o->seed, "Seed for --cv")->default_val(1);
  cmd->add_option("--rounds", o->rounds, "Boosting rounds for --cv")->default_val(o->rounds);
  cmd->add_option("--max-depth", o->max_depth, "Tree depth for --cv")->default_val(o->max_depth);
  cmd->add_option("--eta", o->eta, "Learning rate for --cv")->default_val(o->eta);
  cmd->add_option("--scores", *scores_out, "Also write every file's score (out-of-fold with --cv) as TSV: sha256, "
                                          "label, group, family, type, score, and the office rule that names it");
  return [=] {
    if (auto st = read_globs(*texcl_file, o->threshold_exclude_groups); !st.ok()) {
      std::cerr << "mamori eval: " << st.error().message << "\n";
      return 2;
    }
    auto ds = load_data(*d);
    if (!ds.ok()) {
      std::cerr << "mamori eval: " << ds.error().message << "\n";
      return 2;
    }
    nlohmann::json rep;
    std::vector<double> scores;
    if (!cv->empty()) {
      o->threads = d->threads;
      o->monotone = monotone_of(*d);
      o->leave_one_source_out = *cv != "group";
      if (*cv == "loso-malicious") o->loso_label = "malicious";
      scores = model::cross_validate(*ds, *o, std::cerr);
      // Rows that were never held out have no score: report on the scored ones only.
      model::Dataset scored;
      scored.kind = ds->kind;
      scored.n_features = ds->n_features;
      std::vector<double> s;
      for (std::size_t i = 0; i < ds->rows.size(); ++i) {
        if (std::isnan(scores[i])) continue;
        scored.rows.push_back(ds->rows[i]);
        scored.x.insert(scored.x.end(), ds->x.begin() + static_cast<std::ptrdiff_t>(i * ds->n_features),
                        ds->x.begin() + static_cast<std::ptrdiff_t>((i + 1) * ds->n_features));
        s.push_back(scores[i]);
      }
      rep = model::report(scored, s, -1,
                          o->threshold_exclude_groups.empty()
                              ? std::vector<char>{}
                              : model::threshold_population(scored, o->threshold_exclude_groups));
    } else {
      const std::string dir = model_dir->empty() ? engine::default_model_dir() + "/" + d->kind : *model_dir;
      auto m = model::Model::load(dir, d->kind == "office" ? features::office_schema() : features::pe_schema());
      if (!m.ok()) {
        std::cerr << "mamori eval: " << m.error().message << "\n";
        return 2;
      }
      rep = model::evaluate(*ds, *m,
                            o->threshold_exclude_groups.empty()
                                ? std::vector<char>{}
                                : model::threshold_population(*ds, o->threshold_exclude_groups));
      scores = model::score_rows(*ds, *m);
    }
    model::print_report(rep, std::cout, *max_errors);
    if (!scores_out->empty() && !write_scores(*scores_out, *ds, {scores})) {
      std::cerr << "mamori eval: cannot write " << *scores_out << "\n";
      return 2;
    }
    if (!json_out->empty()) std::ofstream(*json_out) << rep.dump(1) << "\n";
    return 0;
  };
}

Runner add_features_command(CLI::App& app) {
  auto markdown = std::make_shared<bool>(false);
  auto file = std::make_shared<std::string>();
  auto kind = std::make_shared<std::string>("pe");
  auto* cmd = app.add_subcommand("features", "Print a feature schema (--markdown), or one file's feature vector as JSON");
  cmd->add_flag("--markdown", *markdown, "The schema documentation (docs/features.md, or docs/office-features.md with "
                                         "--kind office, is this output)");
  cmd->add_option("--kind", *kind, "Which schema: 'pe' or 'office' (documents)")->default_val("pe")->check(CLI::IsMember({"pe", "office"}));
  cmd->add_option("file", *file, "A file whose vector to print");
  return [=] {
    if (*markdown || file->empty()) {
      std::cout << (*kind == "office" ? features::office_schema_markdown() : features::pe_schema_markdown());
      return 0;
    }
    if (*kind == "office") {
      auto f = MappedFile::open(*file);
      if (!f.ok()) {
        std::cerr << "mamori features: " << f.error().message << "\n";
        return 2;
      }
      const auto s = features::featurize_office(f->view());
      nlohmann::json j = nlohmann::json::object();
      const auto& names = features::office_schema().features;
      for (std::size_t i = 0; i < names.size(); ++i)
        if (s.x[i] != 0.0f && !std::isnan(s.x[i])) j[names[i].name] = s.x[i];
      std::cout << j.dump(1) << "\n";
      return 0;
    }
    auto f = MappedFile::open(*file);
    if (!f.ok()) {
      std::cerr << "mamori features: " << f.error().message << "\n";
      return 2;
    }
    const auto s = features::featurize_pe(f->view());
    nlohmann::json j = nlohmann::json::object();
    const auto& names = features::pe_schema().features;
    for (std::size_t i = 0; i < names.size(); ++i)
      if (s.x[i] != 0.0f) j[names[i].name] = std::isnan(s.x[i]) ? nlohmann::json(nullptr) : nlohmann::json(s.x[i]);
    std::cout << j.dump(1) << "\n";
    return 0;
  };
}

}  // namespace mamori::cli
