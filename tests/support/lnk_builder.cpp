#include "support/lnk_builder.hpp"

#include <cstdio>
#include <cstring>

namespace mamori::test {

namespace {

void u16(Blob& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}
void u32(Blob& b, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void u64(Blob& b, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void bytes(Blob& b, const std::string& s) { b.insert(b.end(), s.begin(), s.end()); }
void set32(Blob& b, std::size_t off, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}

Blob guid_bytes(const std::string& g) {
  unsigned a = 0, b1 = 0, c = 0, d[8] = {};
  std::sscanf(g.c_str(), "{%8x-%4x-%4x-%2x%2x-%2x%2x%2x%2x%2x%2x}", &a, &b1, &c, &d[0], &d[1], &d[2], &d[3], &d[4], &d[5],
              &d[6], &d[7]);
  Blob out;
  u32(out, a);
  u16(out, static_cast<std::uint16_t>(b1));
  u16(out, static_cast<std::uint16_t>(c));
  for (unsigned x : d) out.push_back(static_cast<std::uint8_t>(x));
  return out;
}

void counted(Blob& b, const std::string& s, bool unicode) {
  u16(b, static_cast<std::uint16_t>(s.size()));
  if (unicode) {
    auto w = utf16(s);
    b.insert(b.end(), w.begin(), w.end());
  } else {
    bytes(b, s);
  }
}

Blob dual_block(std::uint32_t sig, const std::string& s) {
  Blob b;
  u32(b, 0x314);
  u32(b, sig);
  Blob ansi(260, 0), uni(520, 0);
  std::memcpy(ansi.data(), s.data(), std::min<std::size_t>(s.size(), 259));
  auto w = utf16(s);
  std::memcpy(uni.data(), w.data(), std::min<std::size_t>(w.size(), 518));
  b.insert(b.end(), ansi.begin(), ansi.end());
  b.insert(b.end(), uni.begin(), uni.end());
  return b;
}

}  // namespace

Blob utf16(const std::string& s) {
  Blob b;
  for (unsigned char c : s) u16(b, c);
  return b;
}

std::string base64(const Blob& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    for (int k = 3; k >= 0; --k) out.push_back(t[(v >> (6 * k)) & 63]);
  }
  if (i + 1 == in.size()) {
    const std::uint32_t v = std::uint32_t{in[i]} << 16;
    out += {t[(v >> 18) & 63], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8);
    out += {t[(v >> 18) & 63], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

Blob raw_item(std::uint8_t type, const Blob& body) {
  Blob b;
  u16(b, static_cast<std::uint16_t>(body.size() + 3));
  b.push_back(type);
  b.insert(b.end(), body.begin(), body.end());
  return b;
}

Blob guid_item(std::uint8_t type, const std::string& guid) {
  Blob body = {0x50};  // sort index
  auto g = guid_bytes(guid);
  body.insert(body.end(), g.begin(), g.end());
  return raw_item(type, body);
}

Blob root_item(const std::string& guid) { return guid_item(0x1F, guid); }

Blob volume_item(const std::string& drive) {
  Blob body;
  bytes(body, drive);
  body.resize(22, 0);
  return raw_item(0x2F, body);
}

Blob file_item(const std::string& name, bool folder) {
  Blob body = {0x00};
  u32(body, folder ? 0 : 1234);  // file size
  u32(body, 0x5A215B3C);         // DOS date/time
  u16(body, folder ? 0x10 : 0x20);
  std::string short_name = name.substr(0, 12);
  bytes(body, short_name);
  body.push_back(0);
  if (body.size() % 2 == 0) body.push_back(0);  // keep the extension block 2-aligned within the item
  // BEEF0004 extension block, version 9: the long name at offset 46.
  const std::size_t ext_at = body.size() + 3;
  Blob ext;
  u16(ext, 0);  // size, patched below
  u16(ext, 9);
  u32(ext, 0xBEEF0004u);
  ext.resize(46, 0);
  auto w = utf16(name);
  ext.insert(ext.end(), w.begin(), w.end());
  u16(ext, 0);
  u16(ext, static_cast<std::uint16_t>(ext_at));  // first extension block offset (the block's last field)
  ext[0] = static_cast<std::uint8_t>(ext.size());
  ext[1] = static_cast<std::uint8_t>(ext.size() >> 8);
  body.insert(body.end(), ext.begin(), ext.end());
  return raw_item(folder ? 0x31 : 0x32, body);
}

Blob build_lnk(const LnkSpec& s) {
  std::uint32_t flags = s.extra_flags;
  if (!s.idlist.empty()) flags |= 0x1;
  if (s.local_base_path || s.net_name) flags |= 0x2;
  if (s.name) flags |= 0x4;
  if (s.relative_path) flags |= 0x8;
  if (s.working_dir) flags |= 0x10;
  if (s.arguments) flags |= 0x20;
  if (s.icon_location) flags |= 0x40;
  if (s.unicode) flags |= 0x80;
  if (s.env_target) flags |= 0x200;
  if (s.icon_env_target) flags |= 0x4000;
  Blob b;
  u32(b, 0x4C);
  auto clsid = guid_bytes("{00021401-0000-0000-C000-000000000046}");
  b.insert(b.end(), clsid.begin(), clsid.end());
  u32(b, flags);
  u32(b, s.attributes);
  u64(b, 0x01D9000000000000ull);
  u64(b, 0x01D9000000000000ull);
  u64(b, 0x01D9000000000000ull);
  u32(b, 4096);
  u32(b, static_cast<std::uint32_t>(s.icon_index));
  u32(b, s.show_command);
  u16(b, 0);
  b.resize(0x4C, 0);
  if (!s.idlist.empty()) {
    Blob list;
    for (const auto& it : s.idlist) list.insert(list.end(), it.begin(), it.end());
    u16(list, 0);
    u16(b, static_cast<std::uint16_t>(list.size()));
    b.insert(b.end(), list.begin(), list.end());
  }
  if (s.local_base_path || s.net_name) {
    Blob li;
    u32(li, 0);     // size, patched
    u32(li, 0x1C);  // header size (ANSI only)
    u32(li, (s.local_base_path ? 1u : 0u) | (s.net_name ? 2u : 0u));
    li.resize(0x1C, 0);
    if (s.local_base_path) {
      set32(li, 12, static_cast<std::uint32_t>(li.size()));  // VolumeID
      Blob vol;
      u32(vol, 0x11);
      u32(vol, 3);  // DRIVE_FIXED
      u32(vol, 0x1234ABCD);
      u32(vol, 0x10);
      vol.push_back(0);
      li.insert(li.end(), vol.begin(), vol.end());
      set32(li, 16, static_cast<std::uint32_t>(li.size()));
      bytes(li, *s.local_base_path);
      li.push_back(0);
    }
    if (s.net_name) {
      set32(li, 20, static_cast<std::uint32_t>(li.size()));
      Blob cn;
      u32(cn, 0);
      u32(cn, 2);     // ValidNetType
      u32(cn, 0x14);  // NetNameOffset
      u32(cn, 0);
      u32(cn, 0x20000);
      bytes(cn, *s.net_name);
      cn.push_back(0);
      cn[0] = static_cast<std::uint8_t>(cn.size());
      li.insert(li.end(), cn.begin(), cn.end());
    }
    set32(li, 24, static_cast<std::uint32_t>(li.size()));  // CommonPathSuffix: empty
    li.push_back(0);
    set32(li, 0, static_cast<std::uint32_t>(li.size()));
    b.insert(b.end(), li.begin(), li.end());
  }
  for (const auto* f : {&s.name, &s.relative_path, &s.working_dir, &s.arguments, &s.icon_location})
    if (*f) counted(b, **f, s.unicode);
  auto add = [&](const Blob& blk) { b.insert(b.end(), blk.begin(), blk.end()); };
  if (s.env_target) add(dual_block(0xA0000001u, *s.env_target));
  if (s.icon_env_target) add(dual_block(0xA0000007u, *s.icon_env_target));
  if (s.console_block) {
    Blob c;
    u32(c, 0xCC);
    u32(c, 0xA0000002u);
    c.resize(0xCC, 0);
    add(c);
  }
  if (s.known_folder) {
    Blob k;
    u32(k, 0x1C);
    u32(k, 0xA000000Bu);
    auto g = guid_bytes(*s.known_folder);
    k.insert(k.end(), g.begin(), g.end());
    u32(k, 0);
    add(k);
  }
  if (s.machine_id) {
    Blob t;
    u32(t, 0x60);
    u32(t, 0xA0000003u);
    u32(t, 0x58);
    u32(t, 0);
    Blob m(16, 0);
    std::memcpy(m.data(), s.machine_id->data(), std::min<std::size_t>(s.machine_id->size(), 15));
    t.insert(t.end(), m.begin(), m.end());
    t.resize(0x60, 0x11);
    add(t);
  }
  for (const auto& r : s.raw_blocks) add(r);
  if (s.terminal) u32(b, 0);
  b.insert(b.end(), s.appended.begin(), s.appended.end());
  return b;
}

}  // namespace mamori::test
