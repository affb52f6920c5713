// The PE vector's "dotnet" group on assemblies built by tests/support (pe_builder + dotnet_builder).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "features/pe_features.hpp"
#include "support/dotnet_builder.hpp"
#include "support/pe_builder.hpp"

using namespace mamori;

namespace {

std::size_t at(const std::string& name) {
  const auto& f = features::pe_schema().features;
  for (std::size_t i = 0; i < f.size(); ++i)
    if (f[i].name == name) return i;
  ADD_FAILURE() << "no feature " << name;
  return 0;
}

test::PeSpec assembly(const test::MetadataSpec& md) {
  const auto built = test::build_metadata(md);
  test::PeSpec s;
  s.sections = {{".text", test::scn_code, std::vector<std::uint8_t>(512, 0x2A)}};
  s.imports = {{"mscoree.dll", {test::ImportFn::by_name("_CorExeMain")}}};
  s.clr = test::ClrSpec{};
  s.clr->metadata = built.metadata;
  s.clr->resources = built.resources;
  return s;
}

test::MetadataSpec loader() {
  test::MetadataSpec m;
  m.assembly_name = "Loader";
  m.assembly_refs = {"mscorlib", "System"};
  m.type_refs = {{"System.Reflection", "Assembly"}, {"System.Net", "WebClient"}, {"System", "Convert"},
                 {"System.Security.Cryptography", "RijndaelManaged"}, {"System.Diagnostics", "Process"}};
  m.member_refs = {{0, "Load"}, {1, "DownloadData"}, {2, "FromBase64String"}, {3, ".ctor"}, {4, "Start"}};
  m.type_defs = {"\x01\x02", "b", "c", "Program"};
  m.method_defs = {"Main", "a", "\x05"};
  m.module_refs = {"kernel32.dll"};
  m.pinvokes = {{1, "VirtualAlloc"}, {1, "CreateRemoteThread"}};
  m.user_strings = {std::u16string(100, u'x') + u"==", u"http://example.invalid/a"};
  std::vector<std::uint8_t> blob(20000);
  for (std::size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 13);
  m.resources = {{"payload", blob, true}};
  return m;
}

std::uint32_t fnv_lower(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (char c : s) {
    h ^= static_cast<std::uint8_t>((c >= 'A' && c <= 'Z') ? c + 32 : c);
    h *= 16777619u;
  }
  return h;
}

}  // namespace

TEST(PeDotnetFeatures, ReferencesImportsAndNamesReachTheVector) {
  const auto pe = test::build_pe(assembly(loader()));
  const auto s = features::featurize_pe(pe.view());
  ASSERT_EQ(s.x.size(), features::pe_schema().features.size());
  EXPECT_EQ(s.x[at("dotnet.metadata_readable")], 1.0f);
  EXPECT_EQ(s.x[at("dotnet.ref_assembly_load")], 1.0f);
  EXPECT_EQ(s.x[at("dotnet.ref_network")], 1.0f);        // the WebClient TypeRef
  EXPECT_EQ(s.x[at("dotnet.ref_download")], 1.0f);       // WebClient::DownloadData
  EXPECT_EQ(s.x[at("dotnet.ref_crypto")], 1.0f);
  EXPECT_EQ(s.x[at("dotnet.ref_base64_compression")], 1.0f);
  EXPECT_EQ(s.x[at("dotnet.ref_process")], 1.0f);
  EXPECT_EQ(s.x[at("dotnet.ref_registry")], 0.0f);
  EXPECT_EQ(s.x[at("dotnet.pinvokes")], 2.0f);
  EXPECT_EQ(s.x[at("dotnet.pinvoke_api_memory_protection")], 1.0f);
  EXPECT_EQ(s.x[at("dotnet.pinvoke_api_injection")], 1.0f);
  EXPECT_EQ(s.x[at("dotnet.assembly_refs")], 2.0f);
  EXPECT_EQ(s.x[at("dotnet.member_ref_hash[" + std::to_string(fnv_lower("System.Net.WebClient::DownloadData") % 256) +
                   "]")],
            1.0f);
  EXPECT_EQ(s.x[at("dotnet.type_ref_hash[" + std::to_string(fnv_lower("System.Reflection.Assembly") % 128) + "]")],
            1.0f);
  EXPECT_EQ(s.x[at("dotnet.us_base64_like")], 1.0f);
  EXPECT_EQ(s.x[at("dotnet.us_urls")], 1.0f);
  EXPECT_EQ(s.x[at("dotnet.resources_embedded")], 1.0f);
  EXPECT_GT(s.x[at("dotnet.resources_max_entropy")], 7.2f);
  EXPECT_EQ(s.x[at("dotnet.resources_high_entropy")], 1.0f);
  EXPECT_FLOAT_EQ(s.x[at("dotnet.type_names_non_printable")], 0.25f);  // 1 of 4 (<Module> not counted)
  EXPECT_FLOAT_EQ(s.x[at("dotnet.type_names_short")], 0.75f);
  EXPECT_FLOAT_EQ(s.x[at("dotnet.method_names_short")], 2.0f / 3.0f);
  EXPECT_EQ(s.x[at("dotnet.anomaly_count")], 0.0f);
  EXPECT_EQ(s.x[at("dotnet.rows_member_ref")], static_cast<float>(features::log_size(5)));
}

TEST(PeDotnetFeatures, BenignLookingAssemblyDiffers) {
  test::MetadataSpec m;
  m.assembly_name = "Calculator";
  m.assembly_refs = {"mscorlib"};
  m.type_refs = {{"System", "Object"}, {"System", "Console"}};
  m.member_refs = {{0, ".ctor"}, {1, "WriteLine"}};
  m.type_defs = {"Calculator", "Program"};
  m.method_defs = {"Main", "Add", "Subtract"};
  const auto s = features::featurize_pe(test::build_pe(assembly(m)).view());
  for (const char* g : {"assembly_load", "network", "download", "crypto", "process"})
    EXPECT_EQ(s.x[at(std::string("dotnet.ref_") + g)], 0.0f) << g;
  EXPECT_EQ(s.x[at("dotnet.pinvokes")], 0.0f);
  EXPECT_EQ(s.x[at("dotnet.type_names_non_printable")], 0.0f);
  EXPECT_EQ(s.x[at("dotnet.type_names_short")], 0.0f);
}

TEST(PeDotnetFeatures, NativeAndBrokenMetadataAreMissingNotZero) {
  test::PeSpec native;
  native.sections = {{".text", test::scn_code, std::vector<std::uint8_t>(512, 0x90)}};
  native.imports = {{"KERNEL32.dll", {test::ImportFn::by_name("ExitProcess")}}};
  const auto a = features::featurize_pe(test::build_pe(native).view());
  EXPECT_TRUE(std::isnan(a.x[at("dotnet.metadata_readable")]));
  EXPECT_TRUE(std::isnan(a.x[at("dotnet.rows_type_ref")]));
  EXPECT_EQ(a.x[at("dotnet.member_ref_hash[0]")], 0.0f);

  // A CLR header whose metadata has no "BSJB": the file is .NET but nothing in the group is known.
  auto spec = assembly(loader());
  spec.clr->metadata[0] = 'X';
  const auto b = features::featurize_pe(test::build_pe(spec).view());
  EXPECT_EQ(b.x[at("dotnet.metadata_readable")], 0.0f);
  EXPECT_TRUE(std::isnan(b.x[at("dotnet.ref_download")]));
}
