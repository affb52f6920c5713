// mamori_corpus_bench MANIFEST [MODEL_DIR] [--vectors OUT]
// Scans every PE row of a manifest on one thread, as `mamori scan` does (mmap, sha256, type, parse, features,
// score; no SHAP reasons), and prints throughput, per-file latency percentiles, model inference time and peak RSS.
// --vectors OUT writes, after the timed pass, one line per row: sha256, verdict score and every feature value as
// exact hex bits. Two such files from builds before and after a speed change must be identical (`cmp`).
#include <sys/resource.h>

#include <cstring>
#include <fstream>
#include <string_view>
#include <utility>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "common/mapped_file.hpp"
#include "engine/scanner.hpp"
#include "features/pe_features.hpp"
#include "model/dataset.hpp"

using clk = std::chrono::steady_clock;

namespace {
// User and system CPU seconds of this process so far.
std::pair<double, double> cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return {static_cast<double>(ru.ru_utime.tv_sec) + static_cast<double>(ru.ru_utime.tv_usec) / 1e6,
          static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6};
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> pos;
  std::string vectors_out;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--vectors" && i + 1 < argc) vectors_out = argv[++i];
    else pos.emplace_back(argv[i]);
  }
  if (pos.empty()) {
    std::cerr << "usage: mamori_corpus_bench MANIFEST [MODEL_DIR] [--vectors OUT]\n";
    return 2;
  }
  auto rows = mamori::model::read_manifests({pos[0]}, "pe");
  if (!rows.ok()) {
    std::cerr << rows.error().message << "\n";
    return 2;
  }
  const std::string mdir = pos.size() > 1 ? pos[1] : mamori::engine::default_model_dir() + "/pe";
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
  const auto cpu0 = cpu_seconds();
  const auto t0 = clk::now();
  for (const auto& r : *rows) {
    const auto a = clk::now();
    auto res = scanner.scan_file(r.path);
    lat.push_back(std::chrono::duration<double, std::milli>(clk::now() - a).count());
    bytes += res.size;
    errors += res.verdict == mamori::engine::Verdict::error;
  }
  const double secs = std::chrono::duration<double>(clk::now() - t0).count();
  const auto cpu1 = cpu_seconds();
  const double scan_user = cpu1.first - cpu0.first, scan_sys = cpu1.second - cpu0.second;
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
  // The same over the scan loop alone (without model loading and the inference loop above).
  std::printf("scan loop cpu    %.2f s user + %.2f s sys, %.1f MB per CPU-second\n", scan_user, scan_sys,
              static_cast<double>(bytes) / 1e6 / (scan_user + scan_sys));

  if (!vectors_out.empty()) {
    std::ofstream out(vectors_out);
    for (const auto& r : *rows) {
      auto file = mamori::MappedFile::open(r.path);
      const auto res = scanner.scan_file(r.path);
      char head[64];
      std::snprintf(head, sizeof head, "\t%a\t%d", res.score.value_or(-1.0), static_cast<int>(res.verdict));
      out << r.sha256 << '\t' << res.sha256 << head << '\t' << res.anomalies.size();
      if (file.ok()) {
        const auto sample = mamori::features::featurize_pe(file->view());
        char buf[16];
        for (float v : sample.x) {
          std::uint32_t bits;
          std::memcpy(&bits, &v, sizeof bits);
          std::snprintf(buf, sizeof buf, " %x", bits);
          out << buf;
        }
      }
      out << '\n';
    }
    if (!out) {
      std::cerr << "cannot write " << vectors_out << "\n";
      return 1;
    }
  }
  return 0;
}
