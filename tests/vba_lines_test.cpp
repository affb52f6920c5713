// analysis::for_each_vba_statement, the statement splitter the evaluator and the chain features share: continuation
// lines, ':' separators, comments, Rem, strings, line numbers and the two blank sets.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "analysis/vba_lines.hpp"

namespace {

using mamori::analysis::for_each_vba_statement;
using mamori::analysis::StatementBlanks;
using Stmts = std::vector<std::pair<std::string, std::uint32_t>>;

Stmts split(std::string_view src, StatementBlanks b = StatementBlanks::any_space, std::size_t max = 1u << 20) {
  Stmts out;
  for_each_vba_statement(src, b, max, [&](std::string_view s, std::uint32_t line) { out.emplace_back(s, line); });
  return out;
}

TEST(VbaLines, ContinuationsJoinAndKeepTheFirstLineNumber) {
  const Stmts got = split("Sub A()\r\n  x = \"ab\" & _\r\n      \"cd\" _  \r\n  & e\r\nEnd Sub\r\n");
  const Stmts want = {{"Sub A()", 1}, {"x = \"ab\" &        \"cd\"    & e", 2}, {"End Sub", 5}};
  EXPECT_EQ(got, want);
}

TEST(VbaLines, LineEndsOfEveryKindCountOneLine) {
  const Stmts got = split("a = 1\rb = 2\nc = 3\r\n\r\nd = 4");
  const Stmts want = {{"a = 1", 1}, {"b = 2", 2}, {"c = 3", 3}, {"d = 4", 5}};
  EXPECT_EQ(got, want);
}

TEST(VbaLines, ColonsSplitOutsideStringsButNotNamedArguments) {
  const Stmts got = split("a = \"x:y\": b = 2 :c Key:=3\n");
  const Stmts want = {{"a = \"x:y\"", 1}, {"b = 2 ", 1}, {"c Key:=3", 1}};
  EXPECT_EQ(got, want);
}

TEST(VbaLines, CommentsAndRemEndTheLine) {
  const Stmts got = split("a = 1 ' it's \"x\": b\nc = \"it's\" ' q\n rem all: of this\nd = 2: Rem x: e = 3\nRemark = 4\n"
                          "Rem\nf = 5:rem\n");
  const Stmts want = {{"a = 1 ", 1}, {"c = \"it's\" ", 2}, {"d = 2", 4}, {"Remark = 4", 5}, {"f = 5", 7}};
  EXPECT_EQ(got, want);
}

TEST(VbaLines, ALoneUnderscoreContinuesAndTheCapEndsAStatement) {
  EXPECT_EQ(split("a = _\n_\n1\n"), (Stmts{{"a =   1", 1}}));
  // Past the cap a continued line ends the statement (without its underscore) and the next line starts one.
  EXPECT_EQ(split("abcdef _\ngh\n", StatementBlanks::any_space, 4), (Stmts{{"abcdef ", 1}, {"gh", 2}}));
}

TEST(VbaLines, BlankSetsDifferOnlyInFormFeedsAndVerticalTabs) {
  const std::string src = "\f x = 1:\vRem y\n";
  EXPECT_EQ(split(src, StatementBlanks::any_space), (Stmts{{"x = 1", 1}}));
  EXPECT_EQ(split(src, StatementBlanks::space_tab), (Stmts{{"\f x = 1", 1}, {"\vRem y", 1}}));
  EXPECT_EQ(split("Rem\fz: q\n", StatementBlanks::space_tab), (Stmts{{"Rem\fz", 1}, {"q", 1}}));
  EXPECT_TRUE(split("Rem\fz: q\n", StatementBlanks::any_space).empty());
}

TEST(VbaLines, DoubledQuotesAndUnclosedStringsHideColonsAndQuotes) {
  // "" inside a string is two strings back to back: the ':' and "'" after it are still inside.
  EXPECT_EQ(split("a = \"x\"\":y' z\": b = 1\n"), (Stmts{{"a = \"x\"\":y' z\"", 1}, {"b = 1", 1}}));
  // A string with no closing quote runs to the end of the line, and the next line starts afresh.
  EXPECT_EQ(split("a = \"x: 'y\nb = 1: c\n"), (Stmts{{"a = \"x: 'y", 1}, {"b = 1", 2}, {"c", 2}}));
  // Line ends of each kind in runs, with a file ending in '\r' and in no line end at all.
  EXPECT_EQ(split("a\r\rb\n\nc\r\n\rd\r"), (Stmts{{"a", 1}, {"b", 3}, {"c", 5}, {"d", 7}}));
  EXPECT_EQ(split("x\ny"), (Stmts{{"x", 1}, {"y", 2}}));
}

}  // namespace
