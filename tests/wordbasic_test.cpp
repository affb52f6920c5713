// vba::wordbasic on Word 6/95 WordDocument streams built by tests/support/word6_builder: macro names from the
// command table, XOR-keyed bodies, detokenised text, hostile tables (cut short, unknown records, bodies outside the
// stream), and the document features: a Word 6 macro virus now has macro text, an auto-exec name and its strings.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "analysis/extract.hpp"
#include "features/office_features.hpp"
#include "formats/vba/wordbasic.hpp"
#include "support/office_sample.hpp"
#include "support/word6_builder.hpp"

namespace {

using namespace mamori;
using namespace mamori::test;
namespace wb = mamori::vba::wordbasic;

std::vector<std::uint8_t> auto_open_body() {
  WordBasicTokens t;
  t.kw(0x1B).ident("MAIN").eol();
  t.ident("fn$").kw(0x0C).builtin(0x8025).kw(0x05).kw(0x06).eol();
  t.builtin(0x80C2).ident("fn$").kw(0x07).str(":AutoOpen").kw(0x12).str("Global:AutoOpen").eol();
  t.comment("copies itself").eol();
  t.builtin(0x00D7).integer(0).eol();
  t.kw(0x23).ident("i").kw(0x0C).integer(1).kw(0x24).integer(3).eol().kw(0x26).ident("i").eol();
  t.kw(0x1A).kw(0x1B);
  return t.b;
}

Result<wb::Project> read(const std::vector<std::uint8_t>& w) { return wb::read(ByteView(w.data(), w.size())); }

TEST(WordBasic, ReadsNamesAndKeyedBodies) {
  Word6Spec s;
  s.macros = {{"AutoOpen", auto_open_body(), 0x00}, {"FileSaveAs", auto_open_body(), 0xEF}};
  const auto w = build_word6_document(s);
  auto p = read(w);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->nfib, 104);
  EXPECT_EQ(p->anomaly_bits, 0u);
  ASSERT_EQ(p->macros.size(), 2u);
  EXPECT_EQ(p->macros[0].name, "AutoOpen");
  EXPECT_EQ(p->macros[1].name, "FileSaveAs");
  EXPECT_EQ(p->macros[1].key, 0xEF);
  // The keyed body reads the same as the plain one.
  EXPECT_EQ(p->macros[0].text, p->macros[1].text);
  const std::string& text = p->macros[0].text;
  EXPECT_EQ(text.rfind("Sub MAIN\n", 0), 0u) << text;
  EXPECT_NE(text.find("fn$ = FileName$()"), std::string::npos) << text;
  EXPECT_NE(text.find("MacroCopy fn$ + \":AutoOpen\", \"Global:AutoOpen\""), std::string::npos) << text;
  EXPECT_NE(text.find("\nWB_00D7 0\n"), std::string::npos) << text;  // a built-in without a known name
  EXPECT_NE(text.find("'copies itself"), std::string::npos) << text;
  EXPECT_NE(text.find("For i = 1 To 3\nNext i\nEnd Sub"), std::string::npos) << text;
  EXPECT_EQ(p->macros[0].builtin_calls, 3u);
  EXPECT_EQ(wb::listing(p->macros[0]).rfind("Macro AutoOpen\nSub MAIN", 0), 0u);
}

TEST(WordBasic, NotWord6IsNotThisFormat) {
  Word6Spec s;
  s.macros = {{"AutoOpen", auto_open_body()}};
  auto w = build_word6_document(s);
  w[2] = 0xC1;  // nFib 193: Word 97, whose macros are VBA
  EXPECT_EQ(read(w).error().code, ErrorCode::not_this_format);
  auto none = build_word6_document(Word6Spec{});
  none[0x11C] = none[0x11D] = none[0x11E] = none[0x11F] = 0;  // lcbCmds 0: no command table
  EXPECT_EQ(read(none).error().code, ErrorCode::not_this_format);
  const std::vector<std::uint8_t> tiny{0xDC, 0xA5, 0x68};
  EXPECT_FALSE(read(tiny).ok());
}

TEST(WordBasic, HostileTablesBecomeAnomalies) {
  Word6Spec s;
  s.macros = {{"AutoOpen", auto_open_body()}};
  Word6Layout l;
  {
    auto w = build_word6_document(s, &l);
    w.resize(l.table_offset + l.table_size - 1);  // the table runs past the stream
    auto p = read(w);
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p->has(wb::Anomaly::table_out_of_range));
    EXPECT_TRUE(p->macros.empty());
  }
  {
    Word6Spec u = s;
    u.extra_records = {0x77, 0x01, 0x00};  // an id outside the known set: the walk stops, the macros stay
    auto p = read(build_word6_document(u));
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p->has(wb::Anomaly::table_unknown_record));
    ASSERT_EQ(p->macros.size(), 1u);
    EXPECT_EQ(p->macros[0].name, "AutoOpen");
  }
  {
    Word6Spec u = s;
    u.terminate = false;
    auto p = read(build_word6_document(u));
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p->has(wb::Anomaly::table_unterminated));
  }
  {
    Word6Spec u = s;
    u.macros.push_back({"Gone", auto_open_body(), 0, 0xFFFF, 0x7FFFFFF0});  // body far outside the stream
    u.macros.push_back({"Nameless", auto_open_body(), 0, 40});              // name id the 0x11 table lacks
    auto p = read(build_word6_document(u));
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p->has(wb::Anomaly::macro_body_out_of_range));
    EXPECT_TRUE(p->has(wb::Anomaly::macro_name_missing));
    ASSERT_EQ(p->macros.size(), 3u);
    EXPECT_TRUE(p->macros[1].text.empty());
    EXPECT_FALSE(p->macros[2].text.empty());
  }
  {
    // A count that promises more descriptors than the table holds.
    auto w = build_word6_document(s, &l);
    w[l.table_offset + 2] = 0xFF;
    w[l.table_offset + 3] = 0x7F;
    auto p = read(w);
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p->has(wb::Anomaly::table_record_truncated));
  }
  {
    // A body whose last token runs past its end.
    Word6Spec u;
    u.macros = {{"AutoOpen", WordBasicTokens().kw(0x1B).ident("MAIN").eol().raw({0x6A, 0x40, 'h', 't'}).b}};
    auto p = read(build_word6_document(u));
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p->has(wb::Anomaly::macro_body_truncated));
    EXPECT_EQ(p->macros[0].text, "Sub MAIN\n");
  }
}

TEST(WordBasic, DetokenizeIsCapped) {
  WordBasicTokens t;
  for (int i = 0; i < 1000; ++i) t.str(std::string(200, 'A')).eol();
  const auto d = wb::detokenize(ByteView(t.b.data(), t.b.size()), 4096);
  EXPECT_TRUE(d.capped);
  EXPECT_LE(d.text.size(), 4096u);
}

TEST(WordBasic, Word6MacroVirusHasMacroText) {
  Word6Spec s;
  s.macros = {{"AutoOpen", auto_open_body(), 0x5A}};
  const auto doc = build_word6_doc(s);
  const auto f = featurize(doc);
  EXPECT_TRUE(f.has_macros);
  EXPECT_GT(feature(f, "macro.code_lines"), 4.0f);
  EXPECT_EQ(feature(f, "macro.autoexec"), 1.0f);  // the macro's name
  EXPECT_EQ(feature(f, "macro_obf.strings"), 2.0f);
}

TEST(WordBasic, ExtractListsTheMacros) {
  Word6Spec s;
  s.macros = {{"AutoOpen", auto_open_body(), 0x5A}, {"Payload", auto_open_body()}};
  const auto doc = build_word6_doc(s);
  auto x = analysis::extract_document(ByteView(doc.data(), doc.size()));
  ASSERT_TRUE(x.ok());
  ASSERT_EQ(x->modules.size(), 2u);
  EXPECT_EQ(x->modules[0].name, "AutoOpen");
  EXPECT_EQ(x->modules[0].project, "WordDocument (WordBasic)");
  EXPECT_EQ(x->modules[0].source.rfind("Macro AutoOpen\nSub MAIN\n", 0), 0u) << x->modules[0].source;
  EXPECT_NE(x->modules[1].source.find("MacroCopy"), std::string::npos);
}

}  // namespace
