// vba::decompress on the [MS-OVBA] example and on crafted chunks, and vba::extract on projects synthesized by
// tests/support/cfb_builder (Word, Excel and standalone vbaProject.bin layouts, stomped, hidden and broken modules).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "formats/ole2/ole2.hpp"
#include "formats/vba/vba.hpp"
#include "support/cfb_builder.hpp"

namespace {

using mamori::ByteView;
using mamori::ErrorCode;
namespace ole2 = mamori::ole2;
namespace vba = mamori::vba;
using vba::Anomaly;
using vba::DecompressStatus;
using namespace mamori::test;

vba::Decompressed dec(const std::vector<std::uint8_t>& c, std::uint64_t cap = vba::limits::max_decompressed) {
  return vba::decompress(ByteView(c.data(), c.size()), cap);
}
std::string str(const std::vector<std::uint8_t>& v) { return {v.begin(), v.end()}; }

std::string names(const vba::VbaProject& p) {
  std::string s;
  for (const auto& a : p.anomalies) {
    s += vba::anomaly_name(a.code);
    s += '(';
    s += std::to_string(a.detail);
    s += ") ";
  }
  return s;
}

// [MS-OVBA] 3.2 example: a container with copy tokens at several offset widths.
TEST(VbaDecompress, SpecExample) {
  const std::vector<std::uint8_t> c = {0x01, 0x2F, 0xB0, 0x00, 0x23, 0x61, 0x61, 0x61, 0x62, 0x63, 0x64, 0x65, 0x82,
                                       0x66, 0x00, 0x70, 0x61, 0x67, 0x68, 0x69, 0x6A, 0x01, 0x38, 0x08, 0x61, 0x6B,
                                       0x6C, 0x00, 0x30, 0x6D, 0x6E, 0x6F, 0x70, 0x06, 0x71, 0x02, 0x70, 0x04, 0x10,
                                       0x72, 0x73, 0x74, 0x75, 0x76, 0x10, 0x77, 0x78, 0x79, 0x7A, 0x00, 0x3C};
  const auto d = dec(c);
  EXPECT_EQ(d.status, DecompressStatus::ok);
  EXPECT_EQ(str(d.bytes), "#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa");
  EXPECT_EQ(d.chunks, 1u);
}

TEST(VbaDecompress, RoundTrips) {
  std::vector<std::string> inputs = {"", "a", "abcabcabcabcabc", std::string(100, 'x'), std::string(4096, 'y'),
                                     std::string(4097, 'z')};
  std::string text;
  for (int i = 0; i < 600; ++i) text += "Sub Auto" + std::to_string(i) + "()\r\n  Shell \"cmd /c echo " + std::to_string(i * 7919) + "\"\r\nEnd Sub\r\n";
  inputs.push_back(text);
  std::string noise;
  std::uint32_t x = 12345;
  for (int i = 0; i < 9000; ++i) {
    x = x * 1103515245u + 12345u;
    noise.push_back(static_cast<char>(x >> 24));
  }
  inputs.push_back(noise);  // incompressible: raw chunks
  for (const auto& in : inputs) {
    const auto c = ovba_compress(in);
    const auto d = dec(c);
    EXPECT_EQ(d.status, DecompressStatus::ok) << in.size();
    EXPECT_EQ(str(d.bytes), in) << in.size();
  }
  // The noise really went through raw chunks.
  const auto c = ovba_compress(noise);
  EXPECT_EQ(c[2] & 0x80, 0);
}

TEST(VbaDecompress, MalformedContainers) {
  const auto good = ovba_compress(std::string("Attribute VB_Name = \"Module1\"\r\nSub A()\r\nSub A()\r\n"));
  EXPECT_EQ(dec({}).status, DecompressStatus::empty);
  {
    auto c = good;
    c[0] = 0x02;
    EXPECT_EQ(dec(c).status, DecompressStatus::bad_signature);
  }
  {
    auto c = good;
    // Signature bits 0b000, 0b100 (Emotet's 2020 documents) or 0b111: reported, and decoded as Office does.
    for (std::uint8_t sig : {0x00, 0x40, 0x70}) {
      c[2] = static_cast<std::uint8_t>((good[2] & 0x8F) | sig);
      const auto d = dec(c);
      EXPECT_EQ(d.status, DecompressStatus::bad_chunk_signature);
      EXPECT_EQ(d.bytes, dec(good).bytes);
    }
  }
  {
    // A copy token as the very first token: nothing to copy from.
    const std::vector<std::uint8_t> c = {0x01, 0x02, 0xB0, 0x01, 0x00, 0x00};
    EXPECT_EQ(dec(c).status, DecompressStatus::bad_copy_offset);
  }
  {
    // Offset 2 after one literal.
    const std::vector<std::uint8_t> c = {0x01, 0x03, 0xB0, 0x02, 0x41, 0x00, 0x10};
    const auto d = dec(c);
    EXPECT_EQ(d.status, DecompressStatus::bad_copy_offset);
    EXPECT_EQ(str(d.bytes), "A");
  }
  {
    // Run: one literal then a copy of offset 1, length 3 + 15 = 18 (overlapping copy).
    const std::vector<std::uint8_t> c = {0x01, 0x03, 0xB0, 0x02, 0x41, 0x0F, 0x00};
    const auto d = dec(c);
    EXPECT_EQ(d.status, DecompressStatus::ok);
    EXPECT_EQ(str(d.bytes), std::string(19, 'A'));
  }
  {
    // A chunk whose header claims more bytes than the container has.
    auto c = good;
    c.resize(c.size() - 3);
    const auto d = dec(c);
    EXPECT_EQ(d.status, DecompressStatus::truncated);
    EXPECT_GT(d.bytes.size(), 20u);
  }
  {
    // Copy token cut after its first byte.
    const std::vector<std::uint8_t> c = {0x01, 0x02, 0xB0, 0x02, 0x41, 0x0F};
    EXPECT_EQ(dec(c).status, DecompressStatus::truncated);
  }
  {
    // Raw chunk with fewer than 4096 bytes.
    std::vector<std::uint8_t> c = {0x01, 0xFF, 0x3F};
    c.resize(1003, 0x42);
    const auto d = dec(c);
    EXPECT_EQ(d.status, DecompressStatus::truncated);
    EXPECT_EQ(d.bytes.size(), 1000u);
  }
  {
    // Output cap.
    const auto big = ovba_compress(std::string(20000, 'q'));
    const auto d = dec(big, 5000);
    EXPECT_EQ(d.status, DecompressStatus::output_capped);
    EXPECT_EQ(d.bytes.size(), 5000u);
  }
  {
    // A chunk that expands past 4096 bytes: a literal then max-length runs (offset 1) until the chunk is full.
    std::vector<std::uint8_t> body = {0xFE, 0x41};
    for (int i = 0; i < 7; ++i) {
      body.push_back(0xFF);
      body.push_back(0x0F);  // 4 offset bits at first: length mask 0x0FFF -> 4098 bytes
    }
    std::vector<std::uint8_t> c = {0x01};
    const auto header = static_cast<std::uint16_t>(0xB000u | (body.size() + 2 - 3));
    c.push_back(static_cast<std::uint8_t>(header));
    c.push_back(static_cast<std::uint8_t>(header >> 8));
    c.insert(c.end(), body.begin(), body.end());
    const auto d = dec(c);
    EXPECT_EQ(d.status, DecompressStatus::chunk_overflow);
    EXPECT_EQ(d.bytes.size(), 4096u);
  }
}

// Every prefix and many byte flips of a container: the decompressor stays in bounds (ASan/UBSan builds check).
TEST(VbaDecompress, TruncatedAndFlippedContainers) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "Dim v" + std::to_string(i) + " As String: v = Chr(" + std::to_string(i % 97) + ")\r\n";
  const auto good = ovba_compress(text);
  for (std::size_t n = 0; n <= good.size(); ++n) {
    const auto d = vba::decompress(ByteView(good.data(), n));
    ASSERT_LE(d.bytes.size(), text.size() + 4096);
    // Cut inside a chunk: truncated. Cut at a chunk boundary: a clean, shorter container.
    if (d.status == DecompressStatus::ok) {
      ASSERT_TRUE(d.bytes.size() % 4096 == 0 || n == good.size()) << n;
    }
    if (n == good.size()) {
      ASSERT_EQ(d.status, DecompressStatus::ok);
    }
    ASSERT_EQ(str(d.bytes), text.substr(0, d.bytes.size())) << n;  // a prefix decodes to a prefix
  }
  std::uint64_t x = 88172645463325252ull;
  for (int round = 0; round < 2000; ++round) {
    auto c = good;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c[x % c.size()] = static_cast<std::uint8_t>(x >> 40);
    const auto d = dec(c);
    ASSERT_LE(d.bytes.size(), (c.size() / 2 + 1) * 4096);
  }
}

// The copy-token rules applied one output byte at a time, each byte checked against both caps first: what
// vba::decompress must produce, bytes and status, however it copies.
vba::Decompressed byte_by_byte(const std::vector<std::uint8_t>& in, std::uint64_t max_out) {
  vba::Decompressed d;
  auto& out = d.bytes;
  if (in.empty()) return d.status = DecompressStatus::empty, d;
  if (in[0] != 0x01) return d.status = DecompressStatus::bad_signature, d;
  bool bad_sig = false;
  std::size_t pos = 1;
  while (pos < in.size()) {
    if (in.size() - pos < 2) return d.status = DecompressStatus::truncated, d;
    const unsigned header = in[pos] | (in[pos + 1] << 8);
    if (((header >> 12) & 7) != 3) bad_sig = true;
    ++d.chunks;
    const std::size_t start = pos, size = (header & 0xFFF) + 3, out_start = out.size();
    pos += 2;
    if (!(header & 0x8000)) {
      for (std::size_t i = 0; i < 4096 && pos + i < in.size(); ++i) {
        if (out.size() >= max_out) return d.status = DecompressStatus::output_capped, d;
        out.push_back(in[pos + i]);
      }
      if (in.size() - pos < 4096) return d.status = DecompressStatus::truncated, d;
      pos += 4096;
      continue;
    }
    const bool cut = size > in.size() - start;
    const std::size_t end = cut ? in.size() : start + size;
    while (pos < end) {
      const std::uint8_t flags = in[pos++];
      for (unsigned bit = 0; bit < 8 && pos < end; ++bit) {
        if (out.size() >= max_out) return d.status = DecompressStatus::output_capped, d;
        if (out.size() - out_start >= 4096) return d.status = DecompressStatus::chunk_overflow, d;
        if (!((flags >> bit) & 1)) {
          out.push_back(in[pos++]);
          continue;
        }
        if (end - pos < 2) return d.status = DecompressStatus::truncated, d;
        const unsigned token = in[pos] | (in[pos + 1] << 8);
        pos += 2;
        const std::size_t produced = out.size() - out_start;
        unsigned bits = 4;
        while (bits < 12 && (1u << bits) < produced) ++bits;
        const std::size_t length = (token & (0xFFFFu >> bits)) + 3, offset = (token >> (16 - bits)) + 1;
        if (offset > produced) return d.status = DecompressStatus::bad_copy_offset, d;
        for (std::size_t i = 0; i < length; ++i) {
          if (out.size() >= max_out) return d.status = DecompressStatus::output_capped, d;
          if (out.size() - out_start >= 4096) return d.status = DecompressStatus::chunk_overflow, d;
          out.push_back(out[out.size() - offset]);
        }
      }
    }
    if (cut) return d.status = DecompressStatus::truncated, d;
  }
  if (bad_sig) d.status = DecompressStatus::bad_chunk_signature;
  return d;
}

// Random chunks of literals and copy tokens (long and short, overlapping and not, past the chunk's 4096 bytes),
// under output caps that fall inside copies: the same bytes and the same status as the byte-by-byte rules.
TEST(VbaDecompress, MatchesTheByteByByteRulesOnRandomContainers) {
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
  };
  int statuses[8] = {};
  for (int round = 0; round < 3000; ++round) {
    std::vector<std::uint8_t> c = {0x01};
    const int chunks = 1 + static_cast<int>(next() % 3);
    for (int k = 0; k < chunks; ++k) {
      std::vector<std::uint8_t> body;
      const std::size_t groups = 1 + next() % (round % 2 ? 600 : 40);
      for (std::size_t g = 0; g < groups; ++g) {
        const auto flags = static_cast<std::uint8_t>(g == 0 ? next() & 0xFE : next());
        body.push_back(flags);
        for (int b = 0; b < 8; ++b) {
          if ((flags >> b) & 1) {
            // Any token, or offset 1 (always valid) with a long or a short length.
            const auto r = next();
            const std::uint16_t mask = r % 3 == 0 ? 0xFFFF : r % 3 == 1 ? 0x0F0F : 0x0007;
            const auto token = static_cast<std::uint16_t>((r >> 8) & mask);
            body.push_back(static_cast<std::uint8_t>(token));
            body.push_back(static_cast<std::uint8_t>(token >> 8));
          } else {
            body.push_back(static_cast<std::uint8_t>('a' + next() % 26));
          }
        }
      }
      if (body.size() > 4096) body.resize(4096);
      const auto header = static_cast<std::uint16_t>(0xB000u | (body.size() + 2 - 3));
      c.push_back(static_cast<std::uint8_t>(header));
      c.push_back(static_cast<std::uint8_t>(header >> 8));
      c.insert(c.end(), body.begin(), body.end());
    }
    if (next() % 4 == 0) c.resize(c.size() - next() % c.size() / 2);
    const std::uint64_t cap = next() % 3 == 0 ? 1 + next() % 9000 : vba::limits::max_decompressed;
    const auto want = byte_by_byte(c, cap);
    const auto got = dec(c, cap);
    ASSERT_EQ(got.status, want.status) << round;
    ASSERT_EQ(got.chunks, want.chunks) << round;
    ASSERT_EQ(got.bytes, want.bytes) << round;
    ++statuses[static_cast<int>(got.status) & 7];
  }
  // The rounds reach the copy rules' ends: clean streams, caps inside copies, overflowing chunks, bad offsets.
  EXPECT_GT(statuses[static_cast<int>(DecompressStatus::ok)], 0);
  EXPECT_GT(statuses[static_cast<int>(DecompressStatus::output_capped)], 0);
  EXPECT_GT(statuses[static_cast<int>(DecompressStatus::chunk_overflow)], 0);
  EXPECT_GT(statuses[static_cast<int>(DecompressStatus::bad_copy_offset)], 0);
}

struct Doc {
  std::vector<std::uint8_t> bytes;
  ole2::File file;
};

Doc make_doc(const VbaSpec& v, std::vector<CfbStream> extra = {}) {
  CfbSpec s;
  s.streams = build_vba_streams(v);
  s.streams.insert(s.streams.end(), extra.begin(), extra.end());
  Doc d;
  d.bytes = build_cfb(s);
  auto r = ole2::parse(ByteView(d.bytes.data(), d.bytes.size()));
  EXPECT_TRUE(r.ok());
  if (r.ok()) d.file = std::move(r).value();
  return d;
}

VbaSpec word_spec() {
  VbaSpec v;
  v.storage = "Macros/VBA";
  v.project_name = "Project";
  v.modules = {
      {"ThisDocument",
       "Attribute VB_Name = \"ThisDocument\"\r\nAttribute VB_Base = \"1Normal.ThisDocument\"\r\n"
       "Private Sub Document_Open()\r\n  Module1.Run\r\nEnd Sub\r\n",
       std::vector<std::uint8_t>(700, 0xA5), false},
      {"Module1",
       "Attribute VB_Name = \"Module1\"\r\nSub Run()\r\n  ' caf\xE9 \x80\r\n  Shell \"calc.exe\"\r\nEnd Sub\r\n",
       std::vector<std::uint8_t>(1200, 0x5A), true},
  };
  return v;
}

TEST(VbaExtract, WordProjectRoundTrip) {
  const VbaSpec v = word_spec();
  Doc d = make_doc(v, {{"WordDocument", std::vector<std::uint8_t>(5000, 1)}});
  EXPECT_EQ(vba::find_projects(d.file), std::vector<std::string>{"Macros/VBA"});
  auto r = vba::extract(d.file, "Macros/VBA");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const auto& p = r.value();
  EXPECT_TRUE(p.anomalies.empty()) << names(p);
  EXPECT_EQ(p.name, "Project");
  EXPECT_EQ(p.code_page, 1252);
  EXPECT_EQ(p.sys_kind, 1u);
  EXPECT_EQ(p.lcid, 0x409u);
  EXPECT_EQ(p.version_major, 0x5A3F1C2Eu);
  EXPECT_EQ(p.version_minor, 0x11);
  ASSERT_EQ(p.references.size(), 1u);
  EXPECT_EQ(p.references[0].name, "stdole");
  EXPECT_NE(p.references[0].libid.find("stdole2.tlb"), std::string::npos);
  EXPECT_EQ(p.declared_modules, 2);
  ASSERT_EQ(p.modules.size(), 2u);
  const auto& m0 = p.modules[0];
  EXPECT_EQ(m0.name, "ThisDocument");
  EXPECT_EQ(m0.name_unicode, "ThisDocument");
  EXPECT_EQ(m0.type, vba::ModuleType::document_or_class);
  EXPECT_EQ(m0.text_offset, 700u);
  EXPECT_EQ(m0.pcode_size, 700u);
  EXPECT_EQ(m0.source, v.modules[0].source);
  EXPECT_EQ(m0.code_lines, 3u);
  EXPECT_EQ(m0.attribute_lines, 2u);
  EXPECT_TRUE(m0.in_project_stream);
  const auto& m1 = p.modules[1];
  EXPECT_EQ(m1.type, vba::ModuleType::procedural);
  // Code page 1252: 0xE9 -> U+00E9, 0x80 -> U+20AC.
  EXPECT_NE(m1.source.find("caf\xC3\xA9 \xE2\x82\xAC"), std::string::npos);
  EXPECT_EQ(m1.source_status, DecompressStatus::ok);
  EXPECT_FALSE(m1.stomp_suspect);
  EXPECT_TRUE(p.vba_project_present);
  EXPECT_EQ(p.vba_version, 0x00B2);
  EXPECT_TRUE(p.project_stream_present);
  EXPECT_EQ(p.project_modules, (std::vector<std::string>{"ThisDocument", "Module1"}));
  bool saw_name = false;
  for (const auto& [k, val] : p.project_lines) saw_name |= (k == "Name" && val == "\"Project\"");
  EXPECT_TRUE(saw_name);
}

TEST(VbaExtract, ExcelAndStandaloneLayouts) {
  for (const std::string storage : {"_VBA_PROJECT_CUR/VBA", "VBA"}) {
    VbaSpec v = word_spec();
    v.storage = storage;
    Doc d = make_doc(v);
    ASSERT_EQ(vba::find_projects(d.file), std::vector<std::string>{storage});
    auto r = vba::extract(d.file, storage);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->anomalies.empty()) << storage << ": " << names(*r);
    ASSERT_EQ(r->modules.size(), 2u);
    EXPECT_EQ(r->modules[1].source.substr(0, 29), "Attribute VB_Name = \"Module1\"");
  }
}

TEST(VbaExtract, Version4FileAndLongModule) {
  VbaSpec v = word_spec();
  std::string big = "Attribute VB_Name = \"Module1\"\r\n";
  for (int i = 0; i < 2000; ++i) big += "  s = s & Chr(" + std::to_string(60 + i % 40) + ")\r\n";
  v.modules[1].source = big;
  CfbSpec s;
  s.version = 4;
  s.streams = build_vba_streams(v);
  const auto b = build_cfb(s);
  auto f = ole2::parse(ByteView(b.data(), b.size()));
  ASSERT_TRUE(f.ok());
  auto r = vba::extract(*f, "Macros/VBA");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->modules[1].source, big);
  EXPECT_EQ(r->modules[1].code_lines, 2000u);
}

TEST(VbaExtract, NoProjectIsAnError) {
  CfbSpec s;
  s.streams = {{"WordDocument", std::vector<std::uint8_t>(100, 1)}};
  const auto b = build_cfb(s);
  auto f = ole2::parse(ByteView(b.data(), b.size()));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(vba::find_projects(*f).empty());
  auto r = vba::extract(*f, "Macros/VBA");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::not_this_format);
}

TEST(VbaExtract, StompedModule) {
  VbaSpec v = word_spec();
  // The p-code stays, the source is reduced to its Attribute line: what stomping tools leave behind.
  v.modules[1].source = "Attribute VB_Name = \"Module1\"\r\n";
  v.modules[1].pcode = std::vector<std::uint8_t>(6000, 0x33);
  Doc d = make_doc(v);
  auto r = vba::extract(d.file, "Macros/VBA");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->has(Anomaly::pcode_without_source)) << names(*r);
  EXPECT_TRUE(r->has(Anomaly::module_source_empty)) << names(*r);
  EXPECT_TRUE(r->modules[1].stomp_suspect);
  EXPECT_EQ(r->modules[1].code_lines, 0u);
  EXPECT_FALSE(r->modules[0].stomp_suspect);
  // An empty module with a small cache is only "empty", not stomped.
  v.modules[1].pcode.resize(400);
  Doc d2 = make_doc(v);
  auto r2 = vba::extract(d2.file, "Macros/VBA");
  EXPECT_TRUE(r2->has(Anomaly::module_source_empty));
  EXPECT_FALSE(r2->has(Anomaly::pcode_without_source));
}

TEST(VbaExtract, PurgedPcode) {
  VbaSpec v = word_spec();
  v.modules[1].pcode.clear();
  Doc d = make_doc(v);
  auto r = vba::extract(d.file, "Macros/VBA");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->has(Anomaly::source_without_pcode)) << names(*r);
  EXPECT_EQ(r->modules[1].pcode_size, 0u);
  EXPECT_NE(r->modules[1].source.find("calc.exe"), std::string::npos);
}

TEST(VbaExtract, HiddenMissingAndMisplacedModules) {
  VbaSpec v = word_spec();
  v.modules[1].in_project_stream = false;  // hidden from the editor
  v.modules.push_back({"Ghost", "Sub G()\r\nEnd Sub\r\n", {}, true, "", true, false});  // no stream
  v.modules.push_back({"Renamed", "Attribute VB_Name = \"Renamed\"\r\nSub R()\r\nEnd Sub\r\n", std::vector<std::uint8_t>(10, 1), true, "Strm"});
  Doc d = make_doc(v);
  auto r = vba::extract(d.file, "Macros/VBA");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->has(Anomaly::module_not_in_project_stream)) << names(*r);
  EXPECT_TRUE(r->has(Anomaly::module_stream_missing)) << names(*r);
  EXPECT_FALSE(r->modules[1].in_project_stream);
  EXPECT_NE(r->modules[1].source.find("calc.exe"), std::string::npos);  // hidden, but its source is read
  EXPECT_FALSE(r->modules[2].stream_found);
  EXPECT_TRUE(r->modules[3].stream_found);  // found by MODULESTREAMNAME, not by name
  EXPECT_EQ(r->modules[3].stream_name, "Strm");
  EXPECT_EQ(r->modules[3].code_lines, 2u);
}

TEST(VbaExtract, ProjectModuleNotInDirAndCountMismatch) {
  VbaSpec v = word_spec();
  v.declared_modules = 5;
  CfbSpec s;
  s.streams = build_vba_streams(v);
  for (auto& st : s.streams) {
    if (st.path == "Macros/PROJECT") {
      const std::string extra = "Module=Phantom\r\n";
      st.data.insert(st.data.begin() + 45, extra.begin(), extra.end());  // after the ID= line
    }
  }
  const auto b = build_cfb(s);
  auto f = ole2::parse(ByteView(b.data(), b.size()));
  auto r = vba::extract(*f, "Macros/VBA");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->has(Anomaly::module_count_mismatch)) << names(*r);
  EXPECT_TRUE(r->has(Anomaly::project_module_not_in_dir)) << names(*r);
}

TEST(VbaExtract, OffsetBeyondStreamAndBrokenSource) {
  VbaSpec v = word_spec();
  CfbSpec s;
  s.streams = build_vba_streams(v);
  for (auto& st : s.streams) {
    if (st.path == "Macros/VBA/ThisDocument") st.data.resize(500);             // MODULEOFFSET is 700
    if (st.path == "Macros/VBA/Module1") st.data[1200] = 0x07;                 // container signature
  }
  const auto b = build_cfb(s);
  auto f = ole2::parse(ByteView(b.data(), b.size()));
  auto r = vba::extract(*f, "Macros/VBA");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->has(Anomaly::module_offset_beyond_stream)) << names(*r);
  EXPECT_TRUE(r->has(Anomaly::module_decompress_failed)) << names(*r);
  EXPECT_EQ(r->modules[1].source_status, DecompressStatus::bad_signature);
  EXPECT_EQ(r->modules[0].pcode_size, 500u);
}

TEST(VbaExtract, TruncatedDirStream) {
  VbaSpec v = word_spec();
  auto dir = build_dir_stream(v);
  dir.resize(dir.size() - 40);  // inside the second module's records
  CfbSpec s;
  s.streams = build_vba_streams(v);
  s.streams[0].data = ovba_compress(dir);
  const auto b = build_cfb(s);
  auto f = ole2::parse(ByteView(b.data(), b.size()));
  auto r = vba::extract(*f, "Macros/VBA");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->has(Anomaly::dir_record_truncated)) << names(*r);
  ASSERT_EQ(r->modules.size(), 2u);
  EXPECT_EQ(r->modules[0].source, v.modules[0].source);
}

// Emotet's 2020 Word droppers write the dir stream's and modules' chunk headers with signature bits 0b100. Office
// ignores them; so does the reader: the project and every module's source come out, and the anomaly stays.
TEST(VbaExtract, WrongChunkSignatureBitsAreReadAsOfficeReadsThem) {
  const VbaSpec v = word_spec();
  CfbSpec s;
  s.streams = build_vba_streams(v);
  auto& dir = s.streams[0].data;
  ASSERT_GE(dir.size(), 3u);
  dir[2] = static_cast<std::uint8_t>((dir[2] & 0x8F) | 0x40);
  const auto b = build_cfb(s);
  auto f = ole2::parse(ByteView(b.data(), b.size()));
  ASSERT_TRUE(f.ok());
  auto r = vba::extract(*f, "Macros/VBA");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->has(Anomaly::dir_decompress_failed)) << names(*r);
  EXPECT_FALSE(r->has(Anomaly::project_module_not_in_dir)) << names(*r);
  ASSERT_EQ(r->modules.size(), 2u);
  EXPECT_EQ(r->modules[0].source, v.modules[0].source);
  EXPECT_NE(r->modules[1].source.find("Shell \"calc.exe\""), std::string::npos);
}

TEST(VbaExtract, UnsupportedCodePageKeepsBytes) {
  VbaSpec v = word_spec();
  v.code_page = 932;
  Doc d = make_doc(v);
  auto r = vba::extract(d.file, "Macros/VBA");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->has(Anomaly::codepage_unsupported));
  EXPECT_NE(r->modules[1].source.find("caf\xE9 \x80"), std::string::npos);
}

// Every prefix of a whole document, and byte flips: parse + find_projects + extract never crash.
TEST(VbaExtract, TruncatedAndCorruptedDocuments) {
  const VbaSpec v = word_spec();
  CfbSpec s;
  s.streams = build_vba_streams(v);
  const auto full = build_cfb(s);
  std::size_t extracted = 0;
  for (std::size_t n = 512; n <= full.size(); n += 7) {
    auto f = ole2::parse(ByteView(full.data(), n));
    ASSERT_TRUE(f.ok());
    for (const auto& st : vba::find_projects(*f)) {
      auto r = vba::extract(*f, st);
      if (r.ok()) ++extracted;
    }
  }
  EXPECT_GT(extracted, 0u);
  std::uint64_t x = 0x2545F4914F6CDD1Dull;
  for (int round = 0; round < 1500; ++round) {
    auto b = full;
    for (int k = 0; k < 4; ++k) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b[512 + x % (b.size() - 512)] = static_cast<std::uint8_t>(x >> 32);
    }
    auto f = ole2::parse(ByteView(b.data(), b.size()));
    ASSERT_TRUE(f.ok());
    auto r = vba::extract(*f, "Macros/VBA");
    if (r.ok()) {
      ASSERT_LE(r->modules.size(), vba::limits::max_modules);
    }
  }
}

TEST(VbaExtract, CountLines) {
  std::uint32_t lines, code, attr;
  vba::count_lines("Attribute VB_Name = \"M\"\r\n\r\n  \r\nSub A()\rEnd Sub\n", lines, code, attr);
  EXPECT_EQ(lines, 5u);
  EXPECT_EQ(code, 2u);
  EXPECT_EQ(attr, 1u);
  vba::count_lines("", lines, code, attr);
  EXPECT_EQ(lines, 0u);
}

}  // namespace

namespace {

// Found by fuzz_vba: find_projects named a storage under an empty-named storage ("/VBA"), and extract trimmed the
// '/' away and then found no dir stream there.
TEST(VbaExtract, ProjectUnderEmptyNamedStorage) {
  VbaSpec v = word_spec();
  v.storage = "/VBA";
  Doc d = make_doc(v);
  const auto projects = vba::find_projects(d.file);
  ASSERT_EQ(projects, std::vector<std::string>{"/VBA"});
  auto r = vba::extract(d.file, projects[0]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->modules.size(), 2u);
  EXPECT_TRUE(vba::extract(d.file, "VBA").ok() == false);  // no storage "VBA" under the root itself
}

}  // namespace
