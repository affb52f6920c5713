// Headers, section table, Rich header and overlay; then the directory passes in directories.cpp.
#include <algorithm>

#include "common/stats.hpp"
#include "formats/pe/parse_internal.hpp"

namespace mamori::pe {

const char* anomaly_name(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::entry_point_outside_sections: return "entry_point_outside_sections";
    case Anomaly::entry_point_in_non_exec_section: return "entry_point_in_non_exec_section";
    case Anomaly::entry_point_zero_in_exe: return "entry_point_zero_in_exe";
    case Anomaly::sections_overlap: return "sections_overlap";
    case Anomaly::section_raw_beyond_file: return "section_raw_beyond_file";
    case Anomaly::section_count_zero: return "section_count_zero";
    case Anomaly::section_count_excessive: return "section_count_excessive";
    case Anomaly::section_virtual_size_huge: return "section_virtual_size_huge";
    case Anomaly::section_writable_and_executable: return "section_writable_and_executable";
    case Anomaly::section_name_non_printable: return "section_name_non_printable";
    case Anomaly::section_raw_misaligned: return "section_raw_misaligned";
    case Anomaly::optional_header_size_invalid: return "optional_header_size_invalid";
    case Anomaly::size_of_headers_beyond_file: return "size_of_headers_beyond_file";
    case Anomaly::file_alignment_invalid: return "file_alignment_invalid";
    case Anomaly::section_alignment_invalid: return "section_alignment_invalid";
    case Anomaly::size_of_image_inconsistent: return "size_of_image_inconsistent";
    case Anomaly::rva_count_invalid: return "rva_count_invalid";
    case Anomaly::data_directory_outside_image: return "data_directory_outside_image";
    case Anomaly::imports_unreadable: return "imports_unreadable";
    case Anomaly::imports_truncated_by_limit: return "imports_truncated_by_limit";
    case Anomaly::exports_unreadable: return "exports_unreadable";
    case Anomaly::exports_truncated_by_limit: return "exports_truncated_by_limit";
    case Anomaly::resources_unreadable: return "resources_unreadable";
    case Anomaly::resources_loop_or_depth: return "resources_loop_or_depth";
    case Anomaly::resources_truncated_by_limit: return "resources_truncated_by_limit";
    case Anomaly::relocations_malformed: return "relocations_malformed";
    case Anomaly::tls_malformed: return "tls_malformed";
    case Anomaly::debug_malformed: return "debug_malformed";
    case Anomaly::rich_checksum_mismatch: return "rich_checksum_mismatch";
    case Anomaly::certificate_outside_file: return "certificate_outside_file";
    case Anomaly::certificate_not_at_end: return "certificate_not_at_end";
    case Anomaly::checksum_zero: return "checksum_zero";
    case Anomaly::timestamp_in_future: return "timestamp_in_future";
    case Anomaly::timestamp_zero: return "timestamp_zero";
    case Anomaly::header_in_overlay: return "header_in_overlay";
    case Anomaly::clr_malformed: return "clr_malformed";
    case Anomaly::no_imports: return "no_imports";
    case Anomaly::kCount: break;
  }
  return "unknown";
}

std::size_t PeFile::import_function_count() const noexcept {
  std::size_t n = 0;
  for (const auto& d : imports) n += d.functions.size();
  return n;
}

namespace {

// The loader rounds PointerToRawData down to a multiple of min(FileAlignment, 512); packers rely on it. Rounding
// to 512 unconditionally misplaced every section of low-alignment images (drivers with FileAlignment 0x80, where
// PointerToRawData 0x2580 must stay 0x2580), found by the LIEF oracle on the malicious corpus.
constexpr std::uint32_t aligned_raw(std::uint32_t raw_offset, std::uint32_t file_alignment) {
  const std::uint32_t a = std::min<std::uint32_t>(file_alignment, 0x200);
  return a == 0 ? raw_offset : raw_offset - raw_offset % a;
}

// How much of the section is mapped from the file. A zero VirtualSize means "use SizeOfRawData" (old linkers).
std::uint32_t mapped_span(const Section& s) {
  return s.virtual_size == 0 ? s.raw_size : std::max(s.virtual_size, s.raw_size);
}

bool is_printable_name(std::string_view n) {
  return std::all_of(n.begin(), n.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

void parse_rich(PeFile& pe, ByteView file) {
  // "Rich" marker followed by the XOR key sits between the DOS stub and the PE header.
  const std::uint32_t end = std::min<std::uint32_t>(pe.headers.e_lfanew, 4096);
  std::uint32_t rich_at = 0;
  for (std::uint32_t off = 0x80; off + 8 <= end; off += 4) {
    if (file.u32(off) == 0x68636952u) {  // "Rich"
      rich_at = off;
      break;
    }
  }
  if (rich_at == 0) return;
  const std::uint32_t key = file.le_or<std::uint32_t>(rich_at + 4, 0);
  // Walk back to the XOR-ed "DanS" marker.
  std::uint32_t dans_at = 0;
  for (std::uint32_t off = rich_at; off >= 0x80 + 4;) {
    off -= 4;
    if ((file.le_or<std::uint32_t>(off, 0) ^ key) == 0x536E6144u) {  // "DanS"
      dans_at = off;
      break;
    }
  }
  if (dans_at == 0) return;
  pe.rich_present = true;
  // Entries start after DanS and three zero padding dwords.
  for (std::uint32_t off = dans_at + 16; off + 8 <= rich_at && pe.rich.size() < limits::max_rich_entries; off += 8) {
    const std::uint32_t id = file.le_or<std::uint32_t>(off, 0) ^ key;
    const std::uint32_t count = file.le_or<std::uint32_t>(off + 4, 0) ^ key;
    pe.rich.push_back({static_cast<std::uint16_t>(id >> 16), static_cast<std::uint16_t>(id & 0xFFFF), count});
  }
  // The key is a checksum over the DOS header (minus e_lfanew) and the entries; a mismatch means the header
  // was edited or transplanted from another binary.
  std::uint32_t sum = dans_at;
  auto rol = [](std::uint32_t v, unsigned r) { r &= 31; return r == 0 ? v : (v << r) | (v >> (32 - r)); };
  for (std::uint32_t i = 0; i < dans_at; ++i) {
    if (i >= 0x3c && i < 0x40) continue;
    sum += rol(file.le_or<std::uint8_t>(i, 0), i);
  }
  for (const auto& e : pe.rich) {
    const std::uint32_t id = (std::uint32_t{e.product_id} << 16) | e.build;
    sum += rol(id, e.count);
  }
  if (sum != key) detail::flag(pe, Anomaly::rich_checksum_mismatch, key);
}

void parse_optional_header(PeFile& pe, ByteView opt) {
  auto& h = pe.headers;
  h.magic = opt.le_or<std::uint16_t>(0, 0);
  const bool plus = h.magic == 0x20b;
  h.major_linker = opt.le_or<std::uint8_t>(2, 0);
  h.minor_linker = opt.le_or<std::uint8_t>(3, 0);
  h.size_of_code = opt.le_or<std::uint32_t>(4, 0);
  h.size_of_initialized_data = opt.le_or<std::uint32_t>(8, 0);
  h.size_of_uninitialized_data = opt.le_or<std::uint32_t>(12, 0);
  h.entry_point = opt.le_or<std::uint32_t>(16, 0);
  h.base_of_code = opt.le_or<std::uint32_t>(20, 0);
  h.image_base = plus ? opt.le_or<std::uint64_t>(24, 0) : opt.le_or<std::uint32_t>(28, 0);
  h.section_alignment = opt.le_or<std::uint32_t>(32, 0);
  h.file_alignment = opt.le_or<std::uint32_t>(36, 0);
  h.major_os = opt.le_or<std::uint16_t>(40, 0);
  h.minor_os = opt.le_or<std::uint16_t>(42, 0);
  h.major_image = opt.le_or<std::uint16_t>(44, 0);
  h.minor_image = opt.le_or<std::uint16_t>(46, 0);
  h.major_subsystem = opt.le_or<std::uint16_t>(48, 0);
  h.minor_subsystem = opt.le_or<std::uint16_t>(50, 0);
  h.size_of_image = opt.le_or<std::uint32_t>(56, 0);
  h.size_of_headers = opt.le_or<std::uint32_t>(60, 0);
  h.checksum = opt.le_or<std::uint32_t>(64, 0);
  h.subsystem = opt.le_or<std::uint16_t>(68, 0);
  h.dll_characteristics = opt.le_or<std::uint16_t>(70, 0);
  std::uint64_t dd_off = 0;
  if (plus) {
    h.stack_reserve = opt.le_or<std::uint64_t>(72, 0);
    h.stack_commit = opt.le_or<std::uint64_t>(80, 0);
    h.heap_reserve = opt.le_or<std::uint64_t>(88, 0);
    h.heap_commit = opt.le_or<std::uint64_t>(96, 0);
    h.number_of_rva_and_sizes = opt.le_or<std::uint32_t>(108, 0);
    dd_off = 112;
  } else {
    h.stack_reserve = opt.le_or<std::uint32_t>(72, 0);
    h.stack_commit = opt.le_or<std::uint32_t>(76, 0);
    h.heap_reserve = opt.le_or<std::uint32_t>(80, 0);
    h.heap_commit = opt.le_or<std::uint32_t>(84, 0);
    h.number_of_rva_and_sizes = opt.le_or<std::uint32_t>(92, 0);
    dd_off = 96;
  }
  if (opt.size() < dd_off) detail::flag(pe, Anomaly::optional_header_size_invalid, opt.size());
  if (h.number_of_rva_and_sizes != 16) detail::flag(pe, Anomaly::rva_count_invalid, h.number_of_rva_and_sizes);
  // The loader reads min(NumberOfRvaAndSizes, 16) entries, and only those inside SizeOfOptionalHeader.
  std::uint64_t n = std::min<std::uint64_t>(h.number_of_rva_and_sizes, dir_count);
  if (opt.size() > dd_off) n = std::min<std::uint64_t>(n, (opt.size() - dd_off) / 8);
  else n = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    pe.directories[i].rva = opt.le_or<std::uint32_t>(dd_off + i * 8, 0);
    pe.directories[i].size = opt.le_or<std::uint32_t>(dd_off + i * 8 + 4, 0);
  }
}

void parse_sections(PeFile& pe, ByteView file, std::uint64_t table_off) {
  const auto& h = pe.headers;
  std::uint32_t n = h.number_of_sections;
  if (n == 0) detail::flag(pe, Anomaly::section_count_zero);
  if (n > limits::max_sections) {
    detail::flag(pe, Anomaly::section_count_excessive, n);
    n = limits::max_sections;
  }
  pe.sections.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint64_t off = table_off + std::uint64_t{i} * 40;
    if (!file.fits(off, 40)) {
      detail::flag(pe, Anomaly::size_of_headers_beyond_file, off);
      break;
    }
    Section s;
    s.name = file.fixed_str(off, 8);
    s.virtual_size = file.le_or<std::uint32_t>(off + 8, 0);
    s.virtual_address = file.le_or<std::uint32_t>(off + 12, 0);
    s.raw_size = file.le_or<std::uint32_t>(off + 16, 0);
    s.raw_offset = file.le_or<std::uint32_t>(off + 20, 0);
    s.characteristics = file.le_or<std::uint32_t>(off + 36, 0);
    if (!is_printable_name(s.name)) detail::flag(pe, Anomaly::section_name_non_printable, i);
    if (s.executable() && s.writable()) detail::flag(pe, Anomaly::section_writable_and_executable, i);
    if (s.raw_size > 0) {
      const std::uint64_t start = aligned_raw(s.raw_offset, h.file_alignment);
      if (start + s.raw_size > file.size()) detail::flag(pe, Anomaly::section_raw_beyond_file, i);
      if (h.file_alignment >= 512 && (s.raw_offset % h.file_alignment) != 0)
        detail::flag(pe, Anomaly::section_raw_misaligned, i);
      pe.entropy_ranges.push_back(
          {EntropyRange::Of::section, static_cast<std::uint32_t>(pe.sections.size()), start, s.raw_size});
    }
    // Unpacker stubs reserve space far beyond what the file carries.
    if (s.virtual_size > 0x100000 && s.virtual_size / 16 > std::max<std::uint32_t>(s.raw_size, 1))
      detail::flag(pe, Anomaly::section_virtual_size_huge, i);
    pe.sections.push_back(s);
  }
  // Overlaps, in virtual space and in the file. Sorting copies keeps the table in header order.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> v, r;
  for (const auto& s : pe.sections) {
    v.emplace_back(s.virtual_address, std::uint64_t{s.virtual_address} + mapped_span(s));
    const std::uint64_t start = aligned_raw(s.raw_offset, h.file_alignment);
    if (s.raw_size > 0) r.emplace_back(start, start + s.raw_size);
  }
  for (auto* ranges : {&v, &r}) {
    std::sort(ranges->begin(), ranges->end());
    for (std::size_t i = 1; i < ranges->size(); ++i) {
      if ((*ranges)[i].first < (*ranges)[i - 1].second) {
        detail::flag(pe, Anomaly::sections_overlap, (*ranges)[i].first);
        break;
      }
    }
  }
}

void check_header_values(PeFile& pe, ByteView file) {
  const auto& h = pe.headers;
  if (h.file_alignment == 0 || (h.file_alignment & (h.file_alignment - 1)) != 0 || h.file_alignment > 0x10000)
    detail::flag(pe, Anomaly::file_alignment_invalid, h.file_alignment);
  if (h.section_alignment == 0 || (h.section_alignment & (h.section_alignment - 1)) != 0 ||
      h.section_alignment < h.file_alignment)
    detail::flag(pe, Anomaly::section_alignment_invalid, h.section_alignment);
  if (h.size_of_headers > file.size()) detail::flag(pe, Anomaly::size_of_headers_beyond_file, h.size_of_headers);
  std::uint64_t image_end = 0;
  for (const auto& s : pe.sections) image_end = std::max<std::uint64_t>(image_end, std::uint64_t{s.virtual_address} + mapped_span(s));
  if (image_end > h.size_of_image) detail::flag(pe, Anomaly::size_of_image_inconsistent, h.size_of_image);
  for (std::size_t i = 0; i < dir_count; ++i) {
    const auto& d = pe.directories[i];
    if (i == dir_security || d.rva == 0) continue;  // the security directory holds a file offset
    if (std::uint64_t{d.rva} + d.size > std::max<std::uint64_t>(h.size_of_image, image_end)) {
      detail::flag(pe, Anomaly::data_directory_outside_image, i);
    }
  }
  if (h.checksum == 0) detail::flag(pe, Anomaly::checksum_zero);
  if (h.timestamp == 0) detail::flag(pe, Anomaly::timestamp_zero);
  // A fixed bound keeps the flag reproducible; later than mid-2029 is implausible for a compile time today.
  if (h.timestamp > 0x70000000u) detail::flag(pe, Anomaly::timestamp_in_future, h.timestamp);
  if (h.e_lfanew >= 0x1000) detail::flag(pe, Anomaly::header_in_overlay, h.e_lfanew);

  const int ep_sec = pe.section_of(h.entry_point);
  if (h.entry_point == 0) {
    if (!pe.is_dll()) detail::flag(pe, Anomaly::entry_point_zero_in_exe);
  } else if (ep_sec < 0) {
    detail::flag(pe, Anomaly::entry_point_outside_sections, h.entry_point);
  } else if (!pe.sections[static_cast<std::size_t>(ep_sec)].executable() &&
             !pe.sections[static_cast<std::size_t>(ep_sec)].code()) {
    detail::flag(pe, Anomaly::entry_point_in_non_exec_section, static_cast<std::uint64_t>(ep_sec));
  }
}

void locate_overlay(PeFile& pe) {
  std::uint64_t end = pe.headers.size_of_headers;
  for (const auto& s : pe.sections) {
    if (s.raw_size == 0) continue;
    const std::uint64_t start = aligned_raw(s.raw_offset, pe.headers.file_alignment);
    end = std::max<std::uint64_t>(end, start + s.raw_size);
  }
  if (end < pe.file_size) {
    pe.overlay_offset = end;
    pe.overlay_size = pe.file_size - end;
    pe.entropy_ranges.push_back({EntropyRange::Of::overlay, 0, end, pe.file_size - end});
  }
}

}  // namespace

int PeFile::section_of(std::uint32_t rva) const noexcept {
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const auto& s = sections[i];
    if (rva >= s.virtual_address && std::uint64_t{rva} < std::uint64_t{s.virtual_address} + mapped_span(s))
      return static_cast<int>(i);
  }
  return -1;
}

std::optional<std::uint64_t> PeFile::rva_to_offset(std::uint32_t rva) const noexcept {
  const int i = section_of(rva);
  if (i < 0) {
    // Header space maps 1:1.
    if (rva < headers.size_of_headers && rva < file_size) return rva;
    return std::nullopt;
  }
  const auto& s = sections[static_cast<std::size_t>(i)];
  const std::uint32_t delta = rva - s.virtual_address;
  if (delta >= s.raw_size) return std::nullopt;  // zero-filled virtual tail
  const std::uint64_t off = std::uint64_t{aligned_raw(s.raw_offset, headers.file_alignment)} + delta;
  if (off >= file_size) return std::nullopt;
  return off;
}

namespace detail {

ByteView at_rva(const PeFile& pe, ByteView file, std::uint32_t rva) {
  auto off = pe.rva_to_offset(rva);
  if (!off) return {};
  // Only the bytes the loader maps at this RVA from the file: the rest of the section's raw data, or of the
  // headers. Reading on to the end of the file took the next section's bytes for a structure that runs into a
  // zero-filled virtual tail (an import directory 2 bytes before the raw end read as a DLL; LIEF oracle).
  const int i = pe.section_of(rva);
  const std::uint64_t avail = i < 0 ? std::uint64_t{pe.headers.size_of_headers} - rva
                                    : pe.sections[static_cast<std::size_t>(i)].raw_size -
                                          (rva - pe.sections[static_cast<std::size_t>(i)].virtual_address);
  return file.clamp(*off, avail);
}

ByteView directory_view(const PeFile& pe, ByteView file, DirectoryIndex d) {
  const auto& dir = pe.directories[d];
  if (dir.rva == 0 || dir.size == 0) return {};
  return at_rva(pe, file, dir.rva).clamp(0, dir.size);
}

}  // namespace detail

void PeFile::set_entropy(const EntropyRange& r, double e) noexcept {
  switch (r.of) {
    case EntropyRange::Of::section:
      if (r.index < sections.size()) sections[r.index].entropy = e;
      break;
    case EntropyRange::Of::overlay: overlay_entropy = e; break;
    case EntropyRange::Of::resource:
      if (r.index < resources.size()) resources[r.index].entropy = e;
      break;
  }
}

Result<PeFile> parse(ByteView file, ParseOptions options) {
  if (!file.starts_with("MZ")) return make_error(ErrorCode::not_this_format, "no MZ signature");
  PeFile pe;
  pe.file_size = file.size();
  auto lfanew = file.u32(0x3c);
  if (!lfanew) return make_error(ErrorCode::truncated, "DOS header cut off");
  pe.headers.e_lfanew = *lfanew;
  if (!file.starts_with(std::string_view("PE\0\0", 4), *lfanew))
    return make_error(ErrorCode::not_this_format, "no PE signature at e_lfanew");
  const std::uint64_t coff = std::uint64_t{*lfanew} + 4;
  if (!file.fits(coff, 20)) return make_error(ErrorCode::truncated, "COFF header cut off");
  auto& h = pe.headers;
  h.machine = file.le_or<std::uint16_t>(coff, 0);
  h.number_of_sections = file.le_or<std::uint16_t>(coff + 2, 0);
  h.timestamp = file.le_or<std::uint32_t>(coff + 4, 0);
  h.pointer_to_symbol_table = file.le_or<std::uint32_t>(coff + 8, 0);
  h.number_of_symbols = file.le_or<std::uint32_t>(coff + 12, 0);
  h.size_of_optional_header = file.le_or<std::uint16_t>(coff + 16, 0);
  h.characteristics = file.le_or<std::uint16_t>(coff + 18, 0);

  const std::uint64_t opt_off = coff + 20;
  if (!file.fits(opt_off, 2)) return make_error(ErrorCode::truncated, "optional header cut off");
  // Read the optional header as far as both the header's size field and the file allow.
  ByteView opt = file.clamp(opt_off, h.size_of_optional_header);
  const std::uint16_t magic = file.le_or<std::uint16_t>(opt_off, 0);
  if (magic != 0x10b && magic != 0x20b) detail::flag(pe, Anomaly::optional_header_size_invalid, magic);
  if (opt.size() < h.size_of_optional_header) detail::flag(pe, Anomaly::optional_header_size_invalid, opt.size());
  if (opt.size() < 2) opt = file.clamp(opt_off, 2);
  parse_optional_header(pe, opt);

  parse_sections(pe, file, opt_off + h.size_of_optional_header);
  check_header_values(pe, file);
  parse_rich(pe, file);
  locate_overlay(pe);

  detail::parse_imports(pe, file);
  detail::parse_delay_imports(pe, file);
  if (pe.imports.empty()) detail::flag(pe, Anomaly::no_imports);
  detail::parse_exports(pe, file);
  detail::parse_resources(pe, file);
  detail::parse_tls(pe, file);
  detail::parse_relocations(pe, file);
  detail::parse_debug(pe, file);
  detail::parse_clr(pe, file);
  detail::parse_certificate(pe, file);
  if (options.entropy)
    for (const auto& r : pe.entropy_ranges) pe.set_entropy(r, entropy(file.clamp(r.offset, r.size)));
  return pe;
}

}  // namespace mamori::pe
