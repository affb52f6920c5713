// The quarantine through the real `mamori` executable: `scan --quarantine`, the `quarantine` subcommands and their
// exit codes, and crash safety: the process is SIGKILLed at every step of a move, restore and delete
// (MAMORI_QUARANTINE_CRASH_AT), restarted, and no file may be lost or duplicated.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/hash.hpp"
#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;

namespace {

using mamori::test::random_bytes;
using mamori::test::slurp;

using mamori::test::Proc;

std::string sha(const std::string& s) { return mamori::sha256_hex(mamori::ByteView(s.data(), s.size())); }

class QuarantineCli : public ::testing::Test {
 protected:
  void SetUp() override {
    root = mamori::test::fresh_test_dir("mamori-qc");
    fs::create_directories(root / "data");
    vault = root / "vault";
    env = {"MAMORI_QUARANTINE_DIR=" + vault.string()};
  }
  void TearDown() override { fs::remove_all(root); }
  fs::path write(const std::string& rel, const std::string& content) {
    return mamori::test::write_file(root / "data" / rel, content);
  }
  Proc run(const std::vector<std::string>& args, std::vector<std::string> extra_env = {}) {
    for (const auto& e : env) extra_env.push_back(e);
    return mamori::test::run_mamori(args, extra_env);
  }
  nlohmann::json list_json(const std::string& extra = "") {
    std::vector<std::string> a{"quarantine", "list", "--json"};
    if (!extra.empty()) a.push_back(extra);
    const auto r = run(a);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  std::size_t vault_files() const {
    std::size_t n = 0;
    if (!fs::exists(vault / "files")) return 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(vault / "files")) ++n;
    return n;
  }
  fs::path root, vault;
  std::vector<std::string> env;
};

TEST_F(QuarantineCli, ScanQuarantineMovesWhatIsFoundAndLeavesTheRest) {
  const std::string evil = random_bytes(5000, 1);
  const auto bad = write("dl/big.bin", evil);
  const auto notes = write("dl/notes.txt", "weekly meeting notes");
  const auto pe_like = write("dl/sub/readme.md", "# readme\n");
  const auto r = run({"scan", "--quarantine", "--max-filesize", "1000", (root / "data").string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find(bad.string() + ": Mamori.Limits.Exceeded.FileSize FOUND"), std::string::npos) << r.out;
  const std::string marker = bad.string() + ": quarantined as entry 1 (" + vault.string() + "/files/";
  const auto at = r.out.find(marker);
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string vf = r.out.substr(at + marker.size() - (vault.string() + "/files/").size(),
                                      r.out.find(')', at) - (at + marker.size() - (vault.string() + "/files/").size()));
  EXPECT_TRUE(fs::exists(vf)) << vf;
  EXPECT_NE(r.out.find("Quarantined files: 1"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(bad));
  EXPECT_EQ(slurp(notes), "weekly meeting notes");
  EXPECT_EQ(slurp(pe_like), "# readme\n");
  // The listing names it; show has every field; restore brings the same bytes back.
  const auto l = list_json();
  ASSERT_TRUE(l.is_array());
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]["original_path"], bad.string());
  EXPECT_EQ(l[0]["sha256"], sha(evil));
  EXPECT_EQ(l[0]["signature"], "Mamori.Limits.Exceeded.FileSize");
  EXPECT_EQ(l[0]["vault_file"], vf);
  const auto text = run({"quarantine", "list"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find(bad.string()), std::string::npos) << text.out;
  const auto show = run({"quarantine", "show", "1"});
  EXPECT_EQ(show.exit_code, 0);
  for (const char* k : {"original_path:", "sha256:", "mode:", "uid:", "mtime:", "quarantined_by:", "signature:"})
    EXPECT_NE(show.out.find(k), std::string::npos) << k << "\n" << show.out;
  const auto back = run({"quarantine", "restore", "1"});
  EXPECT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(slurp(bad), evil);
}

TEST_F(QuarantineCli, ScanQuarantineJsonSaysWhere) {
  const auto bad = write("big.bin", random_bytes(3000, 2));
  const auto r = run({"scan", "--json", "--quarantine-dir", (root / "v2").string(), "--max-filesize", "100", bad.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  ASSERT_TRUE(j.contains("quarantine")) << r.out;
  EXPECT_EQ(j["quarantine"]["id"], 1);
  EXPECT_TRUE(fs::exists(j["quarantine"]["vault_file"].get<std::string>()));
  EXPECT_EQ(j["quarantine"]["vault_file"].get<std::string>().rfind((root / "v2" / "files").string(), 0), 0u);
}

TEST_F(QuarantineCli, ExitCodes) {
  const std::string content = random_bytes(2000, 3);
  const auto p = write("x.bin", content);
  ASSERT_EQ(run({"scan", "--quarantine", "--max-filesize", "10", p.string()}).exit_code, 1);
  EXPECT_EQ(run({"quarantine", "show", "99"}).exit_code, 3);
  EXPECT_EQ(run({"quarantine", "restore", "99"}).exit_code, 3);
  EXPECT_EQ(run({"quarantine", "delete", "99"}).exit_code, 3);
  EXPECT_EQ(run({"quarantine", "bogus"}).exit_code, 2);
  EXPECT_EQ(run({"quarantine", "restore"}).exit_code, 2);
  write("x.bin", "occupied");
  const auto refused = run({"quarantine", "restore", "1"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;
  EXPECT_EQ(run({"quarantine", "verify", "1"}).exit_code, 0);
  EXPECT_EQ(run({"quarantine", "restore", "1", "--force"}).exit_code, 0);
  EXPECT_EQ(slurp(p), content);
  ASSERT_EQ(run({"scan", "--quarantine", "--max-filesize", "10", p.string()}).exit_code, 1);
  EXPECT_EQ(run({"quarantine", "delete", "2"}).exit_code, 0);
  EXPECT_EQ(run({"quarantine", "delete", "2"}).exit_code, 1);  // already deleted: not in the vault
  EXPECT_EQ(list_json().size(), 0u);
  EXPECT_EQ(list_json("--all").size(), 2u);
  // A damaged database: exit 2 with a message naming it.
  std::ofstream(vault / "quarantine.db", std::ios::binary | std::ios::trunc) << random_bytes(4096, 4);
  const auto broken = run({"quarantine", "list"});
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_NE(broken.err.find("quarantine database"), std::string::npos) << broken.err;
  write("x.bin", content);
  const auto scan_broken = run({"scan", "--quarantine", "--max-filesize", "10", p.string()});
  EXPECT_EQ(scan_broken.exit_code, 2);
  EXPECT_TRUE(fs::exists(p));
}

struct CrashCase {
  const char* step;
  bool ends_in_vault;  // after the restart: moved (true) or rolled back (false)
};

// Kills `mamori scan --quarantine` right after each step, restarts (`quarantine list`), and checks that exactly
// one of these holds: the original is in place with its sha256 and the vault is empty, or the original is gone
// and the vault holds one entry that restores to the same sha256.
TEST_F(QuarantineCli, KilledAtEveryStepOfAMoveNothingIsLostOrDuplicated) {
  const CrashCase cases[] = {{"journal", false},   {"partial-copy", false}, {"copy-fsync", false},
                             {"vault-rename", false}, {"db-copied", true},  {"unlink", true},
                             {"db-done", true}};
  int n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.step);
    fs::remove_all(vault);
    // Larger than one copy chunk, so "partial-copy" really is partial.
    const std::string content = random_bytes(300000, 100 + static_cast<unsigned>(n++));
    const auto p = write("case/evil.bin", content);
    ::chmod(p.c_str(), 0640);
    const auto killed = run({"scan", "--quarantine", "--max-filesize", "1000", p.string()},
                            {std::string("MAMORI_QUARANTINE_CRASH_AT=") + c.step});
    ASSERT_EQ(killed.signal, SIGKILL) << "exit " << killed.exit_code << "\n" << killed.out << killed.err;
    // The restart: any quarantine command finishes or rolls back first.
    const auto l = list_json();
    ASSERT_TRUE(l.is_array());
    const bool in_place = fs::exists(p);
    EXPECT_NE(in_place, l.size() == 1u) << "in place: " << in_place << ", entries: " << l.size();
    EXPECT_EQ(!in_place, c.ends_in_vault);
    if (in_place) {
      EXPECT_EQ(sha(slurp(p)), sha(content));
      EXPECT_EQ(l.size(), 0u);
      EXPECT_EQ(vault_files(), 0u);  // no partial or orphaned vault file
      EXPECT_EQ(list_json("--all").size(), 0u);
    } else {
      ASSERT_EQ(l.size(), 1u);
      EXPECT_EQ(l[0]["sha256"], sha(content));
      EXPECT_EQ(vault_files(), 1u);
      const auto back = run({"quarantine", "restore", std::to_string(l[0]["id"].get<int>())});
      EXPECT_EQ(back.exit_code, 0) << back.err;
      EXPECT_EQ(sha(slurp(p)), sha(content));
      struct stat st{};
      ASSERT_EQ(::stat(p.c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 07777, 0640u);
      EXPECT_EQ(vault_files(), 0u);
    }
    fs::remove(p);
  }
}

TEST_F(QuarantineCli, KilledAtEveryStepOfARestoreOrDeleteNothingIsLostOrDuplicated) {
  const CrashCase restore_cases[] = {{"restore-journal", true}, {"restore-partial", true},
                                     {"restore-fsync", true}, {"restore-placed", false}};
  int n = 0;
  for (const auto& c : restore_cases) {
    SCOPED_TRACE(c.step);
    fs::remove_all(vault);
    const std::string content = random_bytes(300000, 200 + static_cast<unsigned>(n++));
    const auto p = write("r/evil.bin", content);
    ASSERT_EQ(run({"scan", "--quarantine", "--max-filesize", "1000", p.string()}).exit_code, 1);
    ASSERT_FALSE(fs::exists(p));
    const auto killed = run({"quarantine", "restore", "1"}, {std::string("MAMORI_QUARANTINE_CRASH_AT=") + c.step});
    ASSERT_EQ(killed.signal, SIGKILL) << killed.out << killed.err;
    const auto l = list_json();
    const bool in_place = fs::exists(p);
    EXPECT_NE(in_place, l.size() == 1u);
    EXPECT_EQ(!in_place, c.ends_in_vault);
    // No temporary restore file is left behind.
    EXPECT_EQ(std::distance(fs::directory_iterator(p.parent_path()), fs::directory_iterator()), in_place ? 1 : 0);
    if (in_place) {
      EXPECT_EQ(sha(slurp(p)), sha(content));
      EXPECT_EQ(vault_files(), 0u);
    } else {
      EXPECT_EQ(vault_files(), 1u);
      EXPECT_EQ(run({"quarantine", "restore", "1"}).exit_code, 0);
      EXPECT_EQ(sha(slurp(p)), sha(content));
    }
    fs::remove(p);
  }
  for (const char* step : {"delete-journal", "delete-unlink"}) {
    SCOPED_TRACE(step);
    fs::remove_all(vault);
    const auto p = write("d/evil.bin", random_bytes(1000, 300));
    ASSERT_EQ(run({"scan", "--quarantine", "--max-filesize", "10", p.string()}).exit_code, 1);
    const auto killed = run({"quarantine", "delete", "1"}, {std::string("MAMORI_QUARANTINE_CRASH_AT=") + step});
    ASSERT_EQ(killed.signal, SIGKILL);
    EXPECT_EQ(list_json().size(), 0u);
    EXPECT_EQ(vault_files(), 0u);
    const auto all = list_json("--all");
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0]["state"], "deleted");
  }
}

}  // namespace
