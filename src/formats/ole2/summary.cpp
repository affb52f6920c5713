// SummaryInformation property set ([MS-OLEPS] 2.21 PropertySetStream, 2.20 PropertySet; PIDSI values from
// [MS-OLEPS] 2.25.1). Only the first property set is read; values whose type does not match the PID are skipped.
#include <algorithm>

#include "common/codepage.hpp"
#include "common/stats.hpp"
#include "formats/ole2/ole2.hpp"

namespace mamori::ole2 {

namespace {

constexpr std::uint16_t kVtI2 = 0x0002, kVtI4 = 0x0003, kVtLpstr = 0x001E, kVtLpwstr = 0x001F, kVtFiletime = 0x0040;

// String property value at `off` in `set`: CodePageString or UnicodeString. Empty when unreadable.
std::string read_string(ByteView set, std::uint64_t off, std::uint16_t type, std::uint16_t code_page) {
  const auto n = set.u32(off + 4);
  if (!n) return {};
  if (type == kVtLpstr) {
    const std::uint64_t len = std::min<std::uint64_t>(*n, limits::max_property_string);
    ByteView v = set.clamp(off + 8, len);
    std::string_view s(reinterpret_cast<const char*>(v.data()), static_cast<std::size_t>(v.size()));
    if (auto z = s.find('\0'); z != std::string_view::npos) s = s.substr(0, z);
    // Code page 1200 here means the "LPSTR" holds UTF-16LE (allowed by [MS-OLEPS] 2.5).
    if (code_page == 1200) return utf16le_to_utf8(v, static_cast<std::size_t>(len / 2));
    return codepage_to_utf8(s, code_page);
  }
  const std::uint64_t units = std::min<std::uint64_t>(*n, limits::max_property_string);
  return utf16le_to_utf8(set.clamp(off + 8, units * 2), static_cast<std::size_t>(units));
}

}  // namespace

bool parse_summary_information(ByteView s, SummaryInfo& out) {
  if (s.le_or<std::uint16_t>(0, 0) != 0xFFFE) return false;
  const auto nsets = s.u32(24);
  const auto set_off = s.u32(44);
  if (!nsets || *nsets == 0 || !set_off) return false;
  const auto set_size = s.u32(*set_off);
  const auto nprops = s.u32(std::uint64_t{*set_off} + 4);
  if (!set_size || !nprops) return false;
  const ByteView set = s.clamp(*set_off, *set_size);
  const std::uint32_t n = std::min<std::uint32_t>(*nprops, limits::max_properties);
  out.present = true;

  struct Prop {
    std::uint32_t id, off;
  };
  std::vector<Prop> props;
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto id = set.u32(8 + std::uint64_t{i} * 8);
    const auto off = set.u32(12 + std::uint64_t{i} * 8);
    if (!id || !off) break;
    props.push_back({*id, *off});
  }
  // The code page applies to every string, wherever it sits in the list.
  for (const auto& p : props) {
    if (p.id == 1 && set.le_or<std::uint16_t>(p.off, 0) == kVtI2) out.code_page = set.le_or<std::uint16_t>(p.off + 4ull, 0);
  }
  for (const auto& p : props) {
    const std::uint16_t type = set.le_or<std::uint16_t>(p.off, 0);
    const bool is_str = type == kVtLpstr || type == kVtLpwstr;
    auto str = [&](std::string& dst) {
      if (is_str) dst = read_string(set, p.off, type, out.code_page);
    };
    auto time = [&](std::uint64_t& dst) {
      if (type == kVtFiletime) dst = set.le_or<std::uint64_t>(p.off + 4ull, 0);
    };
    auto i4 = [&](std::uint32_t& dst) {
      if (type == kVtI4) dst = set.le_or<std::uint32_t>(p.off + 4ull, 0);
    };
    switch (p.id) {
      case 2: str(out.title); break;
      case 3: str(out.subject); break;
      case 4: str(out.author); break;
      case 5: str(out.keywords); break;
      case 6: str(out.comments); break;
      case 7: str(out.template_name); break;
      case 8: str(out.last_author); break;
      case 9: str(out.revision); break;
      case 10: time(out.edit_time); break;
      case 11: time(out.last_printed); break;
      case 12: time(out.created); break;
      case 13: time(out.last_saved); break;
      case 14: i4(out.page_count); break;
      case 15: i4(out.word_count); break;
      case 16: i4(out.char_count); break;
      case 18: str(out.app_name); break;
      case 19: i4(out.security); break;
      default: break;
    }
  }
  return true;
}

}  // namespace mamori::ole2
