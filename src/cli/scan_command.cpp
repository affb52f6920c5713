// `mamori scan`: clamscan-compatible output and exit codes over files and folders.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "cli/commands.hpp"
#include "cli/render.hpp"
#include "engine/scanner.hpp"
#include "features/pe_features.hpp"
#include "quarantine/quarantine.hpp"

namespace mamori::cli {

namespace {

struct ScanFlags {
  std::vector<std::string> paths;
  std::string files_from;
  std::string model_dir;
  bool json = false;
  bool explain = false;
  bool infected_only = false;
  bool no_summary = false;
  bool no_suspicious = false;
  int threads = 1;
  std::uint64_t max_filesize = 4ull << 30;
  bool quarantine = false;
  std::string quarantine_dir;
  engine::Limits limits;
  std::vector<std::string> archive_passwords;
  std::string archive_password_file;
  bool no_default_passwords = false;
  bool encrypted_ok = false;
  bool alert_encrypted_doc = false;
  bool encrypted_doc_ok = false;
  bool limits_ok = false;
};

// A bounded hand-off from the folder walker to the workers, so a huge tree never sits in memory at once.
class PathQueue {
 public:
  explicit PathQueue(std::size_t cap) : cap_(cap) {}
  void push(std::string p) {
    std::unique_lock lk(m_);
    not_full_.wait(lk, [&] { return q_.size() < cap_; });
    q_.push_back(std::move(p));
    not_empty_.notify_one();
  }
  void close() {
    std::lock_guard lk(m_);
    closed_ = true;
    not_empty_.notify_all();
  }
  bool pop(std::string& out) {
    std::unique_lock lk(m_);
    not_empty_.wait(lk, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return false;
    out = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return true;
  }

 private:
  std::mutex m_;
  std::condition_variable not_empty_, not_full_;
  std::deque<std::string> q_;
  std::size_t cap_;
  bool closed_ = false;
};

struct Totals {
  std::size_t scanned = 0, found = 0, suspicious = 0, unsupported = 0, errors = 0, quarantined = 0;
  std::uint64_t bytes = 0;
};

// What --quarantine did with one found file.
struct Moved {
  bool ok = false;
  std::int64_t id = 0;
  std::string vault_file;
  std::string error;
  std::vector<std::string> warnings;
};

// The detection recorded with a quarantined file, with what the scanner read so a swapped file is refused.
quarantine::Detection detection_of(const engine::ScanResult& r) {
  quarantine::Detection d;
  d.verdict = engine::verdict_name(r.verdict);
  d.signature = r.signature;
  d.sha256 = r.sha256;
  d.size = r.size;
  for (const auto& x : r.reasons) {
    std::ostringstream s;
    s << x.feature << "=" << x.value << " (" << (x.contribution >= 0 ? "+" : "") << x.contribution << ")";
    d.reasons.push_back(s.str());
  }
  for (const auto& a : r.anomalies) d.reasons.push_back("anomaly: " + a);
  engine::for_each_result(r, [&](const engine::ScanResult& m) {
    if (&m != &r && m.found()) d.reasons.push_back("member " + m.path + ": " + m.signature);
  });
  return d;
}

engine::ScanResult error_result(const std::string& path, const std::string& why) {
  engine::ScanResult r;
  r.path = path;
  r.verdict = engine::Verdict::error;
  r.error = why;
  return r;
}

// Walks `root`: regular files are queued; directories are descended without following symlinks (no loops);
// sockets, FIFOs and devices are reported and skipped, since reading them could block forever.
void walk(const std::string& root, PathQueue& q, const std::function<void(engine::ScanResult)>& report) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto st = fs::status(root, ec);
  if (ec) {
    report(error_result(root, ec.message()));
    return;
  }
  if (fs::is_regular_file(st)) {
    q.push(root);
    return;
  }
  if (!fs::is_directory(st)) {
    report(error_result(root, "not a regular file"));
    return;
  }
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) {
    report(error_result(root, ec.message()));
    return;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) {
      report(error_result(it->path().string(), ec.message()));
      ec.clear();
      continue;
    }
    const auto s = it->symlink_status(ec);
    if (ec) continue;
    if (fs::is_symlink(s)) {
      // Scan what a symlink points to only if it is a regular file; never follow into directories.
      std::error_code e2;
      if (fs::is_regular_file(fs::status(it->path(), e2))) q.push(it->path().string());
      continue;
    }
    if (fs::is_regular_file(s)) q.push(it->path().string());
  }
}

int run_scan(const ScanFlags& f) {
  const std::string model_root = f.model_dir.empty() ? engine::default_model_dir() : f.model_dir;
  auto models = engine::load_models(model_root);
  if (!models.ok()) {
    std::cerr << "mamori: " << models.error().message << "\n";
    return 2;
  }
  engine::Options opt;
  opt.explain = f.json || f.explain;
  opt.alert_suspicious = !f.no_suspicious;
  opt.limits = f.limits;
  opt.limits.max_file_size = f.max_filesize;
  opt.limits.limits_are_suspicious = !f.limits_ok;
  opt.encrypted_is_suspicious = !f.encrypted_ok;
  opt.encrypted_documents_are_suspicious = f.alert_encrypted_doc || !f.encrypted_doc_ok;
  {
    // Passwords given by the user go before the defaults; a file adds one password a line.
    std::vector<std::string> pw = f.archive_passwords;
    if (!f.archive_password_file.empty()) {
      std::ifstream in(f.archive_password_file);
      if (!in) {
        std::cerr << "mamori: cannot read " << f.archive_password_file << "\n";
        return 2;
      }
      for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) pw.push_back(line);
      }
    }
    if (!f.no_default_passwords)
      for (const auto& d : opt.archive_passwords)
        if (std::find(pw.begin(), pw.end(), d) == pw.end()) pw.push_back(d);
    opt.archive_passwords = std::move(pw);
  }
  const engine::Scanner scanner(std::move(models).value(), opt);
  std::unique_ptr<quarantine::Vault> vault;
  if (f.quarantine || !f.quarantine_dir.empty()) {
    // Opened before scanning, so a vault that cannot be used stops the run instead of failing file by file.
    auto v = quarantine::Vault::open(f.quarantine_dir.empty() ? quarantine::default_dir() : f.quarantine_dir);
    if (!v.ok()) {
      std::cerr << "mamori: quarantine: " << v.error().message << "\n";
      return 2;
    }
    vault = std::move(v).value();
    for (const auto& n : vault->last_recovery().notes) std::cerr << "mamori: quarantine recovery: " << n << "\n";
  }

  std::vector<std::string> roots = f.paths;
  if (!f.files_from.empty()) {
    std::ifstream in(f.files_from == "-" ? "/dev/stdin" : f.files_from);
    if (!in) {
      std::cerr << "mamori: cannot read " << f.files_from << "\n";
      return 2;
    }
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) roots.push_back(line);
  }
  if (roots.empty()) {
    std::cerr << "mamori: nothing to scan (give PATH... or --files-from FILE)\n";
    return 2;
  }

  const auto t0 = std::chrono::steady_clock::now();
  const bool progress = isatty(STDERR_FILENO) && !f.json;
  std::mutex out_m;
  Totals tot;
  auto last_progress = t0;
  auto emit = [&](const engine::ScanResult& r, const Moved* moved = nullptr) {
    std::lock_guard lk(out_m);
    ++tot.scanned;
    tot.bytes += r.size;
    if (r.verdict == engine::Verdict::error) ++tot.errors;
    if (r.verdict == engine::Verdict::unsupported) ++tot.unsupported;
    if (r.found()) ++tot.found;
    if (r.verdict == engine::Verdict::suspicious) ++tot.suspicious;
    if (moved && moved->ok) ++tot.quarantined;
    if (moved && !moved->ok) ++tot.errors;
    if (progress) std::cerr << "\r\033[K" << std::flush;
    if (f.json) {
      auto j = to_json(r);
      if (moved && moved->ok) j["quarantine"] = {{"id", moved->id}, {"vault_file", moved->vault_file}, {"warnings", moved->warnings}};
      if (moved && !moved->ok) j["quarantine"] = {{"error", moved->error}};
      std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else if (!f.infected_only || r.found() || r.verdict == engine::Verdict::error) {
      print_line(r, std::cout);
      if (f.explain) print_explanation(r, std::cout);
      if (moved && moved->ok) {
        std::cout << r.path << ": quarantined as entry " << moved->id << " (" << moved->vault_file << ")\n";
        for (const auto& w : moved->warnings) std::cout << r.path << ": quarantine warning: " << w << "\n";
      }
      if (moved && !moved->ok) std::cout << r.path << ": quarantine failed: " << moved->error << " ERROR\n";
    }
    std::cout.flush();
    const auto now = std::chrono::steady_clock::now();
    if (progress && now - last_progress > std::chrono::milliseconds(200)) {
      last_progress = now;
      std::cerr << "[" << tot.scanned << " files, " << (tot.bytes >> 20) << " MiB] " << r.path.substr(0, 60) << std::flush;
    }
  };

  PathQueue q(1024);
  std::vector<std::thread> workers;
  for (int t = 0; t < std::max(1, f.threads); ++t) {
    workers.emplace_back([&] {
      std::string p;
      while (q.pop(p)) {
        const auto r = scanner.scan_file(p);
        if (!vault || !r.found()) {
          emit(r);
          continue;
        }
        Moved m;
        auto done = vault->quarantine(p, detection_of(r));
        if (done.ok()) {
          m.ok = true;
          m.id = done->entry.id;
          m.vault_file = done->vault_file;
          m.warnings = done->warnings;
        } else {
          m.error = done.error().message;
        }
        emit(r, &m);
      }
    });
  }
  for (const auto& r : roots) walk(r, q, [&](const engine::ScanResult& x) { emit(x); });
  q.close();
  for (auto& w : workers) w.join();
  if (progress) std::cerr << "\r\033[K" << std::flush;

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!f.no_summary && !f.json) {
    const auto* m = scanner.pe_model();
    std::cout << "\n----------- SCAN SUMMARY -----------\n"
              << "Engine version: " << MAMORI_VERSION << "\n"
              << "PE model: " << m->name() << " (schema v" << features::pe_schema().version << " " << features::pe_schema().hash << ")\n"
              << "Scanned files: " << tot.scanned << "\n"
              << "Infected files: " << tot.found << "\n";
    if (tot.suspicious) std::cout << "  of which suspicious: " << tot.suspicious << "\n";
    if (vault) std::cout << "Quarantined files: " << tot.quarantined << " (in " << vault->dir() << ")\n";
    std::cout << "Not scored (no model for the type): " << tot.unsupported << "\n";
    if (tot.errors) std::cout << "Total errors: " << tot.errors << "\n";
    std::cout << "Data scanned: " << std::fixed << std::setprecision(2) << static_cast<double>(tot.bytes) / 1e6 << " MB\n"
              << "Time: " << std::setprecision(3) << secs << " sec\n";
  }
  if (tot.errors) return 2;
  return tot.found ? 1 : 0;
}

}  // namespace

Runner add_scan_command(CLI::App& app) {
  auto f = std::make_shared<ScanFlags>();
  auto* cmd = app.add_subcommand("scan", "Scan files and folders (folders recursively). Prints `path: OK` or "
                                         "`path: <Name> FOUND` per file, then a summary.\n"
                                         "Exit code: 0 nothing found, 1 something found, 2 errors occurred (including a "
                                         "file --quarantine could not move).");
  cmd->add_option("paths", f->paths, "Files or folders to scan");
  cmd->add_option("--files-from", f->files_from, "Read paths to scan from FILE, one a line ('-' for stdin)");
  cmd->add_flag("--json", f->json, "Write one JSON object per file (path, sha256, size, type, verdict, score, model, "
                                   "reasons, anomalies, elapsed_ms) instead of text");
  cmd->add_flag("--explain", f->explain, "Print the features that moved each score most, and the anomalies");
  cmd->add_flag("-i,--infected", f->infected_only, "Print only files found (and errors)");
  cmd->add_flag("--no-summary", f->no_summary, "Do not print the summary");
  cmd->add_flag("--no-suspicious", f->no_suspicious,
                "Report files between the suspicious and malicious thresholds as OK (default: FOUND as "
                "Mamori.PE.Suspicious)");
  cmd->add_option("-j,--threads", f->threads, "Scan N files in parallel")->default_val(1)->check(CLI::Range(1, 256));
  cmd->add_option("--max-filesize", f->max_filesize,
                  "Files larger than this many bytes are not read and are reported as "
                  "Mamori.Limits.Exceeded.FileSize FOUND (never silently OK)")
      ->default_val(f->max_filesize);
  cmd->add_flag("--quarantine", f->quarantine,
                "Move each file found into the quarantine vault (neutered, restorable with `mamori quarantine "
                "restore`); prints where. A file that changed since it was scanned is refused, not moved");
  cmd->add_option("--quarantine-dir", f->quarantine_dir,
                  "Vault folder for --quarantine, which it implies (default: $MAMORI_QUARANTINE_DIR, else /var/lib/mamori/quarantine)");
  cmd->add_option("--max-depth", f->limits.max_depth,
                  "Containers (archives, e-mails, documents) nested deeper than this are not opened: "
                  "Mamori.Limits.Exceeded.Depth")
      ->default_val(f->limits.max_depth)->check(CLI::Range(0u, 1000u));
  cmd->add_option("--max-members", f->limits.max_members,
                  "Members scanned per file, all levels together: Mamori.Limits.Exceeded.Members")
      ->default_val(f->limits.max_members);
  cmd->add_option("--max-extracted", f->limits.max_extracted_bytes,
                  "Bytes extracted from containers per file after padding is collapsed: Mamori.Limits.Exceeded.Size")
      ->default_val(f->limits.max_extracted_bytes);
  cmd->add_option("--max-ratio", f->limits.max_ratio,
                  "Archive members may expand to at most this many times the archive's size, padding runs "
                  "excluded: Mamori.Limits.Exceeded.Ratio")
      ->default_val(f->limits.max_ratio);
  cmd->add_option("--max-decompressed", f->limits.max_decompressed_bytes,
                  "Bytes decompressed per file, all levels, padding included (the work bound): "
                  "Mamori.Limits.Exceeded.Size")
      ->default_val(f->limits.max_decompressed_bytes);
  cmd->add_option("--max-decompressed-ratio", f->limits.max_decompressed_ratio,
                  "Bytes decompressed per file, padding included, may be at most this many times the file's size "
                  "(plus 64 MiB; 0 disables): Mamori.Limits.Exceeded.Ratio")
      ->default_val(f->limits.max_decompressed_ratio);
  cmd->add_option("--max-scan-time", f->limits.max_seconds,
                  "Seconds per file, members included; what is not reached is reported: Mamori.Limits.Exceeded.Time")
      ->default_val(f->limits.max_seconds);
  cmd->add_flag("--limits-ok", f->limits_ok,
                "Report a limit hit in the anomalies only, instead of as Mamori.Limits.Exceeded.* FOUND");
  cmd->add_option("--archive-password", f->archive_passwords,
                  "A password to try on encrypted archives (repeatable), after those found in an enclosing e-mail "
                  "and before the defaults (infected, malware, virus, password, 1234, 123456)")
      // One value per occurrence: without this CLI11 swallows the paths that follow as more passwords.
      ->allow_extra_args(false);
  cmd->add_option("--archive-password-file", f->archive_password_file, "Read more archive passwords from FILE, one a line");
  cmd->add_flag("--no-default-passwords", f->no_default_passwords, "Do not try the default archive passwords");
  cmd->add_flag("--encrypted-ok", f->encrypted_ok,
                "An archive no password opens is reported in the anomalies only (default: "
                "Mamori.Encrypted.Archive FOUND, as suspicious)");
  auto* doc_ok = cmd->add_flag("--encrypted-doc-ok", f->encrypted_doc_ok,
                "An encrypted Office document that no password opens is noted in the anomalies and context only "
                "and scored on what is readable (default: Mamori.Office.Encrypted FOUND, as suspicious). "
                "Passwords tried: Excel's default VelvetSweatshop, then the archive passwords (those quoted in the "
                "enclosing e-mail first); OOXML Standard/Agile and Excel RC4 are decrypted, Word's RC4 is not");
  cmd->add_flag("--alert-encrypted-doc", f->alert_encrypted_doc,
                "Report such a document as Mamori.Office.Encrypted FOUND: the default since the ninth session, "
                "kept for scripts that pass it")
      ->excludes(doc_ok);
  cmd->add_option("--model-dir", f->model_dir, "Folder holding the models (default: $MAMORI_MODELS or the installed models)");
  return [f] { return run_scan(*f); };
}

}  // namespace mamori::cli
