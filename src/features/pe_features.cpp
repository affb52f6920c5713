#include "features/pe_features.hpp"

#include "features/pe_internal.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>

namespace mamori::features {

namespace {

constexpr std::uint8_t ascii_lower(char c) {
  return static_cast<std::uint8_t>((c >= 'A' && c <= 'Z') ? c + 32 : c);
}

// FNV-1a over lower-cased bytes; continues from `h` so "dll" + ":" + "func" hashes without building the string.
constexpr std::uint32_t fnv(std::string_view s, std::uint32_t h = 2166136261u) {
  for (char c : s) {
    h ^= ascii_lower(c);
    h *= 16777619u;
  }
  return h;
}

// "KERNEL32.dll" -> "kernel32": the extension carries no information and varies in case.
std::string_view dll_stem(std::string_view n) {
  if (auto dot = n.rfind('.'); dot != std::string_view::npos) n = n.substr(0, dot);
  return n;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

// Behavioural API groups: what the code intends to do, independent of which toolchain built it. A name matches
// a prefix so both the A and W forms (and Ex variants) count.
struct ApiGroup {
  const char* name;
  std::initializer_list<const char*> prefixes;
};
const std::array<ApiGroup, 14>& api_groups() {
  static const std::array<ApiGroup, 14> g = {{
      {"injection", {"VirtualAllocEx", "WriteProcessMemory", "CreateRemoteThread", "NtUnmapViewOfSection",
                     "ZwUnmapViewOfSection", "QueueUserAPC", "SetThreadContext", "NtWriteVirtualMemory",
                     "RtlCreateUserThread", "NtCreateThreadEx", "ResumeThread"}},
      {"dynamic_resolution", {"LoadLibrary", "GetProcAddress", "LdrLoadDll", "LdrGetProcedureAddress", "GetModuleHandle"}},
      {"memory_protection", {"VirtualProtect", "VirtualAlloc", "NtProtectVirtualMemory", "HeapCreate"}},
      {"crypto", {"Crypt", "BCrypt", "NCrypt"}},
      {"network", {"WinHttp", "InternetOpen", "InternetConnect", "InternetReadFile", "HttpSendRequest",
                   "HttpOpenRequest", "URLDownloadTo", "WSAStartup", "socket", "connect", "send", "recv",
                   "gethostbyname", "getaddrinfo", "DnsQuery"}},
      {"anti_debug", {"IsDebuggerPresent", "CheckRemoteDebuggerPresent", "NtQueryInformationProcess",
                      "OutputDebugString", "NtSetInformationThread", "GetTickCount", "QueryPerformanceCounter"}},
      {"keylog_screen", {"SetWindowsHookEx", "GetAsyncKeyState", "GetKeyState", "GetForegroundWindow",
                         "BitBlt", "GetClipboardData"}},
      {"persistence", {"RegSetValue", "RegCreateKey", "CreateService", "ChangeServiceConfig", "StartService",
                       "OpenSCManager"}},
      {"process_enum", {"CreateToolhelp32Snapshot", "Process32First", "Process32Next", "EnumProcesses",
                        "Module32First", "OpenProcess"}},
      {"execution", {"ShellExecute", "WinExec", "CreateProcess", "system", "_wsystem"}},
      {"file_ops", {"CreateFile", "WriteFile", "DeleteFile", "MoveFile", "CopyFile", "FindFirstFile", "FindNextFile",
                    "SetFileAttributes"}},
      {"privilege", {"AdjustTokenPrivileges", "OpenProcessToken", "LookupPrivilegeValue", "ImpersonateLoggedOnUser",
                     "DuplicateToken"}},
      {"ui", {"CreateWindow", "DialogBox", "MessageBox", "RegisterClass", "GetMessage", "DispatchMessage", "BeginPaint"}},
      {"system_info", {"GetComputerName", "GetUserName", "GetVersion", "GetSystemInfo", "GlobalMemoryStatus",
                       "GetVolumeInformation", "GetNativeSystemInfo"}},
  }};
  return g;
}

bool has_prefix(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Section names of well-known packers and protectors.
bool packer_section(std::string_view n) {
  for (const char* p : {"UPX", ".aspack", ".adata", ".themida", ".vmp", ".MPRESS", ".petite", ".nsp", ".enigma",
                        "PEC2", ".packed", ".perplex", "pebundle", ".yP", ".spack", ".boom", ".ccg", ".taz", "BitArts",
                        ".winapi", ".svkp", "kkrunchy", ".RLPack", "ASPack", ".pec"}) {
    if (has_prefix(n, p)) return true;
  }
  return false;
}
bool standard_section(std::string_view n) {
  for (const char* p : {".text", ".data", ".rdata", ".rsrc", ".reloc", ".idata", ".edata", ".pdata", ".tls", ".bss",
                        ".CRT", ".didat", ".gfids", ".00cfg", ".xdata", ".code", "CODE", "DATA", "BSS", ".itext",
                        ".textbss", ".sdata", ".debug", ".ndata", ".buildid", "/4", "/1"}) {
    if (n == p || (p[0] == '/' && has_prefix(n, "/"))) return true;
  }
  return false;
}

void byte_groups(Emitter& e, const ByteStats& b) {
  const double content = static_cast<double>(std::max<std::uint64_t>(b.content_size, 1));
  e.group("byte_histogram", "Byte value frequencies over the content (padding runs excluded), normalised to sum 1.");
  e.add_array("p", 256, [&](std::size_t i) { return static_cast<double>(b.histogram[i]) / content; });

  e.group("byte_entropy", "Joint histogram of 2 KiB window entropy (16 bins of nibble entropy) and high nibble, "
                          "1 KiB step, over the content, normalised to sum 1.");
  double total = 0;
  for (const auto& row : b.entropy_histogram)
    for (auto c : row) total += c;
  total = std::max(total, 1.0);
  e.add_array("h", 256, [&](std::size_t i) { return b.entropy_histogram[i / 16][i % 16] / total; });

  e.group("strings", "Printable ASCII runs of 5+ bytes and UTF-16LE runs of 5+ characters over the content; "
                     "pattern counts are case-insensitive substrings inside those strings.");
  e.add("count_log", log_size(static_cast<double>(b.strings)));
  e.add("per_kib", static_cast<double>(b.strings) * 1024.0 / content);
  e.add("avg_length", b.strings ? static_cast<double>(b.string_bytes) / static_cast<double>(b.strings) : 0.0);
  e.add("byte_fraction", static_cast<double>(b.string_bytes) / content);
  e.add_array("length_log2_hist", 8, [&](std::size_t i) {
    return b.strings ? static_cast<double>(b.string_length_log2[i]) / static_cast<double>(b.strings) : 0.0;
  });
  e.add("wide_count_log", log_size(static_cast<double>(b.wide_strings)));
  e.add("wide_avg_length", b.wide_strings ? static_cast<double>(b.wide_string_chars) / static_cast<double>(b.wide_strings) : 0.0);
  e.add("printable_fraction", [&] {
    std::uint64_t n = 0;
    for (int c = 0x20; c < 0x7f; ++c) n += b.histogram[static_cast<std::size_t>(c)];
    return static_cast<double>(n) / content;
  }());
  e.add("entropy", entropy_of(b.histogram));
  for (int p = 0; p < pat_count; ++p)
    e.add(std::string("pattern_") + (e.schema_mode() ? pattern_name(static_cast<StringPattern>(p)) : ""),
          log_size(b.patterns[static_cast<std::size_t>(p)]));

  e.group("padding", "Inflation: runs of one byte value of 64 KiB or more, measured and excluded from the byte groups.");
  const double fsize = static_cast<double>(std::max<std::uint64_t>(b.file_size, 1));
  e.add("file_size_log", log_size(static_cast<double>(b.file_size)));
  e.add("content_size_log", log_size(static_cast<double>(b.content_size)));
  e.add("padding_ratio", static_cast<double>(b.padding_bytes) / fsize);
  e.add("padding_runs", static_cast<double>(b.padding_runs));
  e.add("largest_run_log", log_size(static_cast<double>(b.largest_padding_run)));
  e.add("tail_padding_log", log_size(static_cast<double>(b.tail_padding)));
}

void general_and_header(Emitter& e, const pe::PeFile& pe) {
  const auto& h = pe.headers;
  e.group("general", "Whole-image facts: kind of image and which optional structures exist.");
  e.add("is_dll", pe.is_dll());
  e.add("is_pe32_plus", pe.is_pe32_plus());
  e.add("is_driver", pe.is_driver());
  e.add("is_efi", pe.is_efi());
  e.add("is_dotnet", pe.is_dotnet());
  e.add("size_of_image_log", log_size(h.size_of_image));
  e.add("has_debug", !pe.debug.empty());
  e.add("has_relocations", pe.reloc_blocks > 0);
  e.add("has_resources", !pe.resources.empty());
  e.add("has_signature", pe.certificate_size > 0);
  e.add("has_tls", pe.tls_present);
  e.add("has_exports", !pe.exports.empty());
  e.add("symbols_log", log_size(h.number_of_symbols));
  e.add("image_to_file_ratio", static_cast<double>(h.size_of_image) / static_cast<double>(std::max<std::uint64_t>(pe.file_size, 1)));

  e.group("header", "COFF and optional header fields. Machine, subsystem and flag fields are one-hot or bit vectors.");
  e.add("machine_i386", h.machine == 0x14c);
  e.add("machine_amd64", h.machine == 0x8664);
  e.add("machine_arm64", h.machine == 0xaa64);
  e.add("machine_other", h.machine != 0x14c && h.machine != 0x8664 && h.machine != 0xaa64);
  e.add_array("characteristics_bit", 16, [&](std::size_t i) { return (h.characteristics >> i) & 1u; });
  e.add_array("dll_characteristics_bit", 16, [&](std::size_t i) { return (h.dll_characteristics >> i) & 1u; });
  e.add("subsystem_gui", h.subsystem == 2);
  e.add("subsystem_cui", h.subsystem == 3);
  e.add("subsystem_native", h.subsystem == 1);
  e.add("subsystem_other", h.subsystem != 1 && h.subsystem != 2 && h.subsystem != 3);
  e.add("major_linker", h.major_linker);
  e.add("minor_linker", h.minor_linker);
  e.add("major_os", h.major_os);
  e.add("minor_os", h.minor_os);
  e.add("major_image", h.major_image);
  e.add("minor_image", h.minor_image);
  e.add("major_subsystem", h.major_subsystem);
  e.add("minor_subsystem", h.minor_subsystem);
  e.add("size_of_code_log", log_size(h.size_of_code));
  e.add("size_of_initialized_data_log", log_size(h.size_of_initialized_data));
  e.add("size_of_uninitialized_data_log", log_size(h.size_of_uninitialized_data));
  e.add("size_of_headers_log", log_size(h.size_of_headers));
  e.add("stack_reserve_log", log_size(static_cast<double>(h.stack_reserve)));
  e.add("stack_commit_log", log_size(static_cast<double>(h.stack_commit)));
  e.add("heap_reserve_log", log_size(static_cast<double>(h.heap_reserve)));
  e.add("heap_commit_log", log_size(static_cast<double>(h.heap_commit)));
  e.add("file_alignment_log", log_size(h.file_alignment));
  e.add("section_alignment_log", log_size(h.section_alignment));
  e.add("image_base_default", h.image_base == 0x400000 || h.image_base == 0x10000000 || h.image_base == 0x140000000ull ||
                                  h.image_base == 0x180000000ull);
  e.add("entry_point_ratio", h.size_of_image ? static_cast<double>(h.entry_point) / h.size_of_image : 0.0);
  e.add("optional_header_size", h.size_of_optional_header);
}

void section_group(Emitter& e, const pe::PeFile& pe) {
  e.group("sections", "Section table statistics, entry-point section, and hashed section names (32 bins, "
                      "log-size and entropy per bin).");
  std::size_t zero_raw = 0, empty_name = 0, rx = 0, w = 0, wx = 0, nonstandard = 0, packer = 0;
  double max_ent = 0, min_ent = 8, sum_ent = 0, max_exec_ent = 0;
  std::array<double, 32> name_size{}, name_ent{};
  std::uint64_t total_raw = 0, total_virtual = 0;
  for (const auto& s : pe.sections) {
    zero_raw += s.raw_size == 0;
    empty_name += s.name.empty();
    rx += s.executable() && s.readable();
    w += s.writable();
    wx += s.writable() && s.executable();
    nonstandard += !standard_section(s.name);
    packer += packer_section(s.name);
    max_ent = std::max(max_ent, s.entropy);
    min_ent = std::min(min_ent, s.entropy);
    sum_ent += s.entropy;
    if (s.executable()) max_exec_ent = std::max(max_exec_ent, s.entropy);
    total_raw += s.raw_size;
    total_virtual += s.virtual_size;
    const std::size_t bin = fnv(s.name) % 32;
    name_size[bin] += log_size(s.raw_size);
    name_ent[bin] = std::max(name_ent[bin], s.entropy);
  }
  const double n = static_cast<double>(pe.sections.size());
  e.add("count", n);
  e.add("zero_raw_size", static_cast<double>(zero_raw));
  e.add("empty_name", static_cast<double>(empty_name));
  e.add("readable_executable", static_cast<double>(rx));
  e.add("writable", static_cast<double>(w));
  e.add("writable_executable", static_cast<double>(wx));
  e.add("nonstandard_names", static_cast<double>(nonstandard));
  e.add("packer_names", static_cast<double>(packer));
  e.add("max_entropy", pe.sections.empty() ? kMissing : max_ent);
  e.add("min_entropy", pe.sections.empty() ? kMissing : min_ent);
  e.add("mean_entropy", pe.sections.empty() ? kMissing : sum_ent / n);
  e.add("max_executable_entropy", max_exec_ent);
  e.add("virtual_to_raw_ratio", total_raw ? static_cast<double>(total_virtual) / static_cast<double>(total_raw) : kMissing);
  const int ep = pe.section_of(pe.headers.entry_point);
  const pe::Section* eps = ep >= 0 ? &pe.sections[static_cast<std::size_t>(ep)] : nullptr;
  e.add("entry_entropy", eps ? eps->entropy : kMissing);
  e.add("entry_raw_size_log", eps ? log_size(eps->raw_size) : kMissing);
  e.add("entry_virtual_size_log", eps ? log_size(eps->virtual_size) : kMissing);
  e.add("entry_writable", eps ? eps->writable() : kMissing);
  e.add("entry_is_last", eps ? static_cast<double>(ep + 1 == static_cast<int>(pe.sections.size())) : kMissing);
  e.add("entry_is_first_executable", [&]() -> double {
    if (!eps) return kMissing;
    for (std::size_t i = 0; i < pe.sections.size(); ++i)
      if (pe.sections[i].executable()) return static_cast<double>(static_cast<int>(i) == ep);
    return 0.0;
  }());
  e.add("entry_standard_name", eps ? standard_section(eps->name) : kMissing);
  e.add_array("name_hash_size", 32, [&](std::size_t i) { return name_size[i]; });
  e.add_array("name_hash_entropy", 32, [&](std::size_t i) { return name_ent[i]; });
}

void import_export_groups(Emitter& e, const pe::PeFile& pe) {
  e.group("imports", "Imported libraries (128 hashed bins) and library:function names (512 hashed bins), counts, "
                     "and behavioural API groups (number of distinct functions matched per group).");
  std::array<float, 128> libs{};
  std::array<float, 512> funcs{};
  std::array<float, 14> api{};
  std::size_t ordinal = 0, delay_dlls = 0, total = 0;
  bool msvbvm = false, mscoree = false;
  for (const auto& d : pe.imports) {
    const auto stem = dll_stem(d.name);
    libs[fnv(stem) % libs.size()] = 1;
    delay_dlls += d.delay_load;
    msvbvm |= iequals(stem, "msvbvm60") || iequals(stem, "msvbvm50");
    mscoree |= iequals(stem, "mscoree");
    const std::uint32_t hd = fnv(":", fnv(stem));
    for (const auto& f : d.functions) {
      ++total;
      if (f.by_ordinal) {
        ++ordinal;
        char buf[8];
        std::snprintf(buf, sizeof buf, "#%u", f.ordinal);
        funcs[fnv(buf, hd) % funcs.size()] = 1;
        continue;
      }
      funcs[fnv(f.name, hd) % funcs.size()] = 1;
      for (std::size_t g = 0; g < api_groups().size(); ++g)
        for (const char* p : api_groups()[g].prefixes)
          if (has_prefix(f.name, p)) {
            api[g] += 1;
            break;
          }
    }
  }
  e.add("dll_count", static_cast<double>(pe.imports.size()));
  e.add("function_count_log", log_size(static_cast<double>(total)));
  e.add("ordinal_fraction", total ? static_cast<double>(ordinal) / static_cast<double>(total) : 0.0);
  e.add("delay_load_dlls", static_cast<double>(delay_dlls));
  e.add("imports_msvbvm", msvbvm);
  e.add("imports_mscoree", mscoree);
  for (std::size_t g = 0; g < api.size(); ++g)
    e.add(std::string("api_") + (e.schema_mode() ? api_groups()[g].name : ""), api[g]);
  e.add_array("lib_hash", libs.size(), [&](std::size_t i) { return libs[i]; });
  e.add_array("func_hash", funcs.size(), [&](std::size_t i) { return funcs[i]; });

  e.group("exports", "Exported names (64 hashed bins), counts, forwarders and the COM/service entry points loaders use.");
  std::array<float, 64> ex{};
  std::size_t forwarded = 0, unnamed = 0, reg = 0, rundll = 0;
  double name_len = 0;
  for (const auto& x : pe.exports) {
    if (x.name.empty()) {
      ++unnamed;
      continue;
    }
    ex[fnv(x.name) % ex.size()] = 1;
    forwarded += !x.forwarder.empty();
    name_len += static_cast<double>(x.name.size());
    reg += x.name == "DllRegisterServer" || x.name == "DllUnregisterServer" || x.name == "DllInstall";
    rundll += x.name == "Control_RunDLL" || x.name == "ServiceMain" || x.name == "DllEntryPoint";
  }
  const std::size_t named = pe.exports.size() - unnamed;
  e.add("count_log", log_size(static_cast<double>(pe.exports.size())));
  e.add("unnamed", static_cast<double>(unnamed));
  e.add("forwarded", static_cast<double>(forwarded));
  e.add("mean_name_length", named ? name_len / static_cast<double>(named) : 0.0);
  e.add("com_registration", static_cast<double>(reg));
  e.add("loader_entry_points", static_cast<double>(rundll));
  e.add_array("name_hash", ex.size(), [&](std::size_t i) { return ex[i]; });
}

void directory_group(Emitter& e, const pe::PeFile& pe) {
  e.group("data_directories", "Per data directory: log2(1+size) and whether its RVA is set.");
  for (std::size_t i = 0; i < pe::dir_count; ++i) {
    e.add("size_log[" + (e.schema_mode() ? std::to_string(i) : std::string()) + "]", log_size(pe.directories[i].size));
    e.add("present[" + (e.schema_mode() ? std::to_string(i) : std::string()) + "]", pe.directories[i].rva != 0);
  }
}

void rich_group(Emitter& e, const pe::PeFile& pe) {
  e.group("rich", "Rich header: toolchain component ids (product id hashed to 32 bins, log object count), "
                  "checksum validity and build range.");
  std::array<double, 32> prod{};
  std::uint32_t max_build = 0, min_build = 0xFFFF;
  std::uint64_t objects = 0;
  for (const auto& r : pe.rich) {
    prod[(r.product_id * 2654435761u >> 16) % prod.size()] += log_size(r.count);
    max_build = std::max<std::uint32_t>(max_build, r.build);
    min_build = std::min<std::uint32_t>(min_build, r.build);
    objects += r.count;
  }
  e.add("present", pe.rich_present);
  e.add("checksum_valid", pe.rich_present ? !pe.has(pe::Anomaly::rich_checksum_mismatch) : kMissing);
  e.add("entries", static_cast<double>(pe.rich.size()));
  e.add("objects_log", log_size(static_cast<double>(objects)));
  e.add("max_build", pe.rich.empty() ? kMissing : max_build);
  e.add("min_build", pe.rich.empty() ? kMissing : min_build);
  e.add_array("product_hash", prod.size(), [&](std::size_t i) { return prod[i]; });
}

void overlay_group(Emitter& e, const pe::PeFile& pe, ByteView) {
  e.group("overlay", "Data after the last section: size, share of the file, certificate share, entropy.");
  const double fsize = static_cast<double>(std::max<std::uint64_t>(pe.file_size, 1));
  const std::uint64_t cert = pe.certificate_size;
  const std::uint64_t beyond_cert = pe.overlay_size > cert ? pe.overlay_size - cert : 0;
  e.add("size_log", log_size(static_cast<double>(pe.overlay_size)));
  e.add("ratio", static_cast<double>(pe.overlay_size) / fsize);
  e.add("non_certificate_size_log", log_size(static_cast<double>(beyond_cert)));
  e.add("certificate_size_log", log_size(cert));
  e.add("entropy", pe.overlay_size ? pe.overlay_entropy : kMissing);
}

void resource_group(Emitter& e, const pe::PeFile& pe) {
  e.group("resources", "Resource counts by type, sizes, entropy, high-entropy blobs (embedded payloads), "
                       "languages and version-info fields.");
  static constexpr std::uint32_t kTypes[] = {1, 2, 3, 4, 5, 6, 10, 12, 14, 16, 24};
  static constexpr const char* kTypeNames[] = {"cursor", "bitmap", "icon", "menu", "dialog", "string",
                                               "rcdata", "group_cursor", "group_icon", "version", "manifest"};
  std::array<double, std::size(kTypes)> by_type{};
  std::size_t named = 0, other = 0, high_entropy_blobs = 0;
  double max_ent = 0, sum_ent = 0, total_size = 0, max_size = 0;
  std::size_t with_ent = 0;
  std::vector<std::uint32_t> langs;
  for (const auto& r : pe.resources) {
    bool known = false;
    for (std::size_t i = 0; i < std::size(kTypes); ++i)
      if (r.type_id == kTypes[i] && r.type_name.empty()) by_type[i] += 1, known = true;
    if (!r.type_name.empty()) ++named;
    else if (!known) ++other;
    total_size += r.size;
    max_size = std::max<double>(max_size, r.size);
    if (r.entropy >= 0) {
      max_ent = std::max(max_ent, r.entropy);
      sum_ent += r.entropy;
      ++with_ent;
      if (r.entropy > 7.2 && r.size > 8192) ++high_entropy_blobs;
    }
    if (std::find(langs.begin(), langs.end(), r.lang) == langs.end() && langs.size() < 64) langs.push_back(r.lang);
  }
  e.add("count_log", log_size(static_cast<double>(pe.resources.size())));
  for (std::size_t i = 0; i < by_type.size(); ++i)
    e.add(std::string("type_") + (e.schema_mode() ? kTypeNames[i] : ""), log_size(by_type[i]));
  e.add("type_named", log_size(static_cast<double>(named)));
  e.add("type_other", log_size(static_cast<double>(other)));
  e.add("total_size_ratio", total_size / static_cast<double>(std::max<std::uint64_t>(pe.file_size, 1)));
  e.add("max_size_log", log_size(max_size));
  e.add("max_entropy", with_ent ? max_ent : kMissing);
  e.add("mean_entropy", with_ent ? sum_ent / static_cast<double>(with_ent) : kMissing);
  e.add("high_entropy_blobs", static_cast<double>(high_entropy_blobs));
  e.add("languages", static_cast<double>(langs.size()));
  e.add("version_strings", static_cast<double>(pe.version_info.size()));
  for (const char* key : {"CompanyName", "FileDescription", "FileVersion", "InternalName", "LegalCopyright",
                          "OriginalFilename", "ProductName", "ProductVersion"}) {
    bool present = false;
    for (const auto& kv : pe.version_info) present |= kv.first == key && !kv.second.empty();
    e.add(std::string("has_") + (e.schema_mode() ? key : ""), present);
  }
  // A DLL that calls itself "x.exe" (or the reverse) in its version info was renamed or disguised.
  double mismatch = kMissing;
  for (const auto& kv : pe.version_info) {
    if (kv.first != "OriginalFilename" || kv.second.size() < 4) continue;
    std::string ext = kv.second.substr(kv.second.size() - 4);
    for (auto& c : ext) c = static_cast<char>(ascii_lower(c));
    if (ext == ".dll" || ext == ".exe") mismatch = (ext == ".dll") != pe.is_dll();
  }
  e.add("original_filename_kind_mismatch", mismatch);
}

void misc_group(Emitter& e, const pe::PeFile& pe) {
  e.group("structures", "TLS callbacks, relocations, debug directory / PDB path, and .NET CLR header flags.");
  e.add("tls_callbacks", static_cast<double>(pe.tls_callbacks.size()));
  e.add("reloc_blocks_log", log_size(pe.reloc_blocks));
  e.add("reloc_entries_log", log_size(pe.reloc_entries));
  e.add("debug_entries", static_cast<double>(pe.debug.size()));
  bool repro = false, pogo = false;
  for (const auto& d : pe.debug) {
    repro |= d.type == 16;
    pogo |= d.type == 13;
  }
  e.add("debug_reproducible", repro);
  e.add("debug_pogo", pogo);
  e.add("has_pdb", !pe.pdb_path.empty());
  e.add("pdb_path_length", static_cast<double>(pe.pdb_path.size()));
  e.add("pdb_path_is_full", pe.pdb_path.size() > 2 && pe.pdb_path[1] == ':');
  e.add("pdb_path_user_dir", pe.pdb_path.find("\\Users\\") != std::string_view::npos ||
                                  pe.pdb_path.find("\\Documents and Settings\\") != std::string_view::npos);
  e.add("clr_il_only", pe.clr.present ? (pe.clr.flags & 1u) != 0 : kMissing);
  e.add("clr_32bit_required", pe.clr.present ? (pe.clr.flags & 2u) != 0 : kMissing);
  e.add("clr_strong_name_signed", pe.clr.present ? (pe.clr.flags & 8u) != 0 : kMissing);
  e.add("clr_native_entry_point", pe.clr.present ? (pe.clr.flags & 0x10u) != 0 : kMissing);
  e.add("clr_metadata_size_log", pe.clr.present ? log_size(pe.clr.metadata_size) : kMissing);
  e.add("clr_runtime_v4", pe.clr.present ? pe.clr.runtime_version.substr(0, 2) == "v4" : kMissing);
}

void anomaly_group(Emitter& e, const pe::PeFile& pe) {
  e.group("anomalies", "One flag per parser anomaly (see pe::Anomaly) and their count, except timestamp and "
                       "checksum flags, which describe the build system rather than the program.");
  // Reproducible builds (Debian, Go, Rust) zero the timestamp and most non-MSVC linkers leave the checksum 0; a
  // model that sees these learns who built a file, not what it does.
  auto provenance = [](pe::Anomaly a) {
    return a == pe::Anomaly::timestamp_zero || a == pe::Anomaly::timestamp_in_future || a == pe::Anomaly::checksum_zero;
  };
  std::size_t counted = 0;
  for (std::size_t i = 0; i < pe::anomaly_count; ++i) {
    const auto a = static_cast<pe::Anomaly>(i);
    if (provenance(a)) continue;
    e.add(e.schema_mode() ? pe::anomaly_name(a) : "", pe.has(a));
    counted += pe.has(a);
  }
  e.add("count", static_cast<double>(counted));
}

}  // namespace

std::uint32_t detail::fnv_lower(std::string_view s, std::uint32_t h) { return fnv(s, h); }
std::size_t detail::api_group_count() { return api_groups().size(); }
const char* detail::api_group_name(std::size_t g) { return api_groups()[g].name; }
bool detail::api_group_matches(std::size_t g, std::string_view function) {
  for (const char* p : api_groups()[g].prefixes)
    if (has_prefix(function, p)) return true;
  return false;
}

namespace {

void emit_all(Emitter& e, const pe::PeFile& pe, const ByteStats& b) {
  byte_groups(e, b);
  general_and_header(e, pe);
  section_group(e, pe);
  import_export_groups(e, pe);
  directory_group(e, pe);
  rich_group(e, pe);
  overlay_group(e, pe, {});
  resource_group(e, pe);
  misc_group(e, pe);
  anomaly_group(e, pe);
  detail::emit_dotnet(e, pe);
}

Schema build_schema() {
  return make_schema("pe", kPeSchemaVersion, NameCase::folded, [](Emitter& e) { emit_all(e, pe::PeFile{}, ByteStats{}); });
}

}  // namespace

const Schema& pe_schema() {
  static const Schema s = build_schema();
  return s;
}

void extract_pe(const pe::PeFile& pe, const ByteStats& bytes, std::vector<float>& out) {
  out.assign(pe_schema().features.size(), 0.0f);
  Emitter e(out);
  emit_all(e, pe, bytes);
}

std::string pe_schema_markdown() {
  return schema_markdown(pe_schema(), "PE feature schema",
                         "Generated by `mamori features --markdown` from src/features/pe_features.cpp; do not edit.\n"
                         "Missing values are NaN (XGBoost's missing), e.g. entry-section fields when the entry point "
                         "lies outside every section.");
}

}  // namespace mamori::features

namespace mamori::features {

namespace {

// Puts `collapsed` bytes of the tail's padding value back into what the byte pass measured. Only a tail run can be
// restored exactly (nothing after it moved); when the file does not end in padding the dropped run was inside it
// and only the sizes are restored.
void restore_collapsed_tail(ByteView bytes, std::uint64_t collapsed, PeSample& s, ByteStats& stats,
                            std::span<RangeEntropy> ranges) {
  const std::uint64_t n = bytes.size();
  stats.file_size += collapsed;
  stats.padding_bytes += collapsed;
  s.pe.file_size += collapsed;
  if (stats.tail_padding == 0 || n == 0) return;
  stats.tail_padding += collapsed;
  stats.largest_padding_run = std::max(stats.largest_padding_run, stats.tail_padding);
  if (s.pe.overlay_size > 0 && s.pe.overlay_offset + s.pe.overlay_size == n) s.pe.overlay_size += collapsed;
  const std::uint8_t value = bytes.data()[n - 1];
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const auto& r = ranges[i];
    if (r.offset >= n || r.size == 0 || r.offset + r.size < n) continue;  // only ranges that reach the end grow
    ByteHistogram h{};
    for (std::uint64_t k = r.offset; k < n; ++k) ++h[bytes.data()[k]];
    h[value] += collapsed;
    ranges[i].entropy = entropy_of(h);
  }
}

}  // namespace

PeSample featurize_pe(ByteView bytes, std::uint64_t collapsed_tail) {
  PeSample s;
  // Section, overlay and resource entropies are measured in the byte pass rather than by parse reading them again.
  auto parsed = pe::parse(bytes, {.entropy = false});
  if (parsed.ok()) {
    s.pe = std::move(parsed).value();
  } else {
    s.header_error = std::move(parsed).error();
    s.pe.file_size = bytes.size();
  }
  std::vector<RangeEntropy> ranges;
  ranges.reserve(s.pe.entropy_ranges.size());
  for (const auto& r : s.pe.entropy_ranges) ranges.push_back({r.offset, r.size});
  ByteStats stats;
  scan_bytes(bytes, stats, ranges);
  if (collapsed_tail > 0) restore_collapsed_tail(bytes, collapsed_tail, s, stats, ranges);
  for (std::size_t i = 0; i < ranges.size(); ++i) s.pe.set_entropy(s.pe.entropy_ranges[i], ranges[i].entropy);
  extract_pe(s.pe, stats, s.x);
  s.file_size = stats.file_size;
  s.padding_bytes = stats.padding_bytes;
  return s;
}

bool binary_padding(const PeSample& s) {
  return s.padding_bytes >= kBinaryPaddingMinBytes && s.padding_bytes * 2 >= s.file_size;
}

}  // namespace mamori::features
