// End-to-end tests of the `mamori` executable: output format, exit codes, JSON fields, limits, odd files.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/pe_builder.hpp"
#include "support/files.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;

namespace {

using mamori::test::run_mamori;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = mamori::test::fresh_test_dir("mamori-cli");
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path write(const std::string& name, const std::vector<std::uint8_t>& bytes) {
    const auto p = dir / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  fs::path write(const std::string& name, const std::string& s) { return write(name, std::vector<std::uint8_t>(s.begin(), s.end())); }
  fs::path dir;
};

std::vector<std::uint8_t> a_pe() {
  mamori::test::PeSpec s;
  s.sections.push_back({".text", mamori::test::scn_code, std::vector<std::uint8_t>(2048, 0xC3)});
  s.imports.push_back({"KERNEL32.dll", {mamori::test::ImportFn::by_name("ExitProcess")}});
  return mamori::test::build_pe(s).bytes;
}

}  // namespace

TEST_F(Cli, CleanFileIsOkWithExitCodeZero) {
  const auto p = write("notes.txt", "just some notes about the weekly meeting");
  const auto r = run_mamori({"scan", p.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find(p.string() + ": OK\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("----------- SCAN SUMMARY -----------"), std::string::npos);
  EXPECT_NE(r.out.find("Scanned files: 1"), std::string::npos);
}

TEST_F(Cli, MissingFileIsAnErrorWithExitCodeTwo) {
  const auto r = run_mamori({"scan", (dir / "nope").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find(" ERROR\n"), std::string::npos) << r.out;
}

TEST_F(Cli, OversizedFileIsFoundNotSilentlyOk) {
  const auto p = write("big.bin", std::vector<std::uint8_t>(5000, 0x41));
  const auto r = run_mamori({"scan", "--max-filesize", "1000", p.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("Mamori.Limits.Exceeded.FileSize FOUND"), std::string::npos) << r.out;
}

// Names and macro text from documents are not always UTF-8 (a file name in Latin-1, a VBA module name in an
// unsupported code page): --json used to abort on them; they are written with U+FFFD instead.
TEST_F(Cli, JsonSurvivesBytesThatAreNotUtf8) {
  const auto p = write("caf\xE9-\xFF.txt", "plain text in a file whose name is Latin-1");
  const auto r = run_mamori({"scan", "--json", p.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::istringstream in(r.out);
  std::string line;
  ASSERT_TRUE(std::getline(in, line)) << r.out;
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["path"].get<std::string>(), (dir / "caf\xEF\xBF\xBD-\xEF\xBF\xBD.txt").string());
}

TEST_F(Cli, JsonHasOneObjectPerFileWithTheDocumentedFields) {
  write("a/tool.exe", a_pe());
  write("a/b/readme.txt", "hello there, this is text");
  const auto r = run_mamori({"scan", "--json", dir.string()});
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.out;
  std::istringstream in(r.out);
  std::string line;
  int n = 0;
  bool saw_pe = false;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    ++n;
    for (const char* k : {"path", "sha256", "size", "type", "verdict", "score", "model", "reasons", "anomalies", "elapsed_ms"})
      EXPECT_TRUE(j.contains(k)) << k << " in " << line;
    if (j["type"] == "pe32-exe") {
      saw_pe = true;
      EXPECT_TRUE(j["score"].is_number());
      EXPECT_GE(j["score"].get<double>(), 0.0);
      EXPECT_LE(j["score"].get<double>(), 1.0);
      EXPECT_FALSE(j["reasons"].empty());
      EXPECT_TRUE(j["verdict"] == "clean" || j["verdict"] == "suspicious" || j["verdict"] == "malicious");
    } else {
      EXPECT_EQ(j["verdict"], "unsupported");
      EXPECT_TRUE(j["score"].is_null());
    }
  }
  EXPECT_EQ(n, 2);
  EXPECT_TRUE(saw_pe);
}

TEST_F(Cli, FilesFromAndThreadsScanEverythingOnce) {
  std::string list;
  for (int i = 0; i < 20; ++i) list += write("f" + std::to_string(i) + ".txt", "text file number " + std::to_string(i)).string() + "\n";
  const auto lf = write("list", list);
  const auto r = run_mamori({"scan", "-j", "4", "--files-from", lf.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Scanned files: 20"), std::string::npos) << r.out;
}

TEST_F(Cli, FifoInAFolderDoesNotHangTheScan) {
  write("x.txt", "plain words in a plain file");
  ASSERT_EQ(::mkfifo((dir / "pipe").c_str(), 0600), 0);
  const auto r = run_mamori({"scan", dir.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Scanned files: 1"), std::string::npos) << r.out;
}

TEST_F(Cli, ModelFromAnotherSchemaIsRefusedClearly) {
  fs::create_directories(dir / "models/pe");
  std::ofstream(dir / "models/pe/meta.json") << R"({"schema_version": 0, "schema_hash": "00000000"})";
  const auto r = run_mamori({"scan", "--model-dir", (dir / "models").string(), "/dev/null"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE((r.out + r.err).find("feature schema"), std::string::npos) << r.out << r.err;
}

TEST_F(Cli, HelpDescribesExitCodes) {
  const auto r = run_mamori({"scan", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Exit code: 0 nothing found, 1 something found, 2 errors"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--files-from"), std::string::npos);
}

TEST_F(Cli, ArchivePasswordTakesOneValueSoThePathAfterItIsScanned) {
  const auto p = write("notes.txt", "just some notes about the weekly meeting");
  // The path right after a password used to be taken as a second password, leaving nothing to scan.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"scan", "--archive-password", "first", p.string()},
        std::vector<std::string>{"scan", "--archive-password", "first", "--archive-password", "second", p.string()}}) {
    const auto r = run_mamori(args);
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find(p.string() + ": OK\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Scanned files: 1"), std::string::npos) << r.out;
  }
}

// models/reserved-groups.txt holds group globs and, for reserved software vendored inside an otherwise fair source,
// single files as "sha256:<hex>" lines: both leave their rows out of train and eval.
TEST_F(Cli, ExcludeFileLeavesOutGroupsAndSingleFiles) {
  const auto pe = a_pe();
  auto other = pe;
  other.push_back(0x01);  // another sha256, same program
  auto third = pe;
  third.push_back(0x02);
  write("a.exe", pe);
  write("b.exe", other);
  write("c.exe", third);
  write("manifest.tsv",
        "sha256\tlabel\tkind\tsubkind\tfamily\tsize\tgroup\tarchive\tname\tpath\n"
        "1111111111111111111111111111111111111111111111111111111111111111\tbenign\tpe\t-\t-\t0\tgh:keep\t-\ta\ta.exe\n"
        "2222222222222222222222222222222222222222222222222222222222222222\tbenign\tpe\t-\t-\t0\tgh:keep\t-\tb\tb.exe\n"
        "3333333333333333333333333333333333333333333333333333333333333333\tmalicious\tpe\t-\t-\t0\tnpm:reserved-alike\t-\tc\tc.exe\n");
  write("reserved.txt", "# comment\nnpm:reserved-*\nsha256:2222222222222222222222222222222222222222222222222222222222222222\n");
  const auto r = run_mamori({"eval", "--manifest", (dir / "manifest.tsv").string(), "--kind", "pe",
                             "--exclude-groups-from", (dir / "reserved.txt").string(), "--cv", "group"});
  EXPECT_NE(r.err.find("excluded 1 rows by source group"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("excluded 1 rows by sha256"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("featurising 1 files"), std::string::npos) << r.err;
}
