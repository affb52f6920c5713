// The CLI metadata reader against metadata built by tests/support/dotnet_builder from ECMA-335, well-formed and
// corrupted on purpose.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "formats/dotnet/metadata.hpp"
#include "formats/pe/pe.hpp"
#include "support/dotnet_builder.hpp"
#include "support/pe_builder.hpp"

namespace mamori {
namespace {

using dotnet::Anomaly;
using test::MetadataSpec;

MetadataSpec dropper_spec() {
  MetadataSpec s;
  s.assembly_name = "Stage2";
  s.assembly_refs = {"mscorlib", "System"};
  s.type_refs = {{"System.Reflection", "Assembly"}, {"System.Net", "WebClient"}, {"System", "Object"}};
  s.member_refs = {{0, "Load"}, {1, "DownloadData"}, {2, ".ctor"}, {1, ".ctor"}};
  s.type_defs = {"Program", "a\x01", "Helper"};
  s.method_defs = {"Main", "Run", "b"};
  s.module_refs = {"kernel32.dll", "ntdll"};
  s.pinvokes = {{1, "VirtualAlloc"}, {2, "NtUnmapViewOfSection"}};
  s.user_strings = {u"hello", u"https://example.invalid/payload.bin",
                    std::u16string(80, u'A') + u"+/==", u"\u00e9t\u00e9"};
  s.resources = {{"Stage2.Properties.Resources.resources", std::vector<std::uint8_t>(300, 0x41), true},
                 {"linked.bin", {}, false}};
  return s;
}

// The Metadata's names point into `b`, which must outlive it.
dotnet::Metadata parse_ok(const test::BuiltMetadata& b) {
  auto r = dotnet::parse_metadata(b.md(), b.res());
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  return r.ok() ? std::move(r).value() : dotnet::Metadata{};
}

TEST(DotnetMetadata, ReadsReferencesImportsStringsAndResources) {
  const auto b = test::build_metadata(dropper_spec());
  const auto m = parse_ok(b);
  EXPECT_EQ(m.version, "v4.0.30319");
  EXPECT_EQ(m.stream_count, 5u);
  EXPECT_FALSE(m.uncompressed_tables);
  EXPECT_TRUE(m.tables_read);
  EXPECT_EQ(m.anomaly_bits, 0u) << dotnet::anomaly_name(m.anomalies.empty() ? Anomaly::kCount : m.anomalies[0].code);
  EXPECT_EQ(m.rows[dotnet::t_type_ref], 3u);
  EXPECT_EQ(m.rows[dotnet::t_type_def], 4u);
  EXPECT_EQ(m.rows[dotnet::t_method_def], 3u);
  EXPECT_EQ(m.rows[dotnet::t_member_ref], 4u);
  EXPECT_EQ(m.assembly_name, "Stage2");
  ASSERT_EQ(m.assembly_refs.size(), 2u);
  EXPECT_EQ(m.assembly_refs[1], "System");
  ASSERT_EQ(m.type_refs.size(), 3u);
  EXPECT_EQ(m.type_refs[1].ns, "System.Net");
  EXPECT_EQ(m.type_refs[1].name, "WebClient");
  ASSERT_EQ(m.member_refs.size(), 4u);
  EXPECT_EQ(m.type_refs[m.member_refs[0].type_ref].name, "Assembly");
  EXPECT_EQ(m.member_refs[0].name, "Load");
  EXPECT_EQ(m.type_refs[m.member_refs[1].type_ref].name, "WebClient");
  EXPECT_EQ(m.member_refs[1].name, "DownloadData");
  ASSERT_EQ(m.type_def_names.size(), 3u);  // <Module> left out
  EXPECT_EQ(m.type_def_names[0], "Program");
  EXPECT_EQ(m.type_def_names[1], "a\x01");
  ASSERT_EQ(m.method_def_names.size(), 3u);
  EXPECT_EQ(m.method_def_names[2], "b");
  ASSERT_EQ(m.pinvokes.size(), 2u);
  EXPECT_EQ(m.pinvokes[0].module, "kernel32.dll");
  EXPECT_EQ(m.pinvokes[0].entry, "VirtualAlloc");
  EXPECT_EQ(m.pinvokes[1].module, "ntdll");
  EXPECT_EQ(m.pinvokes[1].entry, "NtUnmapViewOfSection");
  EXPECT_EQ(m.user_strings.count, 4u);
  EXPECT_EQ(m.user_strings.max_chars, 84u);
  EXPECT_EQ(m.user_strings.chars, 5u + 35u + 84u + 3u);
  EXPECT_EQ(m.user_strings.base64_like, 1u);
  EXPECT_EQ(m.user_strings.urls, 1u);
  EXPECT_EQ(m.user_strings.non_ascii, 1u);
  EXPECT_GT(m.user_strings.entropy, 0.5);
  ASSERT_EQ(m.resources.size(), 2u);
  EXPECT_TRUE(m.resources[0].embedded);
  EXPECT_EQ(m.resources[0].size, 300);
  EXPECT_DOUBLE_EQ(m.resources[0].entropy, 0.0);  // one byte value
  EXPECT_FALSE(m.resources[1].embedded);
  EXPECT_EQ(m.resources[1].size, -1);
}

TEST(DotnetMetadata, WideHeapIndexesAndWideCodedIndexes) {
  // 9000 TypeRefs make MemberRef's parent index (3 tag bits) 4 bytes wide; wide heaps make every name 4 bytes.
  MetadataSpec s;
  s.wide_heaps = true;
  s.assembly_refs = {"mscorlib"};
  for (int i = 0; i < 9000; ++i) s.type_refs.push_back({"N" + std::to_string(i % 7), "T" + std::to_string(i)});
  s.member_refs = {{8999, "Last"}, {0, "First"}, {4500, "Middle"}};
  s.module_refs = {"user32.dll"};
  s.method_defs = {"M"};
  s.pinvokes = {{1, "GetAsyncKeyState"}};
  const auto built = test::build_metadata(s);  // the names point into it
  const auto m = parse_ok(built);
  EXPECT_EQ(m.heap_sizes, 0x07);
  EXPECT_EQ(m.anomaly_bits, 0u);
  ASSERT_EQ(m.type_refs.size(), 9000u);
  EXPECT_EQ(m.type_refs[8999].name, "T8999");
  ASSERT_EQ(m.member_refs.size(), 3u);
  EXPECT_EQ(m.type_refs[m.member_refs[0].type_ref].name, "T8999");
  EXPECT_EQ(m.member_refs[0].name, "Last");
  EXPECT_EQ(m.type_refs[m.member_refs[2].type_ref].name, "T4500");
  ASSERT_EQ(m.pinvokes.size(), 1u);
  EXPECT_EQ(m.pinvokes[0].module, "user32.dll");
  EXPECT_EQ(m.pinvokes[0].entry, "GetAsyncKeyState");
}

TEST(DotnetMetadata, FoundThroughThePeClrHeader) {
  const auto md = test::build_metadata(dropper_spec());
  test::PeSpec spec;
  spec.dll = true;
  spec.sections = {{".text", test::scn_code, std::vector<std::uint8_t>(64, 0xC3)}};
  spec.imports = {{"mscoree.dll", {test::ImportFn::by_name("_CorDllMain")}}};
  spec.clr = test::ClrSpec{};
  spec.clr->metadata = md.metadata;
  spec.clr->resources = md.resources;
  const auto pe_bytes = test::build_pe(spec);
  auto pe = pe::parse(pe_bytes.view());
  ASSERT_TRUE(pe.ok());
  ASSERT_TRUE(pe->is_dotnet());
  EXPECT_EQ(pe->clr.runtime_version, "v4.0.30319");
  EXPECT_EQ(pe->clr.metadata.size(), md.metadata.size());
  EXPECT_EQ(pe->clr.resources.size(), md.resources.size());
  auto m = dotnet::parse_metadata(pe->clr.metadata, pe->clr.resources);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->member_refs.size(), 4u);
  ASSERT_EQ(m->resources.size(), 2u);
  EXPECT_EQ(m->resources[0].size, 300);
}

TEST(DotnetMetadata, NotMetadataAndTruncatedRootAreErrors) {
  const auto b = test::build_metadata(dropper_spec());
  auto bad = b.metadata;
  bad[0] = 'X';
  auto r = dotnet::parse_metadata(ByteView(bad.data(), bad.size()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::not_this_format);
  for (std::size_t cut : {std::size_t{3}, std::size_t{14}, std::size_t{30}}) {
    auto t = dotnet::parse_metadata(ByteView(b.metadata.data(), cut));
    ASSERT_FALSE(t.ok()) << cut;
    EXPECT_EQ(t.error().code, cut < 4 ? ErrorCode::not_this_format : ErrorCode::truncated) << cut;
  }
}

TEST(DotnetMetadata, TruncatedTableStreamKeepsTheTablesBeforeTheCut) {
  auto b = test::build_metadata(dropper_spec());
  // Cut the metadata inside the table rows: the TypeRefs (the second table) survive, later tables do not.
  const std::size_t cut = b.row_counts + 4 * 10 + 10 + 3 * 6 + 4;
  auto m = dotnet::parse_metadata(ByteView(b.metadata.data(), cut));
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->has(Anomaly::stream_outside_metadata));
  EXPECT_TRUE(m->has(Anomaly::tables_truncated));
  ASSERT_EQ(m->type_refs.size(), 3u);
  EXPECT_TRUE(m->member_refs.empty());
  EXPECT_EQ(m->rows[dotnet::t_member_ref], 4u);  // the claim is still reported
}

TEST(DotnetMetadata, OutOfRangeIndexesBecomeAnomalies) {
  auto b = test::build_metadata(dropper_spec());
  // Point the stream header of #Strings (second header: "#~" header is 12 bytes) at a 1-byte heap.
  const std::uint32_t strings_hdr = b.stream_headers + 12;
  test::put32(b.metadata, strings_hdr + 4, 1);
  auto m = parse_ok(b);
  EXPECT_TRUE(m.has(Anomaly::string_index_invalid));
  ASSERT_EQ(m.type_refs.size(), 3u);
  EXPECT_TRUE(m.type_refs[0].name.empty());

  // A ManifestResource offset past the resources directory, and a P/Invoke scope past the ModuleRef table.
  auto s = dropper_spec();
  s.pinvokes[1].module_ref = 7;
  auto b2 = test::build_metadata(s);
  b2.resources.resize(100);
  auto m2 = parse_ok(b2);
  EXPECT_TRUE(m2.has(Anomaly::resource_outside));
  EXPECT_EQ(m2.resources[0].size, -1);
  EXPECT_TRUE(m2.has(Anomaly::coded_index_invalid));
  EXPECT_TRUE(m2.pinvokes[1].module.empty());
  EXPECT_EQ(m2.pinvokes[1].entry, "NtUnmapViewOfSection");
}

TEST(DotnetMetadata, StreamTricksAreRecorded) {
  auto s = dropper_spec();
  s.extra_streams = {{"#Strings", std::vector<std::uint8_t>(8, 0)}, {"#Evil", std::vector<std::uint8_t>(4, 1)}};
  const auto built = test::build_metadata(s);
  auto m = parse_ok(built);
  EXPECT_TRUE(m.has(Anomaly::stream_duplicate));
  EXPECT_TRUE(m.has(Anomaly::stream_unknown));
  EXPECT_EQ(m.type_refs[1].name, "WebClient");  // the first #Strings wins

  auto b = test::build_metadata(dropper_spec());
  test::put16(b.metadata, b.stream_count_offset, 0xFFFF);
  auto m2 = parse_ok(b);
  EXPECT_TRUE(m2.has(Anomaly::streams_excessive));
  EXPECT_TRUE(m2.has(Anomaly::stream_headers_truncated) || m2.has(Anomaly::stream_outside_metadata));

  auto s3 = dropper_spec();
  s3.tables_name = "#-";
  const auto built3 = test::build_metadata(s3);
  auto m3 = parse_ok(built3);
  EXPECT_TRUE(m3.uncompressed_tables);
  EXPECT_EQ(m3.member_refs.size(), 4u);

  auto s4 = dropper_spec();
  s4.tables_name = "#X";
  const auto built4 = test::build_metadata(s4);
  auto m4 = parse_ok(built4);
  EXPECT_TRUE(m4.has(Anomaly::tables_missing));
  EXPECT_FALSE(m4.tables_read);
  EXPECT_EQ(m4.user_strings.count, 4u);  // the heaps are still read
}

TEST(DotnetMetadata, HostileRowCountsAndUnknownTables) {
  auto b = test::build_metadata(dropper_spec());
  // TypeRef (second row count) claims 2^31 rows: far beyond the stream and above the cap.
  test::put32(b.metadata, b.row_counts + 4, 0x80000000u);
  auto m = parse_ok(b);
  EXPECT_TRUE(m.has(Anomaly::rows_excessive));
  EXPECT_TRUE(m.has(Anomaly::tables_truncated));
  EXPECT_EQ(m.rows[dotnet::t_type_ref], dotnet::limits::max_rows);
  EXPECT_LE(m.type_refs.size(), dotnet::limits::max_decoded_rows);

  // A Valid bit for table 0x3F shifts nothing before it but is not a table ECMA-335 defines.
  auto b2 = test::build_metadata(dropper_spec());
  const std::uint32_t valid_at = b2.tables + 8;
  b2.metadata[valid_at + 7] |= 0x80;
  // The extra row count is read from where the first row starts, so the tables after it are misplaced; the
  // reader must flag the table and stay in bounds.
  auto m2 = parse_ok(b2);
  EXPECT_TRUE(m2.has(Anomaly::table_unknown));
}

TEST(DotnetMetadata, MalformedUserStringLength) {
  auto b = test::build_metadata(dropper_spec());
  // The first entry's length byte becomes a 4-byte form claiming far more than the heap.
  b.metadata[b.us + 1] = 0xDF;
  auto m = parse_ok(b);
  EXPECT_TRUE(m.has(Anomaly::user_strings_malformed));
  EXPECT_EQ(m.user_strings.count, 0u);
}

TEST(DotnetMetadata, EveryByteFlipStaysInBounds) {
  // Flipping each byte of the root, stream headers and table header in turn must never crash or read past the
  // buffer (ASan/UBSan builds check the reads), and each parse must finish.
  const auto base = test::build_metadata(dropper_spec());
  const std::size_t n = std::min<std::size_t>(base.metadata.size(), base.row_counts + 64);
  std::size_t parsed = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::uint8_t x : {std::uint8_t{0xFF}, std::uint8_t{0x80}}) {
      auto bytes = base.metadata;
      bytes[i] ^= x;
      auto res = base.resources;
      auto r = dotnet::parse_metadata(ByteView(bytes.data(), bytes.size()), ByteView(res.data(), res.size()));
      if (!r.ok()) continue;
      ++parsed;
      for (const auto& t : r->type_refs) {
        for (auto v : {t.ns, t.name})
          if (!v.empty()) {
            EXPECT_GE(v.data(), reinterpret_cast<const char*>(bytes.data()));
            EXPECT_LE(v.data() + v.size(), reinterpret_cast<const char*>(bytes.data() + bytes.size()));
          }
      }
      EXPECT_LE(r->type_refs.size(), dotnet::limits::max_decoded_rows);
    }
  }
  EXPECT_GT(parsed, n);  // most flips leave a readable root
}

}  // namespace
}  // namespace mamori
