// mamorid on-access protection: the pieces in-process (verdict cache, path rules, mark planning, config), then the
// real daemon marking a temporary folder while this process opens files in it. Opens that could block are made
// from a helper thread with a watchdog that kills the daemon (closing its fanotify group allows every waiting open),
// so a broken daemon fails these tests instead of hanging them. The daemon tests skip, with the reason, where
// fanotify permission events are unavailable (no CAP_SYS_ADMIN, a kernel without them).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/fanotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <sstream>
#include <thread>

#include "daemon/config.hpp"
#include "daemon/onaccess.hpp"
#include "quarantine/quarantine.hpp"
#include "support/daemon.hpp"
#include "support/files.hpp"

namespace fs = std::filesystem;
using namespace mamori::daemon;
using namespace std::string_literals;

// ---- in-process ----

TEST(OnAccessCache, HitsNeedTheSameStampAndCloseWriteInvalidates) {
  VerdictCache c(2);
  const VerdictCache::Key a{1, 10}, b{1, 11}, d{1, 12};
  const VerdictCache::Stamp s{100, 100, 5};
  EXPECT_FALSE(c.is_clean(a, s));
  c.put_clean(a, s);
  EXPECT_TRUE(c.is_clean(a, s));
  EXPECT_FALSE(c.is_clean(a, {101, 100, 5}));  // modified behind our back: a miss, and the entry is dropped
  EXPECT_FALSE(c.is_clean(a, s));
  c.put_clean(a, s);
  c.invalidate(a);
  EXPECT_FALSE(c.is_clean(a, s));
  EXPECT_EQ(c.size(), 0u);
  // Least recently used goes first.
  c.put_clean(a, s);
  c.put_clean(b, s);
  EXPECT_TRUE(c.is_clean(a, s));
  c.put_clean(d, s);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_TRUE(c.is_clean(a, s));
  EXPECT_FALSE(c.is_clean(b, s));
  EXPECT_TRUE(c.is_clean(d, s));
  c.clear();
  EXPECT_FALSE(c.is_clean(a, s));
}

TEST(OnAccessPaths, UnderMatchesWholeComponents) {
  EXPECT_TRUE(path_under("/data/x", "/data"));
  EXPECT_TRUE(path_under("/data", "/data"));
  EXPECT_FALSE(path_under("/database", "/data"));
  EXPECT_FALSE(path_under("/dat", "/data"));
  EXPECT_TRUE(path_under("/anything", "/"));
}

TEST(OnAccessPaths, PlanWalksSubfoldersSkipsExcludedAndSymlinksAndIsBounded) {
  const auto root = fs::temp_directory_path() / ("onaccess-plan-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "a" / "b");
  fs::create_directories(root / "skip" / "deep");
  fs::create_directories(root / "c");
  fs::create_directory_symlink("/usr", root / "link");
  std::ofstream(root / "file.txt") << "x";
  const auto plan = plan_marks({root.string(), (root / "a").string(), "/no/such/folder"}, {(root / "skip").string()}, 100);
  EXPECT_TRUE(plan.mounts.empty());
  const std::vector<std::string> want = {root.string(), (root / "a").string(), (root / "a" / "b").string(),
                                         (root / "c").string()};
  EXPECT_EQ(plan.dirs, want);
  ASSERT_EQ(plan.errors.size(), 1u);
  EXPECT_NE(plan.errors[0].find("/no/such/folder"), std::string::npos);
  EXPECT_FALSE(plan.truncated);

  const auto small = plan_marks({root.string()}, {}, 3);
  EXPECT_TRUE(small.truncated);
  EXPECT_EQ(small.dirs.size(), 3u);
  EXPECT_EQ(small.dirs.front(), root.string());  // breadth-first: the include path itself is always kept
  // A mount point gets one mount mark instead of a walk.
  const auto proc = plan_marks({"/proc"}, {}, 10);
  EXPECT_EQ(proc.mounts, std::vector<std::string>{"/proc"});
  EXPECT_TRUE(proc.dirs.empty());
  fs::remove_all(root);
}

TEST(OnAccessConfig, ReadsTheOnAccessOptions) {
  auto r = parse_config(
      "LocalSocket /tmp/x.ctl\nOnAccessIncludePath /home\nOnAccessIncludePath /srv/\nOnAccessExcludePath /home/big\n"
      "OnAccessPrevention yes\nOnAccessExtraScanning yes\nOnAccessTimeout 1500\nOnAccessMaxFileSize 2M\n"
      "OnAccessMaxThreads 3\nStreamSpoolThreshold 1M\nTemporaryDirectory /var/tmp\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& c = r->config;
  EXPECT_EQ(c.onaccess_include, (std::vector<std::string>{"/home", "/srv"}));  // trailing slash dropped
  EXPECT_EQ(c.onaccess_exclude, std::vector<std::string>{"/home/big"});
  EXPECT_TRUE(c.onaccess_prevention);
  EXPECT_TRUE(c.onaccess_extra_scanning);
  EXPECT_EQ(c.onaccess_timeout_ms, 1500);
  EXPECT_EQ(c.onaccess_max_file_size, 2ull << 20);
  EXPECT_EQ(c.onaccess_max_threads, 3);
  EXPECT_EQ(c.stream_spool_threshold, 1ull << 20);
  EXPECT_EQ(c.temporary_directory, "/var/tmp");
  EXPECT_TRUE(r->warnings.empty());

  EXPECT_FALSE(parse_config("OnAccessIncludePath relative/dir\n").ok());
  EXPECT_FALSE(parse_config("OnAccessTimeout 0\n").ok());
  auto w = parse_config("LocalSocket /tmp/x.ctl\nOnAccessPrevention yes\n");
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->warnings.size(), 1u);
  EXPECT_NE(w->warnings[0].find("no OnAccessIncludePath"), std::string::npos);
}

// ---- the real daemon ----

namespace {

// Empty when this process can use fanotify permission events on `dir`, else why not.
std::string fanotify_unavailable(const fs::path& dir) {
  const int fd = ::fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY);
  if (fd < 0) return "fanotify_init(FAN_CLASS_CONTENT) failed: "s + std::strerror(errno);
  std::string why;
  if (::fanotify_mark(fd, FAN_MARK_ADD, FAN_OPEN_PERM | FAN_EVENT_ON_CHILD, AT_FDCWD, dir.c_str()) != 0)
    why = "fanotify_mark(FAN_OPEN_PERM) failed: "s + std::strerror(errno);
  ::close(fd);
  return why;
}

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

using mamori::test::TestDaemon;

// mamorid as these tests run it, ready once its marks are in place (logged after the sockets and the models).
// `hooks` lets the daemon honour test-only options such as OnAccessTestDelayMs. `own_namespace`: started through
// `unshare -m --propagation slave`, the mount namespace systemd's hardening settings give a service.
TestDaemon start_daemon(const fs::path& dir, const std::string& extra, bool hooks = false, bool own_namespace = false) {
  std::vector<std::string> launcher;
  if (own_namespace) launcher = {"/usr/bin/unshare", "-m", "--propagation", "slave"};
  return TestDaemon(dir, {"LogVerbose yes\nMaxThreads 2\n" + extra, "On-access: protecting",
                          {hooks ? "MAMORI_TEST_HOOKS=1" : "MAMORI_TEST_HOOKS"}, launcher});
}

struct Opened {
  int fd = -1;
  int err = 0;
  bool hung = false;  // the daemon had to be killed to release the open
  double ms = 0;
};

// open(2) from another thread; if the daemon has not answered within 20 s it is killed, which releases the open.
Opened guarded_open(TestDaemon& d, const fs::path& p, int flags = O_RDONLY) {
  const auto t0 = std::chrono::steady_clock::now();
  auto f = std::async(std::launch::async, [p, flags] {
    Opened o;
    o.fd = ::open(p.c_str(), flags | O_CLOEXEC, 0644);
    o.err = o.fd < 0 ? errno : 0;
    return o;
  });
  bool hung = false;
  if (f.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    hung = true;
    d.kill_now();
  }
  Opened o = f.get();
  o.hung = hung;
  o.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (o.fd >= 0) ::close(o.fd);
  return o;
}

// Waits up to 5 s for `needle` to appear `n` times in the daemon's log.
bool wait_for(const TestDaemon& d, const std::string& needle, std::size_t n) {
  for (int i = 0; i < 50; ++i) {
    if (count(d.log(), needle) >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// The numbers after each word of STATS' "ONACCESS:" line ("events 5 allowed 3 ..."), by word.
std::map<std::string, long> onaccess_stats(const std::string& stats) {
  std::map<std::string, long> out;
  const auto at = stats.find("\nONACCESS: ");
  if (at == std::string::npos) return out;
  std::istringstream in(stats.substr(at + 11, stats.find('\n', at + 1) - at - 11));
  std::string word;
  long n;
  while (in >> word >> n) out[word] = n;
  return out;
}

using mamori::test::write_file;

class OnAccessLive : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mamori::test::fresh_test_dir("onaccess");
    fs::create_directories(dir_ / "guarded" / "sub");
    fs::create_directories(dir_ / "guarded" / "excluded");
    if (const auto why = fanotify_unavailable(dir_ / "guarded"); !why.empty())
      GTEST_SKIP() << "fanotify permission events are unavailable here: " << why;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// Over MaxFileSize (100K in these configs): reported Mamori.Limits.Exceeded.FileSize by the engine, a verdict
// that needs no model score.
const std::string kFlagged(150 * 1024, 'b');
const std::string kBenign = "minutes of the weekly meeting\n";

}  // namespace

TEST_F(OnAccessLive, DeniesDetectedFilesAllowsCleanOnesAndCachesCleanVerdicts) {
  const auto g = dir_ / "guarded";
  write_file(g / "bad.bin", kFlagged);
  write_file(g / "sub" / "bad.bin", kFlagged);
  write_file(g / "excluded" / "bad.bin", kFlagged);
  write_file(g / "notes.txt", kBenign);
  auto d = start_daemon(dir_, "MaxFileSize 100K\nOnAccessIncludePath " + g.string() + "\nOnAccessExcludePath " +
      (g / "excluded").string() + "\nOnAccessPrevention yes\nOnAccessExtraScanning yes\n");
  ASSERT_TRUE(d.ready()) << d.log();

  const auto bad = guarded_open(d, g / "bad.bin");
  EXPECT_FALSE(bad.hung);
  EXPECT_EQ(bad.fd, -1);
  EXPECT_EQ(bad.err, EPERM) << std::strerror(bad.err);
  const auto sub = guarded_open(d, g / "sub" / "bad.bin");  // a subfolder marked by the walk
  EXPECT_EQ(sub.err, EPERM) << std::strerror(sub.err);
  const auto excluded = guarded_open(d, g / "excluded" / "bad.bin");
  EXPECT_GE(excluded.fd, 0) << std::strerror(excluded.err);
  EXPECT_NE(d.log().find((g / "bad.bin").string() + ": Mamori.Limits.Exceeded.FileSize FOUND (access denied)"),
            std::string::npos)
      << d.log();

  // Clean: allowed, scanned once, then answered from the cache. Written (the open for writing is a cache hit),
  // the file is scanned again when closed (OnAccessExtraScanning), and that verdict serves the next open.
  const auto notes = (g / "notes.txt").string();
  EXPECT_GE(guarded_open(d, g / "notes.txt").fd, 0);
  EXPECT_GE(guarded_open(d, g / "notes.txt").fd, 0);
  EXPECT_EQ(count(d.log(), notes + ": OK (scanned in"), 1u) << d.log();
  EXPECT_EQ(count(d.log(), notes + ": OK (cached)"), 1u) << d.log();
  write_file(g / "notes.txt", kBenign + "and a second line\n");
  EXPECT_TRUE(wait_for(d, notes + ": OK (scanned after writing in", 1)) << d.log();
  EXPECT_GE(guarded_open(d, g / "notes.txt").fd, 0);
  EXPECT_EQ(count(d.log(), notes + ": OK (scanned in"), 1u) << d.log();
  EXPECT_EQ(count(d.log(), notes + ": OK (cached)"), 3u) << d.log();

  // A clean file overwritten with flagged content is denied at its next open, and OnAccessExtraScanning reports it
  // when it is closed.
  write_file(g / "notes.txt", kFlagged);
  const auto now_bad = guarded_open(d, g / "notes.txt");
  EXPECT_EQ(now_bad.err, EPERM);
  EXPECT_TRUE(wait_for(d, notes + ": Mamori.Limits.Exceeded.FileSize FOUND (written)", 1)) << d.log();

  // Executing a detected file is refused as well.
  write_file(g / "run.sh", "#!/bin/sh\nexit 0\n" + std::string(150 * 1024, '#') + "\n");
  fs::permissions(g / "run.sh", fs::perms::owner_all);
  const pid_t child = ::fork();
  if (child == 0) {
    ::execl((g / "run.sh").c_str(), "run.sh", static_cast<char*>(nullptr));
    ::_exit(errno == EPERM ? 42 : 43);
  }
  int st = 0;
  for (int i = 0; i < 200 && ::waitpid(child, &st, WNOHANG) != child; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (i == 199) {
      d.kill_now();
      ::waitpid(child, &st, 0);
    }
  }
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 42) << "exec status " << st;

  // mamorid's own reads of protected files are never held (a SCAN would otherwise wait on itself).
  EXPECT_EQ(d.ask("nSCAN " + (g / "bad.bin").string() + "\n"),
            (g / "bad.bin").string() + ": Mamori.Limits.Exceeded.FileSize FOUND\n");
  EXPECT_EQ(d.stop(), 0);
  // Once the daemon is gone nothing is denied any more.
  const int after = ::open((g / "bad.bin").c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(after, 0);
  if (after >= 0) ::close(after);
}

TEST_F(OnAccessLive, WritingAFileDropsItsCachedVerdict) {
  const auto g = dir_ / "guarded";
  write_file(g / "notes.txt", kBenign);
  auto d = start_daemon(dir_, "MaxFileSize 100K\nOnAccessIncludePath " + g.string() + "\nOnAccessPrevention yes\n");
  ASSERT_TRUE(d.ready()) << d.log();
  const auto notes = (g / "notes.txt").string();
  EXPECT_GE(guarded_open(d, g / "notes.txt").fd, 0);
  EXPECT_GE(guarded_open(d, g / "notes.txt").fd, 0);
  EXPECT_EQ(count(d.log(), notes + ": OK (scanned in"), 1u) << d.log();
  EXPECT_EQ(count(d.log(), notes + ": OK (cached)"), 1u) << d.log();
  write_file(g / "notes.txt", kBenign + "and a second line\n");  // the open for writing is a cache hit
  EXPECT_GE(guarded_open(d, g / "notes.txt").fd, 0);
  EXPECT_EQ(count(d.log(), notes + ": OK (scanned in"), 2u) << d.log();
  EXPECT_EQ(count(d.log(), notes + ": OK (cached)"), 2u) << d.log();
  // Flagged content written into the cached file is denied at the next open.
  write_file(g / "notes.txt", kFlagged);
  EXPECT_EQ(guarded_open(d, g / "notes.txt").err, EPERM);
}

TEST_F(OnAccessLive, FoldersCreatedLaterAreProtectedToo) {
  const auto g = dir_ / "guarded";
  auto d = start_daemon(dir_, "MaxFileSize 100K\nOnAccessIncludePath " + g.string() + "\nOnAccessPrevention yes\n");
  ASSERT_TRUE(d.ready()) << d.log();
  fs::create_directories(g / "new" / "deeper");
  ASSERT_TRUE(wait_for(d, "On-access: new folder " + (g / "new").string() + " protected", 1)) << d.log();
  ASSERT_TRUE(wait_for(d, "On-access: new folder " + (g / "new" / "deeper").string() + " protected", 1)) << d.log();
  write_file(g / "new" / "deeper" / "bad.bin", kFlagged);
  EXPECT_EQ(guarded_open(d, g / "new" / "deeper" / "bad.bin").err, EPERM);
  write_file(g / "new" / "ok.txt", kBenign);
  EXPECT_GE(guarded_open(d, g / "new" / "ok.txt").fd, 0);
}

TEST_F(OnAccessLive, ScanSlowerThanTheTimeoutFailsOpen) {
  const auto g = dir_ / "guarded";
  write_file(g / "bad.bin", kFlagged);
  // Every scan is held 3 s by the test hook; the timeout is 300 ms.
  auto d = start_daemon(dir_, "MaxFileSize 100K\nOnAccessIncludePath " + g.string() +
      "\nOnAccessPrevention yes\nOnAccessTimeout 300\nOnAccessTestDelayMs 3000\n", true);
  ASSERT_TRUE(d.ready()) << d.log();
  const auto o = guarded_open(d, g / "bad.bin");
  EXPECT_FALSE(o.hung);
  EXPECT_GE(o.fd, 0) << std::strerror(o.err);  // allowed although the file is flagged: the scan came too late
  EXPECT_GE(o.ms, 250.0);
  EXPECT_LT(o.ms, 2500.0);
  const auto path = (g / "bad.bin").string();
  EXPECT_NE(d.log().find(path + ": not scanned within OnAccessTimeout (300 ms), access allowed (fail-open)"), std::string::npos)
      << d.log();
  // The late verdict is still logged.
  EXPECT_TRUE(wait_for(d, path + ": Mamori.Limits.Exceeded.FileSize FOUND (already allowed: the scan timed out)", 1)) << d.log();
  const auto n = onaccess_stats(d.ask("nSTATS\n"));
  ASSERT_FALSE(n.empty());
  EXPECT_EQ(n.at("fail-open"), 1);
  EXPECT_EQ(n.at("denied"), 0);
  EXPECT_EQ(n.at("found"), 1);
  EXPECT_EQ(d.stop(), 0);
}

TEST_F(OnAccessLive, TestDelayNeedsTheHooksVariable) {
  const auto g = dir_ / "guarded";
  write_file(g / "bad.bin", kFlagged);
  auto d = start_daemon(dir_, "MaxFileSize 100K\nOnAccessIncludePath " + g.string() +
      "\nOnAccessPrevention yes\nOnAccessTimeout 300\nOnAccessTestDelayMs 3000\n", false);
  ASSERT_TRUE(d.ready()) << d.log();
  EXPECT_NE(d.log().find("OnAccessTestDelayMs is a test hook, ignored without MAMORI_TEST_HOOKS=1"), std::string::npos);
  EXPECT_EQ(guarded_open(d, g / "bad.bin").err, EPERM);  // scanned in time: denied
}

TEST_F(OnAccessLive, WithoutPreventionDetectionsAreLoggedNotDenied) {
  const auto g = dir_ / "guarded";
  write_file(g / "bad.bin", kFlagged);
  auto d = start_daemon(dir_, "MaxFileSize 100K\nOnAccessIncludePath " + g.string() + "\n");
  ASSERT_TRUE(d.ready()) << d.log();
  EXPECT_GE(guarded_open(d, g / "bad.bin").fd, 0);
  EXPECT_TRUE(wait_for(d, (g / "bad.bin").string() + ": Mamori.Limits.Exceeded.FileSize FOUND (access allowed: OnAccessPrevention no)", 1))
      << d.log();
}

TEST_F(OnAccessLive, AnIncludePathThatCannotBeMarkedStopsTheDaemon) {
  auto d = start_daemon(dir_, "OnAccessIncludePath " + (dir_ / "missing").string() + "\n");
  EXPECT_FALSE(d.ready());
  EXPECT_NE(d.log().find("On-access: nothing could be marked"), std::string::npos) << d.log();
}

// MamoriQuarantine with prevention: a denied file and a file found when closed after writing are moved into the
// vault; STATS counts what on-access did.
TEST_F(OnAccessLive, DetectionsAreQuarantinedAndCounted) {
  const auto g = dir_ / "guarded";
  write_file(g / "bad.bin", kFlagged);
  write_file(g / "notes.txt", kBenign);
  auto d = start_daemon(dir_, "MaxFileSize 100K\nOnAccessIncludePath " + g.string() +
      "\nOnAccessPrevention yes\nOnAccessExtraScanning yes\nMamoriQuarantine yes\n"
      "MamoriQuarantineDir " + (dir_ / "vault").string() + "\n");
  ASSERT_TRUE(d.ready()) << d.log();
  const auto bad = guarded_open(d, g / "bad.bin");
  EXPECT_EQ(bad.err, EPERM) << std::strerror(bad.err);
  EXPECT_TRUE(wait_for(d, (g / "bad.bin").string() + ": quarantined as entry 1", 1)) << d.log();
  EXPECT_FALSE(fs::exists(g / "bad.bin"));
  EXPECT_GE(guarded_open(d, g / "notes.txt").fd, 0);
  EXPECT_GE(guarded_open(d, g / "notes.txt").fd, 0);  // from the cache
  // Written by someone, found when closed: moved although nobody opened it since.
  write_file(g / "dropped.bin", kFlagged);
  EXPECT_TRUE(wait_for(d, (g / "dropped.bin").string() + ": quarantined as entry 2", 1)) << d.log();
  EXPECT_FALSE(fs::exists(g / "dropped.bin"));
  EXPECT_TRUE(wait_for(d, (g / "dropped.bin").string() + ": Mamori.Limits.Exceeded.FileSize FOUND (written)", 1));

  const auto n = onaccess_stats(d.ask("nSTATS\n"));
  ASSERT_FALSE(n.empty()) << d.ask("nSTATS\n");
  EXPECT_EQ(n.at("denied"), 1);
  EXPECT_EQ(n.at("cache-hits"), 1);
  EXPECT_EQ(n.at("fail-open"), 0);
  EXPECT_EQ(n.at("unscanned"), 0);
  EXPECT_EQ(n.at("found"), 2);            // bad.bin at open, dropped.bin after writing
  EXPECT_GE(n.at("allowed"), 2);          // notes.txt twice, plus the open for writing dropped.bin
  EXPECT_GE(n.at("events"), 5);
  EXPECT_NE(d.ask("nSTATS\n").find("\nQUARANTINE: moved 2 stored 0 failed 0\n"), std::string::npos);
  EXPECT_EQ(d.stop(), 0);

  auto v = mamori::quarantine::Vault::open((dir_ / "vault").string());
  ASSERT_TRUE(v.ok()) << v.error().message;
  auto l = (*v)->list();
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[0].via, "mamorid on-access");
  EXPECT_EQ((*l)[0].size, kFlagged.size());
  ASSERT_TRUE((*v)->restore((*l)[0].id, {}).ok());
  std::ifstream back(g / "bad.bin", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(back), {}), kFlagged);
}

// Without prevention on-access only logs: nothing is moved even with MamoriQuarantine.
TEST_F(OnAccessLive, LoggingOnlyModeMovesNothing) {
  const auto g = dir_ / "guarded";
  write_file(g / "bad.bin", kFlagged);
  auto d = start_daemon(dir_, "MaxFileSize 100K\nOnAccessIncludePath " + g.string() + "\nMamoriQuarantine yes\n"
      "MamoriQuarantineDir " + (dir_ / "vault").string() + "\n");
  ASSERT_TRUE(d.ready()) << d.log();
  EXPECT_GE(guarded_open(d, g / "bad.bin").fd, 0);
  EXPECT_TRUE(wait_for(d, (g / "bad.bin").string() + ": Mamori.Limits.Exceeded.FileSize FOUND (access allowed", 1)) << d.log();
  const auto n = onaccess_stats(d.ask("nSTATS\n"));
  EXPECT_EQ(n.at("allowed"), 0);  // no permission events in this mode
  EXPECT_EQ(n.at("denied"), 0);
  EXPECT_EQ(n.at("found"), 1);
  EXPECT_EQ(d.stop(), 0);
  EXPECT_TRUE(fs::exists(g / "bad.bin"));
}

// An include path that is a mount point, with mamorid in a mount namespace of its own (what ProtectSystem= and
// friends do under systemd): a mount mark there would see only the namespace's own opens (measured: the host's open
// of a flagged file was allowed), so mamorid marks the folders instead and the host's open is denied.
TEST_F(OnAccessLive, OwnMountNamespaceFallsBackToDirectoryMarks) {
  if (!fs::exists("/usr/bin/unshare")) GTEST_SKIP() << "no /usr/bin/unshare";
  const auto m = dir_ / "guarded" / "mnt";
  fs::create_directories(m);
  if (::mount("tmpfs", m.c_str(), "tmpfs", 0, "size=4m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  struct Unmount {
    fs::path p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{m};
  write_file(m / "bad.bin", kFlagged);
  auto d = start_daemon(dir_, "MaxFileSize 100K\nOnAccessIncludePath " + m.string() + "\nOnAccessPrevention yes\n", false, true);
  ASSERT_TRUE(d.ready()) << d.log();
  EXPECT_NE(d.log().find("runs in a mount namespace of its own"), std::string::npos) << d.log();
  EXPECT_EQ(d.log().find("protecting the mount"), std::string::npos) << d.log();
  EXPECT_EQ(guarded_open(d, m / "bad.bin").err, EPERM);
  EXPECT_EQ(d.stop(), 0);
}
