// libFuzzer target for the .msg path: ole2::parse, msg::read (properties, recipients, attachments, attached
// messages, LZFu RTF), the body-to-text converters and engine::harvest_passwords, as the .msg handler calls them.
//
// Checks the promises of msg.hpp: attachment and recipient lists and nesting stay under their caps, decompressed RTF
// and bodies stay under theirs, and the anomaly list matches the bit set at every level. Raw inputs that are not
// compound files go through decompress_rtf directly, so the LZFu decoder is fuzzed on its own too.
#include <cstddef>
#include <cstdint>

#include "check.hpp"
#include "engine/passwords.hpp"
#include "formats/msg/msg.hpp"
#include "formats/ole2/ole2.hpp"

namespace msg = mamori::msg;

namespace {

void check_message(const msg::Message& m, unsigned depth) {
  check(depth <= msg::limits::max_embedded_depth);
  check(m.attachments.size() <= msg::limits::max_attachments);
  check(m.recipients.size() <= msg::limits::max_recipients);
  check(m.rtf.size() <= msg::limits::max_rtf_bytes);
  std::uint64_t bits = 0;
  for (const auto& a : m.anomalies) {
    check(a.code < msg::Anomaly::kCount);
    bits |= std::uint64_t{1} << static_cast<unsigned>(a.code);
  }
  check(bits == m.anomaly_bits && m.anomalies.size() <= msg::anomaly_count);
  const auto text = m.body.empty() ? (m.html.empty() ? msg::rtf_to_text(m.rtf) : msg::html_to_text(m.html)) : m.body;
  check(text.size() <= msg::limits::max_body_bytes * 4);
  check(mamori::engine::harvest_passwords(text).size() <= mamori::engine::limits::max_password_candidates);
  for (const auto& a : m.attachments) {
    check(a.embedded.size() <= 1);
    for (const auto& e : a.embedded) check_message(e, depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const mamori::ByteView in(data, size);
  auto f = mamori::ole2::parse(in);
  if (!f.ok()) {
    msg::Message m;
    const auto rtf = msg::decompress_rtf(in, &m);
    check(rtf.size() <= msg::limits::max_rtf_bytes);
    const auto text = msg::rtf_to_text(rtf);
    check(text.size() <= msg::limits::max_body_bytes);
    check(msg::html_to_text(std::string_view(reinterpret_cast<const char*>(data), size)).size() <= size);
    check(mamori::engine::harvest_passwords(std::string_view(reinterpret_cast<const char*>(data), size)).size() <=
          mamori::engine::limits::max_password_candidates);
    return 0;
  }
  check_message(msg::read(*f), 0);
  return 0;
}
