// Runs the real executables the way a user or a service manager would, without a shell: the CLI, daemon and
// quarantine tests all start processes through here, so exit codes, signals and captured output mean the same
// thing in every test.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace mamori::test {

struct Proc {
  int exit_code = -1;  // -1 when the process did not exit by itself (killed, or never started)
  int signal = 0;      // the signal that ended it, if one did
  std::string out, err;
};

/// Starts `program` with `args`. `env` entries change this process's environment for the child only:
/// "NAME=value" sets NAME, a bare "NAME" removes it. stdout and stderr go to `out_fd` and `err_fd` when those are
/// not negative, else they are inherited. Returns the child's pid, or -1 when fork failed.
pid_t spawn(const std::string& program, const std::vector<std::string>& args, const std::vector<std::string>& env = {},
            int out_fd = -1, int err_fd = -1);

/// Runs `program` to its end and returns its exit, stdout and stderr (each captured in full, separately).
Proc run_program(const std::string& program, const std::vector<std::string>& args,
                 const std::vector<std::string>& env = {});

/// Runs the `mamori` executable under test.
Proc run_mamori(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

}  // namespace mamori::test
