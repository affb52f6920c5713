// analysis::ifind (case-insensitive search over evaluator candidates) against a plain search that folds both sides
// to lower case first, on generated haystacks and needles of letters in both cases, digits and punctuation.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "analysis/text_util.hpp"

namespace {

std::size_t plain_ifind(const std::string& hay, const std::string& needle, std::size_t from) {
  std::string h = hay, n = needle;
  for (auto& c : h) c = mamori::analysis::lower(c);
  for (auto& c : n) c = mamori::analysis::lower(c);
  if (from > h.size()) return std::string::npos;
  return h.find(n, from);
}

TEST(AnalysisIfind, AgreesWithAPlainSearch) {
  std::mt19937 rng(11);
  const std::string alphabet = "aAbBcC-[ ]\xC3\xA9";
  auto word = [&](std::size_t max) {
    std::string s(rng() % (max + 1), ' ');
    for (auto& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  for (int i = 0; i < 5000; ++i) {
    const std::string hay = word(40), needle = word(4);
    const std::size_t from = rng() % 45;
    if (needle.empty()) continue;  // an empty needle is found at `from`, which find() also does, but not past the end
    EXPECT_EQ(mamori::analysis::ifind(hay, needle, from), plain_ifind(hay, needle, from)) << hay << " / " << needle;
  }
  EXPECT_EQ(mamori::analysis::ifind("PowerShell -EnC", " -e"), 10u);
  EXPECT_EQ(mamori::analysis::ifind("[CHAR]65", "[char]"), 0u);
  EXPECT_EQ(mamori::analysis::ifind("abc", ""), 0u);
  EXPECT_EQ(mamori::analysis::ifind("abc", "", 4), std::string_view::npos);
}

}  // namespace
