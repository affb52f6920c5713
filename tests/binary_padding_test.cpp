// The binary-padding rule (features::binary_padding): a PE that is mostly runs of one byte value past a megabyte
// was inflated on purpose, and the engine reports it even when the model's score alone would not.
#include <gtest/gtest.h>

#include <random>

#include "engine/scanner.hpp"
#include "features/pe_features.hpp"
#include "support/pe_builder.hpp"

namespace mamori {
namespace {

std::vector<std::uint8_t> small_dll(std::size_t code_size = 16384) {
  test::PeSpec s;
  s.dll = true;
  std::mt19937 rng(11);
  std::vector<std::uint8_t> code(code_size);
  for (auto& b : code) b = static_cast<std::uint8_t>(rng());
  s.sections.push_back({".text", test::scn_code, code});
  s.imports.push_back({"KERNEL32.dll", {test::ImportFn::by_name("VirtualAlloc"), test::ImportFn::by_name("LoadLibraryA")}});
  return test::build_pe(s).bytes;
}

std::vector<std::uint8_t> padded(std::vector<std::uint8_t> b, std::size_t n, std::uint8_t value = 0) {
  b.resize(b.size() + n, value);
  return b;
}

bool rule_on(const std::vector<std::uint8_t>& b, std::uint64_t collapsed = 0) {
  return features::binary_padding(features::featurize_pe(ByteView(b.data(), b.size()), collapsed));
}

TEST(BinaryPadding, MostlyPaddingPastAMegabyte) {
  EXPECT_TRUE(rule_on(padded(small_dll(), 2u << 20)));
  EXPECT_TRUE(rule_on(padded(small_dll(), 2u << 20, 0xff)));  // any one value, not only zeros
}

TEST(BinaryPadding, LessThanAMegabyteOfPaddingIsNot) {
  // 900 KiB of zeros after a 16 KiB image is over 90% padding, but alignment and reserved sections reach this size
  // in ordinary files.
  EXPECT_FALSE(rule_on(padded(small_dll(), 900u << 10)));
  EXPECT_FALSE(rule_on(small_dll()));
}

TEST(BinaryPadding, LessThanHalfTheFileIsNot) {
  // 3 MiB of code with 1.5 MiB of zeros: padded, but mostly content.
  EXPECT_FALSE(rule_on(padded(small_dll(3u << 20), 3u << 19)));
}

TEST(BinaryPadding, PaddingAnArchiveReaderCollapsedCounts) {
  // The member as an archive reader hands it over: 128 KiB of the run kept, 80 MiB dropped.
  EXPECT_FALSE(rule_on(padded(small_dll(), 128u << 10)));
  EXPECT_TRUE(rule_on(padded(small_dll(), 128u << 10), 80u << 20));
}

TEST(BinaryPadding, EngineReportsTheRuleAndAtLeastSuspicious) {
  auto models = engine::load_models(engine::default_model_dir());
  ASSERT_TRUE(models.ok()) << models.error().message;
  const engine::Scanner scanner(std::move(models).value(), engine::Options{});
  const auto plain = small_dll();
  const auto big = padded(plain, 4u << 20);
  const auto r = scanner.scan_bytes(ByteView(big.data(), big.size()), "padded.dll");
  const auto r0 = scanner.scan_bytes(ByteView(plain.data(), plain.size()), "plain.dll");
  ASSERT_TRUE(r.score.has_value());
  auto has_rule = [](const engine::ScanResult& x) {
    for (const auto& [k, v] : x.context)
      if (k == "rule" && v == "binary-padding") return true;
    return false;
  };
  EXPECT_TRUE(has_rule(r));
  EXPECT_FALSE(has_rule(r0));
  // The rule never lowers a verdict: malicious when the model already finds the file suspicious, else suspicious.
  EXPECT_TRUE(r.verdict == engine::Verdict::malicious || r.verdict == engine::Verdict::suspicious);
  if (r.verdict == engine::Verdict::suspicious) EXPECT_EQ(r.signature, "Mamori.PE.Padded");
  else EXPECT_EQ(r.signature, "Mamori.PE.Malicious");
}

}  // namespace
}  // namespace mamori
