// libFuzzer target for the e-mail path: typing, mime::parse_message (GMime underneath), mbox splitting, password
// harvesting and reply analysis, i.e. what a scan does with every .eml and mbox.
//
// Promises checked: parts and uuencode blocks stay within their caps, body text within max_text_bytes, mbox views
// stay inside the input, password candidates are bounded in number and length.
#include <cstddef>
#include <cstdint>

#include "check.hpp"
#include "engine/filetype.hpp"
#include "engine/passwords.hpp"
#include "formats/mime/mime.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace mime = mamori::mime;
  const mamori::ByteView in(data, size);
  (void)mamori::engine::detect_type(in);
  mime::ParseOptions po;
  po.max_part_bytes = 8 << 20;
  auto m = mime::parse_message(in, po);
  if (m.ok()) {
    check(m->parts.size() <= mime::limits::max_parts + mime::limits::max_uuencode_blocks * mime::limits::max_parts);
    check(m->text.size() <= mime::limits::max_text_bytes + mime::limits::max_parts);
    std::uint64_t total = 0;
    for (const auto& p : m->parts) total += p.data.size();
    check(total <= po.max_part_bytes);
    check(m->reply.markers.size() <= 5);
  }
  for (const auto& v : mime::split_mbox(in, 1000)) {
    check(v.data() >= data && v.data() + v.size() <= data + size);
  }
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto pw = mamori::engine::harvest_passwords(text);
  check(pw.size() <= mamori::engine::limits::max_password_candidates);
  for (const auto& p : pw) check(!p.empty() && p.size() <= mamori::engine::limits::max_password_length);
  std::vector<mime::Anomaly> an;
  (void)mime::uudecode_blocks(text, an);
  (void)mime::analyse_reply(text.substr(0, 200), text);
  return 0;
}
