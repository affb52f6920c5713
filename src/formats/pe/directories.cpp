// Data-directory passes: imports, exports, resources, TLS, relocations, debug, CLR, certificate.
// Each pass reads what it can, caps every count from pe::limits, and records what it could not read.
#include <algorithm>
#include <unordered_set>

#include "common/codepage.hpp"
#include "common/stats.hpp"
#include "formats/pe/parse_internal.hpp"

namespace mamori::pe::detail {

namespace {

std::optional<std::string_view> try_name_at(const PeFile& pe, ByteView file, std::uint32_t rva) {
  return at_rva(pe, file, rva).cstr(0, limits::max_name_len);
}

std::string_view name_at(const PeFile& pe, ByteView file, std::uint32_t rva) {
  return try_name_at(pe, file, rva).value_or(std::string_view{});
}

// Walks a thunk array (ILT/INT): by ordinal when the top bit is set, else an RVA of a hint/name entry.
// Returns false when the array ran off the readable image.
bool read_thunks(const PeFile& pe, ByteView file, std::uint32_t rva, bool plus, ImportedDll& dll,
                 std::uint32_t& budget) {
  ByteView t = at_rva(pe, file, rva);
  const std::uint64_t step = plus ? 8 : 4;
  for (std::uint64_t off = 0;; off += step) {
    if (budget == 0) return true;
    std::uint64_t v = 0;
    if (plus) {
      auto x = t.u64(off);
      if (!x) return false;
      v = *x;
    } else {
      auto x = t.u32(off);
      if (!x) return false;
      v = *x;
    }
    if (v == 0) return true;
    ImportedFunction f;
    const std::uint64_t ord_bit = plus ? (std::uint64_t{1} << 63) : (std::uint64_t{1} << 31);
    if (v & ord_bit) {
      f.by_ordinal = true;
      f.ordinal = static_cast<std::uint16_t>(v & 0xFFFF);
    } else {
      ByteView hn = at_rva(pe, file, static_cast<std::uint32_t>(v & 0x7FFFFFFF));
      f.ordinal = hn.le_or<std::uint16_t>(0, 0);  // the hint
      f.name = hn.cstr(2, limits::max_name_len).value_or(std::string_view{});
      if (f.name.empty()) return false;
    }
    dll.functions.push_back(f);
    --budget;
  }
}

}  // namespace

void parse_imports(PeFile& pe, ByteView file) {
  if (pe.directories[dir_import].rva == 0) return;
  ByteView dir = at_rva(pe, file, pe.directories[dir_import].rva);
  if (dir.empty()) {
    flag(pe, Anomaly::imports_unreadable, pe.directories[dir_import].rva);
    return;
  }
  std::uint32_t budget = limits::max_imports_total;
  for (std::uint32_t i = 0;; ++i) {
    if (i >= limits::max_import_dlls || budget == 0) {
      flag(pe, Anomaly::imports_truncated_by_limit, i);
      return;
    }
    auto d = dir.sub(std::uint64_t{i} * 20, 20);
    if (!d) {
      flag(pe, Anomaly::imports_unreadable, i);
      return;
    }
    const std::uint32_t oft = d->le_or<std::uint32_t>(0, 0);
    const std::uint32_t name_rva = d->le_or<std::uint32_t>(12, 0);
    const std::uint32_t ft = d->le_or<std::uint32_t>(16, 0);
    // The loader walks descriptors while Name and FirstThunk are both non-zero. Waiting for an all-zero one read
    // past a terminator whose OriginalFirstThunk held junk, into garbage "DLLs" (LIEF oracle, malicious corpus).
    if (name_rva == 0 || ft == 0) return;
    ImportedDll dll;
    dll.name = name_at(pe, file, name_rva);
    if (dll.name.empty()) {
      flag(pe, Anomaly::imports_unreadable, name_rva);
      return;
    }
    // Bound imports leave only the IAT; prefer the lookup table when there is one.
    if (!read_thunks(pe, file, oft != 0 ? oft : ft, pe.is_pe32_plus(), dll, budget))
      flag(pe, Anomaly::imports_unreadable, name_rva);
    pe.imports.push_back(std::move(dll));
  }
}

void parse_delay_imports(PeFile& pe, ByteView file) {
  const auto& dd = pe.directories[dir_delay_import];
  if (dd.rva == 0) return;
  ByteView dir = at_rva(pe, file, dd.rva);
  if (dir.empty()) {
    flag(pe, Anomaly::imports_unreadable, dd.rva);
    return;
  }
  std::uint32_t budget = limits::max_imports_total;
  for (std::uint32_t i = 0; i < limits::max_import_dlls; ++i) {
    auto d = dir.sub(std::uint64_t{i} * 32, 32);
    if (!d) {
      flag(pe, Anomaly::imports_unreadable, i);
      return;
    }
    const std::uint32_t attrs = d->le_or<std::uint32_t>(0, 0);
    std::uint64_t name = d->le_or<std::uint32_t>(4, 0);
    std::uint64_t int_rva = d->le_or<std::uint32_t>(16, 0);
    if (name == 0) return;
    // Attributes bit 0 clear: the old (VC6) layout where the fields are VAs, not RVAs.
    if ((attrs & 1u) == 0 && pe.headers.magic == 0x10b) {
      name -= std::min<std::uint64_t>(name, pe.headers.image_base);
      int_rva -= std::min<std::uint64_t>(int_rva, pe.headers.image_base);
    }
    ImportedDll dll;
    dll.delay_load = true;
    dll.name = name_at(pe, file, static_cast<std::uint32_t>(name));
    if (dll.name.empty()) {
      flag(pe, Anomaly::imports_unreadable, name);
      return;
    }
    if (int_rva != 0 && !read_thunks(pe, file, static_cast<std::uint32_t>(int_rva), pe.is_pe32_plus(), dll, budget))
      flag(pe, Anomaly::imports_unreadable, int_rva);
    pe.imports.push_back(std::move(dll));
  }
  flag(pe, Anomaly::imports_truncated_by_limit, limits::max_import_dlls);
}

void parse_exports(PeFile& pe, ByteView file) {
  const auto& dd = pe.directories[dir_export];
  if (dd.rva == 0) return;
  ByteView dir = at_rva(pe, file, dd.rva);
  if (!dir.fits(0, 40)) {
    flag(pe, Anomaly::exports_unreadable, dd.rva);
    return;
  }
  // A name that cannot be read is reported, not silently left empty (the truncation tests found names, the DLL
  // name and forwarders vanishing without an anomaly).
  auto export_name = [&](std::uint32_t rva, std::uint64_t detail) {
    auto n = try_name_at(pe, file, rva);
    if (!n) flag(pe, Anomaly::exports_unreadable, detail);
    return n.value_or(std::string_view{});
  };
  pe.export_dll_name = export_name(dir.le_or<std::uint32_t>(12, 0), dd.rva);
  const std::uint32_t base = dir.le_or<std::uint32_t>(16, 0);
  std::uint32_t nfuncs = dir.le_or<std::uint32_t>(20, 0);
  std::uint32_t nnames = dir.le_or<std::uint32_t>(24, 0);
  const std::uint32_t funcs_rva = dir.le_or<std::uint32_t>(28, 0);
  const std::uint32_t names_rva = dir.le_or<std::uint32_t>(32, 0);
  const std::uint32_t ords_rva = dir.le_or<std::uint32_t>(36, 0);
  if (nfuncs > limits::max_exports) {
    flag(pe, Anomaly::exports_truncated_by_limit, nfuncs);
    nfuncs = limits::max_exports;
  }
  if (nnames > limits::max_exports) {
    flag(pe, Anomaly::exports_truncated_by_limit, nnames);
    nnames = limits::max_exports;
  }
  ByteView funcs = at_rva(pe, file, funcs_rva);
  ByteView names = at_rva(pe, file, names_rva);
  ByteView ords = at_rva(pe, file, ords_rva);
  std::vector<std::string_view> name_of(nfuncs);
  for (std::uint32_t j = 0; j < nnames; ++j) {
    auto nrva = names.u32(std::uint64_t{j} * 4);
    auto idx = ords.u16(std::uint64_t{j} * 2);
    if (!nrva || !idx) {
      flag(pe, Anomaly::exports_unreadable, j);
      break;
    }
    // First name wins: when NumberOfNames is inflated, the garbage read past the real table must not overwrite
    // the names already bound (found by PeDegrade.HugeExportCounts).
    if (*idx < nfuncs && name_of[*idx].empty()) name_of[*idx] = export_name(*nrva, j);
  }
  for (std::uint32_t i = 0; i < nfuncs; ++i) {
    auto rva = funcs.u32(std::uint64_t{i} * 4);
    if (!rva) {
      flag(pe, Anomaly::exports_unreadable, i);
      break;
    }
    if (*rva == 0) continue;  // gap in the ordinal range
    Export e;
    e.rva = *rva;
    e.ordinal = base + i;
    e.name = name_of[i];
    if (*rva >= dd.rva && std::uint64_t{*rva} < std::uint64_t{dd.rva} + dd.size) e.forwarder = export_name(*rva, i);
    pe.exports.push_back(e);
  }
}

void parse_resources(PeFile& pe, ByteView file) {
  const auto& dd = pe.directories[dir_resource];
  if (dd.rva == 0) return;
  // Offsets inside the resource tree are relative to its start, so read everything through one view of it.
  ByteView rsrc = at_rva(pe, file, dd.rva);
  if (!rsrc.fits(0, 16)) {
    flag(pe, Anomaly::resources_unreadable, dd.rva);
    return;
  }
  struct Pending {
    std::uint32_t dir_off;
    int level;  // 0 type, 1 name, 2 language
    std::uint32_t type_id, name_id;
    std::string type_name;
  };
  std::vector<Pending> stack{{0, 0, 0, 0, {}}};
  std::vector<Pending> children;
  std::unordered_set<std::uint32_t> seen;
  // Directories may overlap, so a small section can hold very many directories of 4096 entries each; `seen` alone
  // bounds them by the section size, not by anything cheap (PeDegrade.ResourceTreeOfOverlappingDirectories took
  // 7 s on 1.6 MB). One budget for the whole walk bounds the work.
  std::uint32_t entry_budget = limits::max_resource_entries_walked;
  while (!stack.empty()) {
    Pending cur = std::move(stack.back());
    stack.pop_back();
    if (!seen.insert(cur.dir_off).second || cur.level > 2) {
      flag(pe, Anomaly::resources_loop_or_depth, cur.dir_off);
      continue;
    }
    auto hdr = rsrc.sub(cur.dir_off, 16);
    if (!hdr) {
      flag(pe, Anomaly::resources_unreadable, cur.dir_off);
      continue;
    }
    std::uint32_t n = std::uint32_t{hdr->le_or<std::uint16_t>(12, 0)} + hdr->le_or<std::uint16_t>(14, 0);
    if (n > limits::max_resource_dir_entries) {
      flag(pe, Anomaly::resources_truncated_by_limit, n);
      n = limits::max_resource_dir_entries;
    }
    children.clear();
    for (std::uint32_t i = 0; i < n; ++i) {
      if (entry_budget == 0) {
        flag(pe, Anomaly::resources_truncated_by_limit, limits::max_resource_entries_walked);
        return;
      }
      --entry_budget;
      auto ent = rsrc.sub(std::uint64_t{cur.dir_off} + 16 + std::uint64_t{i} * 8, 8);
      if (!ent) {
        flag(pe, Anomaly::resources_unreadable, cur.dir_off);
        break;
      }
      const std::uint32_t name = ent->le_or<std::uint32_t>(0, 0);
      const std::uint32_t target = ent->le_or<std::uint32_t>(4, 0);
      const bool named = (name & 0x80000000u) != 0;
      const std::uint32_t id = named ? 0 : name;
      if (target & 0x80000000u) {
        Pending next{target & 0x7FFFFFFFu, cur.level + 1, cur.type_id, cur.name_id, cur.type_name};
        if (cur.level == 0) {
          next.type_id = id;
          if (named) {
            ByteView s = rsrc.from(name & 0x7FFFFFFFu);
            const std::uint16_t len = s.le_or<std::uint16_t>(0, 0);
            next.type_name = utf16le_to_utf8(s.clamp(2, std::uint64_t{len} * 2), std::min<std::uint32_t>(len, 256));
          }
        } else if (cur.level == 1) {
          next.name_id = id;
        }
        children.push_back(std::move(next));
        continue;
      }
      if (pe.resources.size() >= limits::max_resources) {
        flag(pe, Anomaly::resources_truncated_by_limit, pe.resources.size());
        return;
      }
      auto data = rsrc.sub(target, 16);
      if (!data) {
        flag(pe, Anomaly::resources_unreadable, target);
        continue;
      }
      Resource r;
      r.type_id = cur.type_id;
      r.type_name = cur.type_name;
      r.name_id = cur.level >= 1 ? cur.name_id : id;
      r.lang = cur.level == 2 ? id : 0;
      r.rva = data->le_or<std::uint32_t>(0, 0);
      r.size = data->le_or<std::uint32_t>(4, 0);
      ByteView bytes = at_rva(pe, file, r.rva);
      if (bytes.size() >= r.size && r.size > 0) {
        ByteView content = bytes.clamp(0, r.size);
        pe.entropy_ranges.push_back({EntropyRange::Of::resource, static_cast<std::uint32_t>(pe.resources.size()),
                                     static_cast<std::uint64_t>(content.data() - file.data()), content.size()});
        if (r.type_id == 16 && pe.version_info.empty()) parse_version_info(pe, content);  // RT_VERSION
      }
      pe.resources.push_back(std::move(r));
    }
    // Reversed onto the stack so that subdirectories are walked, and resources reported, in file order.
    for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back(std::move(*it));
  }
}

namespace {

// One VS_VERSIONINFO-style block: wLength, wValueLength, wType, UTF-16 key, padding to 4, value, padding, children.
struct VsBlock {
  std::uint16_t length = 0, value_length = 0, type = 0;
  std::string key;
  ByteView value, children;
};

std::optional<VsBlock> read_block(ByteView b) {
  VsBlock v;
  auto len = b.u16(0);
  if (!len || *len < 6 || *len > b.size()) return std::nullopt;
  v.length = *len;
  ByteView all = b.clamp(0, *len);
  v.value_length = all.le_or<std::uint16_t>(2, 0);
  v.type = all.le_or<std::uint16_t>(4, 0);
  std::uint64_t off = 6;
  while (off + 2 <= all.size() && all.le_or<std::uint16_t>(off, 0) != 0) off += 2;
  v.key = utf16le_to_utf8(all.clamp(6, off - 6), 128);
  off = (off + 2 + 3) & ~std::uint64_t{3};
  const std::uint64_t vbytes = v.type == 1 ? std::uint64_t{v.value_length} * 2 : v.value_length;
  v.value = all.clamp(off, vbytes);
  off = (off + vbytes + 3) & ~std::uint64_t{3};
  v.children = all.from(off);
  return v;
}

template <class F>
void for_each_child(ByteView children, F&& f) {
  std::uint64_t off = 0;
  for (int guard = 0; guard < 256 && off + 6 <= children.size(); ++guard) {
    auto blk = read_block(children.from(off));
    if (!blk) return;
    f(*blk);
    off = (off + blk->length + 3) & ~std::uint64_t{3};
  }
}

}  // namespace

void parse_version_info(PeFile& pe, ByteView data) {
  auto root = read_block(data);
  if (!root || root->key != "VS_VERSION_INFO") return;
  for_each_child(root->children, [&](const VsBlock& sfi) {
    if (sfi.key != "StringFileInfo") return;
    for_each_child(sfi.children, [&](const VsBlock& table) {
      for_each_child(table.children, [&](const VsBlock& s) {
        if (pe.version_info.size() >= limits::max_version_strings) return;
        pe.version_info.emplace_back(s.key, utf16le_to_utf8(s.value, 1024));
      });
    });
  });
}

namespace {
std::optional<std::uint64_t> read_va(ByteView b, std::uint64_t off, bool plus) {
  if (plus) return b.u64(off);
  auto v = b.u32(off);
  if (!v) return std::nullopt;
  return std::uint64_t{*v};
}
}  // namespace

void parse_tls(PeFile& pe, ByteView file) {
  if (pe.directories[dir_tls].rva == 0) return;
  ByteView dir = directory_view(pe, file, dir_tls);
  pe.tls_present = true;
  const bool plus = pe.is_pe32_plus();
  auto cb_va = read_va(dir, plus ? 24 : 12, plus);
  if (!cb_va) {
    flag(pe, Anomaly::tls_malformed, pe.directories[dir_tls].rva);
    return;
  }
  if (*cb_va == 0) return;
  if (*cb_va < pe.headers.image_base || *cb_va - pe.headers.image_base > 0xFFFFFFFFu) {
    flag(pe, Anomaly::tls_malformed, *cb_va);
    return;
  }
  ByteView cbs = at_rva(pe, file, static_cast<std::uint32_t>(*cb_va - pe.headers.image_base));
  const std::uint64_t step = plus ? 8 : 4;
  for (std::uint64_t off = 0;; off += step) {
    auto v = read_va(cbs, off, plus);
    if (!v) {
      flag(pe, Anomaly::tls_malformed, off);
      return;
    }
    if (*v == 0) return;
    if (pe.tls_callbacks.size() >= limits::max_tls_callbacks) {
      flag(pe, Anomaly::tls_malformed, pe.tls_callbacks.size());
      return;
    }
    pe.tls_callbacks.push_back(*v);
  }
}

void parse_relocations(PeFile& pe, ByteView file) {
  if (pe.directories[dir_basereloc].rva == 0) return;
  ByteView dir = directory_view(pe, file, dir_basereloc);
  if (dir.size() < pe.directories[dir_basereloc].size) flag(pe, Anomaly::relocations_malformed, dir.size());
  std::uint64_t off = 0;
  while (off + 8 <= dir.size()) {
    const std::uint32_t block = dir.le_or<std::uint32_t>(off + 4, 0);
    if (block < 8 || (block & 1u) != 0 || !dir.fits(off, block)) {
      flag(pe, Anomaly::relocations_malformed, off);
      return;
    }
    if (pe.reloc_blocks >= limits::max_reloc_blocks) {
      flag(pe, Anomaly::relocations_malformed, pe.reloc_blocks);
      return;
    }
    ++pe.reloc_blocks;
    pe.reloc_entries += (block - 8) / 2;
    off += block;
  }
}

void parse_debug(PeFile& pe, ByteView file) {
  if (pe.directories[dir_debug].rva == 0) return;
  ByteView dir = directory_view(pe, file, dir_debug);
  const std::uint64_t n = pe.directories[dir_debug].size / 28;
  if (dir.size() < n * 28 || n == 0) flag(pe, Anomaly::debug_malformed, pe.directories[dir_debug].size);
  for (std::uint64_t i = 0; i < n && i < limits::max_debug_entries; ++i) {
    auto e = dir.sub(i * 28, 28);
    if (!e) break;
    DebugEntry d{e->le_or<std::uint32_t>(12, 0), e->le_or<std::uint32_t>(16, 0)};
    pe.debug.push_back(d);
    if (d.type != 2 || !pe.pdb_path.empty()) continue;  // IMAGE_DEBUG_TYPE_CODEVIEW
    ByteView cv = file.clamp(e->le_or<std::uint32_t>(24, 0), d.size);
    if (cv.starts_with("RSDS")) {
      pe.pdb_path = cv.cstr(24, limits::max_name_len).value_or(std::string_view{});
    } else if (cv.starts_with("NB10")) {
      pe.pdb_path = cv.cstr(16, limits::max_name_len).value_or(std::string_view{});
    } else {
      flag(pe, Anomaly::debug_malformed, i);
    }
  }
}

void parse_clr(PeFile& pe, ByteView file) {
  if (pe.directories[dir_clr].rva == 0) return;
  ByteView hdr = directory_view(pe, file, dir_clr);
  if (!hdr.fits(0, 20)) {
    flag(pe, Anomaly::clr_malformed, pe.directories[dir_clr].rva);
    return;
  }
  pe.clr.present = true;
  pe.clr.major = hdr.le_or<std::uint16_t>(4, 0);
  pe.clr.minor = hdr.le_or<std::uint16_t>(6, 0);
  const std::uint32_t md_rva = hdr.le_or<std::uint32_t>(8, 0);
  pe.clr.metadata_size = hdr.le_or<std::uint32_t>(12, 0);
  pe.clr.flags = hdr.le_or<std::uint32_t>(16, 0);
  ByteView md = at_rva(pe, file, md_rva);
  pe.clr.metadata = md.clamp(0, pe.clr.metadata_size);
  if (const std::uint32_t res_rva = hdr.le_or<std::uint32_t>(24, 0); res_rva != 0)
    pe.clr.resources = at_rva(pe, file, res_rva).clamp(0, hdr.le_or<std::uint32_t>(28, 0));
  if (md.u32(0) != 0x424A5342u) {  // "BSJB"
    flag(pe, Anomaly::clr_malformed, md_rva);
    return;
  }
  const std::uint32_t vlen = md.le_or<std::uint32_t>(12, 0);
  pe.clr.runtime_version = md.fixed_str(16, std::min<std::uint32_t>(vlen, 255));
}

void parse_certificate(PeFile& pe, ByteView file) {
  const auto& dd = pe.directories[dir_security];
  if (dd.rva == 0 || dd.size == 0) return;
  pe.certificate_offset = dd.rva;  // a file offset for this directory only
  pe.certificate_size = dd.size;
  if (!file.fits(dd.rva, dd.size)) {
    flag(pe, Anomaly::certificate_outside_file, dd.rva);
    return;
  }
  // Signed files end with the certificate table (8-byte aligned); bytes after it were appended after signing.
  if (std::uint64_t{dd.rva} + dd.size + 8 < file.size()) flag(pe, Anomaly::certificate_not_at_end, file.size() - dd.rva - dd.size);
}

}  // namespace mamori::pe::detail
