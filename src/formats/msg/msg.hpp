// Outlook messages (.msg, [MS-OXMSG]) read from a compound file parsed by formats/ole2.
//
// A message is a storage: each variable-length property is a stream named "__substg1.0_IIIITTTT" (property id,
// property type in hex), fixed-length ones sit in "__properties_version1.0", recipients are storages
// "__recip_version1.0_#NNNNNNNN" and attachments "__attach_version1.0_#NNNNNNNN". An attachment carries its bytes
// in PidTagAttachDataBinary (0x3701, binary) or, for an attached message, a nested message storage
// PidTagAttachDataObject ("__substg1.0_3701000D"), which msg::read walks the same way, up to
// limits::max_embedded_depth.
//
// msg::read never fails on a compound file: missing or unreadable properties are recorded as anomalies. The RTF
// body (PidTagRtfCompressed) is decompressed with [MS-OXRTFCP] LZFu, bounded by limits::max_rtf_bytes.
//
// Lifetime: everything in a Message is owned; attachment bytes are copied out of the compound file (bounded by
// ole2::limits::max_stream_size each).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "formats/ole2/ole2.hpp"

namespace mamori::msg {

namespace limits {
// Attachments read from one message (each level). Mail servers cap messages far below this.
inline constexpr std::uint32_t max_attachments = 256;
// Recipients read from one message.
inline constexpr std::uint32_t max_recipients = 1024;
// Messages attached to messages attached to ... Outlook forwards nest a few deep.
inline constexpr std::uint32_t max_embedded_depth = 8;
// Text kept from each body (plain, HTML, RTF), in bytes.
inline constexpr std::uint64_t max_body_bytes = 4ull << 20;
// Bytes one LZFu stream may decompress to.
inline constexpr std::uint64_t max_rtf_bytes = 8ull << 20;
}  // namespace limits

enum class Anomaly : std::uint8_t {
  properties_stream_missing = 0,  // no __properties_version1.0 in a message storage
  property_stream_incomplete,     // a property stream's sector chain broke or was capped
  attachment_without_data,        // an attachment storage with neither binary data nor an embedded message
  attachments_truncated_by_limit,
  recipients_truncated_by_limit,
  embedded_too_deep,              // an attached message nested deeper than limits::max_embedded_depth
  rtf_compressed_invalid,         // PidTagRtfCompressed header unreadable or of an unknown type
  rtf_truncated_by_limit,         // decompression stopped at limits::max_rtf_bytes
  rtf_size_mismatch,              // decompressed size differs from the header's RawSize
  not_a_message,                  // no __substg1.0_ stream and no __properties_version1.0 at all
  kCount
};
inline constexpr std::size_t anomaly_count = static_cast<std::size_t>(Anomaly::kCount);
const char* anomaly_name(Anomaly a) noexcept;

struct AnomalyRecord {
  Anomaly code;
  std::uint64_t detail;
};

struct Recipient {
  std::string name, email;
};

struct Message;

struct Attachment {
  std::string storage;       // "__attach_version1.0_#00000000" (path inside the compound file)
  std::string file_name;     // PidTagAttachLongFilename, else PidTagAttachFilename, else PidTagDisplayName
  std::string mime_type;     // PidTagAttachMimeTag
  std::uint32_t method = 0;  // PidTagAttachMethod: 1 by value, 5 embedded message, 6 OLE
  std::vector<std::uint8_t> data;     // PidTagAttachDataBinary
  bool data_complete = true;
  std::vector<Message> embedded;      // the attached message when PidTagAttachDataObject is a message (0 or 1)
};

struct Message {
  std::string storage;       // "" for the top-level message
  std::string message_class; // "IPM.Note"
  std::string subject;
  std::string sender_name, sender_email;
  std::string message_id, in_reply_to, references, conversation_topic;
  std::string transport_headers;
  std::string body;          // PidTagBody
  std::string html;          // PidTagHtml / PidTagBodyHtml
  std::string rtf;           // PidTagRtfCompressed, decompressed
  std::vector<Recipient> recipients;
  std::vector<Attachment> attachments;
  std::vector<AnomalyRecord> anomalies;  // of this message only; nested ones keep theirs
  std::uint64_t anomaly_bits = 0;
  bool has(Anomaly a) const noexcept { return (anomaly_bits >> static_cast<unsigned>(a)) & 1u; }
};

/// True when the compound file's root holds a __properties_version1.0 stream or a __substg1.0_ stream.
bool is_message(const ole2::File& f);

/// Reads the message at the root of `f`.
Message read(const ole2::File& f);

/// [MS-OXRTFCP] decompression of a PidTagRtfCompressed value ("LZFu" compressed or "MELA" stored). Records
/// rtf_* anomalies on `m`; returns what could be produced.
std::string decompress_rtf(ByteView compressed, Message* m = nullptr);

/// Readable text from an RTF body: control words, groups of destinations (\*, fonttbl, colortbl, stylesheet...)
/// and hex escapes are dropped or decoded; bounded by limits::max_body_bytes.
std::string rtf_to_text(std::string_view rtf);

/// Readable text from an HTML body: tags, scripts and styles dropped, common entities decoded.
std::string html_to_text(std::string_view html);

}  // namespace mamori::msg
