#include "support/dotnet_builder.hpp"

#include <algorithm>
#include <initializer_list>

namespace mamori::test {

namespace {

struct W {
  std::vector<std::uint8_t> b;
  std::uint32_t size() const { return static_cast<std::uint32_t>(b.size()); }
  void put(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void str(const std::string& s) {
    b.insert(b.end(), s.begin(), s.end());
    b.push_back(0);
  }
  void align4() {
    while (b.size() % 4) b.push_back(0);
  }
  void set32(std::uint32_t off, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b.at(off + i) = static_cast<std::uint8_t>(v >> (8 * i));
  }
};

// The width of a coded index whose tag takes `bits` bits over tables with these row counts (II.24.2.6).
int coded(int bits, std::initializer_list<std::size_t> rows) {
  return std::max(rows) >= (std::size_t{1} << (16 - bits)) ? 4 : 2;
}
int simple(std::size_t rows) { return rows >= 0x10000 ? 4 : 2; }

}  // namespace

BuiltMetadata build_metadata(const MetadataSpec& s) {
  BuiltMetadata out;
  // Heaps first, so that table cells can hold their indexes.
  W strings;
  strings.b.push_back(0);
  auto sidx = [&](const std::string& v) -> std::uint32_t {
    if (v.empty()) return 0;
    const std::uint32_t at = strings.size();
    strings.str(v);
    return at;
  };
  W us;
  us.b.push_back(0);
  for (const auto& u : s.user_strings) {
    const std::size_t len = u.size() * 2 + 1;
    if (len < 0x80) {
      us.put(len, 1);
    } else if (len < 0x4000) {
      us.put(0x80 | (len >> 8), 1);
      us.put(len & 0xFF, 1);
    } else {
      us.put(0xC0 | (len >> 24), 1);
      us.put((len >> 16) & 0xFF, 1);
      us.put((len >> 8) & 0xFF, 1);
      us.put(len & 0xFF, 1);
    }
    bool high = false;
    for (char16_t c : u) {
      us.put(c, 2);
      high |= c > 0x7E;
    }
    us.put(high ? 1 : 0, 1);
  }
  us.align4();
  W guid;
  guid.b.assign(16, 0x11);
  W blob;
  blob.b = {0, 3, 0x20, 0, 1};

  const std::size_t n_typeref = s.type_refs.size(), n_typedef = s.type_defs.size() + 1,
                    n_method = s.method_defs.size(), n_memberref = s.member_refs.size(),
                    n_modref = s.module_refs.size(), n_implmap = s.pinvokes.size(),
                    n_assembly = s.assembly_name.empty() ? 0 : 1, n_asmref = s.assembly_refs.size(),
                    n_res = s.resources.size();
  const int hs = s.wide_heaps ? 4 : 2;

  W rows;  // the table data
  // Module
  rows.put(0, 2), rows.put(sidx("test.dll"), hs), rows.put(1, hs), rows.put(0, hs), rows.put(0, hs);
  // TypeRef
  const int scope_w = coded(2, {1, n_modref, n_asmref, n_typeref});
  const std::uint32_t scope = n_asmref ? (1u << 2) | 2u : (1u << 2);
  for (const auto& t : s.type_refs) rows.put(scope, scope_w), rows.put(sidx(t.name), hs), rows.put(sidx(t.ns), hs);
  // TypeDef: <Module>, then the caller's types
  const int extends_w = coded(2, {n_typedef, n_typeref, 0});
  std::vector<std::string> tds = {"<Module>"};
  tds.insert(tds.end(), s.type_defs.begin(), s.type_defs.end());
  for (const auto& t : tds) {
    rows.put(0x100001, 4), rows.put(sidx(t), hs), rows.put(0, hs), rows.put(0, extends_w);
    rows.put(1, simple(0)), rows.put(1, simple(n_method));
  }
  // MethodDef
  for (const auto& m : s.method_defs)
    rows.put(0x2050, 4), rows.put(0, 2), rows.put(0x96, 2), rows.put(sidx(m), hs), rows.put(1, hs), rows.put(1, 2);
  // MemberRef
  const int parent_w = coded(3, {n_typedef, n_typeref, n_modref, n_method, 0});
  for (const auto& m : s.member_refs)
    rows.put(((m.type_ref + 1) << 3) | 1u, parent_w), rows.put(sidx(m.name), hs), rows.put(1, hs);
  // ModuleRef
  for (const auto& m : s.module_refs) rows.put(sidx(m), hs);
  // ImplMap
  const int forwarded_w = coded(1, {0, n_method});
  for (std::size_t i = 0; i < s.pinvokes.size(); ++i)
    rows.put(0x0100, 2), rows.put(((i + 1) << 1) | 1u, forwarded_w), rows.put(sidx(s.pinvokes[i].entry), hs),
        rows.put(s.pinvokes[i].module_ref, simple(n_modref));
  // Assembly
  if (n_assembly)
    rows.put(0x8004, 4), rows.put(1, 2), rows.put(0, 2), rows.put(0, 2), rows.put(0, 2), rows.put(0, 4),
        rows.put(0, hs), rows.put(sidx(s.assembly_name), hs), rows.put(0, hs);
  // AssemblyRef
  for (const auto& a : s.assembly_refs)
    rows.put(4, 2), rows.put(0, 2), rows.put(0, 2), rows.put(0, 2), rows.put(0, 4), rows.put(1, hs),
        rows.put(sidx(a), hs), rows.put(0, hs), rows.put(0, hs);
  // ManifestResource, with the data in the resources directory
  W res;
  const int impl_w = coded(2, {0, n_asmref, 0});
  for (const auto& r : s.resources) {
    std::uint32_t off = 0;
    if (r.embedded) {
      off = res.size();
      res.put(r.data.size(), 4);
      res.b.insert(res.b.end(), r.data.begin(), r.data.end());
      while (res.b.size() % 8) res.b.push_back(0);
    }
    rows.put(off, 4), rows.put(1, 4), rows.put(sidx(r.name), hs), rows.put(r.embedded ? 0u : (1u << 2) | 1u, impl_w);
  }
  strings.align4();

  // The table stream header: which tables are present and their row counts.
  const std::pair<int, std::size_t> present[] = {{0x00, 1},         {0x01, n_typeref},   {0x02, n_typedef},
                                                 {0x06, n_method},  {0x0A, n_memberref}, {0x1A, n_modref},
                                                 {0x1C, n_implmap}, {0x20, n_assembly},  {0x23, n_asmref},
                                                 {0x28, n_res}};
  W tables;
  tables.put(0, 4), tables.put(2, 1), tables.put(0, 1), tables.put(s.wide_heaps ? 0x07 : 0, 1), tables.put(1, 1);
  std::uint64_t valid = 0;
  for (auto [t, n] : present)
    if (n) valid |= std::uint64_t{1} << t;
  tables.put(valid, 8);
  tables.put(0x000016003301FA00ull, 8);  // Sorted, as compilers write it
  const std::uint32_t row_counts = tables.size();
  for (auto [t, n] : present)
    if (n) tables.put(n, 4);
  tables.b.insert(tables.b.end(), rows.b.begin(), rows.b.end());
  tables.align4();

  // Root, stream headers, streams.
  W md;
  md.put(0x424A5342u, 4), md.put(1, 2), md.put(1, 2), md.put(0, 4);
  const std::uint32_t vlen = static_cast<std::uint32_t>((s.version.size() + 1 + 3) & ~std::size_t{3});
  md.put(vlen, 4);
  md.str(s.version);
  while (md.size() < 16 + vlen) md.b.push_back(0);
  md.put(0, 2);
  std::vector<std::pair<std::string, const std::vector<std::uint8_t>*>> streams = {
      {s.tables_name, &tables.b}, {"#Strings", &strings.b}, {"#US", &us.b}, {"#GUID", &guid.b}, {"#Blob", &blob.b}};
  for (const auto& [name, data] : s.extra_streams) streams.push_back({name, &data});
  out.stream_count_offset = md.size();
  md.put(streams.size(), 2);
  out.stream_headers = md.size();
  std::vector<std::uint32_t> fixups;
  for (const auto& [name, data] : streams) {
    fixups.push_back(md.size());
    md.put(0, 4), md.put(data->size(), 4);
    md.str(name);
    md.align4();
  }
  for (std::size_t i = 0; i < streams.size(); ++i) {
    const std::uint32_t at = md.size();
    md.set32(fixups[i], at);
    md.b.insert(md.b.end(), streams[i].second->begin(), streams[i].second->end());
    md.align4();
    if (i == 0) out.tables = at, out.tables_size = tables.size(), out.row_counts = at + row_counts;
    if (i == 1) out.strings = at;
    if (i == 2) out.us = at;
  }
  out.metadata = std::move(md.b);
  out.resources = std::move(res.b);
  return out;
}

}  // namespace mamori::test
