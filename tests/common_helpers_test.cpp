// The small shared pieces every layer leans on: base64 as malware writes it, UTF-16 in both byte orders, the
// anomaly recorders, the descriptor owner, and the feature schema hash and document.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/anomalies.hpp"
#include "common/base64.hpp"
#include "common/codepage.hpp"
#include "common/stats.hpp"
#include "common/unique_fd.hpp"
#include "features/emitter.hpp"

using namespace mamori;

namespace {

std::string as_text(const std::optional<std::vector<std::uint8_t>>& v) {
  return v ? std::string(v->begin(), v->end()) : std::string("<nullopt>");
}

}  // namespace

TEST(CommonBase64, DecodesBothAlphabetsAcrossWhitespaceAndRefusesWhatIsNotBase64) {
  EXPECT_EQ(as_text(base64_decode("aGVsbG8gd29ybGQ=", 100)), "hello world");
  EXPECT_EQ(as_text(base64_decode("aGVs\r\nbG8g\td29y bGQ", 100)), "hello world");
  EXPECT_EQ(as_text(base64_decode("-_-_", 100)), as_text(base64_decode("+/+/", 100)));  // URL-safe = standard
  EXPECT_EQ(as_text(base64_decode("aGVsbG8gd29ybGQ=", 5)), "hello");                    // capped
  EXPECT_FALSE(base64_decode("aGVs*G8", 100));     // outside the alphabet
  EXPECT_FALSE(base64_decode("aGVsbA==bG8", 100));  // data after padding
  EXPECT_FALSE(base64_decode("aGVsb", 100));        // 5 symbols cannot be base64
  EXPECT_EQ(as_text(base64_decode("", 100)), "");
}

TEST(CommonUtf16, BothByteOrdersSurrogatesAndTheTwoNulRules) {
  // "A", U+1F600 as a surrogate pair, NUL, "B", then a lone low surrogate.
  const std::vector<std::uint8_t> le = {'A', 0, 0x3D, 0xD8, 0x00, 0xDE, 0, 0, 'B', 0, 0x00, 0xDC};
  std::vector<std::uint8_t> be(le.size());
  for (std::size_t i = 0; i < le.size(); i += 2) {
    be[i] = le[i + 1];
    be[i + 1] = le[i];
  }
  const ByteView lv(le.data(), le.size()), bv(be.data(), be.size());
  EXPECT_EQ(utf16le_to_utf8(lv, 100), "A\xF0\x9F\x98\x80");  // stops at the NUL
  EXPECT_EQ(utf16_to_utf8(lv, 100, Utf16Order::little, Utf16Nul::skipped), "A\xF0\x9F\x98\x80" "B\xEF\xBF\xBD");
  EXPECT_EQ(utf16_to_utf8(bv, 100, Utf16Order::big, Utf16Nul::skipped), "A\xF0\x9F\x98\x80" "B\xEF\xBF\xBD");
  EXPECT_EQ(utf16_to_utf8(bv, 1, Utf16Order::big, Utf16Nul::skipped), "A");  // max_units
  const std::uint8_t odd[] = {'x', 0, 'y'};
  EXPECT_EQ(utf16_to_utf8(ByteView(odd, 3), 100, Utf16Order::little, Utf16Nul::ends_text), "x");  // half a unit dropped
}

TEST(CommonUtf16, PasswordsGoFromUtf8ToUtf16LeBytesAndBack) {
  // ASCII, U+00E9, U+30D1 (three bytes) and U+1F600 (a surrogate pair).
  const std::string pw = "a\xC3\xA9\xE3\x83\x91\xF0\x9F\x98\x80";
  const std::u16string u = utf8_to_utf16(pw);
  EXPECT_EQ(u, (std::u16string{u'a', u'\u00E9', u'\u30D1', char16_t{0xD83D}, char16_t{0xDE00}}));
  const auto bytes = utf16le_bytes(u);
  EXPECT_EQ(bytes, (std::vector<std::uint8_t>{'a', 0, 0xE9, 0, 0xD1, 0x30, 0x3D, 0xD8, 0x00, 0xDE}));
  EXPECT_EQ(utf16le_to_utf8(ByteView(bytes.data(), bytes.size()), 100), pw);
  // Cut-off sequences never read past the end: the last byte stands for itself, a shorter tail is read as a
  // shorter sequence.
  EXPECT_EQ(utf8_to_utf16("x\xE3"), (std::u16string{u'x', char16_t{0xE3}}));
  EXPECT_EQ(utf8_to_utf16("x\xE3\x83"), (std::u16string{u'x', char16_t{0xC3}}));
}

TEST(CommonStats, RunLengthStopsAtTheFirstOtherByteInEveryPosition) {
  // Every length from 0 to 100 crosses the 32-byte steps and the byte-wise tail.
  for (std::size_t len = 0; len <= 100; ++len) {
    std::vector<std::uint8_t> b(len, 0xCC);
    b.push_back(0xCD);
    b.resize(b.size() + 40, 0xCC);
    EXPECT_EQ(run_length(b.data(), b.size(), 0xCC), len) << len;
    EXPECT_EQ(run_length(b.data(), len, 0xCC), len) << len;  // `n` bounds the run
  }
  const std::uint8_t zeros[70] = {};
  EXPECT_EQ(run_length(zeros, sizeof zeros, 0), sizeof zeros);
  EXPECT_EQ(run_length(zeros, sizeof zeros, 1), 0u);
}

namespace {
enum class Odd : std::uint8_t { first, second };
struct Parsed {
  struct Rec {
    Odd code;
    std::uint64_t detail;
  };
  std::vector<Rec> anomalies;
  std::uint64_t anomaly_bits = 0;
};
}  // namespace

TEST(CommonAnomalies, FirstKeepsOneRecordEachKeepsRepeatsUpToTheCap) {
  Parsed once;
  flag_first(once, Odd::second, 7);
  flag_first(once, Odd::second, 8);
  flag_first(once, Odd::first, 9);
  ASSERT_EQ(once.anomalies.size(), 2u);
  EXPECT_EQ(once.anomalies[0].detail, 7u);  // the first occurrence's detail
  EXPECT_EQ(once.anomaly_bits, 3u);

  Parsed each;
  for (std::uint64_t i = 0; i < kMaxAnomalyRecords + 10; ++i) flag_each(each, Odd::first, i);
  EXPECT_EQ(each.anomalies.size(), kMaxAnomalyRecords);
  flag_each(each, Odd::second, 1);  // a new code is listed even past the cap
  EXPECT_EQ(each.anomalies.size(), kMaxAnomalyRecords + 1);
  EXPECT_EQ(each.anomalies.back().code, Odd::second);
  EXPECT_EQ(each.anomaly_bits, 3u);
}

TEST(CommonUniqueFd, ClosesOnceAndMovesOwnership) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    UniqueFd a(raw);
    UniqueFd b(std::move(a));
    EXPECT_FALSE(a);
    EXPECT_EQ(b.get(), raw);
    UniqueFd c;
    c = std::move(b);
    EXPECT_EQ(c.get(), raw);
    EXPECT_NE(::fcntl(raw, F_GETFD), -1);  // still open while owned
  }
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1);  // closed when the owner went
  raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  UniqueFd d(raw);
  EXPECT_EQ(d.release(), raw);
  EXPECT_FALSE(d);
  EXPECT_NE(::fcntl(raw, F_GETFD), -1);  // released: not closed
  ::close(raw);
}

TEST(FeatureSchema, HashFollowsNamesAndCaseRuleAndMarkdownListsEverything) {
  auto emit = [](features::Emitter& e) {
    e.group("g", "a group");
    e.add("Alpha", 0);
    e.add_array("v", 2, [](std::size_t) { return 0.0; });
  };
  const auto exact = features::make_schema("t", 3, features::NameCase::exact, emit);
  const auto folded = features::make_schema("t", 3, features::NameCase::folded, emit);
  ASSERT_EQ(exact.features.size(), 3u);
  EXPECT_EQ(exact.features[0].name, "g.Alpha");
  EXPECT_EQ(exact.hash.size(), 8u);
  EXPECT_NE(exact.hash, folded.hash);  // "A" hashed as "a" when folded
  auto lower = [](features::Emitter& e) {
    e.group("g", "a group");
    e.add("alpha", 0);
    e.add_array("v", 2, [](std::size_t) { return 0.0; });
  };
  EXPECT_EQ(features::make_schema("t", 3, features::NameCase::exact, lower).hash, folded.hash);
  EXPECT_NE(features::make_schema("t", 4, features::NameCase::exact, emit).hash, exact.hash);  // version counts
  const auto md = features::schema_markdown(exact, "Test schema", "Intro.");
  EXPECT_EQ(md.rfind("# Test schema v3 (hash " + exact.hash + ", 3 features)\n\nIntro.\n\n| group |", 0), 0u) << md;
  EXPECT_NE(md.find("| g | 0 | 3 | a group |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("| 2 | g.v[1] |\n"), std::string::npos) << md;
}
