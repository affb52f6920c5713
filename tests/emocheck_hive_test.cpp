// The test hive template and the engine's libhivex reader: the template opens, keys and values written through
// libhivex come back unchanged, and malformed hives are refused without a crash.
#include <gtest/gtest.h>
#include <hivex.h>

#include <filesystem>
#include <fstream>

#include "emocheck/hive.hpp"
#include "support/hive_builder.hpp"

namespace fs = std::filesystem;
using namespace mamori;
using namespace mamori::emocheck;
using mamori::test::HiveSpec;

namespace {

fs::path tmp(const std::string& name) {
  return fs::temp_directory_path() / ("mamori-hive-" + std::to_string(::getpid()) + "-" + name);
}

void write_bytes(const fs::path& p, const std::vector<std::uint8_t>& b) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(b.data()),
                                                             static_cast<std::streamsize>(b.size()));
}

}  // namespace

TEST(EmocheckHive, TemplateHasAValidChecksumAndOpensInHivex) {
  const auto t = test::empty_hive();
  ASSERT_EQ(t.size(), 0x2000u);
  std::uint32_t x = 0;
  for (std::size_t i = 0; i < 512; i += 4)
    x ^= static_cast<std::uint32_t>(t[i]) | static_cast<std::uint32_t>(t[i + 1]) << 8 |
         static_cast<std::uint32_t>(t[i + 2]) << 16 | static_cast<std::uint32_t>(t[i + 3]) << 24;
  EXPECT_EQ(x, 0u) << "the checksum dword makes the XOR of the first 128 dwords zero";
  const fs::path p = tmp("template");
  write_bytes(p, t);
  hive_h* h = hivex_open(p.c_str(), 0);
  ASSERT_NE(h, nullptr);
  const hive_node_h root = hivex_root(h);
  char* name = hivex_node_name(h, root);
  EXPECT_STREQ(name, "ROOT");
  std::free(name);
  EXPECT_EQ(hivex_node_nr_children(h, root), 0u);
  EXPECT_EQ(hivex_node_nr_values(h, root), 0u);
  hivex_close(h);
  fs::remove(p);
}

TEST(EmocheckHive, ValuesRoundTripThroughHivexAndHiveFile) {
  const fs::path p = tmp("roundtrip");
  HiveSpec spec;
  spec["Software\\Microsoft\\Windows\\CurrentVersion\\Run"] = {
      test::sz_value("OneDrive", "\"C:\\Users\\a\\OneDrive.exe\" /background"),
      test::sz_value("Env", "%LOCALAPPDATA%\\x.exe", reg_expand_sz)};
  spec["Software\\Microsoft\\Windows\\CurrentVersion\\Explorer"] = {
      test::binary_value("1cfde0", {0x01, 0x02, 0xFF, 0x00}), test::dword_value("Count", 0xDEADBEEF)};
  for (int i = 0; i < 300; ++i) spec["Many\\k" + std::to_string(i)] = {test::dword_value("i", static_cast<std::uint32_t>(i))};
  std::string why;
  ASSERT_TRUE(test::write_hive(p.string(), spec, &why)) << why;

  auto h = HiveFile::open(p.string());
  ASSERT_TRUE(h.ok()) << h.error().message;
  auto run = h->key("software\\MICROSOFT\\Windows\\CurrentVersion\\Run");  // case-insensitive
  ASSERT_TRUE(run);
  ASSERT_EQ(run->values.size(), 2u);
  std::map<std::string, RegValue> by;
  for (auto& v : run->values) by[v.name] = v;
  EXPECT_EQ(by["OneDrive"].type, reg_sz);
  EXPECT_EQ(by["OneDrive"].text().value(), "\"C:\\Users\\a\\OneDrive.exe\" /background");
  EXPECT_EQ(by["Env"].type, reg_expand_sz);
  EXPECT_EQ(by["Env"].text().value(), "%LOCALAPPDATA%\\x.exe");
  auto ex = h->key("Software\\Microsoft\\Windows\\CurrentVersion\\Explorer");
  ASSERT_TRUE(ex);
  for (auto& v : ex->values) {
    if (v.name == "1cfde0") {
      EXPECT_EQ(v.type, reg_binary);
      EXPECT_EQ(v.data, (std::vector<std::uint8_t>{0x01, 0x02, 0xFF, 0x00}));
    } else {
      EXPECT_EQ(v.dword().value(), 0xDEADBEEFu);
    }
  }
  auto many = h->key("Many");
  ASSERT_TRUE(many);
  EXPECT_EQ(many->subkeys.size(), 300u);
  auto k299 = h->key("Many\\k299");
  ASSERT_TRUE(k299);
  EXPECT_EQ(k299->values.at(0).dword().value(), 299u);
  EXPECT_FALSE(h->key("Software\\Nope"));
  EXPECT_TRUE(h->key(""));  // the root
  fs::remove(p);
}

TEST(EmocheckHive, MalformedHivesAreRefusedNotCrashed) {
  const fs::path p = tmp("bad");
  // Random bytes, a truncated template, a template with a broken checksum, a corrupted hbin, and an empty file.
  std::vector<std::vector<std::uint8_t>> inputs;
  std::vector<std::uint8_t> rnd(8192);
  std::uint32_t s = 12345;
  for (auto& b : rnd) b = static_cast<std::uint8_t>((s = s * 1103515245 + 12345) >> 16);
  inputs.push_back(rnd);
  auto t = test::empty_hive();
  inputs.emplace_back(t.begin(), t.begin() + 0x1100);
  auto bad_sum = t;
  bad_sum[508] ^= 0xFF;
  inputs.push_back(bad_sum);
  auto bad_bin = t;
  bad_bin[0x1008] = 0xFF;  // hbin size
  bad_bin[0x1009] = 0xFF;
  inputs.push_back(bad_bin);
  auto bad_root = t;
  bad_root[36] = 0xF0;  // root offset out of the hbins
  bad_root[37] = 0xFF;
  inputs.push_back(bad_root);
  inputs.emplace_back();
  std::size_t refused = 0;
  for (const auto& in : inputs) {
    write_bytes(p, in);
    auto h = HiveFile::open(p.string());
    if (!h.ok()) {
      ++refused;
      continue;
    }
    // When libhivex accepts it anyway (it tolerates some damage), lookups must still be safe.
    (void)h->key("Software\\Microsoft");
    (void)h->key("");
  }
  EXPECT_GE(refused, 3u);
  fs::remove(p);
  EXPECT_FALSE(HiveFile::open(p.string()).ok());  // missing
  EXPECT_FALSE(HiveFile::open("/tmp").ok());      // a folder
}
