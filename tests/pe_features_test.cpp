#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "features/pe_features.hpp"
#include "support/pe_builder.hpp"

using namespace mamori;
using mamori::test::build_pe;
using mamori::test::PeSpec;

namespace {

PeSpec small_exe() {
  PeSpec s;
  s.sections.push_back({".text", test::scn_code, std::vector<std::uint8_t>(3000, 0x90)});
  s.sections.push_back({".data", test::scn_data, std::vector<std::uint8_t>(700, 0x11)});
  s.imports.push_back({"KERNEL32.dll", {test::ImportFn::by_name("VirtualAllocEx"), test::ImportFn::by_name("WriteProcessMemory"),
                                        test::ImportFn::by_name("CreateRemoteThread")}});
  s.imports.push_back({"WININET.dll", {test::ImportFn::by_name("InternetOpenA")}});
  return s;
}

std::size_t index_of(const std::string& name) {
  const auto& f = features::pe_schema().features;
  for (std::size_t i = 0; i < f.size(); ++i)
    if (f[i].name == name) return i;
  ADD_FAILURE() << "no feature " << name;
  return 0;
}

}  // namespace

TEST(PeFeatures, SchemaNamesAreUniqueAndGroupsCoverTheVector) {
  const auto& s = features::pe_schema();
  std::set<std::string> names;
  for (const auto& f : s.features) EXPECT_TRUE(names.insert(f.name).second) << "duplicate " << f.name;
  std::size_t covered = 0;
  for (const auto& g : s.groups) {
    EXPECT_EQ(g.first, covered) << g.name;
    covered += g.count;
  }
  EXPECT_EQ(covered, s.features.size());
  EXPECT_EQ(s.hash.size(), 8u);
}

TEST(PeFeatures, DocumentationIsGeneratedFromTheSchema) {
  std::ifstream in(std::string(MAMORI_SOURCE_DIR) + "/docs/features.md");
  ASSERT_TRUE(in) << "docs/features.md missing; write it with `mamori features --markdown > docs/features.md`";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), features::pe_schema_markdown())
      << "docs/features.md is stale: regenerate it with `mamori features --markdown > docs/features.md` "
         "(and bump kPeSchemaVersion if the layout changed)";
}

TEST(PeFeatures, BehaviouralImportGroupsAreCounted) {
  const auto pe = build_pe(small_exe());
  const auto s = features::featurize_pe(pe.view());
  ASSERT_FALSE(s.header_error);
  EXPECT_EQ(s.x.size(), features::pe_schema().features.size());
  EXPECT_EQ(s.x[index_of("imports.api_injection")], 3.0f);
  EXPECT_EQ(s.x[index_of("imports.api_network")], 1.0f);
  EXPECT_EQ(s.x[index_of("imports.dll_count")], 2.0f);
  EXPECT_EQ(s.x[index_of("general.is_dll")], 0.0f);
}

TEST(PeFeatures, ZeroPaddingChangesOnlySizeAndPaddingFeatures) {
  // The Emotet trick: the same loader inflated with hundreds of MB of zeros. The byte-level description of the
  // content must not change, so the model sees the loader, not the zeros.
  auto spec = small_exe();
  const auto plain = build_pe(spec);
  spec.overlay.assign(20u << 20, 0);
  const auto padded = build_pe(spec);
  const auto a = features::featurize_pe(plain.view());
  const auto b = features::featurize_pe(padded.view());
  const auto& names = features::pe_schema().features;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto& g = names[i].group;
    if (g == "padding" || g == "overlay" || names[i].name == "general.image_to_file_ratio") continue;
    if (std::isnan(a.x[i]) && std::isnan(b.x[i])) continue;
    if (g == "byte_histogram" || g == "byte_entropy" || g == "strings") {
      // The zero run also swallows the zeros that pad the last section to the file alignment (about 1 KiB of this
      // 6 KiB image), so byte statistics shift by a few percent; 20 MiB of zeros would otherwise make p[0] close to 1.
      EXPECT_NEAR(a.x[i], b.x[i], 0.1f * std::max(1.0f, std::fabs(a.x[i]))) << names[i].name;
    } else {
      EXPECT_FLOAT_EQ(a.x[i], b.x[i]) << names[i].name;
    }
  }
  EXPECT_GT(b.x[index_of("padding.padding_ratio")], 0.9f);
  EXPECT_EQ(a.x[index_of("padding.padding_ratio")], 0.0f);
}

TEST(PeFeatures, TruncatedHeadersStillYieldAFullVector) {
  const auto pe = build_pe(small_exe());
  for (std::size_t cut : {0x40ul, 0x86ul, 0x90ul, 0x100ul, 0x300ul}) {
    std::vector<std::uint8_t> v(pe.bytes.begin(), pe.bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    const auto s = features::featurize_pe(ByteView(v.data(), v.size()));
    EXPECT_EQ(s.x.size(), features::pe_schema().features.size()) << cut;
  }
}
