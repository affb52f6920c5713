#include "model/dataset.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/mapped_file.hpp"
#include "engine/filetype.hpp"
#include "features/office_features.hpp"
#include "features/pe_features.hpp"

namespace mamori::model {

namespace {

std::vector<std::string> split_tab(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream ss(line);
  while (std::getline(ss, cur, '\t')) out.push_back(cur);
  if (!line.empty() && line.back() == '\t') out.emplace_back();
  return out;
}

}  // namespace

Result<std::vector<Row>> read_manifests(const std::vector<std::string>& files, const std::string& kind) {
  std::vector<Row> rows;
  std::unordered_set<std::string> seen;
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) return make_error(ErrorCode::io, "cannot read manifest " + file);
    std::string line;
    if (!std::getline(in, line)) return make_error(ErrorCode::invalid_argument, file + ": empty manifest");
    const auto header = split_tab(line);
    std::unordered_map<std::string, std::size_t> col;
    for (std::size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
    for (const char* need : {"sha256", "label", "kind", "group", "path"})
      if (!col.count(need)) return make_error(ErrorCode::invalid_argument, file + ": no '" + need + "' column");
    const auto base = std::filesystem::path(file).parent_path();
    std::size_t lineno = 1;
    while (std::getline(in, line)) {
      ++lineno;
      if (line.empty()) continue;
      const auto f = split_tab(line);
      auto get = [&](const char* name) -> std::string {
        auto it = col.find(name);
        return it != col.end() && it->second < f.size() ? f[it->second] : std::string();
      };
      Row r{get("sha256"), get("label"), get("kind"), get("subkind"), get("family"), get("group"), get("path")};
      const bool document = kind == "office" && (r.kind == "rtf" || r.kind == "pdf");
      if (!kind.empty() && r.kind != kind && !document) continue;
      if (r.label != "malicious" && r.label != "benign")
        return make_error(ErrorCode::invalid_argument, file + ":" + std::to_string(lineno) + ": label must be malicious or benign");
      r.y = r.label == "malicious";
      if (!r.path.empty() && std::filesystem::path(r.path).is_relative()) r.path = (base / r.path).string();
      if (!seen.insert(r.sha256).second) continue;
      rows.push_back(std::move(r));
    }
  }
  // Rows in sha256 order, not manifest order: XGBoost's row subsampling follows row order, so the same files listed
  // in another order trained another model. A corpus rebuilt from its committed hash manifest lists its files in the
  // builder's order, so only a fixed order lets a shipped model be retrained from its command (docs/MEASUREMENTS.md,
  // ninth session). Which manifest's row wins for a file listed twice is still the first manifest's.
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.sha256 < b.sha256; });
  return rows;
}

Result<Dataset> build_pe_dataset(std::vector<Row> rows, int threads, const std::string& cache_path,
                                 const std::function<void(std::size_t, std::size_t)>& progress) {
  return build_dataset(std::move(rows), "pe", threads, cache_path, progress);
}

Result<Dataset> build_dataset(std::vector<Row> rows, const std::string& kind, int threads, const std::string& cache_path,
                              const std::function<void(std::size_t, std::size_t)>& progress) {
  const bool office = kind == "office";
  if (!office && kind != "pe") return make_error(ErrorCode::invalid_argument, "no featurizer for kind '" + kind + "'");
  const auto& schema = office ? features::office_schema() : features::pe_schema();
  const std::size_t nf = schema.features.size();
  // Cache format: text header "mamori-features <schema hash>.<extractor revision> <n>", then per record 64 hex
  // chars + n floats. The revision invalidates vectors computed before a parser fix changed what they contain.
  const std::string key =
      schema.hash + "." + std::to_string(office ? features::kOfficeExtractorRevision : features::kExtractorRevision);
  std::unordered_map<std::string, std::vector<float>> cache;
  if (!cache_path.empty()) {
    std::ifstream in(cache_path, std::ios::binary);
    std::string magic, hash;
    std::size_t n = 0;
    if (in >> magic >> hash >> n && magic == "mamori-features" && hash == key && n == nf) {
      in.get();
      char sha[64];
      std::vector<float> v(nf);
      while (in.read(sha, 64) && in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(nf * sizeof(float))))
        cache.emplace(std::string(sha, 64), v);
    }
  }

  std::vector<std::vector<float>> vecs(rows.size());
  std::vector<std::string> why(rows.size());
  std::atomic<std::size_t> next{0}, done{0};
  auto work = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= rows.size()) return;
      if (auto it = cache.find(rows[i].sha256); it != cache.end()) {
        vecs[i] = it->second;
      } else {
        auto f = MappedFile::open(rows[i].path);
        if (!f.ok()) {
          why[i] = f.error().message;
        } else if (office) {
          const auto k = engine::detect_type(f->view()).kind;
          if (k != engine::FileKind::ole2 && k != engine::FileKind::ooxml && k != engine::FileKind::rtf &&
              k != engine::FileKind::pdf) {
            why[i] = std::string("not a document (") + engine::kind_name(k) + ")";
          } else {
            features::OfficeOptions oo;
            oo.collect_embedded = false;
            oo.collect_hits = false;
            vecs[i] = features::featurize_office(f->view(), oo).x;
          }
        } else if (engine::detect_type(f->view()).kind != engine::FileKind::pe) {
          why[i] = "not a PE file";
        } else {
          vecs[i] = features::featurize_pe(f->view()).x;
        }
      }
      const std::size_t d = ++done;
      if (progress && (d % 200 == 0 || d == rows.size())) progress(d, rows.size());
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();

  Dataset ds;
  ds.kind = kind;
  ds.n_features = nf;
  std::vector<std::pair<std::string, const std::vector<float>*>> fresh;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (vecs[i].empty()) {
      ds.skipped.emplace_back(rows[i], why[i]);
      continue;
    }
    if (!cache.count(rows[i].sha256)) fresh.emplace_back(rows[i].sha256, &vecs[i]);
    ds.x.insert(ds.x.end(), vecs[i].begin(), vecs[i].end());
    ds.rows.push_back(rows[i]);
  }
  if (!cache_path.empty() && !fresh.empty()) {
    const bool exists = !cache.empty();
    std::ofstream out(cache_path, std::ios::binary | (exists ? std::ios::app : std::ios::trunc));
    if (!exists) out << "mamori-features " << key << ' ' << nf << '\n';
    for (const auto& [sha, v] : fresh) {
      if (sha.size() != 64) continue;
      out.write(sha.data(), 64);
      out.write(reinterpret_cast<const char*>(v->data()), static_cast<std::streamsize>(nf * sizeof(float)));
    }
  }
  return ds;
}

}  // namespace mamori::model
