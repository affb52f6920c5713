#include "support/run_cli.hpp"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

extern char** environ;

namespace mamori::test {

namespace {

// The child's environment: ours, with each NAME in `changes` dropped and NAME=value entries appended.
std::vector<std::string> child_environment(const std::vector<std::string>& changes) {
  auto name_of = [](const std::string& e) { return e.substr(0, e.find('=')); };
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    const std::string kv(*e);
    bool replaced = false;
    for (const auto& c : changes) replaced = replaced || name_of(c) == name_of(kv);
    if (!replaced) out.push_back(kv);
  }
  for (const auto& c : changes)
    if (c.find('=') != std::string::npos) out.push_back(c);
  return out;
}

std::string read_back(int fd) {
  std::string s;
  char buf[4096];
  off_t at = 0;
  for (ssize_t n; (n = ::pread(fd, buf, sizeof buf, at)) > 0; at += n) s.append(buf, static_cast<std::size_t>(n));
  return s;
}

}  // namespace

pid_t spawn(const std::string& program, const std::vector<std::string>& args, const std::vector<std::string>& env,
            int out_fd, int err_fd) {
  // Everything the child needs is built before fork: between fork and exec a threaded process may only make
  // async-signal-safe calls.
  std::vector<std::string> argv_s{program};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  const auto envp_s = child_environment(env);
  std::vector<char*> argv, envp;
  for (const auto& a : argv_s) argv.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : envp_s) envp.push_back(const_cast<char*>(e.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (out_fd >= 0) ::dup2(out_fd, 1);
    if (err_fd >= 0) ::dup2(err_fd, 2);
    ::execve(program.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

Proc run_program(const std::string& program, const std::vector<std::string>& args, const std::vector<std::string>& env) {
  // Anonymous files rather than pipes: the child can write any amount to both without waiting for a reader.
  const int out = ::memfd_create("stdout", MFD_CLOEXEC), err = ::memfd_create("stderr", MFD_CLOEXEC);
  Proc p;
  if (out >= 0 && err >= 0) {
    if (const pid_t pid = spawn(program, args, env, out, err); pid > 0) {
      int st = 0;
      while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      if (WIFEXITED(st)) p.exit_code = WEXITSTATUS(st);
      if (WIFSIGNALED(st)) p.signal = WTERMSIG(st);
      p.out = read_back(out);
      p.err = read_back(err);
    }
  }
  if (out >= 0) ::close(out);
  if (err >= 0) ::close(err);
  return p;
}

Proc run_mamori(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  return run_program(MAMORI_BINARY, args, env);
}

}  // namespace mamori::test
