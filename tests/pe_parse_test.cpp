// pe::parse against images synthesized by tests/support/pe_builder: every field round-trips, and damaged images
// degrade the way pe.hpp promises (an error only for "not a PE" / cut-off headers, anomalies for the rest).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "formats/pe/pe.hpp"
#include "support/pe_builder.hpp"

namespace {

using mamori::ByteView;
using mamori::ErrorCode;
namespace pe = mamori::pe;
using pe::Anomaly;
using namespace mamori::test;

std::vector<std::uint8_t> filled(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7 + (i >> 5));
  return v;
}

// Every feature the builder knows, in one image.
PeSpec full_spec(bool plus) {
  PeSpec s;
  s.pe32_plus = plus;
  s.dll = true;
  s.timestamp = 0x5E0BE100;
  s.linker_major = 14;
  s.linker_minor = 16;
  s.os_major = 6;
  s.os_minor = 1;
  s.image_major = 3;
  s.image_minor = 7;
  s.subsystem_major = 5;
  s.subsystem_minor = 2;
  s.subsystem = 3;
  s.dll_characteristics = 0x0140;
  s.stack_reserve = 0x200000;
  s.stack_commit = 0x3000;
  s.heap_reserve = 0x300000;
  s.heap_commit = 0x5000;
  s.rich = {{0x0104, 30133, 5}, {0x0105, 30133, 42}, {0x0001, 0, 201}};
  s.sections = {{".text", scn_code, filled(0x300, 1), 0x2F0}, {".data", scn_data, filled(0x80, 9), 0x1800}};
  s.imports = {{"KERNEL32.dll", {ImportFn::by_name("CreateFileW", 0xC7), ImportFn::by_name("ReadFile", 0x1A3),
                                 ImportFn::by_ordinal(17)}},
               {"WS2_32.dll", {ImportFn::by_ordinal(23), ImportFn::by_ordinal(115)}},
               {"ADVAPI32.dll", {ImportFn::by_name("RegOpenKeyExW", 0x25A)}}};
  s.delay_imports = {{"USER32.dll", {ImportFn::by_name("MessageBoxW", 0x285), ImportFn::by_ordinal(2)}},
                     {"SHELL32.dll", {ImportFn::by_name("ShellExecuteW")}}};
  s.exports = ExportSpec{"sample.dll", 5, {{"Alpha", 5}, {"Beta", 6}, {"", 8}, {"Fwd", 9, 0, "NTDLL.RtlAllocateHeap"}}};
  s.resources = {{10, "", 101, 0x409, filled(0x33, 3)}, {0, "MYTYPE", 7, 0x407, filled(0x21, 5)},
                 {10, "", 101, 0x809, filled(0x10, 8)}};
  s.version_strings = {{"CompanyName", "Example Corp"},
                       {"FileDescription", "Caf\xC3\xA9 tool \xE2\x84\xA2"},
                       {"OriginalFilename", "sample.dll"}};
  s.tls_callbacks = std::vector<std::uint32_t>{0x1010, 0x1020};
  s.relocations = {0x1004, 0x1008, 0x100C, 0x2000};
  s.pdb_path = "C:\\build\\Release\\sample.pdb";
  s.clr = ClrSpec{};
  s.overlay = filled(0x40, 0xAB);
  s.certificate = filled(0x123, 0x30);
  return s;
}

// A small executable: one code section and a few imports.
PeSpec small_exe() {
  PeSpec s;
  s.sections = {{".text", scn_code, filled(0x200, 2)}, {".data", scn_data, filled(0x40, 4)}};
  s.imports = {{"KERNEL32.dll", {ImportFn::by_name("ExitProcess", 0x16A), ImportFn::by_name("Sleep")}}};
  return s;
}

// The result's string_views point into `bytes`, which must outlive it (pe.hpp's lifetime note).
pe::PeFile parse_ok(const std::vector<std::uint8_t>& bytes) {
  auto r = pe::parse(ByteView(bytes.data(), bytes.size()));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
  if (!r.ok()) return {};
  return std::move(r).value();
}

std::string anomaly_list(const pe::PeFile& f) {
  std::string s;
  for (const auto& a : f.anomalies) s += std::string(pe::anomaly_name(a.code)) + "(" + std::to_string(a.detail) + ") ";
  return s;
}

std::vector<const pe::ImportedDll*> imports_of(const pe::PeFile& f, bool delay) {
  std::vector<const pe::ImportedDll*> v;
  for (const auto& d : f.imports) {
    if (d.delay_load == delay) v.push_back(&d);
  }
  return v;
}

void expect_imports(const std::vector<const pe::ImportedDll*>& got, const std::vector<ImportDllSpec>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i]->name, want[i].name);
    ASSERT_EQ(got[i]->functions.size(), want[i].functions.size()) << want[i].name;
    for (std::size_t j = 0; j < want[i].functions.size(); ++j) {
      const auto& g = got[i]->functions[j];
      const auto& w = want[i].functions[j];
      EXPECT_EQ(g.name, w.name);
      EXPECT_EQ(g.by_ordinal, w.name.empty());
      EXPECT_EQ(g.ordinal, w.ordinal);  // the ordinal, or the hint for named imports
    }
  }
}

class RoundTrip : public ::testing::TestWithParam<bool> {};

TEST_P(RoundTrip, EveryFieldComesBack) {
  const bool plus = GetParam();
  const PeSpec spec = full_spec(plus);
  const BuiltPe b = build_pe(spec);
  const auto& L = b.layout;
  const pe::PeFile f = parse_ok(b.bytes);

  EXPECT_TRUE(f.anomalies.empty()) << anomaly_list(f);
  EXPECT_EQ(f.anomaly_bits, 0u);
  EXPECT_EQ(f.file_size, b.bytes.size());

  // Headers.
  const auto& h = f.headers;
  EXPECT_EQ(h.e_lfanew, L.e_lfanew);
  EXPECT_EQ(h.machine, plus ? 0x8664 : 0x14c);
  EXPECT_EQ(h.number_of_sections, L.sections.size());
  EXPECT_EQ(h.timestamp, spec.timestamp);
  EXPECT_EQ(h.size_of_optional_header, plus ? 240 : 224);
  EXPECT_TRUE(f.is_dll());
  EXPECT_EQ(f.is_pe32_plus(), plus);
  EXPECT_EQ(h.magic, plus ? 0x20b : 0x10b);
  EXPECT_EQ(h.major_linker, 14);
  EXPECT_EQ(h.minor_linker, 16);
  EXPECT_EQ(h.entry_point, L.sections[0].va);
  EXPECT_EQ(h.base_of_code, L.sections[0].va);
  EXPECT_EQ(h.size_of_code, L.sections[0].raw_size);
  EXPECT_EQ(h.image_base, plus ? 0x140000000ull : 0x10000000ull);
  EXPECT_EQ(h.section_alignment, 0x1000u);
  EXPECT_EQ(h.file_alignment, 0x200u);
  EXPECT_EQ(h.major_os, 6);
  EXPECT_EQ(h.minor_os, 1);
  EXPECT_EQ(h.major_image, 3);
  EXPECT_EQ(h.minor_image, 7);
  EXPECT_EQ(h.major_subsystem, 5);
  EXPECT_EQ(h.minor_subsystem, 2);
  EXPECT_EQ(h.size_of_image, L.sections.back().va + 0x1000);
  EXPECT_EQ(h.size_of_headers, L.size_of_headers);
  EXPECT_NE(h.checksum, 0u);
  EXPECT_EQ(h.subsystem, 3);
  EXPECT_EQ(h.dll_characteristics, 0x0140);
  EXPECT_EQ(h.stack_reserve, 0x200000u);
  EXPECT_EQ(h.stack_commit, 0x3000u);
  EXPECT_EQ(h.heap_reserve, 0x300000u);
  EXPECT_EQ(h.heap_commit, 0x5000u);
  EXPECT_EQ(h.number_of_rva_and_sizes, 16u);

  // Sections: the two given ones, then .rdata, .rsrc, .reloc.
  const std::vector<std::string> names = {".text", ".data", ".rdata", ".rsrc", ".reloc"};
  ASSERT_EQ(f.sections.size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto& s = f.sections[i];
    EXPECT_EQ(s.name, names[i]);
    EXPECT_EQ(s.virtual_address, L.sections[i].va);
    EXPECT_EQ(s.virtual_size, L.sections[i].virtual_size);
    EXPECT_EQ(s.raw_offset, L.sections[i].raw_offset);
    EXPECT_EQ(s.raw_size, L.sections[i].raw_size);
    EXPECT_GT(s.entropy, 0.0);
    EXPECT_LE(s.entropy, 8.0);
  }
  EXPECT_EQ(f.sections[1].virtual_size, 0x1800u);
  EXPECT_TRUE(f.sections[0].executable() && f.sections[0].code() && !f.sections[0].writable());
  EXPECT_TRUE(f.sections[1].writable() && !f.sections[1].executable());
  EXPECT_EQ(f.section_of(L.sections[2].va + 5), 2);
  EXPECT_EQ(f.rva_to_offset(L.sections[2].va + 5), L.sections[2].raw_offset + 5);
  EXPECT_EQ(f.rva_to_offset(L.sections[1].va + 0x1000), std::nullopt);  // zero-filled virtual tail

  // Imports: regular first, then delay-load.
  ASSERT_EQ(f.imports.size(), spec.imports.size() + spec.delay_imports.size());
  EXPECT_FALSE(f.imports.front().delay_load);
  EXPECT_TRUE(f.imports.back().delay_load);
  expect_imports(imports_of(f, false), spec.imports);
  expect_imports(imports_of(f, true), spec.delay_imports);
  EXPECT_EQ(f.import_function_count(), 9u);

  // Exports: ordinal 7 is a gap; 8 is ordinal-only; 9 forwards.
  EXPECT_EQ(f.export_dll_name, "sample.dll");
  ASSERT_EQ(f.exports.size(), 4u);
  const std::uint32_t text = L.sections[0].va;
  const std::vector<std::tuple<std::string, std::uint32_t, std::string>> want_exports = {
      {"Alpha", 5, ""}, {"Beta", 6, ""}, {"", 8, ""}, {"Fwd", 9, "NTDLL.RtlAllocateHeap"}};
  for (std::size_t i = 0; i < want_exports.size(); ++i) {
    const auto& [name, ordinal, fwd] = want_exports[i];
    EXPECT_EQ(f.exports[i].name, name);
    EXPECT_EQ(f.exports[i].ordinal, ordinal);
    EXPECT_EQ(f.exports[i].forwarder, fwd);
  }
  EXPECT_EQ(f.exports[0].rva, text);
  EXPECT_EQ(f.exports[1].rva, text + 16);
  EXPECT_EQ(f.exports[2].rva, text + 32);
  EXPECT_EQ(f.section_of(f.exports[3].rva), 2);  // the forwarder string lives in the export directory

  // Resources: named type first, then RT_RCDATA (two languages), then RT_VERSION.
  ASSERT_EQ(f.resources.size(), 4u);
  EXPECT_EQ(f.resources[0].type_id, 0u);
  EXPECT_EQ(f.resources[0].type_name, "MYTYPE");
  EXPECT_EQ(f.resources[0].name_id, 7u);
  EXPECT_EQ(f.resources[0].lang, 0x407u);
  EXPECT_EQ(f.resources[0].size, 0x21u);
  EXPECT_EQ(f.resources[1].type_id, 10u);
  EXPECT_EQ(f.resources[1].name_id, 101u);
  EXPECT_EQ(f.resources[1].lang, 0x409u);
  EXPECT_EQ(f.resources[1].size, 0x33u);
  EXPECT_EQ(f.resources[2].lang, 0x809u);
  EXPECT_EQ(f.resources[2].size, 0x10u);
  EXPECT_EQ(f.resources[3].type_id, 16u);
  EXPECT_EQ(f.resources[3].name_id, 1u);
  EXPECT_EQ(f.resources[3].size, version_info_blob(spec.version_strings).size());
  for (const auto& r : f.resources) {
    EXPECT_EQ(f.section_of(r.rva), 3);
    EXPECT_GT(r.entropy, 0.0);
  }
  const auto data0 = b.bytes.begin() + L.offset_of(f.resources[1].rva);
  EXPECT_TRUE(std::equal(data0, data0 + 0x33, spec.resources[0].data.begin()));
  EXPECT_EQ(f.version_info, spec.version_strings);

  // Rich header.
  EXPECT_TRUE(f.rich_present);
  ASSERT_EQ(f.rich.size(), spec.rich.size());
  for (std::size_t i = 0; i < spec.rich.size(); ++i) {
    EXPECT_EQ(f.rich[i].product_id, spec.rich[i].product_id);
    EXPECT_EQ(f.rich[i].build, spec.rich[i].build);
    EXPECT_EQ(f.rich[i].count, spec.rich[i].count);
  }

  // TLS, relocations (3 entries + pad, 1 entry + pad), debug, CLR.
  EXPECT_TRUE(f.tls_present);
  EXPECT_EQ(f.tls_callbacks, (std::vector<std::uint64_t>{h.image_base + 0x1010, h.image_base + 0x1020}));
  EXPECT_EQ(f.reloc_blocks, 2u);
  EXPECT_EQ(f.reloc_entries, 6u);
  ASSERT_EQ(f.debug.size(), 1u);
  EXPECT_EQ(f.debug[0].type, 2u);
  EXPECT_EQ(f.debug[0].size, 24u + spec.pdb_path.size() + 1);
  EXPECT_EQ(f.pdb_path, spec.pdb_path);
  EXPECT_TRUE(f.is_dotnet());
  EXPECT_EQ(f.clr.major, 2);
  EXPECT_EQ(f.clr.minor, 5);
  EXPECT_EQ(f.clr.flags, 1u);
  EXPECT_EQ(f.clr.runtime_version, "v4.0.30319");
  EXPECT_EQ(f.clr.metadata_size, 16u + 12u + 4u);

  // Data directories the builder filled.
  EXPECT_EQ(f.directories[pe::dir_import].size, 20u * 4);
  EXPECT_EQ(f.directories[pe::dir_delay_import].size, 32u * 3);
  EXPECT_EQ(f.directories[pe::dir_tls].size, plus ? 40u : 24u);
  EXPECT_EQ(f.directories[pe::dir_clr].size, 72u);
  EXPECT_NE(f.directories[pe::dir_iat].rva, 0u);

  // Overlay (the appended blob plus the certificate table) and the certificate.
  EXPECT_EQ(f.overlay_offset, L.sections_end);
  EXPECT_EQ(f.overlay_size, b.bytes.size() - L.sections_end);
  EXPECT_EQ(f.certificate_offset, L.certificate);
  EXPECT_EQ(f.certificate_size, L.certificate_size);
  EXPECT_EQ(L.certificate + L.certificate_size, b.bytes.size());
  EXPECT_GE(L.certificate, L.sections_end + spec.overlay.size());
}

INSTANTIATE_TEST_SUITE_P(Pe, RoundTrip, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? std::string("Pe32Plus") : std::string("Pe32"); });

TEST(PeParse, MinimalExeWithoutStubOrRich) {
  PeSpec s = small_exe();
  s.dos_stub = false;
  const BuiltPe b = build_pe(s);
  const pe::PeFile f = parse_ok(b.bytes);
  EXPECT_EQ(f.headers.e_lfanew, 0x40u);
  EXPECT_FALSE(f.rich_present);
  EXPECT_FALSE(f.tls_present);
  EXPECT_FALSE(f.is_dotnet());
  EXPECT_FALSE(f.is_dll());
  EXPECT_EQ(f.headers.image_base, 0x400000u);
  EXPECT_EQ(f.overlay_size, 0u);
  EXPECT_EQ(f.certificate_size, 0u);
  EXPECT_TRUE(f.exports.empty());
  EXPECT_TRUE(f.resources.empty());
  EXPECT_TRUE(f.anomalies.empty()) << anomaly_list(f);
  expect_imports(imports_of(f, false), s.imports);
}

// Drivers often use FileAlignment == SectionAlignment == 0x80, so sections start at offsets that are not multiples
// of 0x200. The loader's round-down is to min(FileAlignment, 0x200); rounding to 0x200 misplaced every section.
TEST(PeParse, LowAlignmentImage) {
  PeSpec s = small_exe();
  s.section_alignment = s.file_alignment = 0x80;
  s.subsystem = 1;  // native
  s.sections[0].data.resize(0x190, 0xCC);
  s.exports = ExportSpec{"drv.sys", 1, {{"DriverEntry", 1}}};
  s.version_strings = {{"FileDescription", "low alignment"}};
  const BuiltPe b = build_pe(s);
  ASSERT_NE(b.layout.sections[1].raw_offset % 0x200, 0u);
  for (const auto& p : b.layout.sections) EXPECT_EQ(p.va, p.raw_offset);
  const pe::PeFile f = parse_ok(b.bytes);
  EXPECT_TRUE(f.anomalies.empty()) << anomaly_list(f);
  expect_imports(imports_of(f, false), s.imports);
  ASSERT_EQ(f.exports.size(), 1u);
  EXPECT_EQ(f.exports[0].name, "DriverEntry");
  EXPECT_EQ(f.version_info, s.version_strings);
  EXPECT_EQ(f.rva_to_offset(b.layout.sections[1].va + 3), b.layout.sections[1].raw_offset + 3);
}

// ---- Degradation: errors only for non-PE bytes and cut-off headers. ----

TEST(PeDegrade, NotMz) {
  std::vector<std::uint8_t> v = build_pe(small_exe()).bytes;
  v[0] = 'Z';
  auto r = pe::parse(ByteView(v.data(), v.size()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::not_this_format);

  const std::vector<std::uint8_t> text = {'h', 'e', 'l', 'l', 'o'};
  auto t = pe::parse(ByteView(text.data(), text.size()));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::not_this_format);
  auto e = pe::parse(ByteView());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, ErrorCode::not_this_format);
}

TEST(PeDegrade, BadPeSignatureOrLfanew) {
  BuiltPe b = build_pe(small_exe());
  std::vector<std::uint8_t> v = b.bytes;
  v[b.layout.e_lfanew + 1] = 'X';
  auto r = pe::parse(ByteView(v.data(), v.size()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::not_this_format);

  for (std::uint32_t lfanew : {0xFFFFFFFFu, 0xFFFFFFFCu, 0x80000000u, static_cast<std::uint32_t>(v.size())}) {
    std::vector<std::uint8_t> w = b.bytes;
    put32(w, 0x3c, lfanew);
    auto x = pe::parse(ByteView(w.data(), w.size()));
    ASSERT_FALSE(x.ok()) << lfanew;
    EXPECT_EQ(x.error().code, ErrorCode::not_this_format);
  }
}

// Cuts a valid image at every length (copied into an exact-size buffer so ASan sees any over-read) and checks
// that each prefix either fails with the right code or parses into a subset of the full result, with the
// anomalies that explain what went missing.
void truncate_everywhere(const PeSpec& spec) {
  const BuiltPe b = build_pe(spec);
  const auto& L = b.layout;
  const pe::PeFile full = parse_ok(b.bytes);
  ASSERT_TRUE(full.anomalies.empty()) << anomaly_list(full);
  const std::uint32_t optional_magic_end = L.optional_header + 2;
  const std::uint32_t table_end = L.section_table + 40 * static_cast<std::uint32_t>(L.sections.size());
  std::size_t ok_count = 0;
  for (std::size_t n = 0; n < b.bytes.size(); ++n) {
    SCOPED_TRACE("length " + std::to_string(n));
    const std::vector<std::uint8_t> cut(b.bytes.begin(), b.bytes.begin() + static_cast<std::ptrdiff_t>(n));
    auto r = pe::parse(ByteView(cut.data(), cut.size()));
    if (n < 2 || (n >= 0x40 && n < L.e_lfanew + 4)) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, ErrorCode::not_this_format);
      continue;
    }
    if (n < 0x40 || n < optional_magic_end) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, ErrorCode::truncated);
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ++ok_count;
    const pe::PeFile& f = r.value();
    EXPECT_EQ(f.file_size, n);
    EXPECT_EQ(f.headers.number_of_sections, full.headers.number_of_sections);
    EXPECT_TRUE(f.has(Anomaly::size_of_headers_beyond_file) || n >= L.size_of_headers);
    if (n >= table_end) {
      EXPECT_EQ(f.has(Anomaly::section_raw_beyond_file), n < L.sections_end) << anomaly_list(f);
      ASSERT_EQ(f.sections.size(), full.sections.size());
      EXPECT_EQ(f.headers.entry_point, full.headers.entry_point);
    } else {
      EXPECT_LT(f.sections.size(), full.sections.size());
    }
    if (n >= L.section_table + 40) {
      // Whatever was read must agree with the full parse; whatever is missing must be explained.
      auto prefix_of = [](const pe::ImportedDll& part, const pe::ImportedDll& whole) {
        return part.name == whole.name && part.functions.size() <= whole.functions.size() &&
               std::equal(part.functions.begin(), part.functions.end(), whole.functions.begin(),
                          [](const auto& x, const auto& y) {
                            return x.name == y.name && x.ordinal == y.ordinal && x.by_ordinal == y.by_ordinal;
                          });
      };
      bool imports_complete = true;
      for (bool delay : {false, true}) {
        const auto part = imports_of(f, delay), whole = imports_of(full, delay);
        ASSERT_LE(part.size(), whole.size());
        for (std::size_t i = 0; i < part.size(); ++i) {
          EXPECT_TRUE(prefix_of(*part[i], *whole[i])) << part[i]->name;
          imports_complete = imports_complete && part[i]->functions.size() == whole[i]->functions.size();
        }
        imports_complete = imports_complete && part.size() == whole.size();
      }
      EXPECT_TRUE(imports_complete || f.has(Anomaly::imports_unreadable)) << anomaly_list(f);

      ASSERT_LE(f.exports.size(), full.exports.size());
      bool exports_complete = f.exports.size() == full.exports.size() && f.export_dll_name == full.export_dll_name;
      for (std::size_t i = 0; i < f.exports.size(); ++i) {
        EXPECT_EQ(f.exports[i].ordinal, full.exports[i].ordinal);
        EXPECT_EQ(f.exports[i].rva, full.exports[i].rva);
        exports_complete = exports_complete && f.exports[i].name == full.exports[i].name &&
                           f.exports[i].forwarder == full.exports[i].forwarder;
      }
      EXPECT_TRUE(exports_complete || f.has(Anomaly::exports_unreadable)) << anomaly_list(f);

      ASSERT_LE(f.resources.size(), full.resources.size());
      bool resources_complete = f.resources.size() == full.resources.size();
      for (const auto& x : f.resources) {  // unreadable entries are skipped, so match by key, not by index
        const auto y = std::find_if(full.resources.begin(), full.resources.end(), [&](const pe::Resource& w) {
          return x.type_id == w.type_id && x.name_id == w.name_id && x.lang == w.lang;
        });
        ASSERT_NE(y, full.resources.end()) << x.type_id << "/" << x.name_id << "/" << x.lang;
        EXPECT_TRUE(x.rva == y->rva && x.size == y->size);
        resources_complete = resources_complete && x.type_name == y->type_name;
      }
      EXPECT_TRUE(resources_complete || f.has(Anomaly::resources_unreadable)) << anomaly_list(f);
      EXPECT_LE(f.version_info.size(), full.version_info.size());
      EXPECT_LE(f.tls_callbacks.size(), full.tls_callbacks.size());
      EXPECT_LE(f.reloc_entries, full.reloc_entries);
    }
    if (n < table_end) continue;  // below here the optional header and section table are whole
    if (n > L.sections_end) {
      EXPECT_EQ(f.overlay_offset, L.sections_end);
      EXPECT_EQ(f.overlay_size, n - L.sections_end);
    } else {
      EXPECT_EQ(f.overlay_size, 0u);
    }
    if (L.certificate != 0) {
      EXPECT_EQ(f.has(Anomaly::certificate_outside_file), n < L.certificate + L.certificate_size);
    }
  }
  EXPECT_GT(ok_count, b.bytes.size() / 2);
}

TEST(PeDegrade, TruncatedAtEveryOffsetPe32) { truncate_everywhere(full_spec(false)); }
TEST(PeDegrade, TruncatedAtEveryOffsetPe32Plus) { truncate_everywhere(full_spec(true)); }

TEST(PeDegrade, EntryPointOutsideSections) {
  PeSpec s = small_exe();
  s.entry_point = 0x900000;
  const BuiltPe f_image = build_pe(s);
  const pe::PeFile f = parse_ok(f_image.bytes);
  EXPECT_TRUE(f.has(Anomaly::entry_point_outside_sections)) << anomaly_list(f);
  EXPECT_EQ(f.anomalies.size(), 1u) << anomaly_list(f);
  EXPECT_EQ(f.anomalies[0].detail, 0x900000u);

  s.entry_point = 0x2000;  // inside .data
  const BuiltPe g_image = build_pe(s);
  const pe::PeFile g = parse_ok(g_image.bytes);
  EXPECT_TRUE(g.has(Anomaly::entry_point_in_non_exec_section)) << anomaly_list(g);
  EXPECT_FALSE(g.has(Anomaly::entry_point_outside_sections));

  s.entry_point = 0;
  const BuiltPe z_image = build_pe(s);
  const pe::PeFile z = parse_ok(z_image.bytes);
  EXPECT_TRUE(z.has(Anomaly::entry_point_zero_in_exe)) << anomaly_list(z);
}

TEST(PeDegrade, OverlappingSections) {
  const BuiltPe b = build_pe(small_exe());
  const auto& L = b.layout;
  ASSERT_EQ(parse_ok(b.bytes).anomalies.size(), 0u);

  std::vector<std::uint8_t> v = b.bytes;  // .data's VA inside .text
  put32(v, L.section_table + 40 + 12, L.sections[0].va + 0x100);
  const pe::PeFile f = parse_ok(v);
  EXPECT_TRUE(f.has(Anomaly::sections_overlap)) << anomaly_list(f);

  std::vector<std::uint8_t> w = b.bytes;  // .data's raw data inside .text's
  put32(w, L.section_table + 40 + 20, L.sections[0].raw_offset);
  const pe::PeFile g = parse_ok(w);
  EXPECT_TRUE(g.has(Anomaly::sections_overlap)) << anomaly_list(g);
  ASSERT_EQ(g.sections.size(), 3u);
  EXPECT_EQ(g.sections[1].raw_offset, L.sections[0].raw_offset);
}

TEST(PeDegrade, SectionCountExcessive) {
  const BuiltPe b = build_pe(small_exe());
  std::vector<std::uint8_t> v = b.bytes;
  put16(v, b.layout.e_lfanew + 6, 0xFFFF);
  const pe::PeFile f = parse_ok(v);
  EXPECT_TRUE(f.has(Anomaly::section_count_excessive)) << anomaly_list(f);
  EXPECT_EQ(f.headers.number_of_sections, 0xFFFF);
  EXPECT_LE(f.sections.size(), pe::limits::max_sections);
  EXPECT_GE(f.sections.size(), 2u);
  EXPECT_EQ(f.sections[0].name, ".text");

  put16(v, b.layout.e_lfanew + 6, 0);
  const pe::PeFile z = parse_ok(v);
  EXPECT_TRUE(z.has(Anomaly::section_count_zero));
  EXPECT_TRUE(z.sections.empty());
}

TEST(PeDegrade, ImportThunksRunOffTheFile) {
  PeSpec s = small_exe();
  s.imports.push_back({"USER32.dll", {ImportFn::by_name("MessageBoxA", 1), ImportFn::by_name("GetDC", 2)}});
  const BuiltPe b = build_pe(s);
  ASSERT_EQ(b.layout.import_lookup_tables.size(), 2u);
  // The second DLL's lookup table is the last thing in the file: keep its first thunk only.
  std::vector<std::uint8_t> v(b.bytes.begin(), b.bytes.begin() + b.layout.import_lookup_tables[1] + 4);
  const pe::PeFile f = parse_ok(v);
  EXPECT_TRUE(f.has(Anomaly::imports_unreadable)) << anomaly_list(f);
  EXPECT_TRUE(f.has(Anomaly::section_raw_beyond_file));
  ASSERT_EQ(f.imports.size(), 2u);
  expect_imports({&f.imports[0]}, {s.imports[0]});
  EXPECT_EQ(f.imports[1].name, "USER32.dll");
  ASSERT_EQ(f.imports[1].functions.size(), 1u);
  EXPECT_EQ(f.imports[1].functions[0].name, "MessageBoxA");
}

// The loader stops at the first descriptor whose Name or FirstThunk is zero, whatever the other fields hold.
TEST(PeDegrade, ImportTerminatorWithJunkLookupTable) {
  PeSpec s = small_exe();
  s.imports.push_back({"USER32.dll", {ImportFn::by_name("GetDC", 2)}});
  const BuiltPe b = build_pe(s);
  std::vector<std::uint8_t> v = b.bytes;
  const std::uint32_t terminator = b.layout.import_descriptors + 20 * 2;
  put32(v, terminator, 0x00417C00);  // OriginalFirstThunk: junk (a VA)
  put32(v, terminator + 12, b.layout.sections[0].va);  // a Name, but FirstThunk stays 0
  const pe::PeFile f = parse_ok(v);
  expect_imports(imports_of(f, false), s.imports);
  EXPECT_TRUE(f.anomalies.empty()) << anomaly_list(f);
}

// An import directory that starts 2 bytes before the end of a section's raw data continues, in the image, into
// the zero-filled virtual tail: the loader sees a terminator. The next section's file bytes (here a copy of a valid
// descriptor) must not be read in its place.
TEST(PeDegrade, ImportDescriptorRunningIntoVirtualTail) {
  PeSpec s = small_exe();
  s.sections[0].virtual_size = 0x1000;  // .text: 0x200 bytes of raw data, zeros after that in memory
  const BuiltPe b = build_pe(s);
  const auto& text = b.layout.sections[0];
  ASSERT_EQ(text.raw_size, 0x200u);
  ASSERT_EQ(b.layout.sections[1].raw_offset, text.raw_offset + text.raw_size);  // .data's bytes follow in the file
  std::vector<std::uint8_t> v = b.bytes;
  std::copy_n(b.bytes.begin() + b.layout.import_descriptors, 20, v.begin() + text.raw_offset + text.raw_size - 2);
  put32(v, b.layout.data_directories + 8 * pe::dir_import, text.va + text.raw_size - 2);
  const pe::PeFile f = parse_ok(v);
  EXPECT_TRUE(f.imports.empty()) << f.imports.front().name;
  EXPECT_TRUE(f.has(Anomaly::imports_unreadable)) << anomaly_list(f);
}

TEST(PeDegrade, ImportDirectoryOutsideImage) {
  const BuiltPe b = build_pe(small_exe());
  std::vector<std::uint8_t> v = b.bytes;
  put32(v, b.layout.data_directories + 8 * pe::dir_import, 0x7FFFFFF0);
  const pe::PeFile f = parse_ok(v);
  EXPECT_TRUE(f.has(Anomaly::imports_unreadable)) << anomaly_list(f);
  EXPECT_TRUE(f.has(Anomaly::data_directory_outside_image));
  EXPECT_TRUE(f.has(Anomaly::no_imports));
  EXPECT_TRUE(f.imports.empty());
}

TEST(PeDegrade, ResourceDirectoryLoop) {
  PeSpec s = small_exe();
  s.version_strings = {{"ProductName", "Loop"}};
  const BuiltPe b = build_pe(s);
  const std::uint32_t root = b.layout.resource_root;
  std::vector<std::uint8_t> v = b.bytes;
  // The root's first entry leads to the name-level directory; make that directory's entry point back at itself.
  const std::uint32_t name_dir = get32(v, root + 16 + 4) & 0x7FFFFFFFu;
  put32(v, root + name_dir + 16 + 4, 0x80000000u | name_dir);
  const pe::PeFile f = parse_ok(v);
  EXPECT_TRUE(f.has(Anomaly::resources_loop_or_depth)) << anomaly_list(f);
  EXPECT_TRUE(f.resources.empty());

  // A chain deeper than type/name/language.
  std::vector<std::uint8_t> w = b.bytes;
  const std::uint32_t lang_dir = get32(w, root + name_dir + 16 + 4) & 0x7FFFFFFFu;
  put32(w, root + lang_dir + 16 + 4, 0x80000000u);  // language entry -> the root again
  const pe::PeFile g = parse_ok(w);
  EXPECT_TRUE(g.has(Anomaly::resources_loop_or_depth)) << anomaly_list(g);
}

TEST(PeDegrade, HugeExportCounts) {
  PeSpec s = small_exe();
  s.exports = ExportSpec{"x.dll", 1, {{"One", 1}, {"Two", 2}}};
  const BuiltPe b = build_pe(s);
  std::vector<std::uint8_t> v = b.bytes;
  put32(v, b.layout.export_directory + 20, 0xFFFFFFFFu);  // NumberOfFunctions
  put32(v, b.layout.export_directory + 24, 0x7FFFFFFFu);  // NumberOfNames
  const pe::PeFile f = parse_ok(v);
  EXPECT_TRUE(f.has(Anomaly::exports_truncated_by_limit)) << anomaly_list(f);
  EXPECT_LE(f.exports.size(), pe::limits::max_exports);
  ASSERT_GE(f.exports.size(), 2u);
  EXPECT_EQ(f.exports[0].name, "One");
  EXPECT_EQ(f.exports[1].name, "Two");
}

TEST(PeDegrade, RichChecksum) {
  PeSpec s = small_exe();
  s.rich = {{0x00FF, 0x1234, 3}, {0x0102, 0x7809, 77}};
  const BuiltPe good_image = build_pe(s);
  const pe::PeFile good = parse_ok(good_image.bytes);
  EXPECT_TRUE(good.rich_present);
  EXPECT_FALSE(good.has(Anomaly::rich_checksum_mismatch)) << anomaly_list(good);
  ASSERT_EQ(good.rich.size(), 2u);
  EXPECT_EQ(good.rich[1].count, 77u);

  s.corrupt_rich_checksum = true;
  const BuiltPe bad_image = build_pe(s);
  const pe::PeFile bad = parse_ok(bad_image.bytes);
  EXPECT_TRUE(bad.rich_present);
  EXPECT_TRUE(bad.has(Anomaly::rich_checksum_mismatch)) << anomaly_list(bad);
  ASSERT_EQ(bad.rich.size(), 2u);  // the entries still decode with the stored key
  EXPECT_EQ(bad.rich[0].product_id, 0x00FF);

  // An edited DOS stub byte breaks the checksum too.
  s.corrupt_rich_checksum = false;
  std::vector<std::uint8_t> v = build_pe(s).bytes;
  v[0x50] ^= 0x01;
  EXPECT_TRUE(parse_ok(v).has(Anomaly::rich_checksum_mismatch));
}

TEST(PeDegrade, OverlayAndCertificatePlacement) {
  PeSpec s = small_exe();
  s.overlay = filled(0x1234, 7);
  const BuiltPe b = build_pe(s);
  const pe::PeFile f = parse_ok(b.bytes);
  EXPECT_EQ(f.overlay_offset, b.layout.sections_end);
  EXPECT_EQ(f.overlay_size, 0x1234u);

  s.certificate = filled(0x100, 1);
  s.after_certificate = filled(0x40, 2);  // appended after signing
  const BuiltPe c = build_pe(s);
  const pe::PeFile g = parse_ok(c.bytes);
  EXPECT_EQ(g.certificate_offset, c.layout.certificate);
  EXPECT_EQ(g.certificate_size, c.layout.certificate_size);
  EXPECT_TRUE(g.has(Anomaly::certificate_not_at_end)) << anomaly_list(g);
  EXPECT_FALSE(g.has(Anomaly::certificate_outside_file));
  EXPECT_EQ(g.overlay_size, c.bytes.size() - c.layout.sections_end);

  std::vector<std::uint8_t> v = c.bytes;  // a certificate size reaching past the end
  put32(v, c.layout.data_directories + 8 * pe::dir_security + 4, 0xFFFFFF00u);
  const pe::PeFile h = parse_ok(v);
  EXPECT_TRUE(h.has(Anomaly::certificate_outside_file)) << anomaly_list(h);
  EXPECT_FALSE(h.has(Anomaly::certificate_not_at_end));
}

TEST(PeDegrade, TlsCallbacksUnterminated) {
  PeSpec s = small_exe();
  s.tls_callbacks = std::vector<std::uint32_t>{0x1000};
  const BuiltPe b = build_pe(s);
  std::vector<std::uint8_t> v = b.bytes;
  const std::uint32_t tls = b.layout.tls_directory;
  // AddressOfCallBacks -> a VA far outside the image.
  put32(v, tls + 12, 0x7FFF0000u);
  const pe::PeFile f = parse_ok(v);
  EXPECT_TRUE(f.tls_present);
  EXPECT_TRUE(f.has(Anomaly::tls_malformed)) << anomaly_list(f);
  EXPECT_TRUE(f.tls_callbacks.empty());
}

TEST(PeDegrade, ClrWithoutMetadataSignature) {
  PeSpec s = small_exe();
  s.clr = ClrSpec{};
  const BuiltPe b = build_pe(s);
  std::vector<std::uint8_t> v = b.bytes;
  const std::uint32_t md = b.layout.offset_of(get32(v, b.layout.clr_header + 8));
  v[md] = 'X';
  const pe::PeFile f = parse_ok(v);
  EXPECT_TRUE(f.is_dotnet());
  EXPECT_TRUE(f.has(Anomaly::clr_malformed)) << anomaly_list(f);
  EXPECT_TRUE(f.clr.runtime_version.empty());
}

}  // namespace

// Overlapping directories make a small section hold very many large ones: a directory "at record m" reads its
// counts from record m and its entries from records m+1..m+4096. Region A holds the root's 4096 entries and 4096
// spread-out level-1 directories whose entries fan out into region B; every B record is an unreadable leaf whose
// value also claims 0x7FFF+ entries. Unbudgeted, the walk makes 16M pushes and visits ~100k level-2 directories
// of 4096 entries each (~400M steps) from a 1.6 MB section.
TEST(PeDegrade, ResourceTreeOfOverlappingDirectories) {
  constexpr std::uint32_t spread = 24, na = 4096 + 4096 * spread + 4098, nb = 100000;
  constexpr std::uint32_t a_base = 16, b_base = a_base + 8 * na;
  std::vector<std::uint8_t> rsrc(b_base + 8 * std::size_t{nb}, 0);
  auto dir_at = [](std::uint32_t base, std::uint32_t m) { return 0x80000000u | (base + 8 * (m - 1)); };
  put16(rsrc, 14, 4096);  // the root: 4096 ID entries = A records 0..4095
  for (std::uint32_t k = 0; k < na; ++k) {
    put32(rsrc, a_base + 8 * k, k);
    put32(rsrc, a_base + 8 * k + 4,
          k < 4096 ? dir_at(a_base, 4096 + spread * k)
                   : dir_at(b_base, 1 + static_cast<std::uint32_t>((k * 7919ull) % (nb - 4098))));
  }
  for (std::uint32_t k = 0; k < nb; ++k) {
    put32(rsrc, b_base + 8 * k, k);
    put32(rsrc, b_base + 8 * k + 4, 0x7FFFFFF0u);  // a leaf beyond the section
  }
  PeSpec s = small_exe();
  s.sections.push_back({".rsrc", scn_rdata, rsrc});
  BuiltPe b = build_pe(s);
  put32(b.bytes, b.layout.data_directories + 8 * pe::dir_resource, b.layout.sections[2].va);
  put32(b.bytes, b.layout.data_directories + 8 * pe::dir_resource + 4, static_cast<std::uint32_t>(rsrc.size()));
  const auto start = std::chrono::steady_clock::now();
  const pe::PeFile f = parse_ok(b.bytes);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  EXPECT_TRUE(f.has(Anomaly::resources_truncated_by_limit)) << anomaly_list(f);
  EXPECT_TRUE(f.has(Anomaly::resources_unreadable)) << anomaly_list(f);
  EXPECT_TRUE(f.resources.empty());
  EXPECT_LT(ms.count(), 1000);
}

// Each table stops exactly at its cap in pe::limits and says so.
TEST(PeDegrade, TablesStopAtTheirCaps) {
  PeSpec s = small_exe();
  s.imports.clear();
  for (std::uint32_t i = 0; i < pe::limits::max_import_dlls + 6; ++i)
    s.imports.push_back({"D" + std::to_string(i) + ".dll", {ImportFn::by_ordinal(static_cast<std::uint16_t>(i))}});
  s.tls_callbacks = std::vector<std::uint32_t>(pe::limits::max_tls_callbacks + 9, 0x1000);
  for (std::uint32_t i = 0; i < pe::limits::max_reloc_blocks + 3; ++i) s.relocations.push_back(i << 12);
  // 4000 names per type keeps each name directory under max_resource_dir_entries.
  for (std::uint32_t i = 0; i < pe::limits::max_resources + 11; ++i)
    s.resources.push_back({10 + i / 4000, "", i % 4000 + 1, 0x409, {1}});
  const BuiltPe f_image = build_pe(s);
  const pe::PeFile f = parse_ok(f_image.bytes);
  EXPECT_TRUE(f.has(Anomaly::imports_truncated_by_limit)) << anomaly_list(f);
  EXPECT_EQ(f.imports.size(), pe::limits::max_import_dlls);
  EXPECT_EQ(f.imports.back().name, "D" + std::to_string(pe::limits::max_import_dlls - 1) + ".dll");
  EXPECT_TRUE(f.has(Anomaly::tls_malformed));
  EXPECT_EQ(f.tls_callbacks.size(), pe::limits::max_tls_callbacks);
  EXPECT_TRUE(f.has(Anomaly::relocations_malformed));
  EXPECT_EQ(f.reloc_blocks, pe::limits::max_reloc_blocks);
  EXPECT_TRUE(f.has(Anomaly::resources_truncated_by_limit));
  EXPECT_EQ(f.resources.size(), pe::limits::max_resources);
  EXPECT_EQ(f.resources.back().type_id, 12u);  // file order: the first 8192 leaves end at type 12, name 192
  EXPECT_EQ(f.resources.back().name_id, 192u);

  PeSpec many = small_exe();  // the import budget counts functions across DLLs
  many.imports = {{"A.dll", {}}, {"B.dll", {ImportFn::by_ordinal(1)}}};
  for (std::uint32_t i = 0; i < pe::limits::max_imports_total + 5; ++i)
    many.imports[0].functions.push_back(ImportFn::by_ordinal(static_cast<std::uint16_t>(i)));
  const BuiltPe g_image = build_pe(many);
  const pe::PeFile g = parse_ok(g_image.bytes);
  EXPECT_TRUE(g.has(Anomaly::imports_truncated_by_limit)) << anomaly_list(g);
  EXPECT_EQ(g.import_function_count(), pe::limits::max_imports_total);
  EXPECT_EQ(g.imports.size(), 1u);
}
