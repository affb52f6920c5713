#include "support/excel5_builder.hpp"

namespace mamori::test::excel5 {

namespace {
constexpr std::uint16_t kRecordSize = 10;
void u16(std::vector<std::uint8_t>& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}
void u32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  u16(b, static_cast<std::uint16_t>(v));
  u16(b, static_cast<std::uint16_t>(v >> 16));
}
void text(std::vector<std::uint8_t>& b, const std::string& s) {
  b.insert(b.end(), s.begin(), s.end());
  if (s.size() & 1u) b.push_back(0);
}
}  // namespace

std::uint16_t id_of(std::size_t index) { return static_cast<std::uint16_t>(index * kRecordSize); }

Line& Line::op(std::uint16_t opcode) { u16(bytes, opcode); return *this; }
Line& Line::name(std::uint16_t opcode, std::size_t index) {
  u16(bytes, opcode);
  u16(bytes, id_of(index));
  return *this;
}
Line& Line::call(std::uint16_t opcode, std::size_t index, std::uint16_t argc) {
  name(opcode, index);
  u16(bytes, argc);
  return *this;
}
Line& Line::str(const std::string& s) {
  u16(bytes, op_lit_str);
  u16(bytes, static_cast<std::uint16_t>(s.size()));
  text(bytes, s);
  return *this;
}
Line& Line::num(std::uint16_t v) {
  u16(bytes, op_lit_di2);
  u16(bytes, v);
  return *this;
}
Line& Line::comment(const std::string& s) {
  u16(bytes, op_comment);
  u16(bytes, 0);
  u16(bytes, static_cast<std::uint16_t>(s.size()));
  text(bytes, s);
  return *this;
}
Line& Line::raw16(std::uint16_t v) { u16(bytes, v); return *this; }

std::vector<std::uint8_t> build_dir(const Spec& spec) {
  std::vector<std::uint8_t> d;
  u16(d, 0x61CC);
  u16(d, 0x0004);
  d.insert(d.end(), 24, 0xFF);  // stands for the references and module records we do not read
  std::vector<std::uint8_t> names, records;
  for (const auto& n : spec.names) {
    const auto off = static_cast<std::uint16_t>(names.size());
    names.insert(names.end(), n.begin(), n.end());
    names.push_back(0);
    if (names.size() & 1u) names.push_back(spec.name_pad);
    u16(records, 0x5A5A);  // hash
    u16(records, 0xFFFF);  // next in the hash chain
    u16(records, 0xFFFF);
    u16(records, off);
    records.push_back(0xC2);
    records.push_back(0xFF);
  }
  if (spec.write_record_table) {
    u32(d, 0x0001FFFFu);
    u32(d, static_cast<std::uint32_t>(records.size()));
    d.insert(d.end(), records.begin(), records.end());
  } else {
    d.insert(d.end(), 8, 0x00);
  }
  u32(d, 0x0001FFFFu);
  u32(d, static_cast<std::uint32_t>(names.size()));
  d.insert(d.end(), names.begin(), names.end());
  for (std::uint8_t b : {0x01, 0xFF, 0xFF, 0x01, 0x01, 0x00, 0x00}) d.push_back(b);
  return d;
}

std::vector<std::uint8_t> build_module(const Module& m) {
  std::vector<std::uint8_t> s = {0x01, 0x08, 0x01, 0x00};
  s.insert(s.end(), 60, 0xFF);  // the module header we do not read
  u16(s, 0xCAFE);
  u16(s, 0);
  u16(s, static_cast<std::uint16_t>(m.lines.size()));
  u16(s, 0);
  std::vector<std::uint8_t> pcode;
  for (const auto& l : m.lines) {
    u16(s, 0);
    u16(s, 1);
    u16(s, static_cast<std::uint16_t>(l.bytes.size()));
    u16(s, 0);
    u16(s, l.bytes.empty() ? std::uint16_t{0xFFFF} : static_cast<std::uint16_t>(pcode.size()));
    u16(s, 0);
    pcode.insert(pcode.end(), l.bytes.begin(), l.bytes.end());
  }
  u16(s, 0x0101);
  u32(s, static_cast<std::uint32_t>(pcode.size()));
  s.insert(s.end(), pcode.begin(), pcode.end());
  return s;
}

std::vector<CfbStream> build_streams(const Spec& spec) {
  std::vector<CfbStream> out;
  out.push_back({spec.storage + "/dir", build_dir(spec)});
  for (const auto& m : spec.modules) out.push_back({spec.storage + "/" + m.stream_name, build_module(m)});
  return out;
}

std::vector<std::uint8_t> build_workbook(const Spec& spec) {
  CfbSpec c;
  c.streams.push_back({"Book", std::vector<std::uint8_t>(64, 0)});
  for (auto& s : build_streams(spec)) c.streams.push_back(std::move(s));
  return build_cfb(c);
}

}  // namespace mamori::test::excel5
