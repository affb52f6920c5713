#include "support/word6_builder.hpp"

#include "support/cfb_builder.hpp"

namespace mamori::test {

namespace {
void u16(std::vector<std::uint8_t>& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}
void u32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  u16(b, static_cast<std::uint16_t>(v));
  u16(b, static_cast<std::uint16_t>(v >> 16));
}
void at32(std::vector<std::uint8_t>& b, std::size_t off, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void text(std::vector<std::uint8_t>& b, std::uint8_t token, const std::string& s) {
  b.push_back(token);
  b.push_back(static_cast<std::uint8_t>(s.size()));
  b.insert(b.end(), s.begin(), s.end());
}
}  // namespace

WordBasicTokens& WordBasicTokens::kw(std::uint8_t t) { b.push_back(t); return *this; }
WordBasicTokens& WordBasicTokens::ident(const std::string& s) { text(b, 0x69, s); return *this; }
WordBasicTokens& WordBasicTokens::str(const std::string& s) { text(b, 0x6A, s); return *this; }
WordBasicTokens& WordBasicTokens::comment(const std::string& s) { text(b, 0x6B, s); return *this; }
WordBasicTokens& WordBasicTokens::builtin(std::uint16_t n) { b.push_back(0x67); u16(b, n); return *this; }
WordBasicTokens& WordBasicTokens::integer(std::uint16_t n) { b.push_back(0x6C); u16(b, n); return *this; }
WordBasicTokens& WordBasicTokens::eol() { b.push_back(0x64); return *this; }
WordBasicTokens& WordBasicTokens::raw(std::vector<std::uint8_t> bytes) {
  b.insert(b.end(), bytes.begin(), bytes.end());
  return *this;
}

std::vector<std::uint8_t> build_word6_document(const Word6Spec& spec, Word6Layout* layout) {
  std::vector<std::uint8_t> w(0x200, 0);
  w[0] = 0xDC;  // wIdent 0xA5DC
  w[1] = 0xA5;
  w[2] = static_cast<std::uint8_t>(spec.nfib);
  w[3] = static_cast<std::uint8_t>(spec.nfib >> 8);
  std::vector<std::uint32_t> offsets;
  for (const auto& m : spec.macros) {
    offsets.push_back(m.offset >= 0 ? static_cast<std::uint32_t>(m.offset) : static_cast<std::uint32_t>(w.size()));
    for (std::uint8_t c : m.body) w.push_back(c ^ m.key);
  }
  std::vector<std::uint8_t> t{0xFF};
  t.push_back(0x01);
  u16(t, static_cast<std::uint16_t>(spec.macros.size()));
  for (std::size_t i = 0; i < spec.macros.size(); ++i) {
    const auto& m = spec.macros[i];
    t.push_back(0x55);
    t.push_back(m.key);
    u16(t, m.name_id == 0xFFFF ? static_cast<std::uint16_t>(i) : m.name_id);
    u16(t, 0);                                        // string-table index
    u16(t, 0xFFFF);
    u32(t, 0);
    u32(t, static_cast<std::uint32_t>(m.body.size()));
    u32(t, 4);
    u32(t, offsets[i]);
  }
  if (spec.other_records) {
    t.push_back(0x02);  // one allocated command
    u16(t, 1);
    u32(t, 0x00010002);
    t.push_back(0x03);  // one key map entry
    u16(t, 1);
    for (int i = 0; i < 14; ++i) t.push_back(static_cast<std::uint8_t>(i));
    // The string table: its size (counting itself), then Pascal strings each followed by two bytes.
    std::vector<std::uint8_t> sttb;
    for (const auto& m : spec.macros) {
      sttb.push_back(static_cast<std::uint8_t>(m.name.size()));
      sttb.insert(sttb.end(), m.name.begin(), m.name.end());
      u16(sttb, 1);
    }
    t.push_back(0x10);
    u16(t, static_cast<std::uint16_t>(sttb.size() + 2));
    t.insert(t.end(), sttb.begin(), sttb.end());
  }
  t.push_back(0x11);
  u16(t, static_cast<std::uint16_t>(spec.macros.size()));
  for (std::size_t i = 0; i < spec.macros.size(); ++i) {
    u16(t, static_cast<std::uint16_t>(i));
    t.push_back(static_cast<std::uint8_t>(spec.macros[i].name.size()));
    t.insert(t.end(), spec.macros[i].name.begin(), spec.macros[i].name.end());
    t.push_back(0);
  }
  if (spec.other_records) {
    t.push_back(0x12);
    u16(t, 0);
  }
  t.insert(t.end(), spec.extra_records.begin(), spec.extra_records.end());
  if (spec.terminate) t.push_back(0x40);
  const auto table_offset = static_cast<std::uint32_t>(w.size());
  w.insert(w.end(), t.begin(), t.end());
  at32(w, 0x118, table_offset);
  at32(w, 0x11C, static_cast<std::uint32_t>(t.size()));
  if (layout != nullptr) {
    layout->table_offset = table_offset;
    layout->table_size = static_cast<std::uint32_t>(t.size());
  }
  return w;
}

std::vector<std::uint8_t> build_word6_doc(const Word6Spec& spec) {
  CfbSpec c;
  c.streams.push_back({"WordDocument", build_word6_document(spec)});
  return build_cfb(c);
}

}  // namespace mamori::test
