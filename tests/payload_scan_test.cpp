// Shellcode and hidden executables in documents (features/payload_scan, the `payload` group and the rules
// "encoded-executable" and "shellcode"), on inputs built here: a PE from tests/support/pe_builder, XOR-encoded with
// keys chosen here, inside compound files, OOXML embeddings and RTF objects; shellcode idioms written byte by byte.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "features/office_features.hpp"
#include "features/payload_scan.hpp"
#include "support/cfb_builder.hpp"
#include "support/office_sample.hpp"
#include "support/ooxml_builder.hpp"
#include "support/pe_builder.hpp"
#include "support/rtf_builder.hpp"

namespace {

using namespace mamori;
using namespace mamori::test;

std::vector<std::uint8_t> small_pe() {
  PeSpec spec;
  return build_pe(spec).bytes;
}

// Random filler, so that nothing but what a test puts in can match (fixed seed).
std::vector<std::uint8_t> filler(std::size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(g() & 0xff);
  // A random buffer could hold a pattern by chance only with negligible odds; 0x90 runs are cut to stay below a sled.
  return v;
}

std::vector<std::uint8_t> xored(std::vector<std::uint8_t> v, const std::vector<std::uint8_t>& key) {
  for (std::size_t i = 0; i < v.size(); ++i) v[i] ^= key[i % key.size()];
  return v;
}

std::vector<std::uint8_t> cat(std::initializer_list<std::vector<std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<std::uint8_t> doc_with_stream(const std::vector<std::uint8_t>& data) {
  CfbSpec spec;
  spec.streams.push_back({"WordDocument", filler(6000, 7)});
  spec.streams.push_back({"Data", data});
  return build_cfb(spec);
}

features::PayloadStats scan(const std::vector<std::uint8_t>& v) {
  features::PayloadStats s;
  features::scan_payload(ByteView(v.data(), v.size()), s);
  return s;
}

// The ROR-13 hash as the test writes it, independently of the scanner's constexpr table.
std::uint32_t ror13_hash(const std::string& name) {
  std::uint32_t h = 0;
  for (unsigned char c : name) h = ((h >> 13) | (h << 19)) + c;
  return h;
}

std::vector<std::uint8_t> le32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 24)};
}

TEST(PayloadScan, OneByteXorExecutableIsFoundAndDecoded) {
  const auto pe = small_pe();
  const auto buf = cat({filler(1001, 1), xored(pe, {0x5a}), filler(300, 2)});
  const auto s = scan(buf);
  EXPECT_EQ(s.xor1_stubs, 1u);
  EXPECT_EQ(s.xor4_stubs, 0u);
  EXPECT_EQ(s.dos_stubs, 0u);
  ASSERT_EQ(s.n_encoded, 1u);
  EXPECT_EQ(s.encoded[0].mz_offset, 1001u);
  EXPECT_EQ(s.encoded[0].key_len, 1);
  const auto decoded = features::decode_executable(ByteView(buf.data(), buf.size()), s.encoded[0], pe.size());
  EXPECT_EQ(decoded, pe);
}

TEST(PayloadScan, FourByteXorKeyAtAnyPhase) {
  const auto pe = small_pe();
  for (std::size_t lead : {1000u, 1001u, 1002u, 1003u}) {
    const auto buf = cat({filler(lead, 3), xored(pe, {0x11, 0x22, 0x33, 0x44}), filler(64, 4)});
    const auto s = scan(buf);
    EXPECT_EQ(s.xor4_stubs, 1u) << lead;
    EXPECT_EQ(s.xor1_stubs, 0u) << lead;
    ASSERT_EQ(s.n_encoded, 1u) << lead;
    EXPECT_EQ(s.encoded[0].mz_offset, lead);
    EXPECT_EQ(features::decode_executable(ByteView(buf.data(), buf.size()), s.encoded[0], pe.size()), pe) << lead;
  }
}

TEST(PayloadScan, ClearExecutableIsCountedNotDecoded) {
  const auto pe = small_pe();
  const auto s = scan(cat({filler(777, 5), pe}));
  EXPECT_EQ(s.dos_stubs, 1u);
  EXPECT_EQ(s.pe_headers, 1u);
  EXPECT_EQ(s.xor1_stubs + s.xor4_stubs, 0u);
  EXPECT_EQ(s.n_encoded, 0u);
  // The buffer that is itself an executable: its own stub and header are not "hidden" ones.
  const auto own = scan(pe);
  EXPECT_EQ(own.dos_stubs, 0u);
  EXPECT_EQ(own.pe_headers, 0u);
}

TEST(PayloadScan, ShellcodeIdiomsAreCountedAndLookalikesAreNot) {
  const std::vector<std::uint8_t> peb = {0x64, 0xa1, 0x30, 0x00, 0x00, 0x00};              // mov eax, fs:[0x30]
  const std::vector<std::uint8_t> peb_x64 = {0x65, 0x48, 0x8b, 0x04, 0x25, 0x60, 0x00, 0x00, 0x00};
  const std::vector<std::uint8_t> call_pop = {0xe8, 0x00, 0x00, 0x00, 0x00, 0x5d};          // call $+5; pop ebp
  const std::vector<std::uint8_t> fnstenv = {0xd9, 0x74, 0x24, 0xf4};
  const std::vector<std::uint8_t> sled(40, 0x90), short_run(31, 0x90);
  const auto s = scan(cat({filler(100, 6), peb, filler(50, 8), peb_x64, call_pop, fnstenv, sled, filler(20, 9)}));
  EXPECT_EQ(s.peb_access, 2u);
  EXPECT_EQ(s.get_pc, 2u);
  EXPECT_EQ(s.nop_sleds, 1u);
  // One byte off each idiom: fs:[0x34], call $+6, a pop that is not one, a 31-byte run.
  const std::vector<std::uint8_t> not_peb = {0x64, 0xa1, 0x34, 0x00, 0x00, 0x00};
  const std::vector<std::uint8_t> not_call = {0xe8, 0x01, 0x00, 0x00, 0x00, 0x5d};
  const std::vector<std::uint8_t> not_pop = {0xe8, 0x00, 0x00, 0x00, 0x00, 0x60};
  const auto t = scan(cat({filler(100, 6), not_peb, not_call, not_pop, short_run, filler(20, 9)}));
  EXPECT_EQ(t.peb_access, 0u);
  EXPECT_EQ(t.get_pc, 0u);
  EXPECT_EQ(t.nop_sleds, 0u);
}

// The vector loop and the byte loop must agree: each idiom at every offset of a buffer, including the last bytes
// (which only the byte loop reads) and 16-byte block edges.
TEST(PayloadScan, EveryOffsetIsSeen) {
  const std::vector<std::uint8_t> peb = {0x64, 0xa1, 0x30, 0x00, 0x00, 0x00};
  const std::vector<std::uint8_t> call_pop = {0xe8, 0x00, 0x00, 0x00, 0x00, 0x58};
  auto push_hash = le32(ror13_hash("WinExec"));
  push_hash.insert(push_hash.begin(), 0x68);
  const auto pe = small_pe();
  const auto stub4 = xored(std::vector<std::uint8_t>(pe.begin(), pe.begin() + 0x80), {9, 8, 7, 6});
  for (std::size_t size : {90u, 150u}) {
    for (std::size_t at = 0; at + 9 <= size; ++at) {
      for (const std::vector<std::uint8_t>* pattern : {&peb, &call_pop, static_cast<const std::vector<std::uint8_t>*>(&push_hash)}) {
        std::vector<std::uint8_t> buf(size, 0x20);
        std::copy(pattern->begin(), pattern->end(), buf.begin() + static_cast<std::ptrdiff_t>(at));
        const auto s = scan(buf);
        EXPECT_EQ(s.peb_access + s.get_pc + s.api_hashes, 1u) << size << " " << at;
      }
    }
  }
  for (std::size_t at = 0; at < 40; ++at) {
    auto buf = cat({std::vector<std::uint8_t>(at, 0x20), stub4, std::vector<std::uint8_t>(7, 0x20)});
    const auto s = scan(buf);
    EXPECT_EQ(s.xor4_stubs, 1u) << at;
    EXPECT_EQ(s.n_encoded, 1u) << at;
  }
}

TEST(PayloadScan, ApiHashesAreDistinct) {
  const auto h = le32(ror13_hash("LoadLibraryA"));
  const auto g = le32(ror13_hash("GetProcAddress"));
  const std::vector<std::uint8_t> push = {0x68}, mov_esi = {0xbe}, nop = {0x90};
  const auto s = scan(cat({filler(64, 10), push, h, filler(9, 11), push, g, filler(9, 12), push, h, mov_esi, g}));
  EXPECT_EQ(s.api_hashes, 2u);
  // Not an operand of push, or not a hash: not counted.
  EXPECT_EQ(scan(cat({filler(64, 10), nop, h, filler(9, 11)})).api_hashes, 0u);
  const auto other = le32(ror13_hash("NotAnApiName"));
  EXPECT_EQ(scan(cat({filler(64, 10), push, other, filler(9, 11)})).api_hashes, 0u);
}

TEST(PayloadScan, TruncatedStubsAndEmptyInputAreSafe) {
  EXPECT_EQ(scan({}).xor1_stubs, 0u);
  const auto pe = small_pe();
  // The encoded stub cut in the middle: not enough bytes to call it a stub, and no read past the end.
  const auto enc = xored(pe, {0x77});
  for (std::size_t cut = 0x4e; cut < 0x4e + 30; ++cut) {
    const std::vector<std::uint8_t> part(enc.begin(), enc.begin() + static_cast<std::ptrdiff_t>(cut));
    const auto s = scan(part);
    EXPECT_EQ(s.xor1_stubs, cut >= 0x4e + 24 ? 1u : 0u) << cut;
  }
}

TEST(PayloadFeatures, EncodedExecutableInCompoundFileIsTheRuleAndAMember) {
  const auto pe = small_pe();
  const auto doc = doc_with_stream(cat({filler(2000, 13), xored(pe, {0xa5}), filler(2000, 14)}));
  const auto s = featurize(doc);
  EXPECT_EQ(feature(s, "payload.xor1_executables"), 1.0f);
  EXPECT_EQ(features::office_rule(s.x), "encoded-executable");
  bool member = false;
  for (const auto& e : s.embedded)
    if (e.name.find("xor-executable") != std::string::npos) {
      member = true;
      ASSERT_GE(e.bytes.size(), pe.size());
      EXPECT_TRUE(std::equal(pe.begin(), pe.end(), e.bytes.begin()));
    }
  EXPECT_TRUE(member);
  // The same document with the stream in clear: an embedded program, not the rule.
  const auto clear = featurize(doc_with_stream(cat({filler(2000, 13), pe, filler(2000, 14)})));
  EXPECT_GE(feature(clear, "payload.dos_stubs"), 1.0f);
  EXPECT_EQ(features::office_rule(clear.x), "");
}

TEST(PayloadFeatures, ShellcodeRuleNeedsNoClearExecutable) {
  const std::vector<std::uint8_t> peb = {0x64, 0x8b, 0x1d, 0x30, 0x00, 0x00, 0x00};  // mov ebx, fs:[0x30]
  const auto with_code = featurize(doc_with_stream(cat({filler(3000, 15), peb, filler(3000, 16)})));
  EXPECT_EQ(feature(with_code, "payload.peb_access"), 1.0f);
  EXPECT_EQ(features::office_rule(with_code.x), "shellcode");
  // A document that packages a program (whose code reads the PEB too) is left to the model and the PE scan.
  const auto with_program = featurize(doc_with_stream(cat({filler(3000, 15), peb, small_pe(), filler(100, 16)})));
  EXPECT_EQ(features::office_rule(with_program.x), "");
  // No idiom, no rule.
  EXPECT_EQ(features::office_rule(featurize(doc_with_stream(filler(7000, 17))).x), "");
}

TEST(PayloadFeatures, OoxmlEmbeddingIsReadInflated) {
  const auto pe = small_pe();
  const auto enc = xored(pe, {0x01, 0x02, 0x03, 0x04});
  const auto pkg = ooxml_package({{"[Content_Types].xml", "<Types/>"},
                                  {"word/document.xml", "<w:document/>"},
                                  {"word/embeddings/oleObject1.bin", std::string(enc.begin(), enc.end())}});
  const auto s = featurize(pkg);
  EXPECT_EQ(feature(s, "payload.xor4_executables"), 1.0f);
  EXPECT_EQ(features::office_rule(s.x), "encoded-executable");
}

TEST(PayloadFeatures, RtfObjectIsReadDecoded) {
  const auto pe = small_pe();
  const auto native = cat({filler(500, 18), xored(pe, {0x3c})});
  const std::string rtf = rtf_embedded_object("Paint.Picture", native);
  const auto s = featurize(rtf);
  EXPECT_EQ(feature(s, "payload.xor1_executables"), 1.0f);
  EXPECT_EQ(features::office_rule(s.x), "encoded-executable");
}

}  // namespace
