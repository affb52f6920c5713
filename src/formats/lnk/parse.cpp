// Shell link header, LinkTargetIDList, LinkInfo, StringData and ExtraData ([MS-SHLLINK] sections 2.1-2.5).
#include <algorithm>
#include <cstdio>
#include <vector>

#include "common/anomalies.hpp"
#include "common/codepage.hpp"
#include "formats/lnk/lnk.hpp"

namespace mamori::lnk {

const char* anomaly_name(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::idlist_truncated: return "idlist_truncated";
    case Anomaly::idlist_item_invalid: return "idlist_item_invalid";
    case Anomaly::idlist_unterminated: return "idlist_unterminated";
    case Anomaly::idlist_truncated_by_limit: return "idlist_truncated_by_limit";
    case Anomaly::link_info_truncated: return "link_info_truncated";
    case Anomaly::link_info_header_invalid: return "link_info_header_invalid";
    case Anomaly::link_info_offset_invalid: return "link_info_offset_invalid";
    case Anomaly::string_truncated: return "string_truncated";
    case Anomaly::string_truncated_by_limit: return "string_truncated_by_limit";
    case Anomaly::extra_block_truncated: return "extra_block_truncated";
    case Anomaly::extra_block_size_invalid: return "extra_block_size_invalid";
    case Anomaly::extra_block_unknown: return "extra_block_unknown";
    case Anomaly::extra_truncated_by_limit: return "extra_truncated_by_limit";
    case Anomaly::extra_unterminated: return "extra_unterminated";
    case Anomaly::data_after_terminal: return "data_after_terminal";
    case Anomaly::flags_reserved_set: return "flags_reserved_set";
    case Anomaly::show_command_invalid: return "show_command_invalid";
    case Anomaly::kCount: break;
  }
  return "unknown";
}

namespace {

constexpr std::uint32_t kHeaderSize = 0x4C;
// {00021401-0000-0000-C000-000000000046} as stored.
constexpr std::uint8_t kLinkClsid[16] = {0x01, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
                                         0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};

void flag(Link& l, Anomaly a, std::uint64_t detail = 0) { flag_first(l, a, detail); }

void cap(Link& l, std::string& s) {
  if (s.size() <= limits::max_string_bytes) return;
  s.resize(limits::max_string_bytes);
  flag(l, Anomaly::string_truncated_by_limit);
}

// NUL-terminated string in the writer's code page, read inside `v` from `off`; what is there when the terminator
// is missing (the caller decides whether that is an anomaly).
std::string ansi_at(ByteView v, std::uint64_t off, std::size_t max_len = 4096) {
  auto w = v.clamp(off, max_len);
  const auto* p = reinterpret_cast<const char*>(w.data());
  std::size_t n = 0;
  while (n < w.size() && p[n] != 0) ++n;
  return codepage_to_utf8(std::string_view(p, n), 1252);
}

std::string utf16_at(ByteView v, std::uint64_t off, std::size_t max_units = 4096) {
  return utf16le_to_utf8(v.clamp(off, std::uint64_t{max_units} * 2), max_units);
}

bool is_path_char(std::uint32_t c) { return c >= 0x20 && c < 0x7F; }

// Printable runs of at least `min_len` characters, ASCII and UTF-16LE, that look like paths or addresses (they
// hold '\', '/', ':' or '.'). CPL applet items and URI items keep their strings in layouts the spec does not give.
void item_strings(ByteView item, std::vector<std::string>& out) {
  constexpr std::size_t min_len = 5;
  auto keep = [&](std::string s) {
    if (out.size() >= limits::max_item_strings) return;
    if (s.find_first_of("\\/:.") == std::string::npos) return;
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  };
  std::string run;
  for (std::uint64_t i = 0; i < item.size(); ++i) {
    const std::uint8_t c = item.data()[i];
    if (is_path_char(c)) {
      run.push_back(static_cast<char>(c));
      continue;
    }
    if (run.size() >= min_len) keep(run);
    run.clear();
  }
  if (run.size() >= min_len) keep(run);
  for (std::uint64_t start = 0; start < 2; ++start) {
    run.clear();
    for (std::uint64_t i = start; i + 1 < item.size(); i += 2) {
      const std::uint16_t c = static_cast<std::uint16_t>(item.data()[i] | (item.data()[i + 1] << 8));
      if (is_path_char(c) && c != 0) {
        run.push_back(static_cast<char>(c));
        continue;
      }
      if (run.size() >= min_len) keep(run);
      run.clear();
    }
    if (run.size() >= min_len) keep(run);
  }
}

// The long name in a file-entry item's BEEF0004 extension block. Its offset within the block depends on the
// block version (3: XP, 7: Vista, 8: Windows 7, 9: Windows 8 and later).
std::string beef0004_name(ByteView item) {
  if (item.size() < 4) return {};
  const std::uint16_t ext_off = item.le_or<std::uint16_t>(item.size() - 2, 0);
  if (ext_off < 4 || ext_off >= item.size() - 2) return {};
  auto ext = item.from(ext_off);
  if (ext.le_or<std::uint32_t>(4, 0) != 0xBEEF0004u) return {};
  const std::uint16_t ext_size = ext.le_or<std::uint16_t>(0, 0);
  const std::uint16_t version = ext.le_or<std::uint16_t>(2, 0);
  ext = ext.clamp(0, ext_size);
  std::uint64_t name_off = version >= 9 ? 46 : version >= 8 ? 42 : version >= 7 ? 38 : version >= 3 ? 20 : 0;
  if (name_off == 0 || name_off >= ext.size()) return {};
  return utf16_at(ext, name_off, 520);
}

void parse_item(IdItem& it, ByteView item) {
  const std::uint8_t kind = it.type & 0x70;
  if (it.type == 0x1F || it.type == 0x2E) {  // root folder / GUID item: sort index, CLSID
    it.clsid = guid_at(item, 4);
    if (item.size() > 20) item_strings(item.from(20), it.strings);
  } else if (kind == 0x20) {  // volume: "C:\" as ANSI
    it.name = ansi_at(item, 3, 64);
  } else if (kind == 0x30) {  // file entry: file size, dates, attributes, then the short name
    it.name = beef0004_name(item);
    if (it.name.empty()) it.name = (it.type & 0x04) ? utf16_at(item, 14, 260) : ansi_at(item, 14, 260);
  } else {
    item_strings(item.from(3), it.strings);
  }
}

void parse_idlist(Link& l, ByteView b, std::uint64_t& pos) {
  const auto size = b.u16(pos);
  if (!size) {
    flag(l, Anomaly::idlist_truncated);
    pos = b.size();
    return;
  }
  pos += 2;
  ByteView list = b.clamp(pos, *size);
  if (list.size() < *size) flag(l, Anomaly::idlist_truncated, *size);
  std::uint64_t p = 0;
  bool terminated = false;
  std::string path;
  while (p + 2 <= list.size()) {
    const std::uint16_t isz = list.le_or<std::uint16_t>(p, 0);
    if (isz == 0) {
      terminated = true;
      break;
    }
    if (l.idlist.size() >= limits::max_idlist_items) {
      flag(l, Anomaly::idlist_truncated_by_limit);
      break;
    }
    if (isz < 3 || !list.fits(p, isz)) {
      flag(l, Anomaly::idlist_item_invalid, l.idlist.size());
      break;
    }
    IdItem it;
    it.offset = pos + p;
    it.size = isz;
    it.type = list.le_or<std::uint8_t>(p + 2, 0);
    parse_item(it, *list.sub(p, isz));
    cap(l, it.name);
    if (!it.name.empty()) {
      if (!path.empty() && path.back() != '\\') path.push_back('\\');
      path += it.name;
    }
    l.idlist.push_back(std::move(it));
    p += isz;
  }
  if (!terminated && !l.has(Anomaly::idlist_item_invalid) && !l.has(Anomaly::idlist_truncated_by_limit))
    flag(l, Anomaly::idlist_unterminated);
  l.idlist_path = std::move(path);
  cap(l, l.idlist_path);
  pos += *size;
}

// An offset field inside LinkInfo: zero means absent, anything outside [header, size) is an anomaly.
bool link_offset_ok(Link& l, ByteView info, std::uint32_t off, std::uint32_t header_size) {
  if (off == 0) return false;
  if (off < std::min<std::uint32_t>(header_size, 0x1C) || off >= info.size()) {
    flag(l, Anomaly::link_info_offset_invalid, off);
    return false;
  }
  return true;
}

void parse_link_info(Link& l, ByteView b, std::uint64_t& pos) {
  const auto size = b.u32(pos);
  if (!size) {
    flag(l, Anomaly::link_info_truncated);
    pos = b.size();
    return;
  }
  ByteView info = b.clamp(pos, *size);
  if (info.size() < *size) flag(l, Anomaly::link_info_truncated, *size);
  pos += *size;
  LinkInfo& li = l.link_info;
  li.present = true;
  const std::uint32_t hsize = info.le_or<std::uint32_t>(4, 0);
  if ((hsize != 0x1C && hsize < 0x24) || *size < hsize || info.size() < 0x1C) {
    flag(l, Anomaly::link_info_header_invalid, hsize);
    if (info.size() < 0x1C) return;
  }
  li.flags = info.le_or<std::uint32_t>(8, 0);
  const std::uint32_t vol_off = info.le_or<std::uint32_t>(12, 0);
  const std::uint32_t base_off = info.le_or<std::uint32_t>(16, 0);
  const std::uint32_t cnrl_off = info.le_or<std::uint32_t>(20, 0);
  const std::uint32_t suffix_off = info.le_or<std::uint32_t>(24, 0);
  const bool uni = hsize >= 0x24;
  const std::uint32_t base_off_u = uni ? info.le_or<std::uint32_t>(28, 0) : 0;
  const std::uint32_t suffix_off_u = uni ? info.le_or<std::uint32_t>(32, 0) : 0;
  if (li.flags & 1) {
    if (link_offset_ok(l, info, vol_off, hsize)) {
      auto vol = info.from(vol_off);
      const std::uint32_t vsize = vol.le_or<std::uint32_t>(0, 0);
      vol = vol.clamp(0, vsize);
      li.drive_type = vol.le_or<std::uint32_t>(4, 0);
      li.drive_serial = vol.le_or<std::uint32_t>(8, 0);
      const std::uint32_t label_off = vol.le_or<std::uint32_t>(12, 0);
      if (label_off == 0x14) li.volume_label = utf16_at(vol, vol.le_or<std::uint32_t>(16, 0), 260);
      else if (label_off != 0) li.volume_label = ansi_at(vol, label_off, 260);
    }
    if (base_off_u != 0 && link_offset_ok(l, info, base_off_u, hsize)) li.local_base_path = utf16_at(info, base_off_u);
    else if (link_offset_ok(l, info, base_off, hsize)) li.local_base_path = ansi_at(info, base_off);
  }
  if ((li.flags & 2) && link_offset_ok(l, info, cnrl_off, hsize)) {
    auto cn = info.from(cnrl_off);
    cn = cn.clamp(0, cn.le_or<std::uint32_t>(0, 0));
    const std::uint32_t net_off = cn.le_or<std::uint32_t>(8, 0);
    const std::uint32_t dev_off = cn.le_or<std::uint32_t>(12, 0);
    if (net_off > 0x14) {
      const std::uint32_t net_u = cn.le_or<std::uint32_t>(20, 0), dev_u = cn.le_or<std::uint32_t>(24, 0);
      if (net_u) li.net_name = utf16_at(cn, net_u);
      if (dev_u) li.device_name = utf16_at(cn, dev_u);
    }
    if (li.net_name.empty() && net_off) li.net_name = ansi_at(cn, net_off);
    if (li.device_name.empty() && dev_off && (cn.le_or<std::uint32_t>(4, 0) & 1)) li.device_name = ansi_at(cn, dev_off);
  }
  if (suffix_off_u != 0 && link_offset_ok(l, info, suffix_off_u, hsize)) li.common_path_suffix = utf16_at(info, suffix_off_u);
  else if (link_offset_ok(l, info, suffix_off, hsize)) li.common_path_suffix = ansi_at(info, suffix_off);
  for (std::string* s : {&li.volume_label, &li.local_base_path, &li.common_path_suffix, &li.net_name, &li.device_name})
    cap(l, *s);
}

void parse_string(Link& l, ByteView b, std::uint64_t& pos, std::string& out, std::uint32_t* claimed = nullptr) {
  const auto count = b.u16(pos);
  if (!count) {
    flag(l, Anomaly::string_truncated);
    pos = b.size();
    return;
  }
  if (claimed) *claimed = *count;
  pos += 2;
  const bool uni = (l.link_flags & flags::is_unicode) != 0;
  const std::uint64_t bytes = std::uint64_t{*count} * (uni ? 2 : 1);
  ByteView v = b.clamp(pos, bytes);
  if (v.size() < bytes) flag(l, Anomaly::string_truncated, *count);
  if (uni) {
    // utf16le_to_utf8 stops at NUL, but StringData is counted: a NUL inside must not hide what follows it.
    std::vector<std::uint8_t> units(v.data(), v.data() + v.size());
    for (std::size_t i = 0; i + 1 < units.size(); i += 2)
      if (units[i] == 0 && units[i + 1] == 0) units[i] = ' ';
    out = utf16le_to_utf8(ByteView(units.data(), units.size()), units.size() / 2);
  } else {
    std::string raw(reinterpret_cast<const char*>(v.data()), v.size());
    std::replace(raw.begin(), raw.end(), '\0', ' ');
    out = codepage_to_utf8(raw, 1252);
  }
  cap(l, out);
  pos += bytes;
}

// Fixed sizes of the blocks whose layout [MS-SHLLINK] 2.5 fixes; 0 = variable.
std::uint32_t fixed_block_size(std::uint32_t sig) {
  switch (sig) {
    case 0xA0000001: case 0xA0000006: case 0xA0000007: return 0x314;
    case 0xA0000002: return 0xCC;
    case 0xA0000003: return 0x60;
    case 0xA0000004: return 0x0C;
    case 0xA0000005: return 0x10;
    case 0xA000000B: return 0x1C;
    default: return 0;
  }
}

// Env/Darwin/IconEnv blocks: 260 ANSI bytes then 520 Unicode bytes; the Unicode one wins when it is set.
std::string dual_string(ByteView block) {
  std::string u = utf16_at(block, 8 + 260, 260);
  if (!u.empty()) return u;
  return ansi_at(block, 8, 260);
}

void property_strings(Link& l, ByteView block) {
  std::vector<std::string> found;
  // Property values in a serialized property store are typed; VT_LPWSTR (0x1F) values are what matter for
  // triage (target paths, app IDs). Take UTF-16 runs instead of walking the store: it is only reported.
  for (std::uint64_t start = 0; start < 2 && found.size() < limits::max_item_strings; ++start) {
    std::string run;
    for (std::uint64_t i = start; i + 1 < block.size(); i += 2) {
      const std::uint16_t c = static_cast<std::uint16_t>(block.data()[i] | (block.data()[i + 1] << 8));
      if (is_path_char(c)) {
        run.push_back(static_cast<char>(c));
        continue;
      }
      if (run.size() >= 6 && found.size() < limits::max_item_strings &&
          std::find(found.begin(), found.end(), run) == found.end())
        found.push_back(run);
      run.clear();
    }
  }
  l.property_strings = std::move(found);
}

void parse_extra(Link& l, ByteView b, std::uint64_t pos) {
  bool terminated = false;
  while (pos < b.size()) {
    const auto size = b.u32(pos);
    if (!size) break;
    if (*size < 4) {
      terminated = true;
      pos += 4;
      break;
    }
    if (l.extra.size() >= limits::max_extra_blocks) {
      flag(l, Anomaly::extra_truncated_by_limit);
      return;
    }
    const std::uint32_t sig = b.le_or<std::uint32_t>(pos + 4, 0);
    if (!b.fits(pos, *size)) {
      flag(l, Anomaly::extra_block_truncated, sig);
      l.extra.push_back({sig, *size, pos});
      return;
    }
    ByteView block = *b.sub(pos, *size);
    l.extra.push_back({sig, *size, pos});
    const std::uint32_t want = fixed_block_size(sig);
    if (want != 0 && *size != want) flag(l, Anomaly::extra_block_size_invalid, sig);
    switch (sig) {
      case 0xA0000001: l.env_target = dual_string(block); break;
      case 0xA0000002: l.has_console_block = true; break;
      case 0xA0000003:
        l.tracker_machine_id = ansi_at(block, 16, 16);
        l.tracker_droid = guid_at(block, 32) + guid_at(block, 48);
        break;
      case 0xA0000004: break;
      case 0xA0000005: l.special_folder_id = block.le_or<std::uint32_t>(8, 0xFFFFFFFFu); break;
      case 0xA0000006: l.darwin_id = dual_string(block); break;
      case 0xA0000007: l.icon_env_target = dual_string(block); break;
      case 0xA0000008: l.shim_layer = utf16_at(block, 8, 260); break;
      case 0xA0000009:
        l.property_store_bytes = *size;
        property_strings(l, block.from(8));
        break;
      case 0xA000000B: l.known_folder_id = guid_at(block, 8); break;
      case 0xA000000C: break;  // VistaAndAboveIDListDataBlock: an alternative ID list, not walked
      default: flag(l, Anomaly::extra_block_unknown, sig); break;
    }
    for (std::string* s : {&l.env_target, &l.darwin_id, &l.icon_env_target, &l.shim_layer}) cap(l, *s);
    pos += *size;
  }
  if (!terminated) {
    flag(l, Anomaly::extra_unterminated);
    return;
  }
  if (pos < b.size()) {
    l.appended = b.from(pos);
    flag(l, Anomaly::data_after_terminal, l.appended.size());
  }
}

}  // namespace

std::string guid_at(ByteView b, std::uint64_t off) {
  if (!b.fits(off, 16)) return {};
  char buf[40];
  const std::uint8_t* p = b.data() + off;
  std::snprintf(buf, sizeof buf, "{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", b.le_or<std::uint32_t>(off, 0),
                b.le_or<std::uint16_t>(off + 4, 0), b.le_or<std::uint16_t>(off + 6, 0), p[8], p[9], p[10], p[11], p[12],
                p[13], p[14], p[15]);
  return buf;
}

std::string Link::target() const {
  if (!env_target.empty()) return env_target;
  if (!link_info.local_base_path.empty()) {
    std::string s = link_info.local_base_path;
    if (!link_info.common_path_suffix.empty()) {
      if (!s.empty() && s.back() != '\\') s.push_back('\\');
      s += link_info.common_path_suffix;
    }
    return s;
  }
  if (!link_info.net_name.empty()) {
    std::string s = link_info.net_name;
    if (!link_info.common_path_suffix.empty()) s += "\\" + link_info.common_path_suffix;
    return s;
  }
  if (!idlist_path.empty()) return idlist_path;
  return relative_path;
}

bool sniff(ByteView bytes) noexcept {
  return bytes.le_or<std::uint32_t>(0, 0) == kHeaderSize && bytes.fits(4, 16) &&
         std::equal(std::begin(kLinkClsid), std::end(kLinkClsid), bytes.data() + 4);
}

Result<Link> parse(ByteView b) {
  if (b.size() >= 20 && !sniff(b)) return make_error(ErrorCode::not_this_format, "not a shell link (header size or CLSID)");
  if (b.size() < kHeaderSize) {
    if (b.size() >= 4 && b.le_or<std::uint32_t>(0, 0) != kHeaderSize)
      return make_error(ErrorCode::not_this_format, "not a shell link (header size)");
    return make_error(ErrorCode::truncated, "shell link header cut off at " + std::to_string(b.size()) + " bytes");
  }
  Link l;
  l.link_flags = b.le_or<std::uint32_t>(20, 0);
  l.file_attributes = b.le_or<std::uint32_t>(24, 0);
  l.creation_time = b.le_or<std::uint64_t>(28, 0);
  l.access_time = b.le_or<std::uint64_t>(36, 0);
  l.write_time = b.le_or<std::uint64_t>(44, 0);
  l.file_size = b.le_or<std::uint32_t>(52, 0);
  l.icon_index = static_cast<std::int32_t>(b.le_or<std::uint32_t>(56, 0));
  l.show_command = b.le_or<std::uint32_t>(60, 0);
  l.hotkey = b.le_or<std::uint16_t>(64, 0);
  if (l.link_flags & (0x800u | 0x10000u)) flag(l, Anomaly::flags_reserved_set, l.link_flags);
  if (l.show_command != kShowNormal && l.show_command != kShowMaximized && l.show_command != kShowMinNoActive)
    flag(l, Anomaly::show_command_invalid, l.show_command);

  std::uint64_t pos = kHeaderSize;
  if (l.link_flags & flags::has_idlist) parse_idlist(l, b, pos);
  // ForceNoLinkInfo makes Windows ignore LinkInfo, but the structure is still there to be skipped.
  if (l.link_flags & flags::has_link_info) parse_link_info(l, b, pos);
  if (l.link_flags & flags::has_name) parse_string(l, b, pos, l.name);
  if (l.link_flags & flags::has_relative_path) parse_string(l, b, pos, l.relative_path);
  if (l.link_flags & flags::has_working_dir) parse_string(l, b, pos, l.working_dir);
  if (l.link_flags & flags::has_arguments) parse_string(l, b, pos, l.arguments, &l.arguments_chars);
  if (l.link_flags & flags::has_icon_location) parse_string(l, b, pos, l.icon_location);
  if (pos < b.size()) parse_extra(l, b, pos);
  else if (pos == b.size()) flag(l, Anomaly::extra_unterminated);
  return l;
}

}  // namespace mamori::lnk
