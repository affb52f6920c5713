// mamorid reads the container limits under clamd.conf's names (plus mamori's MaxRatio / ArchivePassword).
#include <gtest/gtest.h>

#include "daemon/config.hpp"
#include "engine/context.hpp"

namespace mamori::daemon {
namespace {

TEST(ContainersConfig, ClamdLimitNamesMapToTheEngine) {
  auto c = parse_config("MaxRecursion 5\nMaxFiles 200\nMaxScanSize 50M\nMaxScanTime 1500\nMaxRatio 250\n"
                        "MaxDecompressedSize 2G\nMaxDecompressedRatio 0\n"
                        "AlertExceedsMax no\nAlertEncryptedArchive no\nArchivePassword one\nArchivePassword two\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  const Config& k = c->config;
  EXPECT_EQ(k.max_recursion, 5u);
  EXPECT_EQ(k.max_files, 200u);
  EXPECT_EQ(k.max_scan_size, 50ull << 20);
  EXPECT_EQ(k.max_scan_time_ms, 1500u);
  EXPECT_EQ(k.max_ratio, 250.0);
  EXPECT_EQ(k.max_decompressed_size, 2ull << 30);
  EXPECT_EQ(k.max_decompressed_ratio, 0.0);
  EXPECT_FALSE(k.alert_exceeds_max);
  EXPECT_FALSE(k.alert_encrypted_archive);
  EXPECT_EQ(k.archive_passwords, (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(c->warnings.empty());
  EXPECT_FALSE(parse_config("MaxRecursion many\n").ok());
  EXPECT_FALSE(parse_config("MaxDecompressedRatio -1\n").ok());
  EXPECT_FALSE(parse_config("MaxRatio 0\n").ok());
  EXPECT_FALSE(parse_config("MaxDecompressedSize lots\n").ok());
}

TEST(ContainersConfig, DefaultsAreTheEngines) {
  auto c = parse_config("");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->config.max_recursion, 10u);
  EXPECT_EQ(c->config.max_files, 10000u);
  EXPECT_TRUE(c->config.alert_exceeds_max);
  EXPECT_TRUE(c->config.alert_encrypted_archive);
  EXPECT_TRUE(c->config.alert_encrypted_doc);  // as `mamori scan`: a document no password opens is suspicious
  EXPECT_FALSE(parse_config("AlertEncryptedDoc no\n")->config.alert_encrypted_doc);
  EXPECT_FALSE(parse_config("AlertEncrypted no\n")->config.alert_encrypted_doc);
  const engine::Limits engine_defaults;
  EXPECT_EQ(c->config.max_ratio, engine_defaults.max_ratio);
  EXPECT_EQ(c->config.max_decompressed_size, engine_defaults.max_decompressed_bytes);
  EXPECT_EQ(c->config.max_decompressed_ratio, engine_defaults.max_decompressed_ratio);
}

}  // namespace
}  // namespace mamori::daemon
