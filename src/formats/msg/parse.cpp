// Message, recipient and attachment storages of an Outlook .msg ([MS-OXMSG] 2.1-2.4).
#include <algorithm>
#include <cctype>
#include <cstdio>

#include "common/anomalies.hpp"
#include "common/codepage.hpp"
#include "formats/msg/msg.hpp"

namespace mamori::msg {

const char* anomaly_name(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::properties_stream_missing: return "properties_stream_missing";
    case Anomaly::property_stream_incomplete: return "property_stream_incomplete";
    case Anomaly::attachment_without_data: return "attachment_without_data";
    case Anomaly::attachments_truncated_by_limit: return "attachments_truncated_by_limit";
    case Anomaly::recipients_truncated_by_limit: return "recipients_truncated_by_limit";
    case Anomaly::embedded_too_deep: return "embedded_too_deep";
    case Anomaly::rtf_compressed_invalid: return "rtf_compressed_invalid";
    case Anomaly::rtf_truncated_by_limit: return "rtf_truncated_by_limit";
    case Anomaly::rtf_size_mismatch: return "rtf_size_mismatch";
    case Anomaly::not_a_message: return "not_a_message";
    case Anomaly::kCount: break;
  }
  return "unknown";
}

namespace {

// Property ids ([MS-OXPROPS]).
enum : std::uint16_t {
  kMessageClass = 0x001A,
  kSubject = 0x0037,
  kSentRepresentingName = 0x0042,
  kSentRepresentingEmail = 0x0065,
  kConversationTopic = 0x0070,
  kTransportHeaders = 0x007D,
  kSenderName = 0x0C1A,
  kSenderEmail = 0x0C1F,
  kBody = 0x1000,
  kRtfCompressed = 0x1009,
  kHtml = 0x1013,
  kMessageId = 0x1035,
  kReferences = 0x1039,
  kInReplyTo = 0x1042,
  kDisplayName = 0x3001,
  kEmailAddress = 0x3003,
  kAttachDataBinary = 0x3701,
  kAttachFilename = 0x3704,
  kAttachMethod = 0x3705,
  kAttachLongFilename = 0x3707,
  kAttachMimeTag = 0x370E,
  kSmtpAddress = 0x39FE,
  kInternetCodepage = 0x3FDE,
  kMessageCodepage = 0x3FFD,
  kSenderSmtp = 0x5D01,
};
// Property types.
enum : std::uint16_t { kPtLong = 0x0003, kPtObject = 0x000D, kPtString8 = 0x001E, kPtUnicode = 0x001F, kPtBinary = 0x0102 };

void flag(Message& m, Anomaly a, std::uint64_t detail = 0) { flag_first(m, a, detail); }

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) return false;
  return true;
}

std::string join(const std::string& storage, std::string_view name) {
  return storage.empty() ? std::string(name) : storage + "/" + std::string(name);
}

std::string substg(std::uint16_t id, std::uint16_t type) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "__substg1.0_%04X%04X", id, type);
  return buf;
}

class Reader {
 public:
  Reader(const ole2::File& f, Message& m, std::string storage, std::uint32_t code_page)
      : f_(f), m_(m), storage_(std::move(storage)), code_page_(code_page) {}

  std::optional<ole2::StreamData> stream(std::uint16_t id, std::uint16_t type) const {
    auto s = f_.read_stream(join(storage_, substg(id, type)));
    if (s && !s->complete) flag(m_, Anomaly::property_stream_incomplete, id);
    return s;
  }

  std::string text(std::uint16_t id, std::uint64_t max = 1u << 16) const {
    if (auto s = stream(id, kPtUnicode)) {
      const std::size_t units = static_cast<std::size_t>(std::min<std::uint64_t>(s->bytes.size() / 2, max));
      return utf16le_to_utf8(ByteView(s->bytes.data(), s->bytes.size()), units);
    }
    if (auto s = stream(id, kPtString8)) {
      std::string_view v(reinterpret_cast<const char*>(s->bytes.data()), std::min<std::uint64_t>(s->bytes.size(), max));
      if (const auto nul = v.find('\0'); nul != std::string_view::npos) v = v.substr(0, nul);
      return codepage_to_utf8(v, code_page_);
    }
    return {};
  }

  std::optional<ole2::StreamData> binary(std::uint16_t id) const { return stream(id, kPtBinary); }

 private:
  const ole2::File& f_;
  Message& m_;
  std::string storage_;
  std::uint32_t code_page_;
};

// PT_LONG values from the fixed-length property stream; `header` is 32 (top-level message), 24 (attached message)
// or 8 (recipient, attachment).
std::optional<std::uint32_t> fixed_long(const ole2::File& f, const std::string& storage, std::uint32_t header,
                                        std::uint16_t id) {
  auto s = f.read_stream(join(storage, "__properties_version1.0"));
  if (!s) return std::nullopt;
  ByteView v(s->bytes.data(), s->bytes.size());
  for (std::uint64_t off = header; off + 16 <= v.size(); off += 16) {
    if (v.le_or<std::uint16_t>(off, 0) == kPtLong && v.le_or<std::uint16_t>(off + 2, 0) == id)
      return v.le_or<std::uint32_t>(off + 8, 0);
  }
  return std::nullopt;
}

std::optional<std::uint32_t> index_of(const ole2::File& f, const std::string& storage) {
  if (storage.empty()) return f.entries.empty() ? std::nullopt : std::optional<std::uint32_t>(0);
  const ole2::DirEntry* e = f.find(storage);
  if (!e || !e->is_storage()) return std::nullopt;
  return static_cast<std::uint32_t>(e - f.entries.data());
}

void read_message(const ole2::File& f, const std::string& storage, std::uint32_t header, unsigned depth, Message& m);

void read_attachment(const ole2::File& f, const std::string& storage, unsigned depth, Attachment& a, Message& owner) {
  Reader rd(f, owner, storage, 1252);
  a.storage = storage;
  a.file_name = rd.text(kAttachLongFilename, 1024);
  if (a.file_name.empty()) a.file_name = rd.text(kAttachFilename, 1024);
  if (a.file_name.empty()) a.file_name = rd.text(kDisplayName, 1024);
  a.mime_type = rd.text(kAttachMimeTag, 256);
  a.method = fixed_long(f, storage, 8, kAttachMethod).value_or(0);
  if (auto d = rd.binary(kAttachDataBinary)) {
    a.data = std::move(d->bytes);
    a.data_complete = d->complete;
    return;
  }
  const std::string obj = join(storage, substg(kAttachDataBinary, kPtObject));
  const ole2::DirEntry* e = f.find(obj);
  if (e && e->is_storage()) {
    const bool is_msg = f.find(join(obj, "__properties_version1.0")) != nullptr;
    if (is_msg) {
      if (depth + 1 > limits::max_embedded_depth) {
        flag(owner, Anomaly::embedded_too_deep, depth + 1);
        return;
      }
      a.embedded.emplace_back();
      read_message(f, obj, 24, depth + 1, a.embedded.back());
      return;
    }
    // An OLE object (method 6) stored as a storage: its streams are the data. The first stream named like an
    // object's native data is taken as the attachment's bytes.
    for (const char* n : {"CONTENTS", "\x01Ole10Native", "Package"})
      if (auto s = f.read_stream(join(obj, n))) {
        a.data = std::move(s->bytes);
        a.data_complete = s->complete;
        return;
      }
    return;
  }
  flag(owner, Anomaly::attachment_without_data, 0);
}

void read_message(const ole2::File& f, const std::string& storage, std::uint32_t header, unsigned depth, Message& m) {
  m.storage = storage;
  if (!f.find(join(storage, "__properties_version1.0"))) flag(m, Anomaly::properties_stream_missing);
  std::uint32_t cp = fixed_long(f, storage, header, kInternetCodepage)
                         .value_or(fixed_long(f, storage, header, kMessageCodepage).value_or(1252));
  Reader rd(f, m, storage, cp);
  m.message_class = rd.text(kMessageClass, 256);
  m.subject = rd.text(kSubject, 4096);
  m.sender_name = rd.text(kSenderName, 1024);
  if (m.sender_name.empty()) m.sender_name = rd.text(kSentRepresentingName, 1024);
  m.sender_email = rd.text(kSenderSmtp, 1024);
  if (m.sender_email.empty()) m.sender_email = rd.text(kSenderEmail, 1024);
  if (m.sender_email.empty()) m.sender_email = rd.text(kSentRepresentingEmail, 1024);
  m.message_id = rd.text(kMessageId, 1024);
  m.in_reply_to = rd.text(kInReplyTo, 1024);
  m.references = rd.text(kReferences, 8192);
  m.conversation_topic = rd.text(kConversationTopic, 4096);
  m.transport_headers = rd.text(kTransportHeaders, 1u << 16);
  m.body = rd.text(kBody, limits::max_body_bytes);
  if (auto h = rd.binary(kHtml)) {
    const auto n = std::min<std::uint64_t>(h->bytes.size(), limits::max_body_bytes);
    m.html.assign(reinterpret_cast<const char*>(h->bytes.data()), n);
  } else {
    m.html = rd.text(kHtml, limits::max_body_bytes);
  }
  if (auto r = rd.binary(kRtfCompressed)) m.rtf = decompress_rtf(ByteView(r->bytes.data(), r->bytes.size()), &m);

  const auto idx = index_of(f, storage);
  if (!idx) return;
  for (std::uint32_t child : f.children(*idx)) {
    const ole2::DirEntry& e = f.entries[child];
    if (!e.is_storage()) continue;
    if (starts_with_ci(e.name, "__recip_version1.0_")) {
      if (m.recipients.size() >= limits::max_recipients) {
        flag(m, Anomaly::recipients_truncated_by_limit);
        continue;
      }
      Reader rr(f, m, e.path, cp);
      Recipient r{rr.text(kDisplayName, 1024), rr.text(kSmtpAddress, 1024)};
      if (r.email.empty()) r.email = rr.text(kEmailAddress, 1024);
      m.recipients.push_back(std::move(r));
    } else if (starts_with_ci(e.name, "__attach_version1.0_")) {
      if (m.attachments.size() >= limits::max_attachments) {
        flag(m, Anomaly::attachments_truncated_by_limit);
        continue;
      }
      m.attachments.emplace_back();
      read_attachment(f, e.path, depth, m.attachments.back(), m);
    }
  }
}

}  // namespace

bool is_message(const ole2::File& f) {
  if (f.find("__properties_version1.0")) return true;
  if (f.entries.empty()) return false;
  for (std::uint32_t c : f.children(0))
    if (starts_with_ci(f.entries[c].name, "__substg1.0_")) return true;
  return false;
}

Message read(const ole2::File& f) {
  Message m;
  if (!is_message(f)) flag(m, Anomaly::not_a_message);
  read_message(f, "", 32, 0, m);
  return m;
}

}  // namespace mamori::msg
