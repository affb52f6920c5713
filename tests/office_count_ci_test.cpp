// features::office::count_ci, the case-insensitive, non-overlapping keyword count over macro text and XML (DDE
// fields, ddeLink, URLs in PDF text, startup paths): fixed cases, and agreement with a plain character-by-character
// count on generated strings where candidates overlap, repeat and change case.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "features/office_internal.hpp"

namespace {

using mamori::features::office::count_ci;

// The count written out plainly: at each position compare the whole needle, ignoring ASCII case; skip a match.
std::size_t plain_count(const std::string& hay, const std::string& needle, std::size_t cap) {
  auto low = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  if (needle.empty()) return 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i + needle.size() <= hay.size() && n < cap;) {
    std::size_t k = 0;
    while (k < needle.size() && low(hay[i + k]) == low(needle[k])) ++k;
    if (k == needle.size()) {
      ++n;
      i += needle.size();
    } else {
      ++i;
    }
  }
  return n;
}

TEST(OfficeCountCi, CaseOverlapCapAndEdges) {
  EXPECT_EQ(count_ci("DDEAUTO ddeauto DdEaUtO", "ddeauto"), 3u);
  EXPECT_EQ(count_ci("aaaa", "aa"), 2u);  // matches do not overlap
  EXPECT_EQ(count_ci("aaa", "aa"), 1u);
  EXPECT_EQ(count_ci("ddde", "dde"), 1u);  // a false start, then the match one further
  EXPECT_EQ(count_ci("xHTTP://a http://b Http://", "http://"), 3u);
  EXPECT_EQ(count_ci("\\startup\\ \\STARTUP\\", "\\startup\\"), 2u);  // the first character is not a letter
  EXPECT_EQ(count_ci("zzdde", "dde"), 1u);                             // at the very end
  EXPECT_EQ(count_ci("zzdd", "dde"), 0u);                              // cut by the end
  EXPECT_EQ(count_ci("ababab", "ab", 2), 2u);                          // the cap
  EXPECT_EQ(count_ci("ab", "abc"), 0u);
  EXPECT_EQ(count_ci("abc", ""), 0u);
  EXPECT_EQ(count_ci("", "a"), 0u);
  EXPECT_EQ(count_ci(std::string("a\0Ab\0a", 6), std::string("\0a", 2)), 2u);  // NUL bytes are characters too
}

TEST(OfficeCountCi, AgreesWithAPlainCount) {
  std::mt19937 rng(7);
  const std::string alphabet = "aAbB-";
  for (int round = 0; round < 3000; ++round) {
    std::string hay(rng() % 40, ' '), needle(1 + rng() % 4, ' ');
    for (auto& c : hay) c = alphabet[rng() % alphabet.size()];
    for (auto& c : needle) c = alphabet[rng() % alphabet.size()];
    const std::size_t cap = 1 + rng() % 6;
    ASSERT_EQ(count_ci(hay, needle, cap), plain_count(hay, needle, cap)) << "'" << hay << "' '" << needle << "' " << cap;
  }
}

}  // namespace

