// `mamori emocheck`: the Emotet host check over collected evidence, with EmoCheck-compatible reports.
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "emocheck/emocheck.hpp"
#include "emocheck/offline_evidence.hpp"
#include "engine/scanner.hpp"

namespace mamori::cli {

namespace {

struct EmocheckFlags {
  std::string evidence;
  std::string processes;
  std::string volume_serial;
  std::string output;
  std::string model_dir;
  bool json = false;
  bool no_scan = false;
};

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

int run_emocheck(const EmocheckFlags& f) {
  emocheck::CheckOptions opt;
  if (!f.volume_serial.empty()) {
    opt.volume_serial = emocheck::parse_volume_serial(f.volume_serial);
    if (!opt.volume_serial) {
      std::cerr << "mamori emocheck: --volume-serial wants 8 hex digits (1234ABCD or 1234-ABCD), got "
                << f.volume_serial << "\n";
      return 2;
    }
  }
  auto ev = emocheck::OfflineEvidence::open(f.evidence, f.processes);
  if (!ev) {
    std::cerr << "mamori emocheck: " << ev.error().message << "\n";
    return 2;
  }
  std::optional<engine::Scanner> scanner;
  if (!f.no_scan) {
    const std::string root = f.model_dir.empty() ? engine::default_model_dir() : f.model_dir;
    auto models = engine::load_models(root);
    if (!models) {
      std::cerr << "mamori emocheck: " << models.error().message << " (use --no-scan to check without the model)\n";
      return 2;
    }
    engine::Options eo;
    eo.explain = false;
    scanner.emplace(std::move(models).value(), eo);
    opt.scanner = &*scanner;
  }
  const emocheck::Report report = emocheck::run_check(**ev, opt);
  // File names in an evidence tree are bytes, not necessarily UTF-8: replace what is not rather than throw.
  const std::string json = report_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const std::string text = report_text(report);
  std::cout << (f.json ? json : text);

  int rc = report.infected() ? 1 : report.checkable() ? 0 : 2;
  if (!report.checkable())
    std::cerr << "mamori emocheck: nothing in " << f.evidence << " could be checked (see the methods above)\n";
  if (!f.output.empty()) {
    const std::string base = f.output + "/" + emocheck::report_basename(report);
    for (const auto& [path, body] : {std::pair{base + ".txt", text}, std::pair{base + ".json", json}}) {
      if (!write_file(path, body)) {
        std::cerr << "mamori emocheck: cannot write " << path << "\n";
        if (rc == 0) rc = 2;
      } else if (!f.json) {
        std::cerr << "Report written to " << path << "\n";
      }
    }
  }
  return rc;
}

}  // namespace

Runner add_emocheck_command(CLI::App& app) {
  auto f = std::make_shared<EmocheckFlags>();
  auto* cmd = app.add_subcommand(
      "emocheck",
      "Check a Windows host's collected evidence for Emotet (EmoCheck's methods plus a model scan of what they find).\n"
      "Exit code: 0 not infected, 1 infected, 2 error or nothing checkable.");
  cmd->add_option("--evidence", f->evidence,
                  "Root of the Windows volume or triage copy (holding Windows/System32/config, Users/...)")
      ->required();
  cmd->add_option("--processes", f->processes,
                  "Process list: tasklist /v /fo csv, Get-CimInstance Win32_Process | Export-Csv, or "
                  "wmic process get ... /format:csv (UTF-8 or UTF-16)");
  cmd->add_option("--volume-serial", f->volume_serial,
                  "Serial of C: as `vol C:` prints it (1234-ABCD); default: vol output or $Boot in the evidence");
  cmd->add_flag("--json", f->json, "Print the JSON report instead of the text one");
  cmd->add_option("--output", f->output,
                  "Also write <HOST>_<yyyymmddhhmmss>_emocheck.txt and .json into this folder")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--model-dir", f->model_dir, "Folder holding the models (default: $MAMORI_MODELS or the installed models)");
  cmd->add_flag("--no-scan", f->no_scan, "Do not load the model; list the suspect files without scanning them");
  return [f] { return run_emocheck(*f); };
}

}  // namespace mamori::cli
