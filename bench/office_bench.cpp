// mamori_office_bench [--dump FILE] MODELS_DIR MANIFEST...
// Scans every document row (manifest kinds office, rtf, pdf) on one thread, as `mamori scan` does (mmap, sha256,
// type, parse, features, score with models/office, embedded objects scanned as members; no SHAP reasons), and
// prints documents/s (by wall clock and per CPU-second of this process, since the machine may be shared), MB/s,
// latency percentiles, the time in featurisation alone, and peak RSS. --dump writes each document's feature vector
// (sha256, then every value; NaN as "nan") to FILE, so two builds can be compared value by value.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string_view>

#include "common/mapped_file.hpp"
#include "engine/scanner.hpp"
#include "features/office_features.hpp"
#include "model/dataset.hpp"

using clk = std::chrono::steady_clock;

namespace {

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dump_path;
  if (argc >= 3 && std::string_view(argv[1]) == "--dump") {
    dump_path = argv[2];
    argv += 2;
    argc -= 2;
  }
  if (argc < 3) {
    std::cerr << "usage: mamori_office_bench [--dump FILE] MODELS_DIR MANIFEST...\n";
    return 2;
  }
  auto rows = mamori::model::read_manifests(std::vector<std::string>(argv + 2, argv + argc), "office");
  if (!rows.ok()) {
    std::cerr << rows.error().message << "\n";
    return 2;
  }
  auto models = mamori::engine::load_models(argv[1]);
  if (!models.ok() || !models->office) {
    std::cerr << (models.ok() ? std::string("no office model under ") + argv[1] : models.error().message) << "\n";
    return 2;
  }
  mamori::engine::Options opt;
  opt.explain = false;
  mamori::engine::Scanner scanner(std::move(models).value(), opt);

  std::vector<double> lat;
  std::vector<std::pair<double, std::string>> slowest;  // (ms, sha256): where the tail comes from
  std::uint64_t bytes = 0;
  std::size_t errors = 0, members = 0, found = 0;
  const auto t0 = clk::now();
  const double c0 = cpu_seconds();
  for (const auto& r : *rows) {
    const auto a = clk::now();
    auto res = scanner.scan_file(r.path);
    lat.push_back(std::chrono::duration<double, std::milli>(clk::now() - a).count());
    slowest.emplace_back(lat.back(), r.sha256 + " " + r.kind + ":" + r.subkind);
    bytes += res.size;
    errors += res.verdict == mamori::engine::Verdict::error;
    found += res.found();
    members += res.members.size();
  }
  const double secs = std::chrono::duration<double>(clk::now() - t0).count();
  const double csecs = cpu_seconds() - c0;
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * static_cast<double>(lat.size())))]; };

  // Featurisation alone (what training does), over the same files.
  const auto f0 = clk::now();
  const double fc0 = cpu_seconds();
  mamori::features::OfficeOptions fo;
  fo.collect_embedded = false;
  fo.collect_hits = false;
  std::ofstream dump;
  if (!dump_path.empty()) dump.open(dump_path);
  dump.precision(9);  // a float's nine significant digits tell it apart from every other float
  for (const auto& r : *rows) {
    auto f = mamori::MappedFile::open(r.path);
    if (!f.ok()) continue;
    const auto s = mamori::features::featurize_office(f->view(), fo);
    if (dump.is_open()) {
      dump << r.sha256;
      for (float v : s.x) dump << '\t' << v;
      dump << '\n';
    }
  }
  const double fsecs = std::chrono::duration<double>(clk::now() - f0).count();
  const double fcsecs = cpu_seconds() - fc0;

  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("documents        %zu (errors %zu, found %zu, members scanned %zu)\n", lat.size(), errors, found, members);
  std::printf("bytes            %.1f MB\n", static_cast<double>(bytes) / 1e6);
  std::printf("scan, 1 thread   %.1f documents/s, %.1f MB/s\n", static_cast<double>(lat.size()) / secs, static_cast<double>(bytes) / 1e6 / secs);
  std::printf("scan per CPU-s   %.1f documents, %.1f MB (%.1f CPU-s)\n", static_cast<double>(lat.size()) / csecs, static_cast<double>(bytes) / 1e6 / csecs, csecs);
  std::printf("features only    %.1f documents/s, %.1f MB/s\n", static_cast<double>(lat.size()) / fsecs, static_cast<double>(bytes) / 1e6 / fsecs);
  std::printf("features per CPU-s %.1f documents (%.1f CPU-s)\n", static_cast<double>(lat.size()) / fcsecs, fcsecs);
  std::printf("latency p50/p99  %.3f / %.3f ms (max %.1f ms)\n", pct(0.5), pct(0.99), lat.empty() ? 0.0 : lat.back());
  std::printf("peak RSS         %.1f MB\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
  std::sort(slowest.begin(), slowest.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
  for (std::size_t i = 0; i < slowest.size() && i < 8; ++i) std::printf("slow %9.1f ms  %s\n", slowest[i].first, slowest[i].second.c_str());
  return 0;
}
