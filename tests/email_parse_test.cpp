// mime::parse_message and friends over messages written at test time.
#include <gtest/gtest.h>

#include "engine/filetype.hpp"
#include "formats/mime/mime.hpp"
#include "support/archive_builder.hpp"

namespace mamori::mime {
namespace {

using test::blob;

Result<Message> parse(const std::string& s) { return parse_message(ByteView(s.data(), s.size())); }

TEST(EmailParse, HeadersAttachmentsAndRfc2231Names) {
  const std::string eml = test::make_eml(
      "=?UTF-8?B?6KuL5rGC5pu4?=", "See attached.",
      {{"\xe8\xab\x8b\xe6\xb1\x82\xe6\x9b\xb8.zip", "application/zip", blob("PK-data"), true},  // 請求書.zip
       {"plain name.doc", "application/msword", blob("DOCDATA"), false}});
  auto m = parse(eml);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_NE(m->from.find("alice@example.com"), std::string::npos);
  EXPECT_EQ(m->subject, "\xe8\xab\x8b\xe6\xb1\x82\xe6\x9b\xb8");  // RFC 2047 decoded
  EXPECT_EQ(m->date.substr(0, 10), "2023-11-14");
  EXPECT_EQ(m->message_id, "test-1@example.com");
  ASSERT_EQ(m->parts.size(), 2u);
  EXPECT_EQ(m->parts[0].name, "\xe8\xab\x8b\xe6\xb1\x82\xe6\x9b\xb8.zip");
  EXPECT_EQ(std::string(m->parts[0].data.begin(), m->parts[0].data.end()), "PK-data");
  EXPECT_EQ(m->parts[1].name, "plain name.doc");
  EXPECT_TRUE(m->parts[1].attachment);
  EXPECT_NE(m->text.find("See attached."), std::string::npos);
}

TEST(EmailParse, NestedMessageAndUuencode) {
  const std::string inner = test::make_eml("inner", "inner body", {{"in.bin", "application/octet-stream", blob("INNER")}});
  // "Cat" uuencoded by hand: 3 bytes -> length char '#' and four characters.
  const std::string body = "text before\r\nbegin 644 cat.txt\r\n#0V%T\r\n`\r\nend\r\ntext after";
  std::string eml =
      "From: a@example.com\r\nTo: b@example.com\r\nSubject: Fwd: x\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n" + body +
      "\r\n--B\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "\r\n--B--\r\n";
  auto m = parse(eml);
  ASSERT_TRUE(m.ok());
  bool saw_message = false, saw_uu = false;
  for (const auto& p : m->parts) {
    if (p.message) {
      saw_message = true;
      const std::string s(p.data.begin(), p.data.end());
      EXPECT_NE(s.find("Subject: inner"), std::string::npos);
    }
    if (p.uuencoded) {
      saw_uu = true;
      EXPECT_EQ(p.name, "cat.txt");
      EXPECT_EQ(std::string(p.data.begin(), p.data.end()), "Cat");
    }
  }
  EXPECT_TRUE(saw_message);
  EXPECT_TRUE(saw_uu);
  EXPECT_EQ(m->reply.subject_prefixes, std::vector<std::string>{"FWD"});
}

TEST(EmailParse, ReplyChain) {
  const std::string quoted = "Thanks.\n\nOn Mon, 13 Nov 2023, Bob <bob@example.org> wrote:\n> earlier text\n> more\n"
                             "-----Original Message-----\nFrom: Carol\n";
  auto r = analyse_reply("RE: AW: \xe8\xbf\x94\xe4\xbf\xa1: quarterly report", quoted);
  EXPECT_EQ(r.subject_prefixes, (std::vector<std::string>{"RE", "AW", "\xe8\xbf\x94\xe4\xbf\xa1"}));
  EXPECT_EQ(r.quoted_lines, 2u);
  ASSERT_EQ(r.markers.size(), 2u);
  EXPECT_TRUE(r.is_reply());
  EXPECT_FALSE(analyse_reply("Report", "no quotes here").is_reply());
  EXPECT_TRUE(analyse_reply("Re[2]: x", "").subject_prefixes.size() == 1);
}

TEST(EmailParse, MboxSplitIsZeroCopy) {
  const std::string box = "From a@x Tue Nov 14 09:30:00 2023\nSubject: one\n\nbody1\n\nFrom b@x Tue Nov 14 09:31:00 2023\n"
                          "Subject: two\n\nbody2\n";
  const ByteView v(box.data(), box.size());
  const auto msgs = split_mbox(v);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(msgs[0].data()), msgs[0].size()), "Subject: one\n\nbody1\n\n");
  EXPECT_GE(msgs[1].data(), v.data());
  EXPECT_LE(msgs[1].data() + msgs[1].size(), v.data() + v.size());
}

TEST(EmailParse, GarbageNeverCrashes) {
  for (const std::string& s : {std::string(), std::string("\0\0\0", 3), std::string("From: \xff\r\n\r\n"),
                               std::string("Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n--\r\n"),
                               std::string(5000, '-'), std::string("Subject: ") + std::string(100000, 'x')}) {
    auto m = parse(s);
    if (m.ok()) {
      EXPECT_LE(m->parts.size(), limits::max_parts);
    }
  }
  // Deep multipart nesting stops at max_depth.
  std::string deep = "From: a@b\r\nMIME-Version: 1.0\r\n";
  for (int i = 0; i < 200; ++i)
    deep += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n\r\n--b" + std::to_string(i) + "\r\n";
  deep += "Content-Type: text/plain\r\n\r\nx\r\n";
  auto m = parse(deep);
  ASSERT_TRUE(m.ok());
}

TEST(EmailParse, FileTypeTellsMailFromText) {
  const std::string eml = test::make_eml("s", "b", {});
  EXPECT_EQ(engine::detect_type(ByteView(eml.data(), eml.size())).kind, engine::FileKind::email);
  EXPECT_EQ(engine::detect_type(ByteView(eml.data(), eml.size())).subtype, "eml");
  const std::string box = "From a@x Tue Nov 14 09:30:00 2023\n" + eml;
  EXPECT_EQ(engine::detect_type(ByteView(box.data(), box.size())).subtype, "mbox");
  const std::string prose = "From the start, this was text.\nNothing: here\nSubject: none\n";
  EXPECT_NE(engine::detect_type(ByteView(prose.data(), prose.size())).kind, engine::FileKind::email);
  const std::string received = "Received: from mx.example.com\r\n\tby mail\r\nDate: Tue, 14 Nov 2023\r\nTo: x@y\r\n\r\nhi";
  EXPECT_EQ(engine::detect_type(ByteView(received.data(), received.size())).kind, engine::FileKind::email);
}

}  // namespace
}  // namespace mamori::mime
