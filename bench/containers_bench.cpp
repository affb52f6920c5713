// Speed and memory of scanning the container fixtures of tests/containers_engine_test.cpp (built here the same way,
// with the same builders) through the shipped models, one child process per fixture so that each peak RSS
// (VmHWM) is that fixture's alone.
//
//   build/bench/containers_bench [WORKDIR]     (default /tmp/mamori-containers-bench; fixtures are written there)
//
// Prints one line per fixture: name, size, verdict, signature, wall ms, CPU ms (user+sys: the machine may be
// shared), peak RSS MiB (after loading the models:
// baseline given on the first line).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "engine/scanner.hpp"
#include "support/archive_builder.hpp"
#include "support/pe_builder.hpp"

namespace fs = std::filesystem;
using mamori::test::Blob;
using mamori::test::blob;

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long vm_hwm_kib() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

Blob tiny_pe() {
  mamori::test::PeSpec s;
  s.sections.push_back({".text", mamori::test::scn_code, std::vector<std::uint8_t>(2048, 0xC3)});
  s.imports.push_back({"KERNEL32.dll", {mamori::test::ImportFn::by_name("ExitProcess")}});
  return mamori::test::build_pe(s).bytes;
}

void write(const fs::path& p, const Blob& b) {
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path dir = argc > 1 ? argv[1] : "/tmp/mamori-containers-bench";
  fs::create_directories(dir);
  const Blob pe = tiny_pe();
  std::vector<std::pair<std::string, Blob>> fx;
  {
    const Blob inner = mamori::test::make_zip({{"invoice.exe", pe, true}});
    const std::string eml = mamori::test::make_eml("Invoice", "see attached", {{"invoice.zip", "application/zip", inner}});
    fx.emplace_back("zip-in-eml-in-zip.zip", mamori::test::make_zip({{"mail.eml", blob(eml), true}}));
  }
  for (const char* enc : {"traditional", "aes256"}) {
    const Blob z = mamori::test::write_archive("zip", "", {{"scan.exe", pe, true}}, std::string("zip:encryption=") + enc, "Qz7-kd91x");
    fx.emplace_back(std::string("password-in-body-") + enc + ".eml",
                    blob(mamori::test::make_eml("RE: order", "Password: Qz7-kd91x", {{"doc.zip", "application/zip", z}})));
  }
  {
    Blob leaf;
    const std::string pat = "0123456789abcdefghijklmnopqrstuv";
    while (leaf.size() < (1u << 20)) leaf.insert(leaf.end(), pat.begin(), pat.end());
    fx.emplace_back("nested-bomb-16x5.zip", mamori::test::make_nested_bomb(5, 16, leaf));
    Blob zleaf(1u << 20, 0);
    fx.emplace_back("nested-bomb-zeros-16x5.zip", mamori::test::make_nested_bomb(5, 16, zleaf));
  }
  fx.emplace_back("overlap-bomb-500.zip", mamori::test::make_overlap_bomb(500, 1 << 20, "overlap-kernel-0123456789-"));
  fx.emplace_back("overlap-bomb-zeros-2000.zip", mamori::test::make_overlap_bomb(2000, 1 << 20, std::string(1, '\0')));
  fx.emplace_back("self-chain-64.zip", mamori::test::make_self_chain(64, pe));
  fx.emplace_back("padded-2GB.zip", mamori::test::make_padded_zip("invoice.exe", pe, 2000ull << 20));
  {
    const Blob good = mamori::test::make_zip({{"a.exe", pe, true}, {"b.txt", blob("words"), true}});
    fx.emplace_back("truncated.zip", Blob(good.begin(), good.begin() + static_cast<long>(good.size() - 60)));
    std::string eml = mamori::test::make_eml("x", "body", {{"a.exe", "application/octet-stream", pe}});
    eml.insert(eml.find("Subject:"), "X-Garbage\x01\x02: \xff\xfe\r\n\tfolded junk\r\n:NoName\r\n");
    fx.emplace_back("garbage-headers.eml", blob(eml));
  }
  for (auto& [name, bytes] : fx) write(dir / name, bytes);

  auto models = mamori::engine::load_models(mamori::engine::default_model_dir());
  if (!models.ok()) {
    std::cerr << models.error().message << "\n";
    return 2;
  }
  mamori::engine::Options opt;
  opt.explain = false;
  const mamori::engine::Scanner scanner(std::move(models).value(), opt);
  std::printf("baseline after loading models: peak RSS %.1f MiB\n", static_cast<double>(vm_hwm_kib()) / 1024);
  std::printf("%-30s %12s %-11s %-34s %9s %9s %9s\n", "fixture", "bytes", "verdict", "signature", "wall ms", "CPU ms",
              "RSS MiB");
  for (const auto& [name, bytes] : fx) {
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid == 0) {
      const auto t0 = std::chrono::steady_clock::now();
      const double c0 = cpu_seconds();
      const auto r = scanner.scan_file((dir / name).string());
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      const double cpu_ms = (cpu_seconds() - c0) * 1000;
      std::printf("%-30s %12zu %-11s %-34s %9.0f %9.0f %9.1f\n", name.c_str(), bytes.size(),
                  mamori::engine::verdict_name(r.verdict), r.signature.empty() ? "-" : r.signature.c_str(), ms, cpu_ms,
                  static_cast<double>(vm_hwm_kib()) / 1024);
      std::fflush(stdout);
      _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
  }
  return 0;
}
