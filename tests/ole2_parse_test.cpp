// ole2::parse against compound files synthesized by tests/support/cfb_builder: every stream round-trips in both
// sector sizes and through DIFAT sectors, and damaged files degrade the way ole2.hpp promises (an error only for
// "not OLE2" / cut-off header, anomalies for the rest).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/codepage.hpp"
#include "formats/ole2/ole2.hpp"
#include "support/cfb_builder.hpp"

namespace {

using mamori::ByteView;
using mamori::ErrorCode;
namespace ole2 = mamori::ole2;
using ole2::Anomaly;
using namespace mamori::test;

std::vector<std::uint8_t> filled(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7 + (i >> 5));
  return v;
}

ole2::File parse_ok(const std::vector<std::uint8_t>& b) {
  auto r = ole2::parse(ByteView(b.data(), b.size()));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  if (!r.ok()) return {};
  return std::move(r).value();
}

std::string names(const ole2::File& f) {
  std::string s;
  for (const auto& a : f.anomalies) {
    s += ole2::anomaly_name(a.code);
    s += '(';
    s += std::to_string(a.detail);
    s += ") ";
  }
  return s;
}

CfbSpec mixed_spec(std::uint16_t version) {
  CfbSpec s;
  s.version = version;
  s.streams = {{"WordDocument", filled(5000, 1)},
               {"1Table", filled(4096, 2)},
               {"Macros/VBA/dir", filled(300, 3)},
               {"Macros/VBA/Module1", filled(4095, 4)},
               {"Macros/PROJECT", filled(64, 5)},
               {"Empty", {}},
               {"ObjectPool/_1/Deep/Stream", filled(10, 6)},
               {"\x01" "CompObj", filled(100, 7)}};
  s.storages = {"EmptyStorage"};
  return s;
}

void expect_round_trip(const CfbSpec& spec) {
  CfbLayout L;
  const auto bytes = build_cfb(spec, &L);
  const ole2::File f = parse_ok(bytes);
  EXPECT_TRUE(f.anomalies.empty()) << names(f);
  EXPECT_EQ(f.sector_size, spec.version == 4 ? 4096u : 512u);
  EXPECT_EQ(f.orphan_count, 0u);
  for (const auto& s : spec.streams) {
    auto d = f.read_stream(s.path);
    ASSERT_TRUE(d.has_value()) << s.path;
    EXPECT_TRUE(d->complete) << s.path;
    EXPECT_EQ(d->bytes, s.data) << s.path;
  }
}

TEST(Ole2Parse, RoundTripVersion3) { expect_round_trip(mixed_spec(3)); }
TEST(Ole2Parse, RoundTripVersion4) { expect_round_trip(mixed_spec(4)); }

TEST(Ole2Parse, RoundTripThroughDifatSectors) {
  // More than 109 FAT sectors (109 * 128 sectors of 512 bytes is just under 7 MiB) needs DIFAT sectors.
  CfbSpec s;
  s.streams = {{"Big", filled(7u << 20, 9)}, {"Small", filled(33, 1)}};
  CfbLayout L;
  const auto bytes = build_cfb(s, &L);
  ASSERT_GE(L.fat_sectors.size(), 110u);
  ASSERT_GE(L.difat_sectors.size(), 1u);
  const ole2::File f = parse_ok(bytes);
  EXPECT_TRUE(f.anomalies.empty()) << names(f);
  EXPECT_EQ(f.header.num_difat_sectors, L.difat_sectors.size());
  auto d = f.read_stream("big");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->bytes == s.streams[0].data);
  EXPECT_EQ(f.read_stream("Small")->bytes, s.streams[1].data);
}

TEST(Ole2Parse, FindIsCaseInsensitiveAndWalksStorages) {
  const ole2::File f = parse_ok(build_cfb(mixed_spec(3)));
  const auto* e = f.find("macros/vba/DIR");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->path, "Macros/VBA/dir");
  EXPECT_EQ(e->name, "dir");
  EXPECT_TRUE(e->is_stream());
  EXPECT_NE(f.find("/Macros/VBA"), nullptr);
  EXPECT_TRUE(f.find("Macros/VBA")->is_storage());
  EXPECT_EQ(f.find("Macros/VBA/none"), nullptr);
  EXPECT_EQ(f.find("Macros/VB"), nullptr);
  EXPECT_FALSE(f.read_stream("Macros").has_value());  // a storage is not a stream
  EXPECT_NE(f.find("EmptyStorage"), nullptr);
  EXPECT_NE(f.find("objectpool/_1/deep/stream"), nullptr);
  // Children of the VBA storage.
  const auto* vba = f.find("Macros/VBA");
  const auto idx = static_cast<std::uint32_t>(vba - f.entries.data());
  std::vector<std::string> kids;
  for (auto k : f.children(idx)) kids.push_back(f.entries[k].name);
  std::sort(kids.begin(), kids.end());
  EXPECT_EQ(kids, (std::vector<std::string>{"Module1", "dir"}));
}

TEST(Ole2Parse, NotOle2AndCutHeaderAreErrors) {
  std::vector<std::uint8_t> junk(1024, 0x41);
  auto r = ole2::parse(ByteView(junk.data(), junk.size()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::not_this_format);
  auto b = build_cfb(mixed_spec(3));
  b.resize(300);
  auto t = ole2::parse(ByteView(b.data(), b.size()));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::truncated);
  EXPECT_TRUE(ole2::sniff(ByteView(b.data(), b.size())));
}

TEST(Ole2Parse, CyclicFatChainIsAnAnomaly) {
  CfbSpec s;
  s.streams = {{"A", filled(5000, 1)}, {"B", filled(100, 2)}};
  CfbLayout L;
  auto b = build_cfb(s, &L);
  const std::uint32_t first = L.start_sector.at("A");
  put_u32(b, L.fat_entry_offset(first + 5), first + 2);  // sector 6 of 10 points back to sector 3
  const ole2::File f = parse_ok(b);
  EXPECT_TRUE(f.has(Anomaly::chain_loop)) << names(f);
  auto d = f.read_stream("A");
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->complete);
  EXPECT_EQ(d->bytes.size(), 6u * 512);
  EXPECT_TRUE(std::equal(d->bytes.begin(), d->bytes.end(), s.streams[0].data.begin()));
  EXPECT_EQ(f.read_stream("B")->bytes, s.streams[1].data);  // the rest of the file is unaffected
}

TEST(Ole2Parse, SelfLoopAndOutOfRangeChains) {
  CfbSpec s;
  s.streams = {{"A", filled(5000, 1)}, {"C", filled(9000, 3)}};
  CfbLayout L;
  auto b = build_cfb(s, &L);
  put_u32(b, L.fat_entry_offset(L.start_sector.at("A")), L.start_sector.at("A"));
  put_u32(b, L.fat_entry_offset(L.start_sector.at("C") + 1), 0x00ABCDEF);
  const ole2::File f = parse_ok(b);
  EXPECT_TRUE(f.has(Anomaly::chain_loop)) << names(f);
  EXPECT_TRUE(f.has(Anomaly::chain_out_of_range)) << names(f);
  EXPECT_EQ(f.read_stream("A")->bytes.size(), 512u);
  EXPECT_EQ(f.read_stream("C")->bytes.size(), 1024u);
}

TEST(Ole2Parse, MiniFatLoop) {
  CfbSpec s;
  s.streams = {{"Mini", filled(1000, 1)}};
  CfbLayout L;
  auto b = build_cfb(s, &L);
  // miniFAT entry 3 (the fourth mini sector) points back to mini sector 1.
  put_u32(b, L.sector_offset(L.minifat_start) + 3 * 4, 1);
  const ole2::File f = parse_ok(b);
  EXPECT_TRUE(f.has(Anomaly::minifat_chain_loop)) << names(f);
  auto d = f.read_stream("Mini");
  EXPECT_FALSE(d->complete);
  EXPECT_EQ(d->bytes.size(), 4u * 64);
}

TEST(Ole2Parse, ChainEndingEarlyAndChainLongerThanSize) {
  CfbSpec s;
  s.streams = {{"A", filled(5000, 1)}, {"B", filled(5000, 2)}};
  CfbLayout L;
  auto b = build_cfb(s, &L);
  put_u32(b, L.fat_entry_offset(L.start_sector.at("A") + 3), 0xFFFFFFFE);  // ends after 4 of 10 sectors
  const ole2::File f = parse_ok(b);
  EXPECT_TRUE(f.has(Anomaly::chain_too_short)) << names(f);
  EXPECT_EQ(f.read_stream("A")->bytes.size(), 4u * 512);
  // B claims 1000 bytes but its chain runs 10 sectors. Sizes under 4096 live in the mini stream, so keep it regular.
  put_u32(b, L.dir_entry_offset(L.entry_index.at("B")) + 120, 4096);
  const ole2::File g = parse_ok(b);
  EXPECT_TRUE(g.has(Anomaly::chain_longer_than_size)) << names(g);
  EXPECT_EQ(g.read_stream("B")->bytes.size(), 4096u);
}

TEST(Ole2Parse, DifatLoopAndOutOfRange) {
  CfbSpec s;
  s.streams = {{"Big", filled(7u << 20, 9)}};
  CfbLayout L;
  const auto good = build_cfb(s, &L);
  ASSERT_EQ(L.difat_sectors.size(), 1u);
  {
    auto b = good;
    put_u32(b, L.sector_offset(L.difat_sectors[0]) + 508, L.difat_sectors[0]);  // next DIFAT = itself
    put_u32(b, 72, 3);
    const ole2::File f = parse_ok(b);
    EXPECT_TRUE(f.has(Anomaly::difat_chain_loop)) << names(f);
    EXPECT_EQ(f.read_stream("Big")->bytes.size(), 7u << 20);  // the FAT was complete after one DIFAT sector
  }
  {
    auto b = good;
    put_u32(b, 68, 0x0FFFFFFF);
    const ole2::File f = parse_ok(b);
    EXPECT_TRUE(f.has(Anomaly::difat_chain_out_of_range)) << names(f);
    EXPECT_TRUE(f.has(Anomaly::fat_count_mismatch)) << names(f);
    auto d = f.read_stream("Big");
    ASSERT_TRUE(d.has_value());  // the directory sits past the FAT's reach, but its first sector is still read
    EXPECT_FALSE(d->complete);  // the FAT sectors past the header's 109 are lost
    EXPECT_LT(d->bytes.size(), 7u << 20);
  }
}

TEST(Ole2Parse, FatSectorOutsideFile) {
  CfbSpec s;
  s.streams = {{"A", filled(5000, 1)}};
  auto b = build_cfb(s);
  put_u32(b, 76, 0x00100000);
  const ole2::File f = parse_ok(b);
  EXPECT_TRUE(f.has(Anomaly::fat_sector_out_of_range)) << names(f);
  // With no FAT, each chain is its first sector only (the header and the directory name them).
  EXPECT_TRUE(f.has(Anomaly::chain_out_of_range)) << names(f);
  ASSERT_NE(f.find("A"), nullptr);
  auto d = f.read_stream("A");
  EXPECT_FALSE(d->complete);
  EXPECT_EQ(d->bytes.size(), 512u);
}

TEST(Ole2Parse, DirectoryTreeCycle) {
  CfbSpec s = mixed_spec(3);
  CfbLayout L;
  auto b = build_cfb(s, &L);
  // The VBA storage's child subtree gets a link back up to the Macros storage.
  const std::uint32_t vba = L.entry_index.at("Macros/VBA");
  const std::uint32_t macros = L.entry_index.at("Macros");
  const std::uint32_t dir = L.entry_index.at("Macros/VBA/dir");
  put_u32(b, L.dir_entry_offset(dir) + 72, macros);
  put_u32(b, L.dir_entry_offset(vba) + 68, vba);  // and a self-loop
  const ole2::File f = parse_ok(b);
  EXPECT_TRUE(f.has(Anomaly::tree_loop)) << names(f);
  EXPECT_NE(f.find("Macros/VBA/dir"), nullptr);
  EXPECT_EQ(f.read_stream("WordDocument")->bytes, s.streams[0].data);
}

TEST(Ole2Parse, SiblingOutOfRangeAndInvalidNames) {
  CfbSpec s = mixed_spec(3);
  CfbLayout L;
  auto b = build_cfb(s, &L);
  put_u32(b, L.dir_entry_offset(L.entry_index.at("Empty")) + 68, 0x7000);
  put_u16(b, L.dir_entry_offset(L.entry_index.at("1Table")) + 64, 77);
  b[L.dir_entry_offset(L.entry_index.at("Macros/PROJECT")) + 66] = 9;
  const ole2::File f = parse_ok(b);
  EXPECT_TRUE(f.has(Anomaly::tree_sibling_out_of_range)) << names(f);
  EXPECT_TRUE(f.has(Anomaly::entry_name_invalid)) << names(f);
  EXPECT_TRUE(f.has(Anomaly::entry_type_invalid)) << names(f);
  EXPECT_EQ(f.read_stream("1Table")->bytes, s.streams[1].data);  // the name still decodes up to its NUL
  EXPECT_FALSE(f.read_stream("Macros/PROJECT").has_value());
}

TEST(Ole2Parse, OrphanStream) {
  CfbSpec s;
  s.streams = {{"A", filled(100, 1)}, {"B", filled(100, 2)}, {"C", filled(100, 3)}};
  CfbLayout L;
  auto b = build_cfb(s, &L);
  // Balanced tree of A, B, C: B is the root's child with A left and C right. Cut C off.
  const std::uint32_t bi = L.entry_index.at("B");
  put_u32(b, L.dir_entry_offset(bi) + 72, 0xFFFFFFFF);
  const ole2::File f = parse_ok(b);
  EXPECT_TRUE(f.has(Anomaly::orphan_entry)) << names(f);
  EXPECT_EQ(f.orphan_count, 1u);
  EXPECT_EQ(f.find("C"), nullptr);
  EXPECT_FALSE(f.entries[L.entry_index.at("C")].reachable);
  EXPECT_EQ(f.entries[L.entry_index.at("C")].name, "C");  // still listed for whoever wants hidden streams
  EXPECT_NE(f.find("A"), nullptr);
}

TEST(Ole2Parse, StreamSizeBeyondFileAndHighBits) {
  CfbSpec s;
  s.streams = {{"A", filled(5000, 1)}, {"B", filled(6000, 2)}};
  CfbLayout L;
  auto b = build_cfb(s, &L);
  put_u32(b, L.dir_entry_offset(L.entry_index.at("A")) + 120, 0x7FFFFFF0);
  put_u32(b, L.dir_entry_offset(L.entry_index.at("B")) + 124, 0xDEADBEEF);  // v3: high DWORD is ignored
  const ole2::File f = parse_ok(b);
  EXPECT_TRUE(f.has(Anomaly::stream_size_beyond_file)) << names(f);
  EXPECT_TRUE(f.has(Anomaly::stream_truncated_by_limit)) << names(f);
  EXPECT_TRUE(f.has(Anomaly::chain_too_short)) << names(f);
  EXPECT_TRUE(f.has(Anomaly::stream_size_high_bits_v3)) << names(f);
  auto a = f.read_stream("A");
  EXPECT_FALSE(a->complete);
  EXPECT_EQ(a->bytes.size(), 10u * 512);
  EXPECT_EQ(f.read_stream("B")->bytes, s.streams[1].data);
}

TEST(Ole2Parse, StorageNestingDepthIsCapped) {
  std::string path;
  for (int i = 0; i < 40; ++i) {
    path += std::to_string(i);  // (not "S" + to_string: GCC 12 -Wrestrict false positive)
    path += "S/";
  }
  CfbSpec s;
  s.streams = {{path + "leaf", filled(10, 1)}, {"top", filled(10, 2)}};
  const ole2::File f = parse_ok(build_cfb(s));
  EXPECT_TRUE(f.has(Anomaly::tree_too_deep)) << names(f);
  EXPECT_EQ(f.find(path + "leaf"), nullptr);
  EXPECT_NE(f.find("top"), nullptr);
}

TEST(Ole2Parse, HeaderFieldAnomalies) {
  auto b = build_cfb(mixed_spec(3));
  put_u16(b, 26, 7);       // version
  put_u16(b, 28, 0xFEFF);  // byte order
  put_u16(b, 32, 7);       // mini sector shift
  put_u32(b, 56, 100);     // cutoff
  b.resize(b.size() - 100);
  const ole2::File f = parse_ok(b);
  for (auto a : {Anomaly::version_invalid, Anomaly::byte_order_invalid, Anomaly::mini_sector_shift_invalid,
                 Anomaly::mini_stream_cutoff_invalid, Anomaly::file_not_sector_aligned})
    EXPECT_TRUE(f.has(a)) << ole2::anomaly_name(a) << ": " << names(f);
  EXPECT_EQ(f.read_stream("Macros/VBA/dir")->bytes.size(), 300u);  // still readable with the standard sizes
}

// Every prefix of a small file: parse never crashes, and past the header it always succeeds.
TEST(Ole2Parse, TruncatedAtEveryOffset) {
  for (std::uint16_t version : {3, 4}) {
    CfbSpec s = mixed_spec(version);
    s.streams.resize(5);
    const auto full = build_cfb(s);
    const std::size_t step = version == 4 ? 61 : 1;
    for (std::size_t n = 0; n <= full.size(); n += step) {
      auto r = ole2::parse(ByteView(full.data(), n));
      if (n < 512) {
        ASSERT_FALSE(r.ok()) << n;
        continue;
      }
      ASSERT_TRUE(r.ok()) << n;
      const auto& f = r.value();
      for (const auto& e : f.entries) {
        if (!e.is_stream()) continue;
        auto d = f.read_stream(e);
        ASSERT_LE(d.bytes.size(), e.size);
      }
      if (n == full.size()) {
        EXPECT_TRUE(f.anomalies.empty()) << names(f);
      }
    }
  }
}

// Deterministic byte flips over a built file: parsing and reading everything must not crash, the anomaly list
// must agree with the bit set, and no stream may exceed its claimed size.
TEST(Ole2Parse, RandomCorruptionNeverCrashes) {
  const auto good = build_cfb(mixed_spec(3));
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  auto next = [&]() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int round = 0; round < 3000; ++round) {
    auto b = good;
    const int flips = 1 + static_cast<int>(next() % 8);
    for (int k = 0; k < flips; ++k) {
      // Bias towards the header, FAT and directory, where the structure lives.
      const std::size_t pos = 8 + ((next() % 4 == 0) ? next() % 504 : next() % (b.size() - 8));  // keep the signature
      b[pos] = static_cast<std::uint8_t>(next());
    }
    auto r = ole2::parse(ByteView(b.data(), b.size()));
    ASSERT_TRUE(r.ok());
    std::uint64_t bits = 0;
    for (const auto& a : r->anomalies) bits |= std::uint64_t{1} << static_cast<unsigned>(a.code);
    ASSERT_EQ(bits, r->anomaly_bits);
    for (const auto& e : r->entries) {
      if (!e.is_stream()) continue;
      ASSERT_LE(r->read_stream(e).bytes.size(), std::min<std::uint64_t>(e.size, ole2::limits::max_stream_size));
    }
  }
}

// A SummaryInformation property set written from [MS-OLEPS].
std::vector<std::uint8_t> summary_stream() {
  std::vector<std::uint8_t> b(48, 0);
  put_u16(b, 0, 0xFFFE);
  put_u16(b, 2, 0);
  put_u32(b, 4, 0x00020006);
  put_u32(b, 24, 1);
  // FMTID_SummaryInformation {F29F85E0-4FF9-1068-AB91-08002B27B3D9}
  const std::uint8_t fmtid[16] = {0xE0, 0x85, 0x9F, 0xF2, 0xF9, 0x4F, 0x68, 0x10, 0xAB, 0x91, 0x08, 0x00, 0x2B, 0x27, 0xB3, 0xD9};
  std::copy(fmtid, fmtid + 16, b.begin() + 28);
  put_u32(b, 44, 48);
  // Property set at 48: size, count, then (id, offset) pairs, then values.
  std::vector<std::uint8_t> set(8, 0);
  struct P {
    std::uint32_t id;
    std::vector<std::uint8_t> value;
  };
  auto lpstr = [](const std::string& s) {
    std::vector<std::uint8_t> v(8, 0);
    put_u16(v, 0, 0x1E);
    put_u32(v, 4, static_cast<std::uint32_t>(s.size() + 1));
    v.insert(v.end(), s.begin(), s.end());
    v.push_back(0);
    while (v.size() % 4) v.push_back(0);
    return v;
  };
  auto filetime = [](std::uint64_t t) {
    std::vector<std::uint8_t> v(12, 0);
    put_u16(v, 0, 0x40);
    put_u32(v, 4, static_cast<std::uint32_t>(t));
    put_u32(v, 8, static_cast<std::uint32_t>(t >> 32));
    return v;
  };
  std::vector<std::uint8_t> cp(8, 0);
  put_u16(cp, 0, 0x02);
  put_u16(cp, 4, 1252);
  std::vector<std::uint8_t> pages(8, 0);
  put_u16(pages, 0, 0x03);
  put_u32(pages, 4, 3);
  // The code page comes last on purpose: strings before it must still be converted with it.
  std::vector<P> props = {{4, lpstr("Jos\xE9 \x80")},       {7, lpstr("Normal.dotm")},
                          {12, filetime(0x01D5C1A2B3C4D5E6ull)}, {13, filetime(0x01D5C1A2B3C4D5E7ull)},
                          {14, pages},                        {18, lpstr("Microsoft Office Word")},
                          {1, cp}};
  std::uint32_t off = 8 + static_cast<std::uint32_t>(props.size()) * 8;
  put_u32(set, 4, static_cast<std::uint32_t>(props.size()));
  std::vector<std::uint8_t> values;
  for (std::size_t i = 0; i < props.size(); ++i) {
    put_u32(set, 8 + i * 8, props[i].id);
    put_u32(set, 12 + i * 8, off + static_cast<std::uint32_t>(values.size()));
    values.insert(values.end(), props[i].value.begin(), props[i].value.end());
  }
  set.insert(set.end(), values.begin(), values.end());
  put_u32(set, 0, static_cast<std::uint32_t>(set.size()));
  b.insert(b.end(), set.begin(), set.end());
  return b;
}

TEST(Ole2Parse, SummaryInformation) {
  CfbSpec s = mixed_spec(3);
  s.streams.push_back({"\x05SummaryInformation", summary_stream()});
  const ole2::File f = parse_ok(build_cfb(s));
  EXPECT_TRUE(f.anomalies.empty()) << names(f);
  ASSERT_TRUE(f.summary.present);
  EXPECT_EQ(f.summary.code_page, 1252);
  EXPECT_EQ(f.summary.author, "Jos\xC3\xA9 \xE2\x82\xAC");
  EXPECT_EQ(f.summary.template_name, "Normal.dotm");
  EXPECT_EQ(f.summary.app_name, "Microsoft Office Word");
  EXPECT_EQ(f.summary.created, 0x01D5C1A2B3C4D5E6ull);
  EXPECT_EQ(f.summary.last_saved, 0x01D5C1A2B3C4D5E7ull);
  EXPECT_EQ(f.summary.page_count, 3u);
}

TEST(Ole2Parse, SummaryInformationMalformedAndTruncated) {
  CfbSpec s;
  s.streams = {{"\x05SummaryInformation", filled(200, 3)}};
  const ole2::File f = parse_ok(build_cfb(s));
  EXPECT_TRUE(f.has(Anomaly::property_set_malformed)) << names(f);
  const auto good = summary_stream();
  for (std::size_t n = 0; n < good.size(); ++n) {
    ole2::SummaryInfo info;
    (void)ole2::parse_summary_information(ByteView(good.data(), n), info);
    EXPECT_LE(info.author.size(), 16u);
  }
}

TEST(Ole2Codepage, Conversions) {
  using mamori::codepage_to_utf8;
  EXPECT_EQ(codepage_to_utf8("A\x80\x9F\xE9", 1252), "A\xE2\x82\xAC\xC5\xB8\xC3\xA9");
  EXPECT_EQ(codepage_to_utf8("\xC0\xFF\xA8", 1251), "\xD0\x90\xD1\x8F\xD0\x81");
  EXPECT_EQ(codepage_to_utf8("a\xE9", 28591), "a\xC3\xA9");
  EXPECT_EQ(codepage_to_utf8("a\xE9", 20127), "a\xEF\xBF\xBD");
  EXPECT_EQ(codepage_to_utf8("\xC3\xA9\xC3", 65001), "\xC3\xA9\xEF\xBF\xBD");
  EXPECT_EQ(codepage_to_utf8("\xED\xA0\x80", 65001), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(codepage_to_utf8("\x82\xA0", 932), "\x82\xA0");  // unsupported: bytes kept
  // ASCII runs (copied whole) before, between and after converted bytes, and a text without any.
  EXPECT_EQ(codepage_to_utf8("Sub A()\x80 x = 1\xE9\xE9 End", 1252), "Sub A()\xE2\x82\xAC x = 1\xC3\xA9\xC3\xA9 End");
  EXPECT_EQ(codepage_to_utf8("plain ascii", 1251), "plain ascii");
  EXPECT_EQ(codepage_to_utf8("", 1252), "");
  EXPECT_EQ(codepage_to_utf8(std::string_view("a\0b\xFF", 4), 28591), std::string("a\0b\xC3\xBF", 5));
}

}  // namespace

namespace {

// Found by fuzz_ole2: a storage with an empty name gives its children paths that start with '/', and find() must
// still reach them; and an entry 0 that is not a root storage is walked as the root all the same.
TEST(Ole2Parse, EmptyStorageNameAndNonRootEntryZero) {
  CfbSpec s;
  s.streams = {{"/x", filled(10, 1)}, {"y", filled(20, 2)}};
  CfbLayout L;
  auto b = build_cfb(s, &L);
  {
    const ole2::File f = parse_ok(b);
    EXPECT_TRUE(f.anomalies.empty()) << names(f);
    ASSERT_NE(f.find("/x"), nullptr);
    EXPECT_EQ(f.read_stream("/x")->bytes, s.streams[0].data);
    EXPECT_EQ(f.find("x"), nullptr);
    EXPECT_NE(f.find("/y"), nullptr);  // a leading '/' still means "from the root" when nothing matches exactly
  }
  b[L.dir_entry_offset(0) + 66] = 1;  // entry 0 becomes a plain storage
  const ole2::File f = parse_ok(b);
  EXPECT_TRUE(f.has(Anomaly::root_entry_invalid)) << names(f);
  EXPECT_EQ(f.read_stream("y")->bytes, s.streams[1].data);  // its mini stream is still read
}

}  // namespace
