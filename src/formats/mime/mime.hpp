// E-mail (RFC 5322 / MIME) and mbox reading on top of GMime 3, for scanning what a message carries.
//
// parse_message(bytes) walks the MIME tree with an explicit stack (bounded depth and part count) and returns the
// attachments and inline non-text parts decoded (base64, quoted-printable, uuencode), nested message/rfc822 parts
// re-serialised as their own messages, the text of the body (UTF-8, bounded), the header facts a person needs
// (sender, recipients, subject, date, Message-ID, In-Reply-To) and the signs of a reply chain that hijacked-thread
// campaigns (Emotet, Qakbot) reuse: "RE:"/"AW:"/"返信:" subject prefixes and quoted history in the body. uuencoded
// blocks inside text bodies ("begin 644 name" ... "end") are decoded by our own decoder.
//
// GMime is initialised once per process (std::call_once); after that, parsing separate messages on separate threads
// is safe because no GMime object is shared between scans. Parsing reads from the caller's bytes without copying
// them (a non-owning GByteArray under a GMimeStreamMem); the returned Message owns everything it holds.
//
// split_mbox(bytes) cuts an mbox ("From " separator lines) into zero-copy views of its messages.
// Password candidates in the message text are engine::harvest_passwords' business (src/engine/passwords.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace mamori::mime {

namespace limits {
inline constexpr std::uint32_t max_parts = 1000;           // MIME parts walked per message
inline constexpr std::uint32_t max_depth = 32;             // multipart / message nesting walked
inline constexpr std::uint64_t max_text_bytes = 1u << 20;  // body text kept for password and reply analysis
inline constexpr std::uint32_t max_uuencode_blocks = 64;
inline constexpr std::uint32_t max_mbox_messages = 100000;
}  // namespace limits

enum class AnomalyCode : std::uint8_t {
  parser_warning = 0,      // GMime reported a malformed construct; detail = which
  parser_critical,         // GMime reported a construct other software may read differently (smuggling)
  parts_truncated_by_limit,
  depth_truncated_by_limit,
  part_too_large,          // a part larger than the byte budget was skipped
  no_headers,              // the message has no header GMime recognised
  uuencode_truncated,      // "begin" without "end"
};
const char* anomaly_name(AnomalyCode c) noexcept;

struct Anomaly {
  AnomalyCode code;
  std::string detail;
};

struct Part {
  std::string name;          // file name (RFC 2231 / RFC 2047 decoded), or a made-up "part-N.<ext>"
  std::string content_type;  // "application/zip"
  bool attachment = false;   // Content-Disposition: attachment
  bool message = false;      // a nested message/rfc822, re-serialised
  bool uuencoded = false;    // decoded from a uuencode block inside a text part
  std::vector<std::uint8_t> data;
};

struct ReplyChain {
  std::vector<std::string> subject_prefixes;  // "RE", "AW", "返信", in order
  std::uint32_t quoted_lines = 0;             // lines starting with '>'
  std::vector<std::string> markers;           // "-----Original Message-----", "On ... wrote:" lines (first few)
  bool is_reply() const noexcept { return !subject_prefixes.empty() || quoted_lines > 0 || !markers.empty(); }
};

struct Message {
  std::string from, to, subject, date, message_id, in_reply_to;
  std::string text;  // text/plain (and text/html stripped of nothing) bodies, UTF-8, at most max_text_bytes
  std::vector<Part> parts;
  ReplyChain reply;
  std::vector<Anomaly> anomalies;
};

struct ParseOptions {
  /// Decoded bytes kept for parts, all together; a part that would pass it is skipped (anomaly part_too_large).
  std::uint64_t max_part_bytes = 1ull << 30;
};

/// Errors only when GMime cannot build a message at all (ErrorCode::not_this_format).
Result<Message> parse_message(ByteView bytes, const ParseOptions& opt = {});

/// Messages of an mbox, as views into `bytes` (the "From " separator line excluded).
std::vector<ByteView> split_mbox(ByteView bytes, std::uint32_t max_messages = limits::max_mbox_messages);

/// Subject prefixes and quoted-history signs.
ReplyChain analyse_reply(std::string_view subject, std::string_view text);

/// uuencode blocks in `text` ("begin <mode> <name>" ... "end").
std::vector<Part> uudecode_blocks(std::string_view text, std::vector<Anomaly>& anomalies);

}  // namespace mamori::mime
