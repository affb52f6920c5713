// E-mail (.eml) and mbox: attachments, inline parts, nested messages and uuencoded blocks become members; the
// message's words become the first passwords tried on any encrypted archive it carries, at any depth below it.
#include <algorithm>

#include "engine/handlers.hpp"
#include "engine/passwords.hpp"
#include "engine/scanner.hpp"
#include "formats/mime/mime.hpp"

namespace mamori::engine::handlers {

namespace {

void one_message(ByteView bytes, ScanResult& r, ScanContext& ctx) {
  mime::ParseOptions po;
  po.max_part_bytes = ctx.remaining_bytes();
  auto parsed = mime::parse_message(bytes, po);
  if (!parsed.ok()) {
    r.anomalies.push_back("email_unreadable: " + parsed.error().message);
    return;
  }
  const mime::Message& m = *parsed;
  if (!m.from.empty()) r.context.emplace_back("email.from", m.from);
  if (!m.to.empty()) r.context.emplace_back("email.to", m.to);
  if (!m.subject.empty()) r.context.emplace_back("email.subject", m.subject);
  if (!m.date.empty()) r.context.emplace_back("email.date", m.date);
  if (!m.message_id.empty()) r.context.emplace_back("email.message_id", m.message_id);
  if (!m.in_reply_to.empty()) r.context.emplace_back("email.in_reply_to", m.in_reply_to);
  if (m.reply.is_reply()) {
    std::string prefixes;
    for (const auto& p : m.reply.subject_prefixes) prefixes += (prefixes.empty() ? "" : ",") + p;
    r.context.emplace_back("email.reply_chain", "yes");
    if (!prefixes.empty()) r.context.emplace_back("email.reply_prefixes", prefixes);
    if (m.reply.quoted_lines > 0) r.context.emplace_back("email.quoted_lines", std::to_string(m.reply.quoted_lines));
    std::string markers;
    for (const auto& mk : m.reply.markers) markers += (markers.empty() ? "" : " | ") + mk;
    if (!markers.empty()) r.context.emplace_back("email.quoted_headers", markers);
  }
  for (const auto& a : m.anomalies) {
    std::string line = std::string("email.") + mime::anomaly_name(a.code);
    if (!a.detail.empty()) line += ": " + a.detail;
    r.anomalies.push_back(std::move(line));
  }
  // A message with nothing attached has been read in full: clean. Otherwise its members decide (a mail carrying
  // only files no model scores stays "unsupported", as those files would alone).
  if (m.parts.empty() && r.verdict == Verdict::unsupported) r.verdict = Verdict::clean;

  // Passwords from this message go first, for every archive below it.
  std::vector<std::string> found = harvest_passwords(m.subject + "\n" + m.text);
  if (!found.empty()) {
    std::string list;
    for (const auto& p : found) list += (list.empty() ? "" : " ") + p;
    r.context.emplace_back("email.password_candidates", list);
  }
  auto& pw = ctx.passwords();
  const std::vector<std::string> saved = pw;
  std::vector<std::string> merged = found;
  for (const auto& p : saved)
    if (std::find(merged.begin(), merged.end(), p) == merged.end()) merged.push_back(p);
  pw = merged;
  std::size_t attachments = 0;
  for (const auto& part : m.parts) {
    ++attachments;
    if (!ctx.charge_bytes(r, part.data.size())) break;
    if (!ctx.scan_member(r, part.name, ByteView(part.data.data(), part.data.size()))) break;
  }
  pw = saved;
  r.context.emplace_back("email.parts", std::to_string(attachments));
}

}  // namespace

void email(ByteView bytes, ScanResult& r, ScanContext& ctx) {
  if (r.type.subtype != "mbox") {
    one_message(bytes, r, ctx);
    return;
  }
  const auto messages = mime::split_mbox(bytes);
  r.context.emplace_back("mbox.messages", std::to_string(messages.size()));
  for (std::size_t i = 0; i < messages.size(); ++i)
    if (!ctx.scan_member(r, "message-" + std::to_string(i + 1) + ".eml", messages[i])) break;
}

}  // namespace mamori::engine::handlers
