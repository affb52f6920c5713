// Micro benchmarks of the hot path on synthetic data: the byte pass, PE featurisation, model inference.
#include <benchmark/benchmark.h>

#include <random>

#include "engine/scanner.hpp"
#include "features/byte_scan.hpp"
#include "features/payload_scan.hpp"
#include "features/pe_features.hpp"
#include "model/model.hpp"

namespace {

std::vector<std::uint8_t> mixed_bytes(std::size_t n) {
  // Half random (packed code), half text-like: roughly the byte mix of a real binary.
  std::mt19937 rng(7);
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = (i / 4096) % 2 ? static_cast<std::uint8_t>(rng()) : static_cast<std::uint8_t>("kernel32.dll GetProcAddress "[i % 28]);
  return v;
}

void BM_ByteScan(benchmark::State& st) {
  const auto v = mixed_bytes(static_cast<std::size_t>(st.range(0)));
  mamori::features::ByteStats s;
  for (auto _ : st) {
    mamori::features::scan_bytes(mamori::ByteView(v.data(), v.size()), s);
    benchmark::DoNotOptimize(s.strings);
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
}
BENCHMARK(BM_ByteScan)->Arg(1 << 20)->Arg(16 << 20);

// The document payload pass (shellcode idioms, XORed executables, API hashes) over the same byte mix.
void BM_PayloadScan(benchmark::State& st) {
  const auto v = mixed_bytes(static_cast<std::size_t>(st.range(0)));
  for (auto _ : st) {
    mamori::features::PayloadStats s;
    mamori::features::scan_payload(mamori::ByteView(v.data(), v.size()), s);
    benchmark::DoNotOptimize(s.api_hashes);
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
}
BENCHMARK(BM_PayloadScan)->Arg(1 << 20);

void BM_ByteScanPadding(benchmark::State& st) {
  std::vector<std::uint8_t> v(static_cast<std::size_t>(st.range(0)), 0);
  mamori::features::ByteStats s;
  for (auto _ : st) {
    mamori::features::scan_bytes(mamori::ByteView(v.data(), v.size()), s);
    benchmark::DoNotOptimize(s.padding_bytes);
  }
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
}
BENCHMARK(BM_ByteScanPadding)->Arg(64 << 20);

void BM_Inference(benchmark::State& st) {
  auto m = mamori::model::Model::load(std::string(MAMORI_SOURCE_DIR) + "/models/pe", mamori::features::pe_schema());
  if (!m.ok()) {
    st.SkipWithError(m.error().message.c_str());
    return;
  }
  std::vector<float> x(mamori::features::pe_schema().features.size(), 0.1f);
  for (auto _ : st) benchmark::DoNotOptimize(m->score(x).ok());
}
BENCHMARK(BM_Inference);

void BM_Explain(benchmark::State& st) {
  auto m = mamori::model::Model::load(std::string(MAMORI_SOURCE_DIR) + "/models/pe", mamori::features::pe_schema());
  if (!m.ok()) {
    st.SkipWithError(m.error().message.c_str());
    return;
  }
  std::vector<float> x(mamori::features::pe_schema().features.size(), 0.1f);
  for (auto _ : st) benchmark::DoNotOptimize(m->explain(x, 8).ok());
}
BENCHMARK(BM_Explain);

}  // namespace

BENCHMARK_MAIN();
