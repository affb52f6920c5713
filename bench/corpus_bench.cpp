// mamori_corpus_bench MANIFEST [MODEL_DIR]
// Scans every PE row of a manifest on one thread, as `mamori scan` does (mmap, sha256, type, parse, features,
// score; no SHAP reasons), and prints throughput, per-file latency percentiles, model inference time and peak RSS.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "engine/scanner.hpp"
#include "features/pe_features.hpp"
#include "model/dataset.hpp"

using clk = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: mamori_corpus_bench MANIFEST [MODEL_DIR]\n";
    return 2;
  }
  auto rows = mamori::model::read_manifests({argv[1]}, "pe");
  if (!rows.ok()) {
    std::cerr << rows.error().message << "\n";
    return 2;
  }
  const std::string mdir = argc > 2 ? argv[2] : mamori::engine::default_model_dir() + "/pe";
  auto m = mamori::model::Model::load(mdir, mamori::features::pe_schema());
  if (!m.ok()) {
    std::cerr << m.error().message << "\n";
    return 2;
  }
  // Inference alone, on the first file's vector, many times.
  mamori::engine::Options opt;
  opt.explain = false;
  mamori::engine::Scanner scanner(std::move(m).value(), opt);

  std::vector<double> lat;
  std::uint64_t bytes = 0;
  std::size_t errors = 0;
  const auto t0 = clk::now();
  for (const auto& r : *rows) {
    const auto a = clk::now();
    auto res = scanner.scan_file(r.path);
    lat.push_back(std::chrono::duration<double, std::milli>(clk::now() - a).count());
    bytes += res.size;
    errors += res.verdict == mamori::engine::Verdict::error;
  }
  const double secs = std::chrono::duration<double>(clk::now() - t0).count();
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * static_cast<double>(lat.size())))]; };

  std::vector<float> x(mamori::features::pe_schema().features.size(), 0.0f);
  const int n = 20000;
  const auto b = clk::now();
  for (int i = 0; i < n; ++i) {
    x[static_cast<std::size_t>(i) % x.size()] = static_cast<float>(i % 7);
    (void)scanner.pe_model()->score(x);
  }
  const double infer_us = std::chrono::duration<double, std::micro>(clk::now() - b).count() / n;

  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("files            %zu (errors %zu)\n", lat.size(), errors);
  std::printf("bytes            %.1f MB\n", static_cast<double>(bytes) / 1e6);
  std::printf("throughput       %.1f MB/s, %.1f files/s\n", static_cast<double>(bytes) / 1e6 / secs, static_cast<double>(lat.size()) / secs);
  std::printf("latency p50/p99  %.3f / %.3f ms (max %.1f ms)\n", pct(0.5), pct(0.99), lat.empty() ? 0.0 : lat.back());
  std::printf("inference        %.1f us per file (model score only)\n", infer_us);
  std::printf("peak RSS         %.1f MB\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
  // CPU time says what one core achieves even when other work shares the machine (wall-clock figures then drop).
  const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::printf("cpu time         %.1f s (user+sys, whole run), %.1f MB per CPU-second\n", cpu,
              static_cast<double>(bytes) / 1e6 / cpu);
  return 0;
}
