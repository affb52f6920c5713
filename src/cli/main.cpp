// mamori: offline static-ML malware scanner. Front end only: flags, dispatch, exit codes.
#include <iostream>

#include "cli/commands.hpp"

namespace mamori::cli {
extern int g_argc;
extern char** g_argv;
}  // namespace mamori::cli

int main(int argc, char** argv) {
  mamori::cli::g_argc = argc;
  mamori::cli::g_argv = argv;
  CLI::App app{"mamori " MAMORI_VERSION " - offline static machine-learning malware scanner"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "mamori " MAMORI_VERSION);
  std::vector<std::pair<CLI::App*, mamori::cli::Runner>> cmds;
  auto reg = [&](mamori::cli::Runner r) { cmds.emplace_back(app.get_subcommands({}).back(), std::move(r)); };
  reg(mamori::cli::add_scan_command(app));
  reg(mamori::cli::add_train_command(app));
  reg(mamori::cli::add_eval_command(app));
  reg(mamori::cli::add_features_command(app));
  reg(mamori::cli::add_quarantine_command(app));
  reg(mamori::cli::add_extract_command(app));
  reg(mamori::cli::add_emocheck_command(app));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 uses exit code 0 for --help; usage errors map to 2 like clamscan's.
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  for (auto& [sub, run] : cmds)
    if (sub->parsed()) return run();
  return 2;
}
