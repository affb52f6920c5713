#include "engine/scanner.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "common/hash.hpp"
#include "features/pe_features.hpp"

namespace mamori::engine {

const char* verdict_name(Verdict v) noexcept {
  switch (v) {
    case Verdict::clean: return "clean";
    case Verdict::suspicious: return "suspicious";
    case Verdict::malicious: return "malicious";
    case Verdict::error: return "error";
    case Verdict::unsupported: return "unsupported";
  }
  return "error";
}

int severity(Verdict v) noexcept {
  switch (v) {
    case Verdict::unsupported: return 0;
    case Verdict::clean: return 1;
    case Verdict::error: return 2;
    case Verdict::suspicious: return 3;
    case Verdict::malicious: return 4;
  }
  return 2;
}

Scanner::Scanner(std::optional<model::Model> pe_model, Options opt) : pe_model_(std::move(pe_model)), opt_(opt) {}

ScanResult Scanner::scan_file(const std::string& path) const {
  const auto t0 = std::chrono::steady_clock::now();
  ScanResult r;
  r.path = path;
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > opt_.limits.max_file_size) {
    r.size = size;
    r.verdict = Verdict::suspicious;
    r.signature = "Mamori.Limits.Exceeded.FileSize";
    r.anomalies.push_back("file larger than --max-filesize (" + std::to_string(opt_.limits.max_file_size) + " bytes)");
  } else {
    auto file = MappedFile::open(path, opt_.limits.max_file_size);
    if (!file.ok()) {
      r.verdict = file.error().code == ErrorCode::limit_exceeded ? Verdict::suspicious : Verdict::error;
      if (r.verdict == Verdict::suspicious) r.signature = "Mamori.Limits.Exceeded.FileSize";
      r.error = file.error().message;
    } else {
      r = scan_bytes(file->view(), path);
    }
  }
  r.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

ScanResult Scanner::scan_bytes(ByteView bytes, const std::string& name) const {
  const auto t0 = std::chrono::steady_clock::now();
  ScanResult r;
  r.path = name;
  r.size = bytes.size();
  r.sha256 = sha256_hex(bytes);
  r.type = detect_type(bytes);
  switch (r.type.kind) {
    case FileKind::pe: scan_pe(bytes, r); break;
    default: r.verdict = Verdict::unsupported; break;
  }
  r.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

void Scanner::scan_pe(ByteView bytes, ScanResult& r) const {
  auto sample = features::featurize_pe(bytes);
  if (sample.header_error) r.anomalies.push_back("headers_unreadable: " + sample.header_error->message);
  for (const auto& a : sample.pe.anomalies) r.anomalies.push_back(pe::anomaly_name(a.code));
  if (!pe_model_) {
    r.verdict = Verdict::unsupported;
    return;
  }
  auto score = pe_model_->score(sample.x);
  if (!score.ok()) {
    r.verdict = Verdict::error;
    r.error = score.error().message;
    return;
  }
  r.score = *score;
  r.model = pe_model_->name();
  if (*score >= pe_model_->threshold()) {
    r.verdict = Verdict::malicious;
    r.signature = "Mamori.PE.Malicious";
  } else if (opt_.alert_suspicious && *score >= pe_model_->suspicious_threshold()) {
    r.verdict = Verdict::suspicious;
    r.signature = "Mamori.PE.Suspicious";
  } else {
    r.verdict = Verdict::clean;
  }
  if (opt_.explain) {
    auto c = pe_model_->explain(sample.x, opt_.max_reasons);
    if (c.ok()) {
      const auto& names = features::pe_schema().features;
      for (const auto& x : *c) r.reasons.push_back({names[x.feature].name, x.value, x.contribution});
    }
  }
}

std::string default_model_dir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("MAMORI_MODELS"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const fs::path& cand : {exe.parent_path() / "../share/mamori/models", exe.parent_path() / "../models",
                                 exe.parent_path() / "../../models"}) {
      if (fs::exists(cand / "pe" / "meta.json", ec)) return fs::weakly_canonical(cand, ec).string();
    }
  }
  return MAMORI_SOURCE_MODELS;
}

}  // namespace mamori::engine
