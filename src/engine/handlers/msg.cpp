// Outlook messages: sender, subject and reply chain go to the result's context (the keys the e-mail handler
// uses), passwords quoted in the body go in front of the password list, and every attachment is scanned as a
// member. An attached message becomes a member of its own whose attachments are its members, down to
// msg::limits::max_embedded_depth and the scan's depth limit.
#include <algorithm>
#include <array>
#include <cctype>

#include "analysis/iocs.hpp"
#include "engine/handlers.hpp"
#include "engine/passwords.hpp"
#include "engine/scanner.hpp"
#include "formats/msg/msg.hpp"
#include "formats/ole2/ole2.hpp"

namespace mamori::engine::handlers {

namespace {

// Extensions that run code when opened from a mail client: an attachment with one is suspicious by itself.
constexpr std::array<std::string_view, 24> kRiskyExts = {
    ".exe", ".scr", ".com", ".pif", ".bat", ".cmd", ".vbs", ".vbe", ".js",  ".jse", ".wsf", ".wsh",
    ".hta", ".lnk", ".ps1", ".msi", ".cpl", ".jar", ".iso", ".img", ".vhd", ".one", ".chm", ".reg"};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string member_name(const std::string& name, std::size_t index, const char* fallback_ext) {
  std::string n = name.empty() ? "attachment-" + std::to_string(index) + fallback_ext : name;
  // '!' separates path levels in member paths.
  std::replace(n.begin(), n.end(), '!', '_');
  std::replace(n.begin(), n.end(), '/', '_');
  return n;
}

std::string body_text(const msg::Message& m) {
  if (!m.body.empty()) return m.body;
  if (!m.html.empty()) return msg::html_to_text(m.html);
  if (!m.rtf.empty()) return msg::rtf_to_text(m.rtf);
  return {};
}

void describe(const msg::Message& m, ScanResult& r) {
  auto put = [&](const char* k, const std::string& v) {
    if (!v.empty()) r.context.emplace_back(k, v.size() > 4096 ? v.substr(0, 4096) + "..." : v);
  };
  std::string from = m.sender_name;
  if (!m.sender_email.empty()) from += from.empty() ? m.sender_email : " <" + m.sender_email + ">";
  put("from", from);
  std::string to;
  for (std::size_t i = 0; i < m.recipients.size() && i < 16; ++i) {
    const auto& rc = m.recipients[i];
    if (!to.empty()) to += ", ";
    to += rc.email.empty() ? rc.name : rc.name.empty() ? rc.email : rc.name + " <" + rc.email + ">";
  }
  put("to", to);
  put("subject", m.subject);
  put("message_id", m.message_id);
  std::string chain = m.in_reply_to;
  if (!m.references.empty() && m.references != m.in_reply_to) chain += chain.empty() ? m.references : " " + m.references;
  put("reply_chain", chain);
  put("message_class", m.message_class);
  for (const auto& a : m.anomalies) r.anomalies.push_back(std::string(msg::anomaly_name(a.code)) + ":" + std::to_string(a.detail));
}

void scan_message(const msg::Message& m, ScanResult& r, ScanContext& ctx, unsigned level) {
  describe(m, r);
  const std::string text = body_text(m);
  auto iocs = analysis::iocs_from_text(text, "msg:body");
  // Paths and command lines in prose are mostly noise; links and hosts are what a message points to.
  iocs.erase(std::remove_if(iocs.begin(), iocs.end(), [](const Ioc& i) { return i.type == "path" || i.type == "command"; }),
             iocs.end());
  analysis::merge_iocs(r.iocs, iocs);

  // Passwords from this message go first for its attachments and are dropped afterwards.
  auto& pw = ctx.passwords();
  const std::vector<std::string> saved = pw;
  auto harvested = harvest_passwords(text);
  if (!m.subject.empty()) {
    for (auto& p : harvest_passwords(m.subject))
      if (std::find(harvested.begin(), harvested.end(), p) == harvested.end()) harvested.push_back(std::move(p));
  }
  if (!harvested.empty()) {
    std::string list;
    for (const auto& p : harvested) list += (list.empty() ? "" : ", ") + p;
    r.context.emplace_back("passwords_found", list);
    pw.insert(pw.begin(), harvested.begin(), harvested.end());
  }

  std::string risky;
  std::size_t index = 0;
  for (const auto& a : m.attachments) {
    ++index;
    const std::string ln = lower(a.file_name);
    for (auto ext : kRiskyExts)
      if (ln.size() > ext.size() && ln.compare(ln.size() - ext.size(), ext.size(), ext) == 0)
        risky += (risky.empty() ? "" : ", ") + a.file_name;
    if (!a.embedded.empty()) {
      if (ctx.depth() + level + 1 > ctx.limits().max_depth) {
        ctx.exceeded(r, "Depth", "attached messages nested deeper than " + std::to_string(ctx.limits().max_depth) + " levels");
        break;
      }
      ScanResult child;
      child.path = r.path + "!" + member_name(a.file_name.empty() ? a.embedded[0].subject : a.file_name, index, ".msg");
      child.type = {FileKind::ole2, "ole2-msg"};
      child.verdict = Verdict::clean;
      child.model = "msg";
      scan_message(a.embedded[0], child, ctx, level + 1);
      add_member(r, std::move(child));
      continue;
    }
    if (a.data.empty()) continue;
    if (!a.data_complete) r.anomalies.push_back("attachment_data_incomplete:" + a.storage);
    if (!ctx.charge_bytes(r, a.data.size())) break;
    if (!ctx.scan_member(r, member_name(a.file_name, index, ".bin"), ByteView(a.data.data(), a.data.size()))) break;
  }
  pw = saved;
  if (!risky.empty()) {
    r.reasons.push_back({"msg.risky_attachment", 1, 50});
    r.context.emplace_back("msg.risky_attachment", "+50: " + risky);
    if (ctx.scanner().options().alert_suspicious) raise_verdict(r, Verdict::suspicious, "Mamori.MSG.RiskyAttachment");
  }
}

}  // namespace

void msg(ByteView bytes, ScanResult& r, ScanContext& ctx) {
  r.model = "msg";
  auto f = ole2::parse(bytes);
  if (!f.ok()) {
    r.anomalies.push_back("ole2_unreadable: " + f.error().message);
    r.verdict = Verdict::clean;
    return;
  }
  for (const auto& a : f->anomalies) r.anomalies.push_back(std::string("ole2.") + ole2::anomaly_name(a.code) + ":" + std::to_string(a.detail));
  const msg::Message m = msg::read(*f);
  r.verdict = Verdict::clean;
  scan_message(m, r, ctx, 0);
}

}  // namespace mamori::engine::handlers
