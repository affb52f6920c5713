#include "engine/scanner.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "analysis/script.hpp"
#include "common/hash.hpp"
#include "engine/handlers.hpp"
#include "features/office_features.hpp"
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

void raise_verdict(ScanResult& r, Verdict v, std::string signature) {
  if (severity(v) <= severity(r.verdict)) return;
  r.verdict = v;
  if (v == Verdict::malicious || v == Verdict::suspicious) r.signature = std::move(signature);
}

void add_member(ScanResult& parent, ScanResult member) {
  // A member that errored does not make its container an error: the container itself was read, and the member's
  // error stays visible in the tree. Only detections propagate.
  if (member.found()) raise_verdict(parent, member.verdict, member.signature);
  else if (parent.verdict == Verdict::unsupported && member.verdict == Verdict::clean) parent.verdict = Verdict::clean;
  parent.members.push_back(std::move(member));
}

Result<Models> load_models(const std::string& root) {
  Models m;
  auto pe = model::Model::load(root + "/pe", features::pe_schema());
  if (!pe.ok()) return make_error(pe.error().code, "cannot load the PE model from " + root + "/pe: " + pe.error().message);
  m.pe = std::move(pe).value();
  // The document model is optional: without it documents are parsed, their members scanned, but not scored.
  if (std::filesystem::exists(root + "/office/meta.json")) {
    auto office = model::Model::load(root + "/office", features::office_schema());
    if (!office.ok())
      return make_error(office.error().code, "cannot load the document model from " + root + "/office: " + office.error().message);
    m.office = std::move(office).value();
  }
  return m;
}

Scanner::Scanner(Models models, Options opt) : models_(std::move(models)), opt_(std::move(opt)) {}

Scanner::Scanner(std::optional<model::Model> pe_model, Options opt) : opt_(std::move(opt)) {
  models_.pe = std::move(pe_model);
}

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
  Budget budget;
  budget.top_size = bytes.size();
  budget.deadline = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(opt_.limits.max_seconds));
  ScanContext ctx(*this, budget, 0);
  ctx.passwords() = opt_.archive_passwords;
  dispatch(bytes, r, ctx);
  r.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

void Scanner::dispatch(ByteView bytes, ScanResult& r, ScanContext& ctx) const {
  r.type = detect_type(bytes);
  handlers::Handler h = nullptr;
  // Outlook messages are compound files with a handler of their own, ahead of the generic OLE2 one.
  if (r.type.subtype == "ole2-msg") h = handlers::msg;
  else switch (r.type.kind) {
    case FileKind::pe: h = handlers::pe; break;
    case FileKind::lnk: h = handlers::lnk; break;
    case FileKind::onenote: h = handlers::onenote; break;
    case FileKind::zip:
    case FileKind::archive: h = handlers::archive; break;
    case FileKind::email: h = handlers::email; break;
    case FileKind::ole2: case FileKind::ooxml: case FileKind::rtf: case FileKind::pdf: h = handlers::office; break;
    // Unix shell scripts (#!) are not what Windows runs; everything else typed as a script is.
    case FileKind::script: if (r.type.subtype != "script-shebang") h = handlers::script; break;
    // Text (or bytes too odd to type) named like a script runs as one when opened: scored the same way.
    case FileKind::unknown: if (analysis::script::has_script_extension(r.path)) h = handlers::script; break;
    default: break;
  }
  if (h) h(bytes, r, ctx);
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
