#include "support/pe_builder.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

namespace mamori::test {

void put16(std::vector<std::uint8_t>& b, std::size_t off, std::uint16_t v) {
  for (std::size_t i = 0; i < 2; ++i) b.at(off + i) = static_cast<std::uint8_t>(v >> (8 * i));
}
void put32(std::vector<std::uint8_t>& b, std::size_t off, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) b.at(off + i) = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t get32(const std::vector<std::uint8_t>& b, std::size_t off) {
  std::uint32_t v = 0;
  for (std::size_t i = 4; i-- > 0;) v = (v << 8) | b.at(off + i);
  return v;
}

namespace {

constexpr std::uint32_t align_up(std::uint32_t v, std::uint32_t a) { return (v + a - 1) / a * a; }

// An append-only little-endian writer. Every append returns the offset it wrote at.
class Buf {
 public:
  std::vector<std::uint8_t> b;

  std::uint32_t size() const { return static_cast<std::uint32_t>(b.size()); }
  std::uint32_t put(std::uint64_t v, int n) {
    const std::uint32_t at = size();
    for (int i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    return at;
  }
  std::uint32_t u16(std::uint64_t v) { return put(v, 2); }
  std::uint32_t u32(std::uint64_t v) { return put(v, 4); }
  std::uint32_t u64(std::uint64_t v) { return put(v, 8); }
  std::uint32_t zeros(std::size_t n) {
    const std::uint32_t at = size();
    b.resize(b.size() + n, 0);
    return at;
  }
  std::uint32_t bytes(const std::vector<std::uint8_t>& v) {
    const std::uint32_t at = size();
    b.insert(b.end(), v.begin(), v.end());
    return at;
  }
  std::uint32_t str(std::string_view s) {  // NUL-terminated
    const std::uint32_t at = size();
    b.insert(b.end(), s.begin(), s.end());
    b.push_back(0);
    return at;
  }
  void align(std::uint32_t a) { zeros(align_up(size(), a) - size()); }
  void set16(std::uint32_t off, std::uint64_t v) { put16(b, off, static_cast<std::uint16_t>(v)); }
  void set32(std::uint32_t off, std::uint64_t v) { put32(b, off, static_cast<std::uint32_t>(v)); }
  void set64(std::uint32_t off, std::uint64_t v) {
    set32(off, v & 0xFFFFFFFFu);
    set32(off + 4, v >> 32);
  }
};

std::u16string utf8_to_utf16(std::string_view s) {
  std::u16string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<std::uint8_t>(s[i]);
    const int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    std::uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (int k = 1; k < n && i + static_cast<std::size_t>(k) < s.size(); ++k)
      cp = (cp << 6) | (static_cast<std::uint8_t>(s[i + static_cast<std::size_t>(k)]) & 0x3Fu);
    i += static_cast<std::size_t>(n);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

void wstr(Buf& b, std::u16string_view s) {
  for (char16_t c : s) b.u16(c);
  b.u16(0);
}

// A VS_VERSIONINFO-style block: wLength, wValueLength, wType, key, pad to 4, value, then 4-aligned children.
// wLength excludes the padding after the block's last byte.
std::vector<std::uint8_t> vs_block(std::u16string_view key, std::uint16_t type, const std::vector<std::uint8_t>& value,
                                   std::uint16_t value_length, const std::vector<std::vector<std::uint8_t>>& children) {
  Buf b;
  b.u16(0);
  b.u16(value_length);
  b.u16(type);
  wstr(b, key);
  b.align(4);
  b.bytes(value);
  for (const auto& c : children) {
    b.align(4);
    b.bytes(c);
  }
  b.set16(0, b.size());
  return b.b;
}

// Import/delay-import thunks: an ordinal with the top bit set, or the RVA of a hint/name entry.
void write_thunks(Buf& r, bool plus, const ImportDllSpec& dll, const std::vector<std::uint32_t>& hint_name_rvas) {
  for (std::size_t i = 0; i < dll.functions.size(); ++i) {
    const auto& f = dll.functions[i];
    if (plus) {
      r.u64(f.name.empty() ? (std::uint64_t{1} << 63) | f.ordinal : hint_name_rvas[i]);
    } else {
      r.u32(f.name.empty() ? 0x80000000u | f.ordinal : hint_name_rvas[i]);
    }
  }
  r.put(0, plus ? 8 : 4);
}

// DLL names and hint/name entries for a list of import DLLs; returns the hint/name RVAs per DLL.
std::vector<std::vector<std::uint32_t>> write_names(Buf& r, std::uint32_t base, const std::vector<ImportDllSpec>& dlls,
                                                    std::vector<std::uint32_t>& name_rvas) {
  std::vector<std::vector<std::uint32_t>> hn(dlls.size());
  for (const auto& d : dlls) name_rvas.push_back(base + r.str(d.name));
  for (std::size_t i = 0; i < dlls.size(); ++i) {
    for (const auto& f : dlls[i].functions) {
      if (f.name.empty()) {
        hn[i].push_back(0);
        continue;
      }
      r.align(2);
      hn[i].push_back(base + r.u16(f.ordinal));
      r.str(f.name);
    }
  }
  return hn;
}

std::vector<std::uint8_t> build_resources(std::vector<ResourceSpec> res, std::uint32_t base) {
  // Named types first (by name), then numeric types, the order linkers use.
  std::stable_sort(res.begin(), res.end(), [](const ResourceSpec& a, const ResourceSpec& b) {
    if (a.type_name.empty() != b.type_name.empty()) return !a.type_name.empty();
    if (a.type_name != b.type_name) return a.type_name < b.type_name;
    if (a.type_id != b.type_id) return a.type_id < b.type_id;
    if (a.name_id != b.name_id) return a.name_id < b.name_id;
    return a.lang < b.lang;
  });
  auto same_type = [](const ResourceSpec& a, const ResourceSpec& b) {
    return a.type_name == b.type_name && a.type_id == b.type_id;
  };
  Buf b;
  auto dir = [&b](std::size_t named, std::size_t ids) {
    b.zeros(12);
    b.u16(named);
    b.u16(ids);
    return b.zeros(8 * (named + ids));  // the entries
  };
  std::vector<std::pair<std::uint32_t, std::string>> name_fixups;  // entry offset -> type name
  std::vector<std::pair<std::uint32_t, const ResourceSpec*>> leaf_fixups;  // entry target offset -> resource

  // Runs of equal keys at each level, as [begin, end) index ranges.
  auto runs = [&res](std::size_t begin, std::size_t end, auto same) {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    for (std::size_t i = begin; i < end;) {
      std::size_t j = i + 1;
      while (j < end && same(res[i], res[j])) ++j;
      out.emplace_back(i, j);
      i = j;
    }
    return out;
  };
  const auto types = runs(0, res.size(), same_type);
  const auto named_types = static_cast<std::size_t>(
      std::count_if(types.begin(), types.end(), [&](auto t) { return !res[t.first].type_name.empty(); }));
  const std::uint32_t root = dir(named_types, types.size() - named_types);
  for (std::size_t t = 0; t < types.size(); ++t) {
    const auto& first = res[types[t].first];
    const std::uint32_t te = root + static_cast<std::uint32_t>(8 * t);
    if (first.type_name.empty()) b.set32(te, first.type_id);
    else name_fixups.emplace_back(te, first.type_name);
    const auto names = runs(types[t].first, types[t].second, [](auto& x, auto& y) { return x.name_id == y.name_id; });
    b.set32(te + 4, 0x80000000u | b.size());
    const std::uint32_t nd = dir(0, names.size());
    for (std::size_t n = 0; n < names.size(); ++n) {
      const std::uint32_t ne = nd + static_cast<std::uint32_t>(8 * n);
      b.set32(ne, res[names[n].first].name_id);
      b.set32(ne + 4, 0x80000000u | b.size());
      const std::uint32_t ld = dir(0, names[n].second - names[n].first);
      for (std::size_t l = names[n].first; l < names[n].second; ++l) {
        const std::uint32_t le = ld + static_cast<std::uint32_t>(8 * (l - names[n].first));
        b.set32(le, res[l].lang);
        leaf_fixups.emplace_back(le + 4, &res[l]);
      }
    }
  }
  for (const auto& [entry, name] : name_fixups) {  // counted UTF-16 strings, no terminator
    b.align(2);
    b.set32(entry, 0x80000000u | b.u16(name.size()));
    for (char c : name) b.u16(static_cast<std::uint8_t>(c));
  }
  b.align(4);
  std::vector<std::uint32_t> data_entries;
  for (const auto& [target, r] : leaf_fixups) {
    data_entries.push_back(b.zeros(16));
    b.set32(target, data_entries.back());
  }
  for (std::size_t i = 0; i < leaf_fixups.size(); ++i) {
    b.align(8);
    b.set32(data_entries[i], base + b.bytes(leaf_fixups[i].second->data));
    b.set32(data_entries[i] + 4, leaf_fixups[i].second->data.size());
  }
  return b.b;
}

// Classic 16-bit stub: print the message and exit.
std::vector<std::uint8_t> dos_stub() {
  std::vector<std::uint8_t> s(64, 0);
  const std::uint8_t code[] = {0x0E, 0x1F, 0xBA, 0x0E, 0x00, 0xB4, 0x09, 0xCD, 0x21, 0xB8, 0x01, 0x4C, 0xCD, 0x21};
  const std::string_view msg = "This program cannot be run in DOS mode.\r\r\n$";
  std::copy(std::begin(code), std::end(code), s.begin());
  std::copy(msg.begin(), msg.end(), s.begin() + sizeof(code));
  return s;
}

constexpr std::uint32_t rol(std::uint32_t v, std::uint32_t r) {
  r &= 31;
  return r == 0 ? v : (v << r) | (v >> (32 - r));
}

}  // namespace

std::uint32_t Layout::offset_of(std::uint32_t rva) const {
  for (const auto& s : sections) {
    if (rva >= s.va && rva - s.va < std::max(s.virtual_size, s.raw_size)) return s.raw_offset + (rva - s.va);
  }
  return rva < size_of_headers ? rva : 0;
}

std::vector<std::uint8_t> version_info_blob(const std::vector<std::pair<std::string, std::string>>& strings) {
  std::vector<std::vector<std::uint8_t>> entries;
  for (const auto& [k, v] : strings) {
    const std::u16string value = utf8_to_utf16(v);
    Buf val;
    wstr(val, value);
    entries.push_back(vs_block(utf8_to_utf16(k), 1, val.b, static_cast<std::uint16_t>(value.size() + 1), {}));
  }
  const auto table = vs_block(u"040904b0", 1, {}, 0, entries);
  const auto sfi = vs_block(u"StringFileInfo", 1, {}, 0, {table});
  const auto var = vs_block(u"Translation", 0, {0x09, 0x04, 0xB0, 0x04}, 4, {});
  const auto vfi = vs_block(u"VarFileInfo", 1, {}, 0, {var});
  Buf fixed;  // VS_FIXEDFILEINFO
  for (std::uint32_t v : {0xFEEF04BDu, 0x00010000u, 0x00010002u, 0x00030004u, 0x00010002u, 0x00030004u, 0x3Fu, 0u,
                          0x00040004u, 1u, 0u, 0u, 0u})
    fixed.u32(v);
  return vs_block(u"VS_VERSION_INFO", 0, fixed.b, 52, {sfi, vfi});
}

BuiltPe build_pe(const PeSpec& spec) {
  const bool plus = spec.pe32_plus;
  const std::uint64_t image_base =
      spec.image_base != 0 ? spec.image_base : plus ? 0x140000000ull : spec.dll ? 0x10000000ull : 0x400000ull;
  std::vector<ResourceSpec> resources = spec.resources;
  if (!spec.version_strings.empty()) resources.push_back({16, {}, 1, 0x409, version_info_blob(spec.version_strings)});

  const bool need_rdata = !spec.imports.empty() || !spec.delay_imports.empty() || spec.exports ||
                          !spec.pdb_path.empty() || spec.tls_callbacks || spec.clr;
  const std::size_t nsec = spec.sections.size() + (need_rdata ? 1 : 0) + (resources.empty() ? 0 : 1) +
                           (spec.relocations.empty() ? 0 : 1);

  BuiltPe out;
  Layout& L = out.layout;
  Buf h;  // headers
  h.zeros(64);
  if (spec.dos_stub) h.bytes(dos_stub());
  else if (!spec.rich.empty()) h.zeros(64);  // the Rich header always follows a stub-sized gap
  h.b[0] = 'M';
  h.b[1] = 'Z';
  // e_cblp, e_cp, e_cparhdr, e_maxalloc, e_sp, e_lfarlc
  const std::pair<std::uint32_t, std::uint32_t> dos_fields[] = {{2, 0x90}, {4, 3},     {8, 4},
                                                                {12, 0xFFFF}, {16, 0xB8}, {24, 0x40}};
  for (auto [off, v] : dos_fields) h.set16(off, v);
  if (!spec.rich.empty()) {
    L.rich = h.size();
    std::uint32_t key = L.rich;  // checksum: the offset of "DanS", the DOS bytes minus e_lfanew, then the entries
    for (std::uint32_t i = 0; i < L.rich; ++i) {
      if (i < 0x3c || i >= 0x40) key += rol(h.b[i], i);
    }
    for (const auto& e : spec.rich) key += rol((std::uint32_t{e.product_id} << 16) | e.build, e.count);
    if (spec.corrupt_rich_checksum) key ^= 0x00100000u;
    h.u32(0x536E6144u ^ key);  // "DanS"
    h.u32(key);
    h.u32(key);
    h.u32(key);
    for (const auto& e : spec.rich) {
      h.u32(((std::uint32_t{e.product_id} << 16) | e.build) ^ key);
      h.u32(e.count ^ key);
    }
    h.u32(0x68636952u);  // "Rich"
    h.u32(key);
  }
  h.align(16);
  L.e_lfanew = h.size();
  h.set32(0x3c, L.e_lfanew);
  const std::uint32_t opt_size = plus ? 240 : 224;
  L.optional_header = L.e_lfanew + 24;
  L.data_directories = L.optional_header + (plus ? 112 : 96);
  L.section_table = L.optional_header + opt_size;
  const std::uint32_t file_align = spec.file_alignment, section_align = spec.section_alignment;
  L.size_of_headers = align_up(L.section_table + static_cast<std::uint32_t>(40 * nsec), file_align);

  // Place sections: the caller's, then the generated ones, each at the next aligned VA and file offset.
  std::vector<std::pair<std::string, std::uint32_t>> headers;  // name, characteristics
  std::vector<std::vector<std::uint8_t>> raw;
  std::uint32_t va = align_up(L.size_of_headers, section_align), file_off = L.size_of_headers;
  auto place = [&](const std::string& name, std::uint32_t ch, std::vector<std::uint8_t> data, std::uint32_t vsize) {
    const std::uint32_t rs = align_up(static_cast<std::uint32_t>(data.size()), file_align);
    const std::uint32_t vs = vsize != 0 ? vsize : static_cast<std::uint32_t>(data.size());
    L.sections.push_back({va, vs, rs == 0 ? 0 : file_off, rs});
    data.resize(rs, 0);
    headers.emplace_back(name, ch);
    raw.push_back(std::move(data));
    va += align_up(std::max(L.sections.back().virtual_size, 1u), section_align);
    file_off += rs;
  };
  for (const auto& s : spec.sections) place(s.name, s.characteristics, s.data, s.virtual_size);

  std::array<std::pair<std::uint32_t, std::uint32_t>, 16> dd{};
  if (need_rdata) {
    const std::uint32_t base = va, raw_base = file_off;
    Buf r;
    if (spec.exports) {
      const ExportSpec& ex = *spec.exports;
      std::uint32_t nfuncs = 0;
      for (const auto& s : ex.symbols) nfuncs = std::max(nfuncs, s.ordinal - ex.base + 1);
      std::vector<std::pair<std::string, std::uint32_t>> named;  // name, EAT index; sorted for binary search
      for (const auto& s : ex.symbols) {
        if (!s.name.empty()) named.emplace_back(s.name, s.ordinal - ex.base);
      }
      std::sort(named.begin(), named.end());
      const std::uint32_t dir = r.zeros(40), eat = r.zeros(4 * nfuncs), npt = r.zeros(4 * named.size()),
                          ot = r.zeros(2 * named.size());
      r.set32(dir + 4, spec.timestamp);
      r.set32(dir + 12, base + r.str(ex.dll_name));
      r.set32(dir + 16, ex.base);
      r.set32(dir + 20, nfuncs);
      r.set32(dir + 24, named.size());
      r.set32(dir + 28, base + eat);
      r.set32(dir + 32, base + npt);
      r.set32(dir + 36, base + ot);
      for (std::size_t k = 0; k < named.size(); ++k) {
        r.set32(npt + static_cast<std::uint32_t>(4 * k), base + r.str(named[k].first));
        r.set16(ot + static_cast<std::uint32_t>(2 * k), named[k].second);
      }
      const std::uint32_t code = L.sections.empty() ? va : L.sections.front().va;
      for (std::size_t i = 0; i < ex.symbols.size(); ++i) {
        const auto& s = ex.symbols[i];
        const std::uint32_t rva = !s.forwarder.empty() ? base + r.str(s.forwarder)
                                  : s.rva != 0         ? s.rva
                                                       : code + 16 * static_cast<std::uint32_t>(i);
        r.set32(eat + 4 * (s.ordinal - ex.base), rva);
      }
      dd[0] = {base + dir, r.size() - dir};
      L.export_directory = raw_base + dir;
    }
    if (!spec.pdb_path.empty()) {
      r.align(4);
      const std::uint32_t dbg = r.zeros(28);
      const std::uint32_t cv = r.u32(0x53445352u);  // "RSDS", GUID, age, path
      for (std::uint32_t i = 0; i < 16; ++i) r.put(0xA0 + i, 1);
      r.u32(1);
      r.str(spec.pdb_path);
      r.set32(dbg + 4, spec.timestamp);
      r.set32(dbg + 12, 2);  // IMAGE_DEBUG_TYPE_CODEVIEW
      r.set32(dbg + 16, r.size() - cv);
      r.set32(dbg + 20, base + cv);
      r.set32(dbg + 24, raw_base + cv);
      dd[6] = {base + dbg, 28};
      L.debug_directory = raw_base + dbg;
    }
    if (spec.tls_callbacks) {
      r.align(8);
      const std::uint32_t data = r.zeros(16), index = r.zeros(8), cbs = r.size();
      for (std::uint32_t cb : *spec.tls_callbacks) r.put(image_base + cb, plus ? 8 : 4);
      r.put(0, plus ? 8 : 4);
      const std::uint32_t tls = r.size();
      for (std::uint64_t v : {image_base + base + data, image_base + base + data + 16, image_base + base + index,
                              image_base + base + cbs})
        r.put(v, plus ? 8 : 4);
      r.u32(0);  // SizeOfZeroFill
      r.u32(0);  // Characteristics
      dd[9] = {base + tls, r.size() - tls};
      L.tls_directory = raw_base + tls;
    }
    if (spec.clr) {
      r.align(4);
      const std::uint32_t clr = r.zeros(72);
      r.align(4);
      std::uint32_t md = 0;
      if (!spec.clr->metadata.empty()) {
        md = r.bytes(spec.clr->metadata);
      } else {
        md = r.u32(0x424A5342u);  // "BSJB", major, minor, reserved, version length, version
        r.u16(1);
        r.u16(1);
        r.u32(0);
        const std::uint32_t vlen = align_up(static_cast<std::uint32_t>(spec.clr->runtime_version.size()) + 1, 4);
        r.u32(vlen);
        r.str(spec.clr->runtime_version);
        r.align(4);
        r.u16(0);  // flags
        r.u16(0);  // no streams
      }
      const std::uint32_t md_size = r.size() - md;
      if (!spec.clr->resources.empty()) {
        r.align(8);
        const std::uint32_t res = r.bytes(spec.clr->resources);
        r.set32(clr + 24, base + res);
        r.set32(clr + 28, static_cast<std::uint32_t>(spec.clr->resources.size()));
      }
      r.set32(clr, 72);
      r.set16(clr + 4, spec.clr->major);
      r.set16(clr + 6, spec.clr->minor);
      r.set32(clr + 8, base + md);
      r.set32(clr + 12, md_size);
      r.set32(clr + 16, spec.clr->flags);
      dd[14] = {base + clr, 72};
      L.clr_header = raw_base + clr;
    }
    if (!spec.delay_imports.empty()) {
      const auto& dl = spec.delay_imports;
      r.align(4);
      const std::uint32_t desc = r.zeros(32 * (dl.size() + 1));
      const std::uint32_t handles = r.zeros(8 * dl.size());
      std::vector<std::uint32_t> names;
      const auto hn = write_names(r, base, dl, names);
      for (std::size_t i = 0; i < dl.size(); ++i) {
        r.align(8);
        const std::uint32_t iat = r.size();
        write_thunks(r, plus, dl[i], hn[i]);
        const std::uint32_t int_table = r.size();
        write_thunks(r, plus, dl[i], hn[i]);
        const std::uint32_t d = desc + static_cast<std::uint32_t>(32 * i);
        r.set32(d, 1);  // RVA-based layout
        r.set32(d + 4, names[i]);
        r.set32(d + 8, base + handles + 8 * static_cast<std::uint32_t>(i));
        r.set32(d + 12, base + iat);
        r.set32(d + 16, base + int_table);
      }
      dd[13] = {base + desc, static_cast<std::uint32_t>(32 * (dl.size() + 1))};
      L.delay_descriptors = raw_base + desc;
    }
    if (!spec.imports.empty()) {  // last in .rdata, with the lookup tables at the very end
      const auto& im = spec.imports;
      r.align(4);
      const std::uint32_t desc = r.zeros(20 * (im.size() + 1));
      std::vector<std::uint32_t> names;
      const auto hn = write_names(r, base, im, names);
      r.align(8);
      const std::uint32_t iat_start = r.size();
      std::vector<std::uint32_t> iats, ilts;
      for (std::size_t i = 0; i < im.size(); ++i) {
        iats.push_back(r.size());
        write_thunks(r, plus, im[i], hn[i]);
      }
      const std::uint32_t iat_end = r.size();
      for (std::size_t i = 0; i < im.size(); ++i) {
        ilts.push_back(r.size());
        write_thunks(r, plus, im[i], hn[i]);
        L.import_lookup_tables.push_back(raw_base + ilts.back());
      }
      for (std::size_t i = 0; i < im.size(); ++i) {
        const std::uint32_t d = desc + static_cast<std::uint32_t>(20 * i);
        r.set32(d, base + ilts[i]);
        r.set32(d + 12, names[i]);
        r.set32(d + 16, base + iats[i]);
      }
      dd[1] = {base + desc, static_cast<std::uint32_t>(20 * (im.size() + 1))};
      dd[12] = {base + iat_start, iat_end - iat_start};
      L.import_descriptors = raw_base + desc;
    }
    const std::uint32_t vsize = r.size();
    place(".rdata", scn_rdata, std::move(r.b), vsize);
  }
  if (!resources.empty()) {
    dd[2] = {va, 0};
    L.resource_root = file_off;
    auto rs = build_resources(resources, va);
    dd[2].second = static_cast<std::uint32_t>(rs.size());
    place(".rsrc", scn_rdata, std::move(rs), 0);
  }
  if (!spec.relocations.empty()) {
    std::vector<std::uint32_t> rvas = spec.relocations;
    std::sort(rvas.begin(), rvas.end());
    Buf r;
    for (std::size_t i = 0; i < rvas.size();) {
      const std::uint32_t page = rvas[i] & ~0xFFFu;
      const std::uint32_t block = r.u32(page);
      r.u32(0);
      for (; i < rvas.size() && (rvas[i] & ~0xFFFu) == page; ++i) r.u16(((plus ? 10u : 3u) << 12) | (rvas[i] & 0xFFFu));
      r.align(4);  // an IMAGE_REL_BASED_ABSOLUTE pad entry
      r.set32(block + 4, r.size() - block);
    }
    dd[5] = {va, r.size()};
    place(".reloc", 0x42000040u, std::move(r.b), 0);
  }

  // Assemble the file: headers, section data, overlay, certificate table, trailing bytes.
  Buf f;
  f.bytes(h.b);
  f.zeros(L.size_of_headers - f.size());
  for (const auto& r : raw) f.bytes(r);
  L.sections_end = f.size();
  if (!spec.overlay.empty()) L.overlay = f.bytes(spec.overlay);
  if (!spec.certificate.empty()) {
    f.align(8);
    L.certificate = f.u32(8 + spec.certificate.size());  // WIN_CERTIFICATE: dwLength, wRevision, wCertificateType
    f.u16(0x0200);
    f.u16(0x0002);  // PKCS_SIGNED_DATA
    f.bytes(spec.certificate);
    f.align(8);
    L.certificate_size = f.size() - L.certificate;
    dd[4] = {L.certificate, L.certificate_size};
  }
  f.bytes(spec.after_certificate);

  // PE signature, COFF header, optional header, section table.
  std::uint32_t size_of_code = 0, size_of_data = 0, base_of_code = 0, base_of_data = 0;
  std::optional<std::uint32_t> first_exec;
  for (std::size_t i = 0; i < L.sections.size(); ++i) {
    const bool code = (headers[i].second & 0x20u) != 0;
    (code ? size_of_code : size_of_data) += L.sections[i].raw_size;
    if (code && base_of_code == 0) base_of_code = L.sections[i].va;
    if (!code && base_of_data == 0) base_of_data = L.sections[i].va;
    if ((headers[i].second & 0x20000000u) != 0 && !first_exec) first_exec = L.sections[i].va;
  }
  const std::uint32_t coff = L.e_lfanew + 4, o = L.optional_header;
  f.set32(L.e_lfanew, 0x00004550u);  // "PE\0\0"
  f.set16(coff, spec.machine != 0 ? spec.machine : plus ? 0x8664 : 0x14c);
  f.set16(coff + 2, L.sections.size());
  f.set32(coff + 4, spec.timestamp);
  f.set16(coff + 16, opt_size);
  f.set16(coff + 18, 0x0002u | (plus ? 0x0020u : 0x0100u) | (spec.dll ? 0x2000u : 0u));
  f.set16(o, plus ? 0x20b : 0x10b);
  f.b[o + 2] = spec.linker_major;
  f.b[o + 3] = spec.linker_minor;
  f.set32(o + 4, size_of_code);
  f.set32(o + 8, size_of_data);
  f.set32(o + 16, spec.entry_point.value_or(first_exec.value_or(0)));
  f.set32(o + 20, base_of_code);
  if (plus) {
    f.set64(o + 24, image_base);
  } else {
    f.set32(o + 24, base_of_data);
    f.set32(o + 28, image_base);
  }
  f.set32(o + 32, section_align);
  f.set32(o + 36, file_align);
  const std::pair<std::uint32_t, std::uint16_t> versions[] = {
      {40, spec.os_major},        {42, spec.os_minor},       {44, spec.image_major}, {46, spec.image_minor},
      {48, spec.subsystem_major}, {50, spec.subsystem_minor}, {68, spec.subsystem},   {70, spec.dll_characteristics}};
  for (auto [off, v] : versions) f.set16(o + off, v);
  f.set32(o + 56, va);  // SizeOfImage: the next free VA
  f.set32(o + 60, L.size_of_headers);
  const std::uint32_t width = plus ? 8 : 4;
  std::uint32_t off = 72;
  for (std::uint64_t v : {spec.stack_reserve, spec.stack_commit, spec.heap_reserve, spec.heap_commit}) {
    plus ? f.set64(o + off, v) : f.set32(o + off, v);
    off += width;
  }
  f.set32(o + off + 4, 16);  // after LoaderFlags: NumberOfRvaAndSizes
  for (std::uint32_t i = 0; i < 16; ++i) {
    f.set32(L.data_directories + 8 * i, dd[i].first);
    f.set32(L.data_directories + 8 * i + 4, dd[i].second);
  }
  for (std::size_t i = 0; i < L.sections.size(); ++i) {
    const std::uint32_t s = L.section_table + static_cast<std::uint32_t>(40 * i);
    std::copy_n(headers[i].first.begin(), std::min<std::size_t>(8, headers[i].first.size()), f.b.begin() + s);
    f.set32(s + 8, L.sections[i].virtual_size);
    f.set32(s + 12, L.sections[i].va);
    f.set32(s + 16, L.sections[i].raw_size);
    f.set32(s + 20, L.sections[i].raw_offset);
    f.set32(s + 36, headers[i].second);
  }
  // The image checksum: 16-bit one's-complement-style sum with carries folded, plus the file length.
  std::uint64_t sum = 0;
  for (std::uint32_t i = 0; i < f.size(); i += 2) {
    if (i == o + 64 || i == o + 66) continue;
    sum += f.b[i] | (i + 1 < f.size() ? std::uint32_t{f.b[i + 1]} << 8 : 0u);
    sum = (sum & 0xFFFF) + (sum >> 16);
  }
  f.set32(o + 64, ((sum & 0xFFFF) + (sum >> 16)) + f.size());
  out.bytes = std::move(f.b);
  return out;
}

}  // namespace mamori::test
