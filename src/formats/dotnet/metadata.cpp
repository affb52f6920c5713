// CLI metadata: root and stream headers (II.24.2.1-2), the table stream (II.24.2.6), the heaps it indexes, and the
// row layouts of II.22 needed to find every table. Only the tables the features use are decoded; all the others
// are sized so that the ones after them can be found.
#include "formats/dotnet/metadata.hpp"

#include <algorithm>
#include <bit>

#include "common/anomalies.hpp"
#include "common/stats.hpp"

namespace mamori::dotnet {

const char* anomaly_name(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::version_length_invalid: return "version_length_invalid";
    case Anomaly::stream_headers_truncated: return "stream_headers_truncated";
    case Anomaly::streams_excessive: return "streams_excessive";
    case Anomaly::stream_outside_metadata: return "stream_outside_metadata";
    case Anomaly::stream_duplicate: return "stream_duplicate";
    case Anomaly::stream_unknown: return "stream_unknown";
    case Anomaly::tables_missing: return "tables_missing";
    case Anomaly::tables_truncated: return "tables_truncated";
    case Anomaly::table_unknown: return "table_unknown";
    case Anomaly::rows_excessive: return "rows_excessive";
    case Anomaly::string_index_invalid: return "string_index_invalid";
    case Anomaly::coded_index_invalid: return "coded_index_invalid";
    case Anomaly::user_strings_malformed: return "user_strings_malformed";
    case Anomaly::resource_outside: return "resource_outside";
    case Anomaly::decode_truncated_by_limit: return "decode_truncated_by_limit";
    case Anomaly::kCount: break;
  }
  return "unknown";
}

namespace {

void flag(Metadata& m, Anomaly a, std::uint64_t detail = 0) { flag_first(m, a, detail); }

// Coded index kinds (II.24.2.6): which tables a tag selects, and how many low bits the tag takes.
enum Coded : std::uint8_t {
  c_type_def_or_ref, c_has_constant, c_has_custom_attribute, c_has_field_marshal, c_has_decl_security,
  c_member_ref_parent, c_has_semantics, c_method_def_or_ref, c_member_forwarded, c_implementation,
  c_custom_attribute_type, c_resolution_scope, c_type_or_method_def, coded_count
};
constexpr std::uint8_t kNone = 0xFF;  // a tag value the spec leaves unused

struct CodedInfo {
  std::uint8_t bits;
  std::uint8_t n;
  std::array<std::uint8_t, 22> tables;
};
constexpr std::array<CodedInfo, coded_count> kCoded = {{
    {2, 3, {0x02, 0x01, 0x1B}},
    {2, 3, {0x04, 0x08, 0x17}},
    {5, 22, {0x06, 0x04, 0x01, 0x02, 0x08, 0x09, 0x0A, 0x00, 0x0E, 0x17, 0x14, 0x11, 0x1A, 0x1B, 0x20, 0x23, 0x26,
             0x27, 0x28, 0x2A, 0x2C, 0x2B}},
    {1, 2, {0x04, 0x08}},
    {2, 3, {0x02, 0x06, 0x20}},
    {3, 5, {0x02, 0x01, 0x1A, 0x06, 0x1B}},
    {1, 2, {0x14, 0x17}},
    {1, 2, {0x06, 0x0A}},
    {1, 2, {0x04, 0x06}},
    {2, 3, {0x26, 0x23, 0x27}},
    {3, 5, {kNone, kNone, 0x06, 0x0A, kNone}},
    {2, 4, {0x00, 0x1A, 0x23, 0x01}},
    {1, 2, {0x02, 0x06}},
}};

// A column: fixed width (1, 2, 4 bytes), a heap index, a simple index into a table, or a coded index.
enum class K : std::uint8_t { fixed, str, guid, blob, index, coded };
struct Col {
  K k;
  std::uint8_t arg;  // width, table or coded kind
};
constexpr Col F2{K::fixed, 2}, F4{K::fixed, 4}, S{K::str, 0}, G{K::guid, 0}, B{K::blob, 0};
constexpr Col I(std::uint8_t t) { return {K::index, t}; }
constexpr Col C(Coded c) { return {K::coded, c}; }

struct TableInfo {
  std::uint8_t n = 0;  // 0: not defined by the spec
  std::array<Col, 9> cols{};
};

// II.22, tables 0x00-0x2C in number order. The Ptr tables (0x03, 0x05, 0x07, 0x13, 0x16) appear only in "#-".
const std::array<TableInfo, table_count>& table_layouts() {
  static const std::array<TableInfo, table_count> t = [] {
    std::array<TableInfo, table_count> x{};
    auto set = [&](std::uint8_t i, std::initializer_list<Col> c) {
      x[i].n = static_cast<std::uint8_t>(c.size());
      std::copy(c.begin(), c.end(), x[i].cols.begin());
    };
    set(0x00, {F2, S, G, G, G});                                            // Module
    set(0x01, {C(c_resolution_scope), S, S});                               // TypeRef
    set(0x02, {F4, S, S, C(c_type_def_or_ref), I(0x04), I(0x06)});          // TypeDef
    set(0x03, {I(0x04)});                                                   // FieldPtr
    set(0x04, {F2, S, B});                                                  // Field
    set(0x05, {I(0x06)});                                                   // MethodPtr
    set(0x06, {F4, F2, F2, S, B, I(0x08)});                                 // MethodDef
    set(0x07, {I(0x08)});                                                   // ParamPtr
    set(0x08, {F2, F2, S});                                                 // Param
    set(0x09, {I(0x02), C(c_type_def_or_ref)});                             // InterfaceImpl
    set(0x0A, {C(c_member_ref_parent), S, B});                              // MemberRef
    set(0x0B, {F2, C(c_has_constant), B});                                  // Constant (type byte + padding)
    set(0x0C, {C(c_has_custom_attribute), C(c_custom_attribute_type), B});  // CustomAttribute
    set(0x0D, {C(c_has_field_marshal), B});                                 // FieldMarshal
    set(0x0E, {F2, C(c_has_decl_security), B});                             // DeclSecurity
    set(0x0F, {F2, F4, I(0x02)});                                           // ClassLayout
    set(0x10, {F4, I(0x04)});                                               // FieldLayout
    set(0x11, {B});                                                         // StandAloneSig
    set(0x12, {I(0x02), I(0x14)});                                          // EventMap
    set(0x13, {I(0x14)});                                                   // EventPtr
    set(0x14, {F2, S, C(c_type_def_or_ref)});                               // Event
    set(0x15, {I(0x02), I(0x17)});                                          // PropertyMap
    set(0x16, {I(0x17)});                                                   // PropertyPtr
    set(0x17, {F2, S, B});                                                  // Property
    set(0x18, {F2, I(0x06), C(c_has_semantics)});                           // MethodSemantics
    set(0x19, {I(0x02), C(c_method_def_or_ref), C(c_method_def_or_ref)});   // MethodImpl
    set(0x1A, {S});                                                         // ModuleRef
    set(0x1B, {B});                                                         // TypeSpec
    set(0x1C, {F2, C(c_member_forwarded), S, I(0x1A)});                     // ImplMap
    set(0x1D, {F4, I(0x04)});                                               // FieldRVA
    set(0x1E, {F4, F4});                                                    // EncLog
    set(0x1F, {F4});                                                        // EncMap
    set(0x20, {F4, F2, F2, F2, F2, F4, B, S, S});                           // Assembly
    set(0x21, {F4});                                                        // AssemblyProcessor
    set(0x22, {F4, F4, F4});                                                // AssemblyOS
    set(0x23, {F2, F2, F2, F2, F4, B, S, S, B});                            // AssemblyRef
    set(0x24, {F4, I(0x23)});                                               // AssemblyRefProcessor
    set(0x25, {F4, F4, F4, I(0x23)});                                       // AssemblyRefOS
    set(0x26, {F4, S, B});                                                  // File
    set(0x27, {F4, F4, S, S, C(c_implementation)});                         // ExportedType
    set(0x28, {F4, F4, S, C(c_implementation)});                            // ManifestResource
    set(0x29, {I(0x02), I(0x02)});                                          // NestedClass
    set(0x2A, {F2, F2, C(c_type_or_method_def), S});                        // GenericParam
    set(0x2B, {C(c_method_def_or_ref), B});                                 // MethodSpec
    set(0x2C, {I(0x2A), C(c_type_def_or_ref)});                             // GenericParamConstraint
    return x;
  }();
  return t;
}

// Where each table's rows are and how wide each column is, from the row counts and heap-size flags.
class Layout {
 public:
  Layout(const std::array<std::uint64_t, table_count>& rows, std::uint8_t heap_sizes) : rows_(rows) {
    str_ = (heap_sizes & 0x01) ? 4 : 2;
    guid_ = (heap_sizes & 0x02) ? 4 : 2;
    blob_ = (heap_sizes & 0x04) ? 4 : 2;
  }
  std::uint8_t width(Col c) const {
    switch (c.k) {
      case K::fixed: return c.arg;
      case K::str: return str_;
      case K::guid: return guid_;
      case K::blob: return blob_;
      case K::index: return rows_[c.arg] < 0x10000 ? 2 : 4;
      case K::coded: {
        const auto& ci = kCoded[c.arg];
        std::uint64_t most = 0;
        for (std::uint8_t i = 0; i < ci.n; ++i)
          if (ci.tables[i] != kNone) most = std::max(most, rows_[ci.tables[i]]);
        return most < (std::uint64_t{1} << (16 - ci.bits)) ? 2 : 4;
      }
    }
    return 4;
  }
  std::uint64_t row_size(std::uint8_t table) const {
    std::uint64_t s = 0;
    const auto& t = table_layouts()[table];
    for (std::uint8_t i = 0; i < t.n; ++i) s += width(t.cols[i]);
    return s;
  }

 private:
  const std::array<std::uint64_t, table_count>& rows_;
  std::uint8_t str_ = 2, guid_ = 2, blob_ = 2;
};

struct Heaps {
  ByteView strings, us, blob, resources;
};

// One table's readable rows, with column offsets.
struct TableView {
  ByteView data;           // the readable rows
  std::uint64_t row_size = 0;
  std::uint32_t rows = 0;  // readable and under limits::max_decoded_rows
  std::array<std::uint8_t, 9> offset{}, width{};

  std::uint32_t get(std::uint32_t row, std::size_t col) const {
    const std::uint64_t off = std::uint64_t{row} * row_size + offset[col];
    return width[col] == 2 ? data.le_or<std::uint16_t>(off, 0) : data.le_or<std::uint32_t>(off, 0);
  }
};

class Reader {
 public:
  Reader(Metadata& m, const Heaps& h) : m_(m), h_(h) {}

  std::string_view str(std::uint32_t index) {
    if (index == 0) return {};
    auto s = h_.strings.cstr(index, limits::max_name_len);
    if (!s) {
      flag(m_, Anomaly::string_index_invalid, index);
      return {};
    }
    return *s;
  }
  /// Splits a coded index into (table, 1-based row); nullopt for a tag the kind does not define.
  std::optional<std::pair<std::uint8_t, std::uint32_t>> decode(Coded kind, std::uint32_t v) {
    const auto& ci = kCoded[kind];
    const std::uint32_t tag = v & ((1u << ci.bits) - 1);
    if (tag >= ci.n || ci.tables[tag] == kNone) {
      flag(m_, Anomaly::coded_index_invalid, v);
      return std::nullopt;
    }
    return std::pair{ci.tables[tag], v >> ci.bits};
  }

  void read_tables(const std::array<TableView, table_count>& t) {
    const auto& module_refs = t[t_module_ref];
    for (std::uint32_t r = 0; r < module_refs.rows; ++r) m_.module_refs.push_back(str(module_refs.get(r, 0)));
    const auto& trs = t[t_type_ref];
    for (std::uint32_t r = 0; r < trs.rows; ++r) m_.type_refs.push_back({str(trs.get(r, 2)), str(trs.get(r, 1))});
    const auto& tds = t[t_type_def];
    for (std::uint32_t r = 1; r < tds.rows; ++r) m_.type_def_names.push_back(str(tds.get(r, 1)));  // row 0 is <Module>
    const auto& mds = t[t_method_def];
    for (std::uint32_t r = 0; r < mds.rows; ++r) m_.method_def_names.push_back(str(mds.get(r, 3)));
    const auto& mrs = t[t_member_ref];
    for (std::uint32_t r = 0; r < mrs.rows; ++r) {
      auto parent = decode(c_member_ref_parent, mrs.get(r, 0));
      if (!parent) continue;
      auto [table, row] = *parent;
      if (row == 0 || row > m_.rows[table]) {
        flag(m_, Anomaly::coded_index_invalid, mrs.get(r, 0));
        continue;
      }
      if (table == t_type_ref && row <= m_.type_refs.size()) m_.member_refs.push_back({row - 1, str(mrs.get(r, 1))});
      else ++m_.member_refs_other_parent;
    }
    const auto& ars = t[t_assembly_ref];
    for (std::uint32_t r = 0; r < ars.rows; ++r) m_.assembly_refs.push_back(str(ars.get(r, 6)));
    if (t[t_assembly].rows > 0) m_.assembly_name = str(t[t_assembly].get(0, 7));
    const auto& maps = t[t_impl_map];
    for (std::uint32_t r = 0; r < maps.rows; ++r) {
      PInvoke p;
      p.entry = str(maps.get(r, 2));
      const std::uint32_t scope = maps.get(r, 3);
      if (scope >= 1 && scope <= m_.module_refs.size()) p.module = m_.module_refs[scope - 1];
      else if (scope == 0 || scope > m_.rows[t_module_ref]) flag(m_, Anomaly::coded_index_invalid, scope);
      m_.pinvokes.push_back(p);
    }
    read_resources(t[t_manifest_resource]);
  }

 private:
  void read_resources(const TableView& t) {
    std::uint64_t measured = 0;
    for (std::uint32_t r = 0; r < t.rows && r < limits::max_resources; ++r) {
      ManifestResource res;
      res.name = str(t.get(r, 2));
      res.embedded = t.get(r, 3) == 0;  // a nil Implementation: in this file
      if (res.embedded) {
        const std::uint32_t off = t.get(r, 0);
        const auto len = h_.resources.u32(off);
        if (len && h_.resources.fits(std::uint64_t{off} + 4, *len)) {
          res.size = *len;
          if (measured < limits::max_resource_bytes_measured) {
            const std::uint64_t n = std::min<std::uint64_t>(*len, limits::max_resource_bytes_measured - measured);
            res.entropy = entropy(h_.resources.clamp(std::uint64_t{off} + 4, n));
            measured += n;
          }
        } else {
          flag(m_, Anomaly::resource_outside, off);
        }
      }
      m_.resources.push_back(res);
    }
  }

  Metadata& m_;
  const Heaps& h_;
};

bool base64_unit(std::uint16_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
         c == '=' || c == '-' || c == '_';
}

// #US (II.24.2.4): entries of a compressed length, UTF-16LE code units and one flag byte.
void read_user_strings(Metadata& m, ByteView us) {
  ByteHistogram hist{};
  std::uint64_t pos = 0;
  for (std::uint32_t n = 0; pos < us.size() && n < limits::max_user_strings; ++n) {
    const std::uint8_t b0 = *us.u8(pos);
    std::uint64_t len = 0, head = 0;
    if ((b0 & 0x80) == 0) {
      len = b0, head = 1;
    } else if ((b0 & 0xC0) == 0x80 && us.fits(pos, 2)) {
      len = ((b0 & 0x3Fu) << 8) | *us.u8(pos + 1), head = 2;
    } else if ((b0 & 0xE0) == 0xC0 && us.fits(pos, 4)) {
      len = ((b0 & 0x1Fu) << 24) | (std::uint64_t{*us.u8(pos + 1)} << 16) | (std::uint64_t{*us.u8(pos + 2)} << 8) |
            *us.u8(pos + 3);
      head = 4;
    } else {
      flag(m, Anomaly::user_strings_malformed, pos);
      break;
    }
    if (!us.fits(pos + head, len)) {
      flag(m, Anomaly::user_strings_malformed, pos);
      break;
    }
    const ByteView s = *us.sub(pos + head, len);
    pos += head + len;
    const std::uint32_t units = static_cast<std::uint32_t>(len / 2);
    if (units == 0) continue;
    auto& st = m.user_strings;
    ++st.count;
    st.chars += units;
    st.max_chars = std::max(st.max_chars, units);
    bool b64 = units >= 64, wide = false;
    // "http://" / "https://" as a tiny state machine over code units: no copy of the string.
    static constexpr std::string_view kHttp = "http";
    std::size_t matched = 0;
    bool url = false;
    for (std::uint32_t i = 0; i < units; ++i) {
      const std::uint16_t c = s.le_or<std::uint16_t>(2ull * i, 0);
      ++hist[c & 0xFF];
      wide |= c > 0x7F;
      b64 = b64 && base64_unit(c);
      if (!url) {
        const char lc = static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
        if (matched < 4) {
          matched = (lc == kHttp[matched]) ? matched + 1 : (lc == 'h' ? 1 : 0);
        } else if (matched == 4 && lc == 's') {
          matched = 5;
        } else if (lc == ':' && (matched == 4 || matched == 5)) {
          url = i + 2 < units && s.le_or<std::uint16_t>(2ull * (i + 1), 0) == '/' &&
                s.le_or<std::uint16_t>(2ull * (i + 2), 0) == '/';
          matched = 0;
        } else {
          matched = lc == 'h' ? 1 : 0;
        }
      }
    }
    st.base64_like += b64;
    st.urls += url;
    st.non_ascii += wide;
  }
  m.user_strings.entropy = m.user_strings.chars ? entropy_of(hist) : 0.0;
}

bool known_stream(std::string_view n) {
  for (std::string_view k : {"#~", "#-", "#Strings", "#US", "#Blob", "#GUID", "#Pdb", "#JTD", "#Schema"})
    if (n == k) return true;
  return false;
}

void read_table_stream(Metadata& m, ByteView ts, const Heaps& heaps) {
  if (!ts.fits(0, 24)) {
    flag(m, Anomaly::tables_truncated, ts.size());
    return;
  }
  m.heap_sizes = *ts.u8(6);
  m.valid = *ts.u64(8);
  m.sorted = *ts.u64(16);
  std::array<std::uint64_t, table_count> rows{};
  std::uint64_t pos = 24;
  for (std::uint8_t i = 0; i < table_count; ++i) {
    if (((m.valid >> i) & 1u) == 0) continue;
    auto n = ts.u32(pos);
    if (!n) {
      flag(m, Anomaly::tables_truncated, pos);
      return;
    }
    pos += 4;
    rows[i] = *n;
    m.rows[i] = std::min(*n, limits::max_rows);
    if (*n > limits::max_rows) flag(m, Anomaly::rows_excessive, i);
    if (table_layouts()[i].n == 0) flag(m, Anomaly::table_unknown, i);
  }
  if (m.heap_sizes & 0x40) pos += 4;  // "extra data" after the row counts (edit-and-continue streams)

  const Layout layout(rows, m.heap_sizes);
  std::array<TableView, table_count> views{};
  bool truncated = false;
  for (std::uint8_t i = 0; i < table_count && !truncated; ++i) {
    if (rows[i] == 0) continue;
    const auto& info = table_layouts()[i];
    if (info.n == 0) break;  // an unknown table has no known width: nothing after it can be placed
    auto& v = views[i];
    v.row_size = layout.row_size(i);
    std::uint8_t off = 0;
    for (std::uint8_t c = 0; c < info.n; ++c) {
      v.offset[c] = off;
      v.width[c] = layout.width(info.cols[c]);
      off = static_cast<std::uint8_t>(off + v.width[c]);
    }
    const std::uint64_t want = rows[i] * v.row_size;  // rows < 2^32 and row_size < 64: no overflow
    const ByteView rest = ts.from(pos);
    const std::uint64_t readable = std::min<std::uint64_t>(rows[i], rest.size() / v.row_size);
    if (readable < rows[i]) {
      flag(m, Anomaly::tables_truncated, i);
      truncated = true;
    }
    v.rows = static_cast<std::uint32_t>(std::min<std::uint64_t>(readable, limits::max_decoded_rows));
    if (readable > limits::max_decoded_rows &&
        (i == t_type_ref || i == t_type_def || i == t_method_def || i == t_member_ref || i == t_module_ref ||
         i == t_impl_map || i == t_assembly_ref || i == t_manifest_resource))
      flag(m, Anomaly::decode_truncated_by_limit, i);
    v.data = rest.clamp(0, readable * v.row_size);
    pos += want;
  }
  m.tables_read = true;
  Reader(m, heaps).read_tables(views);
}

}  // namespace

Result<Metadata> parse_metadata(ByteView md, ByteView resources) {
  if (md.u32(0) != 0x424A5342u) return make_error(ErrorCode::not_this_format, "no CLI metadata signature (BSJB)");
  const auto vlen = md.u32(12);
  if (!vlen) return make_error(ErrorCode::truncated, "CLI metadata root cut off before its version length");
  Metadata m;
  m.major = md.le_or<std::uint16_t>(4, 0);
  m.minor = md.le_or<std::uint16_t>(6, 0);
  if (*vlen > 255 || !md.fits(16, *vlen)) flag(m, Anomaly::version_length_invalid, *vlen);
  m.version = md.fixed_str(16, std::min<std::uint32_t>(*vlen, 255));
  const std::uint64_t flags_at = 16ull + *vlen;
  const auto nstreams = md.u16(flags_at + 2);
  if (!nstreams) return make_error(ErrorCode::truncated, "CLI metadata root cut off before its stream count");
  if (*nstreams > limits::max_streams) flag(m, Anomaly::streams_excessive, *nstreams);

  Heaps heaps;
  heaps.resources = resources;
  ByteView tables;
  bool have_tables = false, have_strings = false, have_us = false, have_blob = false, have_guid = false;
  std::uint64_t pos = flags_at + 4;
  const std::uint32_t count = std::min<std::uint32_t>(*nstreams, limits::max_streams);
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto off = md.u32(pos), size = md.u32(pos + 4);
    const auto name = md.cstr(pos + 8, 32);
    if (!off || !size || !name) {
      flag(m, Anomaly::stream_headers_truncated, i);
      break;
    }
    pos += 8 + ((name->size() + 4) & ~std::uint64_t{3});  // name, its NUL, padded to 4
    ++m.stream_count;
    auto view = md.sub(*off, *size);
    if (!view) {
      flag(m, Anomaly::stream_outside_metadata, i);
      view = md.clamp(*off, *size);
    }
    // The first stream of a name wins; a second one is recorded as a trick and otherwise ignored.
    auto take = [&](bool& have, ByteView& dst, std::uint32_t& sz) {
      if (have) return flag(m, Anomaly::stream_duplicate, i);
      have = true;
      dst = *view;
      sz = static_cast<std::uint32_t>(view->size());
    };
    if (*name == "#~" || *name == "#-") {
      m.uncompressed_tables = m.uncompressed_tables || (!have_tables && *name == "#-");
      take(have_tables, tables, m.tables_size);
    } else if (*name == "#Strings") {
      take(have_strings, heaps.strings, m.strings_size);
    } else if (*name == "#US") {
      take(have_us, heaps.us, m.us_size);
    } else if (*name == "#Blob") {
      take(have_blob, heaps.blob, m.blob_size);
    } else if (*name == "#GUID") {
      ByteView unused;
      take(have_guid, unused, m.guid_size);
    } else if (!known_stream(*name)) {
      flag(m, Anomaly::stream_unknown, i);
    }
  }
  read_user_strings(m, heaps.us);
  if (!have_tables) flag(m, Anomaly::tables_missing);
  else read_table_stream(m, tables, heaps);
  return m;
}

}  // namespace mamori::dotnet
