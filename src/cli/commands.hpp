// The subcommands of the `mamori` executable. Each registers its flags on the CLI11 app and returns the
// process exit code from its run function.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace mamori::cli {

using Runner = std::function<int()>;

Runner add_scan_command(CLI::App& app);
Runner add_train_command(CLI::App& app);
Runner add_eval_command(CLI::App& app);
Runner add_features_command(CLI::App& app);
Runner add_quarantine_command(CLI::App& app);
Runner add_extract_command(CLI::App& app);
Runner add_emocheck_command(CLI::App& app);

}  // namespace mamori::cli
