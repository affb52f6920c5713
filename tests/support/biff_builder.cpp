#include "support/biff_builder.hpp"

#include <array>
#include <cstring>
#include <utility>

#include "formats/xls/xls.hpp"

namespace mamori::test {
namespace {

void u8(Buf& b, std::uint8_t v) { b.push_back(v); }
void u16(Buf& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}
void u32(Buf& b, std::uint32_t v) {
  u16(b, static_cast<std::uint16_t>(v));
  u16(b, static_cast<std::uint16_t>(v >> 16));
}
void bytes(Buf& b, const std::string& s) { b.insert(b.end(), s.begin(), s.end()); }
void append(Buf& b, const Buf& x) { b.insert(b.end(), x.begin(), x.end()); }

Buf bof(std::uint16_t dt) {
  Buf b;
  u16(b, 0x0600);
  u16(b, dt);
  u16(b, 0x0DBB);  // build
  u16(b, 0x07CC);  // year
  u32(b, 0);
  u32(b, 0x06);
  return biff_record(0x0809, b);
}

}  // namespace

Buf biff_record(std::uint16_t type, const Buf& body) {
  Buf b;
  u16(b, type);
  u16(b, static_cast<std::uint16_t>(body.size()));
  append(b, body);
  return b;
}

Buf biff_formula(std::uint16_t row, std::uint16_t col, const Buf& rgce, bool string_result) {
  Buf b;
  u16(b, row);
  u16(b, col);
  u16(b, 0x0F);  // ixfe
  if (string_result) {
    u8(b, 0);
    for (int k = 0; k < 5; ++k) u8(b, 0);
    u16(b, 0xFFFF);
  } else {
    for (int k = 0; k < 8; ++k) u8(b, 0);
  }
  u16(b, 0);  // grbit
  u32(b, 0);  // chn
  u16(b, static_cast<std::uint16_t>(rgce.size()));
  append(b, rgce);
  return biff_record(0x0006, b);
}

Buf biff_string(const std::string& s) {
  Buf b;
  u16(b, static_cast<std::uint16_t>(s.size()));
  u8(b, 0);
  bytes(b, s);
  return biff_record(0x0207, b);
}

Buf biff_label(std::uint16_t row, std::uint16_t col, const std::string& s) {
  Buf b;
  u16(b, row);
  u16(b, col);
  u16(b, 0x0F);
  u16(b, static_cast<std::uint16_t>(s.size()));
  u8(b, 0);
  bytes(b, s);
  return biff_record(0x0204, b);
}

Buf biff_labelsst(std::uint16_t row, std::uint16_t col, std::uint32_t isst) {
  Buf b;
  u16(b, row);
  u16(b, col);
  u16(b, 0x0F);
  u32(b, isst);
  return biff_record(0x00FD, b);
}

Buf build_workbook_stream(const BiffSpec& spec) {
  // Globals, with BOUNDSHEET8 offsets patched once the substreams' positions are known.
  Buf g = bof(0x0005);
  std::uint64_t filepass_end = 0;
  xls::FilePass fp;
  if (spec.crypt != BiffCrypt::none) {
    fp.method = spec.crypt == BiffCrypt::rc4 ? xls::Encryption::rc4
                : spec.crypt == BiffCrypt::rc4_cryptoapi ? xls::Encryption::rc4_cryptoapi
                                                         : xls::Encryption::xor_obfuscation;
    fp.major = spec.crypt == BiffCrypt::rc4 ? 1 : 2;
    fp.minor = spec.crypt == BiffCrypt::rc4 ? 1 : 2;
    fp.key_bits = spec.crypt == BiffCrypt::rc4 ? 128 : spec.key_bits;
    for (int k = 0; k < 16; ++k) fp.salt[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(0x30 + 7 * k);
    std::array<std::uint8_t, 16> verifier{};
    for (int k = 0; k < 16; ++k) verifier[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(0xA0 ^ (k * 13));
    if (spec.crypt != BiffCrypt::xor_obfuscation) xls::make_verifier(fp, spec.password, verifier);
    append(g, biff_record(0x002F, xls::write_filepass(fp)));
    filepass_end = g.size();
  }
  std::vector<std::size_t> bs_at;
  for (const auto& s : spec.sheets) {
    Buf b;
    u32(b, 0);
    u8(b, s.state);
    u8(b, s.dt);
    u8(b, static_cast<std::uint8_t>(s.name.size()));
    u8(b, 0);
    bytes(b, s.name);
    bs_at.push_back(g.size() + 4);
    append(g, biff_record(0x0085, b));
  }
  if (spec.externsheet) {
    Buf sb;
    u16(sb, static_cast<std::uint16_t>(spec.sheets.size()));
    u16(sb, 0x0401);
    append(g, biff_record(0x01AE, sb));
    Buf es;
    u16(es, static_cast<std::uint16_t>(spec.sheets.size()));
    for (std::size_t k = 0; k < spec.sheets.size(); ++k) {
      u16(es, 0);
      u16(es, static_cast<std::uint16_t>(k));
      u16(es, static_cast<std::uint16_t>(k));
    }
    append(g, biff_record(0x0017, es));
  }
  for (const auto& n : spec.names) {
    Buf b;
    std::uint16_t flags = 0;
    if (n.hidden) flags |= 0x0001;
    if (n.macro) flags |= 0x0002 | 0x0008;
    if (n.builtin) flags |= 0x0020;
    u16(b, flags);
    u8(b, 0);
    u8(b, static_cast<std::uint8_t>(n.name.size()));
    u16(b, static_cast<std::uint16_t>(n.rgce.size()));
    u16(b, 0);
    u16(b, n.itab);
    u32(b, 0);
    u8(b, 0);
    bytes(b, n.name);
    append(b, n.rgce);
    append(g, biff_record(0x0018, b));
  }
  if (!spec.sst.empty()) {
    Buf b;
    u32(b, static_cast<std::uint32_t>(spec.sst.size()));
    u32(b, static_cast<std::uint32_t>(spec.sst.size()));
    for (const auto& s : spec.sst) {
      u16(b, static_cast<std::uint16_t>(s.size()));
      u8(b, 0);
      bytes(b, s);
    }
    if (spec.sst_split_at > 0 && spec.sst_split_at < b.size()) {
      Buf first(b.begin(), b.begin() + spec.sst_split_at);
      Buf rest;
      u8(rest, 0);  // high-byte flag of the continued run
      rest.insert(rest.end(), b.begin() + spec.sst_split_at, b.end());
      append(g, biff_record(0x00FC, first));
      append(g, biff_record(0x003C, rest));
    } else {
      append(g, biff_record(0x00FC, b));
    }
  }
  append(g, biff_record(0x000A, {}));
  for (std::size_t k = 0; k < spec.sheets.size(); ++k) {
    const auto& s = spec.sheets[k];
    const std::uint32_t off = static_cast<std::uint32_t>(g.size());
    std::memcpy(g.data() + bs_at[k], &off, 4);  // little-endian host (x86-64, arm64)
    const std::uint16_t dt = s.bof_dt ? s.bof_dt : s.dt == 1 ? 0x0040 : s.dt == 2 ? 0x0020 : 0x0010;
    append(g, bof(dt));
    for (const auto& r : s.records) append(g, r);
    if (s.write_eof) append(g, biff_record(0x000A, {}));
  }
  if (spec.crypt == BiffCrypt::rc4 || spec.crypt == BiffCrypt::rc4_cryptoapi)
    xls::rc4_crypt_stream(g, filepass_end, fp, spec.password);
  return g;
}

namespace ptg {
Buf str(const std::string& s) {
  Buf b{0x17, static_cast<std::uint8_t>(s.size()), 0};
  bytes(b, s);
  return b;
}
Buf integer(std::uint16_t v) {
  Buf b{0x1E};
  u16(b, v);
  return b;
}
Buf num(double v) {
  Buf b{0x1F};
  std::uint8_t tmp[8];
  std::memcpy(tmp, &v, 8);
  b.insert(b.end(), tmp, tmp + 8);
  return b;
}
Buf boolean(bool v) { return {0x1D, static_cast<std::uint8_t>(v ? 1 : 0)}; }
Buf missing() { return {0x16}; }
Buf ref(std::uint16_t row, std::uint16_t col, bool relative) {
  Buf b{0x44};
  u16(b, row);
  u16(b, static_cast<std::uint16_t>(col | (relative ? 0xC000 : 0)));
  return b;
}
Buf area(std::uint16_t r1, std::uint16_t c1, std::uint16_t r2, std::uint16_t c2) {
  Buf b{0x25};
  u16(b, r1);
  u16(b, r2);
  u16(b, c1);
  u16(b, c2);
  return b;
}
Buf ref3d(std::uint16_t ixti, std::uint16_t row, std::uint16_t col) {
  Buf b{0x3A};
  u16(b, ixti);
  u16(b, row);
  u16(b, col);
  return b;
}
Buf name(std::uint32_t index) {
  Buf b{0x43};
  u32(b, index);
  return b;
}
Buf func(std::uint16_t number) {
  Buf b{0x41};
  u16(b, number);
  return b;
}
Buf funcvar(std::uint16_t number, std::uint8_t argc, bool command) {
  Buf b{0x42, argc};
  u16(b, static_cast<std::uint16_t>(number | (command ? 0x8000 : 0)));
  return b;
}
Buf op(std::uint8_t token) { return {token}; }
Buf attr_space() { return {0x19, 0x40, 0x00, 0x01}; }
Buf attr_sum() { return {0x19, 0x10, 0x00, 0x00}; }
Buf cat(std::initializer_list<Buf> parts) {
  Buf b;
  for (const auto& p : parts) append(b, p);
  return b;
}
}  // namespace ptg

BiffName biff_auto_open(std::uint16_t ixti) {
  BiffName open;
  open.name = "\x01";
  open.builtin = true;
  open.hidden = true;
  open.rgce = ptg::ref3d(ixti, 0, 0);
  return open;
}

BiffSpec biff_macro_dropper(std::vector<Buf> macro_records) {
  BiffSpec s;
  BiffSheet ws{"Sheet1", 0, 0, 0, {biff_label(0, 0, "Enable content")}};
  BiffSheet ms;
  ms.name = "Macro1";
  ms.dt = 1;
  ms.state = 2;
  ms.records = std::move(macro_records);
  s.sheets = {ws, ms};
  s.names = {biff_auto_open(1)};
  return s;
}

}  // namespace mamori::test
