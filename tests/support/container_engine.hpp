// A Scanner for container tests whose PE model calls every PE malicious (the shipped model with both thresholds
// set to 0), so that a verdict travelling up a container tree is deterministic: whatever PE sits inside, at any
// depth, the top-level file must come out Mamori.PE.Malicious unless a limit stopped the walk first.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/scanner.hpp"
#include "features/pe_features.hpp"
#include "support/pe_builder.hpp"

namespace mamori::test {

inline std::filesystem::path always_malicious_model_dir() {
  namespace fs = std::filesystem;
  // A fresh folder per test process, removed at exit. A folder named after the PID alone outlived its process, and a
  // later process that got the same PID loaded the model left there by another build (a refused schema, or other
  // thresholds): the source of tests that failed once in a while under ctest.
  struct Folder {
    fs::path path;
    Folder() {
      std::string tmpl = (fs::temp_directory_path() / "mamori-always-malicious-XXXXXX").string();
      if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
      path = tmpl;
      fs::create_directories(path / "pe");
      const fs::path src = fs::path(MAMORI_SOURCE_DIR) / "models" / "pe";
      fs::copy_file(src / "model.json", path / "pe" / "model.json", fs::copy_options::overwrite_existing);
      std::ifstream in(src / "meta.json");
      nlohmann::json meta = nlohmann::json::parse(in);
      meta["threshold"] = 0.0;
      meta["suspicious_threshold"] = 0.0;
      std::ofstream(path / "pe" / "meta.json") << meta.dump();
    }
    ~Folder() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  };
  static const Folder folder;
  return folder.path;
}

inline engine::Scanner container_scanner(engine::Options opt = {}) {
  auto m = model::Model::load((always_malicious_model_dir() / "pe").string(), features::pe_schema());
  if (!m.ok()) throw std::runtime_error(m.error().message);
  opt.explain = false;
  return engine::Scanner(std::optional<model::Model>(std::move(m).value()), std::move(opt));
}

inline std::vector<std::uint8_t> tiny_pe() {
  PeSpec s;
  s.sections.push_back({".text", scn_code, std::vector<std::uint8_t>(2048, 0xC3)});
  s.imports.push_back({"KERNEL32.dll", {ImportFn::by_name("ExitProcess")}});
  return build_pe(s).bytes;
}

/// The member whose path ends with `suffix`, anywhere in the tree; nullptr when none.
inline const engine::ScanResult* find_member(const engine::ScanResult& r, const std::string& suffix) {
  const engine::ScanResult* hit = nullptr;
  engine::for_each_result(r, [&](const engine::ScanResult& x) {
    if (!hit && x.path.size() >= suffix.size() && x.path.compare(x.path.size() - suffix.size(), suffix.size(), suffix) == 0)
      hit = &x;
  });
  return hit;
}

inline std::string context_value(const engine::ScanResult& r, const std::string& key) {
  for (const auto& [k, v] : r.context)
    if (k == key) return v;
  return {};
}

inline bool has_anomaly(const engine::ScanResult& r, const std::string& prefix) {
  bool hit = false;
  engine::for_each_result(r, [&](const engine::ScanResult& x) {
    for (const auto& a : x.anomalies)
      if (a.rfind(prefix, 0) == 0) hit = true;
  });
  return hit;
}

}  // namespace mamori::test
