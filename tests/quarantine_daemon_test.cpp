// mamorid with MamoriQuarantine: files found by a path SCAN or FILDES move into the vault; with
// MamoriQuarantineStreams, INSTREAM data found is stored there too; the replies stay clamd's byte for byte.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/hash.hpp"
#include "daemon/config.hpp"
#include "quarantine/quarantine.hpp"
#include "support/archive_builder.hpp"
#include "support/daemon.hpp"
#include "support/files.hpp"

namespace fs = std::filesystem;
using namespace std::string_literals;
using mamori::test::instream;
using mamori::test::slurp;
using mamori::test::TestDaemon;

namespace {

// A zip of 3.2 MB of repeated text that inflates about 400 times over (past MaxRatio 10 x its size + the engine's
// 1 MiB slack; runs of one byte value would not count): Mamori.Limits.Exceeded.Ratio, a detection whose bytes are
// all kept (unlike one over MaxFileSize) and that needs no model score.
std::string ratio_bomb() {
  std::string text;
  for (int i = 0; i < 100000; ++i) text += "meeting notes, line after line. ";
  const auto z = mamori::test::make_zip({{"notes.txt", mamori::test::Blob(text.begin(), text.end()), true}});
  return std::string(z.begin(), z.end());
}

// mamorid in the foreground on its own socket with a vault, MaxFileSize 100K and MaxRatio 10; `crash_at` arms
// the quarantine's crash hook in the daemon only.
TestDaemon::Options qdaemon(const fs::path& dir, const std::string& extra, const std::string& crash_at = "") {
  return {"LogVerbose yes\nMaxThreads 2\nMaxFileSize 100K\nMaxRatio 10\nMamoriQuarantineDir " + (dir / "vault").string() +
              "\n" + extra,
          {},
          {crash_at.empty() ? "MAMORI_QUARANTINE_CRASH_AT" : "MAMORI_QUARANTINE_CRASH_AT=" + crash_at}};
}

fs::path fresh_dir() {
  const fs::path dir = mamori::test::fresh_test_dir("mamori-qd");
  fs::create_directories(dir / "data");
  return dir;
}

TEST(QuarantineDaemon, ConfigOptions) {
  auto r = mamori::daemon::parse_config("LocalSocket /tmp/x\nMamoriQuarantine yes\nMamoriQuarantineDir /srv/q\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->config.quarantine);
  EXPECT_EQ(r->config.quarantine_dir, "/srv/q");
  EXPECT_TRUE(r->warnings.empty());
  auto d = mamori::daemon::parse_config("LocalSocket /tmp/x\n");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->config.quarantine);
  EXPECT_FALSE(mamori::daemon::parse_config("LocalSocket /tmp/x\nMamoriQuarantine perhaps\n").ok());
}

TEST(QuarantineDaemon, ScanMovesWhatIsFound) {
  const fs::path dir = fresh_dir();
  const std::string big(5000, 'A');
  std::ofstream(dir / "data" / "big.bin", std::ios::binary) << big;
  std::ofstream(dir / "data" / "small.txt") << "fine";
  const std::string config =
      "MaxThreads 2\nMaxFileSize 1000\nMamoriQuarantine yes\nMamoriQuarantineDir " + (dir / "vault").string() + "\n";
  TestDaemon d(dir, {config, {}, {}});
  ASSERT_TRUE(d.ready()) << d.log();
  const std::string reply = d.ask("nCONTSCAN " + (dir / "data").string() + "\n");
  EXPECT_NE(reply.find("big.bin: Mamori.Limits.Exceeded.FileSize FOUND"), std::string::npos) << reply;
  EXPECT_EQ(d.stop(), 0);
  const std::string log = d.log();
  EXPECT_FALSE(fs::exists(dir / "data" / "big.bin")) << log;
  EXPECT_TRUE(fs::exists(dir / "data" / "small.txt"));
  EXPECT_NE(log.find("big.bin: quarantined as entry 1"), std::string::npos) << log;
  auto v = mamori::quarantine::Vault::open((dir / "vault").string());
  ASSERT_TRUE(v.ok()) << v.error().message;
  auto l = (*v)->list();
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].via, "mamorid");
  EXPECT_EQ((*l)[0].size, big.size());
  ASSERT_TRUE((*v)->restore((*l)[0].id, {}).ok());
  EXPECT_EQ(slurp(dir / "data" / "big.bin"), big);
  fs::remove_all(dir);
}

TEST(QuarantineDaemon, StreamsAndDescriptorsGoToTheVaultWithClamdReplies) {
  const fs::path dir = fresh_dir();
  const std::string bomb = ratio_bomb();
  TestDaemon d(dir, qdaemon(dir, "MamoriQuarantine yes\nMamoriQuarantineStreams yes\n"));
  ASSERT_TRUE(d.ready()) << d.log();

  // INSTREAM found: the reply is clamd's, the stream is stored under origin "stream".
  EXPECT_EQ(d.ask(instream(bomb, 'z', 8192)), "stream: Mamori.Limits.Exceeded.Ratio FOUND\0"s);
  EXPECT_EQ(d.ask(instream("a clean little note", 'z', 8192)), "stream: OK\0"s);
  // Over MaxFileSize only the length was kept: found, not stored, and the log says why.
  EXPECT_EQ(d.ask(instream(std::string(150 * 1024, 'x'), 'z', 8192)), "stream: Mamori.Limits.Exceeded.FileSize FOUND\0"s);

  // FILDES of a named file moves that file; of an unlinked one stores its bytes under origin "fildes".
  const fs::path named = dir / "data" / "named.zip";
  std::ofstream(named, std::ios::binary) << bomb;
  int f = ::open(named.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(f, 0);
  std::string r = d.fildes(f);
  ::close(f);
  EXPECT_EQ(r.rfind("fd[", 0), 0u) << r;
  EXPECT_EQ(r.substr(r.find(']')), "]: Mamori.Limits.Exceeded.Ratio FOUND\0"s) << r;
  const fs::path gone = dir / "data" / "unlinked.zip";
  std::ofstream(gone, std::ios::binary) << bomb;
  f = ::open(gone.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(f, 0);
  fs::remove(gone);
  r = d.fildes(f);
  ::close(f);
  EXPECT_EQ(r.substr(r.find(']')), "]: Mamori.Limits.Exceeded.Ratio FOUND\0"s) << r;

  const std::string stats = d.ask("nSTATS\n");
  EXPECT_NE(stats.find("\nQUARANTINE: moved 1 stored 2 failed 1\nEND\n"), std::string::npos) << stats;
  EXPECT_EQ(stats.find("ONACCESS:"), std::string::npos) << stats;  // on-access is off here
  d.stop();

  const std::string log = d.log();
  EXPECT_FALSE(fs::exists(named)) << log;
  EXPECT_NE(log.find("not stored in the quarantine: its bytes were not kept"), std::string::npos) << log;
  auto v = mamori::quarantine::Vault::open((dir / "vault").string());
  ASSERT_TRUE(v.ok()) << v.error().message;
  auto l = (*v)->list();
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 3u) << log;
  const std::string bomb_sha = mamori::sha256_hex(mamori::ByteView(bomb.data(), bomb.size()));
  const auto& stream = (*l)[0];
  EXPECT_EQ(stream.original_path, "stream");
  EXPECT_EQ(stream.via.rfind("mamorid INSTREAM from local#", 0), 0u) << stream.via;
  EXPECT_EQ(stream.sha256, bomb_sha);
  EXPECT_EQ(stream.signature, "Mamori.Limits.Exceeded.Ratio");
  EXPECT_EQ((*l)[1].original_path, fs::canonical(dir / "data").string() + "/named.zip");
  EXPECT_EQ((*l)[1].via, "mamorid FILDES");
  EXPECT_EQ((*l)[2].original_path, "fildes");
  EXPECT_EQ((*l)[2].sha256, bomb_sha);
  // A stream comes back only where it is told to.
  EXPECT_FALSE((*v)->restore(stream.id, {}).ok());
  mamori::quarantine::RestoreOptions to;
  to.to = (dir / "data" / "from-stream.zip").string();
  ASSERT_TRUE((*v)->restore(stream.id, to).ok());
  EXPECT_EQ(slurp(dir / "data" / "from-stream.zip"), bomb);
  ASSERT_TRUE((*v)->restore((*l)[1].id, {}).ok());
  EXPECT_EQ(slurp(named), bomb);
  fs::remove_all(dir);
}

TEST(QuarantineDaemon, StreamsAreNotKeptUnlessAskedFor) {
  const fs::path dir = fresh_dir();
  TestDaemon d(dir, qdaemon(dir, "MamoriQuarantine yes\n"));
  ASSERT_TRUE(d.ready()) << d.log();
  EXPECT_EQ(d.ask(instream(ratio_bomb(), 'z', 8192)), "stream: Mamori.Limits.Exceeded.Ratio FOUND\0"s);
  EXPECT_NE(d.ask("nSTATS\n").find("\nQUARANTINE: moved 0 stored 0 failed 0\nEND\n"), std::string::npos);
  d.stop();
  auto v = mamori::quarantine::Vault::open((dir / "vault").string());
  ASSERT_TRUE(v.ok()) << v.error().message;
  auto l = (*v)->list(true);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->empty());
  fs::remove_all(dir);
}

// The store of a stream, SIGKILLed after each journalled step, then recovered by the next open: before the vault
// file is in place the entry vanishes without a trace (the client still has its data and got its reply); after, the
// entry is whole and restorable. Never a half entry, never a stray vault file.
TEST(QuarantineDaemon, KilledAtEveryStepOfAStreamStoreTheVaultStaysConsistent) {
  const std::string bomb = ratio_bomb();
  const std::string bomb_sha = mamori::sha256_hex(mamori::ByteView(bomb.data(), bomb.size()));
  for (const std::string step : {"journal", "partial-copy", "copy-fsync", "vault-rename", "db-done"}) {
    SCOPED_TRACE(step);
    const fs::path dir = fresh_dir();
    {
      TestDaemon d(dir, qdaemon(dir, "MamoriQuarantineStreams yes\n", step));
      ASSERT_TRUE(d.ready()) << d.log();
      EXPECT_EQ(d.ask(instream(bomb, 'z', 8192)), "stream: Mamori.Limits.Exceeded.Ratio FOUND\0"s);
      const int st = d.wait_exit();
      ASSERT_NE(st, -1) << "the crash hook did not fire";
      EXPECT_EQ(st, 128 + SIGKILL);
    }
    auto v = mamori::quarantine::Vault::open((dir / "vault").string());
    ASSERT_TRUE(v.ok()) << v.error().message;
    auto all = (*v)->list(true);
    ASSERT_TRUE(all.ok());
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir / "vault" / "files")) files += e.is_regular_file() ? 1 : 0;
    const bool whole = step == "vault-rename" || step == "db-done";
    if (!whole) {
      EXPECT_TRUE(all->empty());
      EXPECT_EQ(files, 0u);
    } else {
      ASSERT_EQ(all->size(), 1u);
      EXPECT_EQ((*all)[0].state, mamori::quarantine::State::quarantined);
      EXPECT_EQ((*all)[0].sha256, bomb_sha);
      EXPECT_EQ(files, 1u);
      EXPECT_TRUE((*v)->verify((*all)[0].id).ok());
    }
    fs::remove_all(dir);
  }
}

}  // namespace
