#include "support/cfb_builder.hpp"

#include <algorithm>
#include <cstring>

namespace mamori::test {

namespace {

constexpr std::uint32_t kEnd = 0xFFFFFFFEu, kFree = 0xFFFFFFFFu, kFatSect = 0xFFFFFFFDu, kDifSect = 0xFFFFFFFCu;

struct Node {
  std::string name, path;
  bool storage = false;
  int stream = -1;                   // index into spec.streams
  std::vector<std::uint32_t> kids;   // node indices
  std::uint32_t left = kFree, right = kFree, child = kFree;
};

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

// [MS-CFB] 2.6.4: shorter names first, then by upper-cased code points.
bool cfb_less(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size();
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
  }
  return false;
}

// Balanced binary tree over sorted siblings [lo, hi); returns the subtree's root node index.
std::uint32_t balance(std::vector<Node>& nodes, const std::vector<std::uint32_t>& sorted, std::size_t lo, std::size_t hi) {
  if (lo >= hi) return kFree;
  const std::size_t mid = lo + (hi - lo) / 2;
  const std::uint32_t n = sorted[mid];
  nodes[n].left = balance(nodes, sorted, lo, mid);
  nodes[n].right = balance(nodes, sorted, mid + 1, hi);
  return n;
}

std::uint32_t find_or_add(std::vector<Node>& nodes, std::uint32_t parent, const std::string& name, bool storage) {
  for (std::uint32_t k : nodes[parent].kids)
    if (nodes[k].name == name) return k;
  Node n;
  n.name = name;
  n.storage = storage;
  n.path = nodes[parent].path.empty() ? name : nodes[parent].path + "/" + name;
  nodes.push_back(n);
  const auto idx = static_cast<std::uint32_t>(nodes.size() - 1);
  nodes[parent].kids.push_back(idx);
  return idx;
}

std::uint32_t add_path(std::vector<Node>& nodes, const std::string& path, bool storage) {
  std::uint32_t cur = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = path.find('/', start);
    const bool last = slash == std::string::npos;
    cur = find_or_add(nodes, cur, path.substr(start, last ? std::string::npos : slash - start), last ? storage : true);
    if (last) return cur;
    start = slash + 1;
  }
}

}  // namespace

void put_u16(std::vector<std::uint8_t>& b, std::uint64_t off, std::uint16_t v) {
  if (b.size() < off + 2) b.resize(off + 2);
  b[off] = static_cast<std::uint8_t>(v);
  b[off + 1] = static_cast<std::uint8_t>(v >> 8);
}

void put_u32(std::vector<std::uint8_t>& b, std::uint64_t off, std::uint32_t v) {
  if (b.size() < off + 4) b.resize(off + 4);
  for (int i = 0; i < 4; ++i) b[off + static_cast<std::uint64_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint64_t CfbLayout::fat_entry_offset(std::uint32_t sector) const {
  const std::uint32_t per = sector_size / 4;
  return sector_offset(fat_sectors.at(sector / per)) + std::uint64_t{sector % per} * 4;
}

std::vector<std::uint8_t> build_cfb(const CfbSpec& spec, CfbLayout* layout_out) {
  CfbLayout L;
  const std::uint32_t ss = spec.version == 4 ? 4096 : 512;
  L.sector_size = ss;
  const std::uint32_t per_fat = ss / 4;

  // Directory tree.
  std::vector<Node> nodes(1);
  nodes[0].name = "Root Entry";
  nodes[0].storage = true;
  for (const auto& s : spec.storages) add_path(nodes, s, true);
  for (std::size_t i = 0; i < spec.streams.size(); ++i)
    nodes[add_path(nodes, spec.streams[i].path, false)].stream = static_cast<int>(i);
  for (auto& n : nodes) {
    if (!n.storage) continue;
    std::vector<std::uint32_t> sorted = n.kids;
    std::sort(sorted.begin(), sorted.end(), [&](std::uint32_t a, std::uint32_t b) { return cfb_less(nodes[a].name, nodes[b].name); });
    n.child = balance(nodes, sorted, 0, sorted.size());
  }

  // Sector budget.
  std::uint64_t n_data = 0, mini_bytes = 0;
  for (const auto& s : spec.streams) {
    if (s.data.size() >= 4096) n_data += ceil_div(s.data.size(), ss);
    else mini_bytes += ceil_div(s.data.size(), 64) * 64;
  }
  const std::uint64_t n_mini = ceil_div(mini_bytes, ss);
  const std::uint64_t n_minifat = ceil_div(mini_bytes / 64 * 4, ss);
  const std::uint64_t n_dir = ceil_div(nodes.size() * 128, ss);
  const std::uint64_t base = n_data + n_mini + n_minifat + n_dir;
  std::uint64_t n_fat = 1, n_difat = 0;
  while (true) {
    const std::uint64_t fat = ceil_div(base + n_fat + n_difat, per_fat);
    const std::uint64_t difat = fat > 109 ? ceil_div(fat - 109, per_fat - 1) : 0;
    if (fat == n_fat && difat == n_difat) break;
    n_fat = fat;
    n_difat = difat;
  }
  const std::uint64_t total = base + n_fat + n_difat;
  std::vector<std::uint32_t> fat(static_cast<std::size_t>(n_fat * per_fat), kFree);
  std::vector<std::uint8_t> out(static_cast<std::size_t>((total + 1) * ss), 0);
  auto chain = [&](std::uint32_t first, std::uint64_t count) {
    for (std::uint64_t i = 0; i < count; ++i) fat[first + i] = i + 1 == count ? kEnd : static_cast<std::uint32_t>(first + i + 1);
  };

  std::uint32_t next = 0;
  std::vector<std::uint32_t> start(spec.streams.size(), kEnd);
  for (std::size_t i = 0; i < spec.streams.size(); ++i) {
    const auto& d = spec.streams[i].data;
    if (d.size() < 4096) continue;
    const std::uint64_t n = ceil_div(d.size(), ss);
    start[i] = next;
    std::memcpy(out.data() + L.sector_offset(next), d.data(), d.size());
    chain(next, n);
    next += static_cast<std::uint32_t>(n);
  }
  // Mini stream (in regular sectors) and its miniFAT.
  std::vector<std::uint8_t> mini;
  std::vector<std::uint32_t> minifat;
  for (std::size_t i = 0; i < spec.streams.size(); ++i) {
    const auto& d = spec.streams[i].data;
    if (d.size() >= 4096 || d.empty()) continue;
    const auto first = static_cast<std::uint32_t>(mini.size() / 64);
    const std::uint64_t n = ceil_div(d.size(), 64);
    start[i] = first;
    mini.insert(mini.end(), d.begin(), d.end());
    mini.resize(mini.size() + (n * 64 - d.size()), 0);
    for (std::uint64_t k = 0; k < n; ++k) minifat.push_back(k + 1 == n ? kEnd : static_cast<std::uint32_t>(first + k + 1));
  }
  L.mini_stream_start = n_mini ? next : kEnd;
  if (n_mini) {
    std::memcpy(out.data() + L.sector_offset(next), mini.data(), mini.size());
    chain(next, n_mini);
    next += static_cast<std::uint32_t>(n_mini);
  }
  L.minifat_start = n_minifat ? next : kEnd;
  if (n_minifat) {
    minifat.resize(n_minifat * per_fat, kFree);
    for (std::size_t k = 0; k < minifat.size(); ++k) put_u32(out, L.sector_offset(next) + k * 4, minifat[k]);
    chain(next, n_minifat);
    next += static_cast<std::uint32_t>(n_minifat);
  }
  // Directory.
  L.dir_start = next;
  chain(next, n_dir);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    const std::uint64_t off = L.sector_offset(next) + i * 128;
    std::size_t units = 0;
    for (; units < n.name.size() && units < 31; ++units) put_u16(out, off + units * 2, static_cast<unsigned char>(n.name[units]));
    put_u16(out, off + 64, static_cast<std::uint16_t>((units + 1) * 2));
    out[off + 66] = i == 0 ? 5 : (n.storage ? 1 : 2);
    out[off + 67] = 1;  // black
    put_u32(out, off + 68, n.left);
    put_u32(out, off + 72, n.right);
    put_u32(out, off + 76, n.child);
    if (auto c = spec.clsids.find(i == 0 ? std::string() : n.path); n.storage && c != spec.clsids.end())
      std::copy(c->second.begin(), c->second.end(), out.begin() + static_cast<std::ptrdiff_t>(off + 80));
    std::uint32_t st = kEnd;
    std::uint64_t size = 0;
    if (i == 0) {
      st = L.mini_stream_start;
      size = mini.size();
    } else if (n.stream >= 0) {
      st = start[static_cast<std::size_t>(n.stream)];
      size = spec.streams[static_cast<std::size_t>(n.stream)].data.size();
      if (size == 0) st = kEnd;
      L.start_sector[n.path] = st;
    } else {
      st = 0;
    }
    put_u32(out, off + 116, st);
    put_u32(out, off + 120, static_cast<std::uint32_t>(size));
    put_u32(out, off + 124, static_cast<std::uint32_t>(size >> 32));
    L.entry_index[i == 0 ? std::string() : n.path] = static_cast<std::uint32_t>(i);
  }
  // Unused directory slots: empty entries with NOSTREAM links.
  for (std::uint64_t i = nodes.size(); i < n_dir * ss / 128; ++i) {
    const std::uint64_t off = L.sector_offset(next) + i * 128;
    put_u32(out, off + 68, kFree);
    put_u32(out, off + 72, kFree);
    put_u32(out, off + 76, kFree);
  }
  next += static_cast<std::uint32_t>(n_dir);
  // FAT and DIFAT sectors.
  for (std::uint64_t k = 0; k < n_fat; ++k) {
    L.fat_sectors.push_back(next);
    fat[next] = kFatSect;
    ++next;
  }
  for (std::uint64_t k = 0; k < n_difat; ++k) {
    L.difat_sectors.push_back(next);
    fat[next] = kDifSect;
    ++next;
  }
  for (std::uint64_t k = 0; k < n_fat; ++k)
    for (std::uint32_t e = 0; e < per_fat; ++e) put_u32(out, L.sector_offset(L.fat_sectors[k]) + e * 4ull, fat[k * per_fat + e]);
  // Header.
  static const std::uint8_t sig[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
  std::memcpy(out.data(), sig, 8);
  put_u16(out, 24, 0x003E);
  put_u16(out, 26, spec.version);
  put_u16(out, 28, 0xFFFE);
  put_u16(out, 30, spec.version == 4 ? 12 : 9);
  put_u16(out, 32, 6);
  put_u32(out, 40, spec.version == 4 ? static_cast<std::uint32_t>(n_dir) : 0);
  put_u32(out, 44, static_cast<std::uint32_t>(n_fat));
  put_u32(out, 48, L.dir_start);
  put_u32(out, 56, 4096);
  put_u32(out, 60, L.minifat_start);
  put_u32(out, 64, static_cast<std::uint32_t>(n_minifat));
  put_u32(out, 68, n_difat ? L.difat_sectors[0] : kEnd);
  put_u32(out, 72, static_cast<std::uint32_t>(n_difat));
  for (std::uint32_t k = 0; k < 109; ++k) put_u32(out, 76 + k * 4ull, k < n_fat ? L.fat_sectors[k] : kFree);
  // DIFAT sectors: per_fat - 1 FAT sector numbers, then the next DIFAT sector.
  std::uint64_t listed = 109;
  for (std::uint64_t d = 0; d < n_difat; ++d) {
    const std::uint64_t off = L.sector_offset(L.difat_sectors[d]);
    for (std::uint32_t e = 0; e + 1 < per_fat; ++e, ++listed)
      put_u32(out, off + e * 4ull, listed < n_fat ? L.fat_sectors[listed] : kFree);
    put_u32(out, off + (per_fat - 1) * 4ull, d + 1 < n_difat ? L.difat_sectors[d + 1] : kEnd);
  }
  if (layout_out) *layout_out = L;
  return out;
}

// ---- [MS-OVBA] compression -------------------------------------------------------------------------------------

namespace {

unsigned offset_bits(std::uint64_t produced) {
  unsigned n = 4;
  while (n < 12 && (std::uint64_t{1} << n) < produced) ++n;
  return n;
}

std::vector<std::uint8_t> compress_chunk(const std::uint8_t* p, std::size_t n) {
  std::vector<std::uint8_t> out;
  std::size_t i = 0;
  while (i < n) {
    const std::size_t flag_at = out.size();
    out.push_back(0);
    for (unsigned bit = 0; bit < 8 && i < n; ++bit) {
      const unsigned bits = offset_bits(i);
      const std::size_t max_off = std::min<std::size_t>(i, std::size_t{1} << bits);
      const std::size_t max_len = (0xFFFFu >> bits) + 3u;
      std::size_t best_len = 0, best_off = 0;
      for (std::size_t off = 1; off <= max_off; ++off) {
        std::size_t len = 0;
        while (len < max_len && i + len < n && p[i + len - off] == p[i + len]) ++len;
        if (len > best_len) {
          best_len = len;
          best_off = off;
        }
      }
      if (best_len >= 3) {
        const auto token = static_cast<std::uint16_t>(((best_off - 1) << (16 - bits)) | (best_len - 3));
        out.push_back(static_cast<std::uint8_t>(token));
        out.push_back(static_cast<std::uint8_t>(token >> 8));
        out[flag_at] = static_cast<std::uint8_t>(out[flag_at] | (1u << bit));
        i += best_len;
      } else {
        out.push_back(p[i]);
        ++i;
      }
    }
  }
  return out;
}

}  // namespace

std::vector<std::uint8_t> ovba_compress(const std::vector<std::uint8_t>& data, bool allow_raw) {
  std::vector<std::uint8_t> out{0x01};
  for (std::size_t pos = 0; pos < data.size(); pos += 4096) {
    const std::size_t n = std::min<std::size_t>(4096, data.size() - pos);
    std::vector<std::uint8_t> c = compress_chunk(data.data() + pos, n);
    if (allow_raw && n == 4096 && c.size() > 4096) {
      out.push_back(0xFF);
      out.push_back(0x3F);  // size 4098 - 3 = 0xFFF, signature 0b011, raw
      out.insert(out.end(), data.begin() + static_cast<std::ptrdiff_t>(pos), data.begin() + static_cast<std::ptrdiff_t>(pos + n));
      continue;
    }
    const auto header = static_cast<std::uint16_t>(0xB000u | ((c.size() + 2 - 3) & 0x0FFFu));
    out.push_back(static_cast<std::uint8_t>(header));
    out.push_back(static_cast<std::uint8_t>(header >> 8));
    out.insert(out.end(), c.begin(), c.end());
  }
  return out;
}

std::vector<std::uint8_t> ovba_compress(const std::string& text, bool allow_raw) {
  return ovba_compress(std::vector<std::uint8_t>(text.begin(), text.end()), allow_raw);
}

// ---- VBA project streams ([MS-OVBA] 2.3) -------------------------------------------------------------------------

namespace {

void rec(std::vector<std::uint8_t>& d, std::uint16_t id, const std::vector<std::uint8_t>& data) {
  const auto at = d.size();
  put_u16(d, at, id);
  put_u32(d, at + 2, static_cast<std::uint32_t>(data.size()));
  d.insert(d.end(), data.begin(), data.end());
}
std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::vector<std::uint8_t> utf16(const std::string& s) {
  std::vector<std::uint8_t> v;
  for (char c : s) {
    v.push_back(static_cast<std::uint8_t>(c));
    v.push_back(0);
  }
  return v;
}
std::vector<std::uint8_t> le32(std::uint32_t x) { return {std::uint8_t(x), std::uint8_t(x >> 8), std::uint8_t(x >> 16), std::uint8_t(x >> 24)}; }
std::vector<std::uint8_t> le16(std::uint16_t x) { return {std::uint8_t(x), std::uint8_t(x >> 8)}; }
const std::string& stream_of(const VbaModuleSpec& m) { return m.stream_name.empty() ? m.name : m.stream_name; }

}  // namespace

std::vector<std::uint8_t> build_dir_stream(const VbaSpec& spec) {
  std::vector<std::uint8_t> d;
  rec(d, 0x0001, le32(1));
  rec(d, 0x0002, le32(0x409));
  rec(d, 0x0014, le32(0x409));
  rec(d, 0x0003, le16(spec.code_page));
  rec(d, 0x0004, bytes(spec.project_name));
  rec(d, 0x0005, {});
  rec(d, 0x0040, {});
  rec(d, 0x0006, {});
  rec(d, 0x003D, {});
  rec(d, 0x0007, le32(0));
  rec(d, 0x0008, le32(0));
  // PROJECTVERSION: Reserved (4) = 4, then VersionMajor u32 and VersionMinor u16.
  {
    auto at = d.size();
    put_u16(d, at, 0x0009);
    put_u32(d, at + 2, 4);
    put_u32(d, at + 6, 0x5A3F1C2E);
    put_u16(d, at + 10, 0x0011);
  }
  rec(d, 0x000C, {});
  rec(d, 0x003C, {});
  const std::string libid = "*\\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\\Windows\\System32\\stdole2.tlb#OLE Automation";
  rec(d, 0x0016, bytes("stdole"));
  rec(d, 0x003E, utf16("stdole"));
  {
    std::vector<std::uint8_t> r = le32(static_cast<std::uint32_t>(libid.size()));
    auto lb = bytes(libid);
    r.insert(r.end(), lb.begin(), lb.end());
    auto z = le32(0);
    r.insert(r.end(), z.begin(), z.end());
    r.push_back(0);
    r.push_back(0);
    rec(d, 0x000D, r);
  }
  rec(d, 0x000F, le16(static_cast<std::uint16_t>(spec.declared_modules >= 0 ? spec.declared_modules : static_cast<int>(spec.modules.size()))));
  rec(d, 0x0013, le16(0xFFFF));
  for (const auto& m : spec.modules) {
    rec(d, 0x0019, bytes(m.name));
    rec(d, 0x0047, utf16(m.name));
    rec(d, 0x001A, bytes(stream_of(m)));
    rec(d, 0x0032, utf16(stream_of(m)));
    rec(d, 0x001C, {});
    rec(d, 0x0048, {});
    rec(d, 0x0031, le32(static_cast<std::uint32_t>(m.pcode.size())));
    rec(d, 0x001E, le32(0));
    rec(d, 0x002C, le16(0xFFFF));
    rec(d, m.procedural ? 0x0021 : 0x0022, {});
    rec(d, 0x002B, {});
  }
  rec(d, 0x0010, {});
  return d;
}

std::vector<CfbStream> build_vba_streams(const VbaSpec& spec) {
  std::vector<CfbStream> out;
  const std::string& st = spec.storage;
  auto at = [&](const std::string& name) { return st.empty() ? name : st + "/" + name; };
  out.push_back({at("dir"), ovba_compress(build_dir_stream(spec))});
  out.push_back({at("_VBA_PROJECT"), {0xCC, 0x61, 0xB2, 0x00, 0x00, 0x03, 0x00}});
  for (const auto& m : spec.modules) {
    if (!m.write_stream) continue;
    std::vector<std::uint8_t> s = m.pcode;
    auto c = ovba_compress(m.source);
    s.insert(s.end(), c.begin(), c.end());
    out.push_back({at(stream_of(m)), s});
  }
  if (spec.write_project_stream) {
    std::string p = "ID=\"{00000000-0000-0000-0000-000000000000}\"\r\n";
    for (const auto& m : spec.modules) {
      if (!m.in_project_stream) continue;
      p += m.procedural ? "Module=" + m.name + "\r\n" : "Document=" + m.name + "/&H00000000\r\n";
    }
    p += "Name=\"" + spec.project_name + "\"\r\nHelpContextID=\"0\"\r\nVersionCompatible32=\"393222000\"\r\n";
    p += "CMG=\"0000\"\r\nDPB=\"0000\"\r\nGC=\"0000\"\r\n\r\n[Host Extender Info]\r\n";
    p += "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000\r\n";
    const std::size_t slash = st.rfind('/');
    const std::string parent = slash == std::string::npos ? std::string() : st.substr(0, slash);
    out.push_back({parent.empty() ? "PROJECT" : parent + "/PROJECT", bytes(p)});
  }
  return out;
}

std::vector<std::uint8_t> build_word_doc(const VbaSpec& vba, CfbLayout* layout) { return build_word_doc(vba, {}, layout); }

std::vector<std::uint8_t> build_word_doc(const VbaSpec& vba, std::vector<CfbStream> extra, CfbLayout* layout) {
  CfbSpec s;
  s.streams = build_vba_streams(vba);
  for (auto& e : extra) s.streams.push_back(std::move(e));
  std::vector<std::uint8_t> fib(5000, 0);
  fib[0] = 0xEC;
  fib[1] = 0xA5;
  s.streams.push_back({"WordDocument", fib});
  s.streams.push_back({"1Table", std::vector<std::uint8_t>(600, 0)});
  return build_cfb(s, layout);
}

std::vector<std::uint8_t> build_vba_project_bin(VbaSpec vba) {
  vba.storage = "VBA";
  CfbSpec s;
  s.streams = build_vba_streams(vba);
  return build_cfb(s);
}

}  // namespace mamori::test
