// Recursion through the engine: archives and e-mails built at test time, scanned by Scanner::scan_bytes with a
// model that calls every PE malicious (support/container_engine.hpp), so each assertion says where the verdict
// came from. Speed and memory of the same fixtures are measured in bench/containers_bench.cpp, not here.
#include <gtest/gtest.h>

#include "support/archive_builder.hpp"
#include "support/container_engine.hpp"

namespace mamori {
namespace {

using engine::Verdict;
using test::Blob;
using test::blob;

engine::ScanResult scan(const engine::Scanner& s, const Blob& b, const std::string& name) {
  return s.scan_bytes(ByteView(b.data(), b.size()), name);
}

TEST(ContainersEngine, NestedZipInEmlInZipNamesTheWholeChain) {
  const auto s = test::container_scanner();
  const Blob inner = test::make_zip({{"invoice.exe", test::tiny_pe(), true}, {"readme.txt", blob("hello"), true}});
  const std::string eml = test::make_eml("Invoice", "Please see the attachment.", {{"invoice.zip", "application/zip", inner}});
  const Blob outer = test::make_zip({{"mail.eml", blob(eml), true}});
  const auto r = scan(s, outer, "outer.zip");
  EXPECT_EQ(r.type.kind, engine::FileKind::zip);
  EXPECT_EQ(r.verdict, Verdict::malicious);
  EXPECT_EQ(r.signature, "Mamori.PE.Malicious");
  const auto* pe = test::find_member(r, "outer.zip!mail.eml!invoice.zip!invoice.exe");
  ASSERT_NE(pe, nullptr);
  EXPECT_EQ(pe->verdict, Verdict::malicious);
  const auto* mail = test::find_member(r, "outer.zip!mail.eml");
  ASSERT_NE(mail, nullptr);
  EXPECT_EQ(mail->type.kind, engine::FileKind::email);
  EXPECT_EQ(test::context_value(*mail, "email.subject"), "Invoice");
  EXPECT_EQ(mail->verdict, Verdict::malicious);
  const auto* txt = test::find_member(r, "invoice.zip!readme.txt");
  ASSERT_NE(txt, nullptr);
  EXPECT_FALSE(txt->found());
}

TEST(ContainersEngine, ContainerOfOnlyCleanOrUnscoredMembersIsNotFound) {
  const auto s = test::container_scanner();
  const auto r = scan(s, test::make_zip({{"a.txt", blob("plain words"), true}}), "a.zip");
  EXPECT_FALSE(r.found());
  ASSERT_EQ(r.members.size(), 1u);
  EXPECT_EQ(r.members[0].path, "a.zip!a.txt");
}

class PasswordFromMail : public ::testing::TestWithParam<const char*> {};

TEST_P(PasswordFromMail, OpensTheArchiveWithThePasswordInTheBody) {
  const std::string enc = GetParam();
  const auto s = test::container_scanner();
  const std::string pw = "Qz7-kd91x";  // in no default list
  const Blob z = test::write_archive("zip", "", {{"scan_0412.exe", test::tiny_pe(), true}}, "zip:encryption=" + enc, pw);

  // Alone, nothing opens it: suspicious as an encrypted archive, not clean.
  const auto alone = scan(s, z, "doc.zip");
  EXPECT_EQ(alone.verdict, Verdict::suspicious);
  EXPECT_EQ(alone.signature, "Mamori.Encrypted.Archive");

  for (const std::string& body : {"Hello,\nthe document is attached.\nPassword: " + pw + "\nRegards",
                                 "\xe3\x81\x8a\xe4\xb8\x96\xe8\xa9\xb1\xe3\x81\xab\xe3\x81\xaa\xe3\x81\xa3\xe3\x81\xa6\xe3\x81\x8a\xe3\x82\x8a\xe3\x81\xbe\xe3\x81\x99\xe3\x80\x82\n"
                                 "\xe3\x83\x91\xe3\x82\xb9\xe3\x83\xaf\xe3\x83\xbc\xe3\x83\x89\xe3\x81\xaf " + pw + " \xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82"}) {
    SCOPED_TRACE(body);
    const std::string eml = test::make_eml("RE: order", body, {{"doc.zip", "application/zip", z}});
    const auto r = scan(s, blob(eml), "mail.eml");
    EXPECT_EQ(r.verdict, Verdict::malicious);
    EXPECT_EQ(r.signature, "Mamori.PE.Malicious");
    const auto* zip = test::find_member(r, "mail.eml!doc.zip");
    ASSERT_NE(zip, nullptr);
    EXPECT_EQ(test::context_value(*zip, "archive.password"), pw);
    ASSERT_NE(test::find_member(r, "mail.eml!doc.zip!scan_0412.exe"), nullptr);
  }
}

INSTANTIATE_TEST_SUITE_P(ZipCryptoAndAes, PasswordFromMail, ::testing::Values("traditional", "aes256"));

TEST(ContainersEngine, ConfiguredPasswordsAndEncryptedPolicy) {
  const Blob z = test::write_archive("zip", "", {{"x.exe", test::tiny_pe(), true}}, "zip:encryption=aes256", "infected");
  {
    const auto s = test::container_scanner();  // "infected" is a default
    const auto r = scan(s, z, "x.zip");
    EXPECT_EQ(r.verdict, Verdict::malicious);
    EXPECT_EQ(test::context_value(r, "archive.password"), "infected");
  }
  const Blob z2 = test::write_archive("zip", "", {{"x.exe", test::tiny_pe(), true}}, "zip:encryption=aes256", "unguessable");
  {
    engine::Options o;
    o.encrypted_is_suspicious = false;
    const auto s = test::container_scanner(o);
    const auto r = scan(s, z2, "x.zip");
    EXPECT_FALSE(r.found());
    EXPECT_TRUE(test::has_anomaly(r, "encrypted archive"));
  }
  {
    engine::Options o;
    o.archive_passwords = {"unguessable"};
    const auto s = test::container_scanner(o);
    EXPECT_EQ(scan(s, z2, "x.zip").verdict, Verdict::malicious);
  }
}

TEST(ContainersEngine, NestedBombStopsAtALimit) {
  // 42.zip's shape: 16 copies per layer, 5 layers, 1 MiB of non-padding text at the bottom: 1 TiB if unfolded.
  Blob leaf;
  const std::string pat = "0123456789abcdefghijklmnopqrstuv";
  while (leaf.size() < (1u << 20)) leaf.insert(leaf.end(), pat.begin(), pat.end());
  const Blob bomb = test::make_nested_bomb(5, 16, leaf);
  ASSERT_LT(bomb.size(), 1u << 20);
  const auto s = test::container_scanner();
  const auto r = scan(s, bomb, "42.zip");
  EXPECT_EQ(r.verdict, Verdict::suspicious);
  EXPECT_EQ(r.signature.rfind("Mamori.Limits.Exceeded.", 0), 0u) << r.signature;
}

TEST(ContainersEngine, OverlappingEntryBombIsARatioHit) {
  const Blob bomb = test::make_overlap_bomb(500, 1 << 20, "overlap-kernel-0123456789-");
  const auto s = test::container_scanner();
  const auto r = scan(s, bomb, "overlap.zip");
  EXPECT_EQ(r.verdict, Verdict::suspicious);
  EXPECT_EQ(r.signature, "Mamori.Limits.Exceeded.Ratio");
}

TEST(ContainersEngine, ZeroFilledNestedBombStopsOnTheDecompressionBudget) {
  // Zeros are padding, so the ratio of non-padding bytes never fires: the work bound (bytes decompressed, padding
  // included, over the file's size) must, long before the 1 GiB Size limit and after only a few leaves.
  const Blob bomb = test::make_nested_bomb(5, 16, Blob(1u << 20, 0));
  const auto s = test::container_scanner();
  const auto r = scan(s, bomb, "zeros42.zip");
  EXPECT_EQ(r.verdict, Verdict::suspicious);
  EXPECT_EQ(r.signature, "Mamori.Limits.Exceeded.Ratio");
  EXPECT_TRUE(test::has_anomaly(r, "limit_exceeded.Ratio: more than 1100 times the file's size decompressed")) << r.signature;
  std::size_t members = 0;
  engine::for_each_result(r, [&](const engine::ScanResult&) { ++members; });
  const std::uint64_t budget = 1100 * bomb.size() + (64u << 20);
  EXPECT_LE(members, 5 + budget / (1u << 20) + 16);  // the leaves that fit the budget, their zips, one partial
}

TEST(ContainersEngine, PaddedMemberPastTheDecompressionBudgetIsStillScanned) {
  // The padding trick against the work bound: a member whose padding passes the budget is cut, and what came
  // before the padding is scanned all the same.
  engine::Options o;
  o.limits.max_decompressed_bytes = 48ull << 20;
  const Blob z = test::make_padded_zip("invoice.exe", test::tiny_pe(), 200ull << 20);
  const auto r = scan(test::container_scanner(o), z, "padded.zip");
  EXPECT_EQ(r.verdict, Verdict::malicious) << r.signature;
  EXPECT_EQ(r.signature, "Mamori.PE.Malicious");
  EXPECT_TRUE(test::has_anomaly(r, "limit_exceeded.Size: more than 50331648 bytes decompressed"));
  const auto* m = test::find_member(r, "padded.zip!invoice.exe");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->type.kind, engine::FileKind::pe);
  EXPECT_TRUE(test::has_anomaly(*m, "member_truncated_by_limit"));

  // The same padding behind harmless text: never a silent OK.
  const Blob t = test::make_padded_zip("notes.txt", blob("quarterly notes, nothing else"), 200ull << 20);
  const auto rt = scan(test::container_scanner(o), t, "padded-text.zip");
  EXPECT_EQ(rt.verdict, Verdict::suspicious);
  EXPECT_EQ(rt.signature, "Mamori.Limits.Exceeded.Size");
  ASSERT_EQ(rt.members.size(), 1u);
  EXPECT_GE(std::stoull(test::context_value(rt.members[0], "padding_bytes")), 47ull << 20);
}

TEST(ContainersEngine, SelfIncludingZipStopsAtDepth) {
  const Blob chain = test::make_self_chain(64, test::tiny_pe());
  const auto s = test::container_scanner();
  const auto r = scan(s, chain, "self.zip");
  EXPECT_EQ(r.verdict, Verdict::suspicious);
  EXPECT_EQ(r.signature, "Mamori.Limits.Exceeded.Depth");
  std::size_t depth = 0;
  for (const engine::ScanResult* x = &r; !x->members.empty(); x = &x->members[0]) ++depth;
  EXPECT_EQ(depth, engine::Limits{}.max_depth);

  engine::Options o;
  o.limits.max_depth = 3;
  const auto r3 = test::container_scanner(o).scan_bytes(ByteView(chain.data(), chain.size()), "self.zip");
  EXPECT_EQ(r3.signature, "Mamori.Limits.Exceeded.Depth");
}

TEST(ContainersEngine, MemberLimitIsNamed) {
  std::vector<test::ZipItem> many;
  for (int i = 0; i < 40; ++i) many.push_back({"f" + std::to_string(i) + ".txt", blob("n" + std::to_string(i)), false});
  engine::Options o;
  o.limits.max_members = 25;
  const Blob z = test::make_zip(many);
  const auto r2 = test::container_scanner(o).scan_bytes(ByteView(z.data(), z.size()), "many.zip");
  EXPECT_EQ(r2.signature, "Mamori.Limits.Exceeded.Members");
  EXPECT_EQ(r2.members.size(), 25u);

  o.limits.limits_are_suspicious = false;
  const auto r3 = test::container_scanner(o).scan_bytes(ByteView(z.data(), z.size()), "many.zip");
  EXPECT_FALSE(r3.found());
  EXPECT_TRUE(test::has_anomaly(r3, "limit_exceeded.Members"));
}

TEST(ContainersEngine, TwoGigabytePaddedDocumentIsScannedNotBombed) {
  const Blob pe = test::tiny_pe();
  const Blob z = test::make_padded_zip("invoice.exe", pe, 2000ull << 20);
  ASSERT_LT(z.size(), 4u << 20);
  const auto s = test::container_scanner();
  const auto r = scan(s, z, "padded.zip");
  EXPECT_EQ(r.verdict, Verdict::malicious) << r.signature;
  EXPECT_EQ(r.signature, "Mamori.PE.Malicious");
  const auto* m = test::find_member(r, "padded.zip!invoice.exe");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->type.kind, engine::FileKind::pe);
  EXPECT_GE(std::stoull(test::context_value(*m, "padding_bytes")), 2000ull << 20);
  EXPECT_LT(m->size, 1u << 20);
}

TEST(ContainersEngine, MalformedContainersDegradeToAnomalies) {
  const auto s = test::container_scanner();
  const Blob good = test::make_zip({{"a.exe", test::tiny_pe(), true}, {"b.txt", blob("words"), true}});
  {  // truncated zip: the first member is still found
    const Blob cut(good.begin(), good.begin() + static_cast<long>(good.size() - 60));
    const auto r = scan(s, cut, "cut.zip");
    EXPECT_EQ(r.verdict, Verdict::malicious);
  }
  {  // central directory signature smashed
    Blob bad = good;
    const std::string sig = "PK\x01\x02";
    auto it = std::search(bad.begin(), bad.end(), sig.begin(), sig.end());
    ASSERT_NE(it, bad.end());
    it[2] = 0x7f;
    const auto r = scan(s, bad, "badcd.zip");
    EXPECT_NE(r.verdict, Verdict::error);
  }
  {  // not a zip after the magic
    Blob junk = blob("PK\x03\x04");
    junk.resize(500, 0x41);
    const auto r = scan(s, junk, "junk.zip");
    EXPECT_NE(r.verdict, Verdict::error);
    EXPECT_FALSE(r.found());
  }
  for (const std::string& fmt : {std::string("7zip"), std::string("ustar"), std::string("iso9660")}) {
    SCOPED_TRACE(fmt);
    const Blob a = test::write_archive(fmt, fmt == "ustar" ? "gzip" : "", {{"a.exe", test::tiny_pe(), true}});
    EXPECT_EQ(scan(s, a, "a." + fmt).verdict, Verdict::malicious);
    const Blob cut(a.begin(), a.begin() + static_cast<long>(a.size() / 3));
    const auto r = scan(s, cut, "cut." + fmt);
    EXPECT_NE(r.verdict, Verdict::error);
  }
  {  // garbage e-mail headers: typed as mail, read, no crash, attachment still found
    std::string eml = test::make_eml("x", "body", {{"a.exe", "application/octet-stream", test::tiny_pe()}});
    eml.insert(eml.find("Subject:"), "X-Garbage\x01\x02: \xff\xfe\r\n\tfolded \x00 junk\r\n:NoName\r\n");
    const auto r = scan(s, blob(eml), "garbage.eml");
    EXPECT_NE(r.verdict, Verdict::error);
  }
}

TEST(ContainersEngine, MboxMessagesAreMembers) {
  const auto s = test::container_scanner();
  std::string mbox = "From alice@example.com Tue Nov 14 09:30:00 2023\n" +
                     test::make_eml("one", "first", {}) + "\nFrom bob@example.com Tue Nov 14 09:31:00 2023\n" +
                     test::make_eml("two", "second", {{"a.exe", "application/octet-stream", test::tiny_pe()}});
  const auto r = scan(s, blob(mbox), "box.mbox");
  EXPECT_EQ(r.type.subtype, "mbox");
  ASSERT_EQ(r.members.size(), 2u);
  EXPECT_EQ(r.members[0].path, "box.mbox!message-1.eml");
  EXPECT_EQ(r.verdict, Verdict::malicious);
  EXPECT_NE(test::find_member(r, "box.mbox!message-2.eml!a.exe"), nullptr);
}

}  // namespace
}  // namespace mamori
