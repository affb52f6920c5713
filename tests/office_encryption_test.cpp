// Encrypted documents end to end through the `mamori` executable: an RC4-encrypted Excel 4 dropper built here
// (tests/support/biff_builder, encrypted with the library's own rc4_crypt_stream) with a password of its own. Alone
// it stays encrypted: by default Mamori.Office.Encrypted FOUND (suspicious), with --encrypted-doc-ok only reported. Attached
// to an e-mail whose body gives the password, it is opened with that password and its macros are analysed.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/archive_builder.hpp"
#include "support/biff_builder.hpp"
#include "support/cfb_builder.hpp"

namespace fs = std::filesystem;

namespace {

using namespace mamori::test;

struct CliRun {
  int code = -1;
  std::string out;
};

CliRun run(const std::string& args) {
  const std::string cmd = std::string(MAMORI_BINARY) + " " + args + " 2>/dev/null";
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = ::pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// An Excel 4 dropper: very hidden macro sheet, Auto_Open, EXEC; RC4-encrypted with `password`.
std::vector<std::uint8_t> encrypted_xls(const std::u16string& password) {
  BiffSpec s = biff_macro_dropper({biff_formula(0, 0, ptg::cat({ptg::str("cmd /c calc"), ptg::funcvar(110, 1)})),
                                   biff_formula(1, 0, ptg::cat({ptg::funcvar(54, 0)}))});
  s.crypt = BiffCrypt::rc4;
  s.password = password;
  CfbSpec c;
  c.streams.push_back({"Workbook", build_workbook_stream(s)});
  return build_cfb(c);
}

class OfficeEncryption : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(fs::path(MAMORI_SOURCE_DIR) / "models/office/meta.json")) GTEST_SKIP() << "models/office not present";
    dir = fs::temp_directory_path() / ("mamori-enc-" + std::to_string(::getpid()) + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override {
    if (!dir.empty()) fs::remove_all(dir);
  }
  std::string write(const std::string& name, const std::vector<std::uint8_t>& b) {
    const auto p = dir / name;
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    return p.string();
  }
  fs::path dir;
};

// The context lines of a result (or of its member `path`), joined.
std::string context_of(const nlohmann::json& j) {
  std::string s;
  if (j.contains("context"))
    for (const auto& [k, v] : j["context"].items()) s += k + ": " + v.dump() + "\n";
  return s;
}

const nlohmann::json* member(const nlohmann::json& j, const std::string& path) {
  if (j.value("path", "") == path) return &j;
  if (j.contains("members"))
    for (const auto& m : j["members"])
      if (const auto* f = member(m, path)) return f;
  return nullptr;
}

TEST_F(OfficeEncryption, UnopenedDocumentIsFlaggedUnlessTheSiteAcceptsThem) {
  const std::string f = write("locked.xls", encrypted_xls(u"Kx7-pq9"));
  const CliRun plain = run("scan --encrypted-doc-ok --json " + f);
  const auto j = nlohmann::json::parse(plain.out);
  EXPECT_FALSE(j["signature"].is_string() && j["signature"] == "Mamori.Office.Encrypted") << plain.out;
  bool noted = false;
  for (const auto& a : j["anomalies"]) noted |= a.template get<std::string>().rfind("encrypted_not_decrypted: biff-rc4", 0) == 0;
  EXPECT_TRUE(noted) << plain.out;
  EXPECT_NE(context_of(j).find("not decrypted"), std::string::npos) << plain.out;

  for (const char* flags : {"", "--alert-encrypted-doc "}) {  // the default; the old flag still says the same
    const CliRun flagged = run(std::string("scan ") + flags + f);
    EXPECT_EQ(flagged.code, 1) << flagged.out;
    EXPECT_NE(flagged.out.find("locked.xls: Mamori.Office.Encrypted FOUND"), std::string::npos) << flagged.out;
  }
  EXPECT_EQ(run("scan --alert-encrypted-doc --encrypted-doc-ok " + f).code, 2);  // contradictory flags
}

TEST_F(OfficeEncryption, PasswordFromTheMailOpensTheAttachment) {
  const auto xls = encrypted_xls(u"Kx7-pq9");
  const std::string eml = make_eml("Invoice 4471", "Hello,\r\nthe invoice is attached.\r\nPassword: Kx7-pq9\r\n",
                                   {{"invoice.xls", "application/vnd.ms-excel", xls}});
  const std::string f = write("mail.eml", std::vector<std::uint8_t>(eml.begin(), eml.end()));
  const CliRun r = run("scan --json " + f);
  const auto j = nlohmann::json::parse(r.out);
  const auto* doc = member(j, f + "!invoice.xls");
  ASSERT_NE(doc, nullptr) << r.out;
  const std::string ctx = context_of(*doc);
  EXPECT_NE(ctx.find("biff-rc4 (opened with the password \\\"Kx7-pq9\\\")"), std::string::npos) << r.out;
  // Decrypted, the Excel 4 macros are visible to the model and the report.
  EXPECT_NE(ctx.find("EXEC"), std::string::npos) << r.out;
  for (const auto& a : (*doc)["anomalies"]) EXPECT_NE(a.template get<std::string>().rfind("encrypted_not_decrypted", 0), 0u);

  // The same file alone, with the password given for archives: the archive passwords are tried on documents too.
  const std::string alone = write("alone.xls", xls);
  const CliRun r2 = run("scan --archive-password Kx7-pq9 --json " + alone);
  EXPECT_NE(context_of(nlohmann::json::parse(r2.out)).find("opened with the password"), std::string::npos) << r2.out;
}

TEST_F(OfficeEncryption, HelpNamesTheFlagAndWhatItDecrypts) {
  const CliRun r = run("scan --help");
  EXPECT_NE(r.out.find("--encrypted-doc-ok"), std::string::npos);
  EXPECT_NE(r.out.find("VelvetSweatshop"), std::string::npos);
}

}  // namespace
