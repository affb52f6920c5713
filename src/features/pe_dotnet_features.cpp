// The "dotnet" group of the PE vector. A .NET assembly's native view is one import (mscoree!_CorExeMain) and a
// stub, so EMBER-style groups see every assembly alike; its behaviour is in the CLI metadata: the framework types and
// members it references, its P/Invoke imports, its user strings, its managed resources and how its own names look.
#include <algorithm>
#include <array>
#include <bit>
#include <string>

#include "common/stats.hpp"
#include "features/pe_internal.hpp"
#include "formats/dotnet/metadata.hpp"

namespace mamori::features::detail {

namespace {

// Behavioural groups of framework references. A needle with "::" matches "Namespace.Type::Member" of a MemberRef;
// one without matches "Namespace.Type" of a TypeRef (and hence every member of it).
struct RefGroup {
  const char* name;
  std::initializer_list<const char*> needles;
};
const std::array<RefGroup, 16>& ref_groups() {
  static const std::array<RefGroup, 16> g = {{
      {"assembly_load", {"Assembly::Load", "AppDomain::Load", "Assembly::UnsafeLoadFrom", "Assembly::get_EntryPoint"}},
      {"reflection_invoke", {"MethodBase::Invoke", "MethodInfo::Invoke", "Type::InvokeMember", "Activator::CreateInstance",
                             "Delegate::DynamicInvoke", "Type::GetMethod", "Type::GetTypeFromProgID"}},
      {"dynamic_code", {"System.Reflection.Emit.", "System.CodeDom.Compiler.", "Microsoft.CSharp.CSharpCodeProvider",
                        "Microsoft.VisualBasic.VBCodeProvider", "System.Management.Automation."}},
      {"network", {"System.Net.WebClient", "System.Net.HttpWebRequest", "System.Net.WebRequest", "System.Net.Sockets.",
                   "System.Net.Http.", "System.Net.Dns", "System.Net.Mail.", "System.Net.FtpWebRequest",
                   "System.Net.NetworkInformation."}},
      {"download", {"::DownloadData", "::DownloadString", "::DownloadFile", "::UploadData", "::UploadValues",
                    "::UploadString", "::UploadFile", "::GetResponseStream", "::OpenRead"}},
      {"crypto", {"System.Security.Cryptography."}},
      {"base64_compression", {"Convert::FromBase64", "System.IO.Compression."}},
      {"process", {"Process::Start", "System.Diagnostics.ProcessStartInfo", "Process::GetProcesses", "Process::Kill",
                   "Process::GetCurrentProcess"}},
      {"interop_memory", {"Marshal::Copy", "Marshal::AllocHGlobal", "Marshal::GetDelegateForFunctionPointer",
                          "Marshal::ReadIntPtr", "Marshal::WriteIntPtr", "Marshal::GetFunctionPointerForDelegate",
                          "GCHandle::Alloc"}},
      {"registry", {"Microsoft.Win32.Registry"}},
      {"wmi_anti_analysis", {"System.Management.", "Debugger::get_IsAttached", "Environment::FailFast",
                             "Environment::get_ProcessorCount"}},
      {"screen_input", {"Graphics::CopyFromScreen", "System.Windows.Forms.Clipboard", "System.Windows.Forms.Screen",
                        "System.Windows.Forms.SendKeys"}},
      {"system_info", {"Environment::get_UserName", "Environment::get_MachineName", "Environment::get_OSVersion",
                       "Environment::GetFolderPath", "Environment::get_UserDomainName", "WindowsIdentity::GetCurrent"}},
      {"file_drop", {"File::WriteAllBytes", "File::Copy", "File::Move", "File::SetAttributes", "File::Delete",
                     "Path::GetTempPath", "Path::GetTempFileName"}},
      {"embedded_resources", {"Assembly::GetManifestResourceStream", "ResourceManager::GetObject",
                              "Assembly::GetManifestResourceNames"}},
      {"tls_and_privilege", {"ServicePointManager::set_SecurityProtocol",
                             "ServicePointManager::set_ServerCertificateValidationCallback", "WindowsPrincipal::IsInRole",
                             "System.Security.Principal.WindowsPrincipal"}},
  }};
  return g;
}

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

// Names an obfuscator leaves: control or non-ASCII bytes, or one or two characters (renamed to "a", "b", ...).
struct NameStats {
  double count = 0, non_printable = 0, non_ascii = 0, short_names = 0, length = 0;
  void add(std::string_view n) {
    ++count;
    length += static_cast<double>(n.size());
    bool ctrl = false, high = false;
    for (char c : n) {
      const auto u = static_cast<unsigned char>(c);
      ctrl |= u < 0x20 || u == 0x7F;
      high |= u >= 0x80;
    }
    non_printable += ctrl;
    non_ascii += high;
    short_names += n.size() <= 2;
  }
  double ratio(double v) const { return count > 0 ? v / count : kMissing; }
};

bool obfuscator_marker(std::string_view n) {
  for (std::string_view m : {"ConfusedBy", "Dotfuscator", "SmartAssembly", "ObfuscatedBy", "BabelObfuscator",
                             "Xenocode", "CryptoObfuscator", "Eazfuscator", "YanoAttribute", "NETGuard", "Reactor"})
    if (contains(n, m)) return true;
  return false;
}

}  // namespace

void emit_dotnet(Emitter& e, const pe::PeFile& pe) {
  e.group("dotnet", "CLI metadata of .NET assemblies (ECMA-335 II.24): table row counts, heap sizes, metadata "
                    "anomalies, user-string statistics, managed resources, obfuscation signs of the assembly's own "
                    "names, behavioural groups of framework references (distinct TypeRef/MemberRef matches), P/Invoke "
                    "imports (native API groups and 64 hashed module:entry bins), and hashed framework references: "
                    "MemberRef \"Namespace.Type::Member\" (256 bins), TypeRef \"Namespace.Type\" (128 bins), "
                    "AssemblyRef names (32 bins). Missing (NaN) for files without readable metadata.");
  dotnet::Metadata md;
  bool have = false;
  if (pe.clr.present && !pe.clr.metadata.empty()) {
    auto r = dotnet::parse_metadata(pe.clr.metadata, pe.clr.resources);
    if (r.ok()) {
      md = std::move(r).value();
      have = true;
    }
  }
  auto v = [&](double x) { return have ? x : static_cast<double>(kMissing); };

  e.add("metadata_readable", pe.clr.present ? static_cast<double>(have) : kMissing);
  static constexpr std::pair<std::uint8_t, const char*> kRows[] = {
      {dotnet::t_type_ref, "type_ref"},           {dotnet::t_type_def, "type_def"},
      {dotnet::t_field, "field"},                 {dotnet::t_method_def, "method_def"},
      {dotnet::t_param, "param"},                 {dotnet::t_member_ref, "member_ref"},
      {dotnet::t_custom_attribute, "custom_attribute"}, {dotnet::t_decl_security, "decl_security"},
      {dotnet::t_standalone_sig, "standalone_sig"}, {dotnet::t_event, "event"},
      {dotnet::t_property, "property"},           {dotnet::t_module_ref, "module_ref"},
      {dotnet::t_type_spec, "type_spec"},         {dotnet::t_impl_map, "impl_map"},
      {dotnet::t_field_rva, "field_rva"},         {dotnet::t_assembly_ref, "assembly_ref"},
      {dotnet::t_manifest_resource, "manifest_resource"}, {dotnet::t_nested_class, "nested_class"},
      {dotnet::t_generic_param, "generic_param"}, {dotnet::t_method_spec, "method_spec"}};
  for (const auto& [t, name] : kRows)
    e.add(std::string("rows_") + (e.schema_mode() ? name : ""), v(log_size(md.rows[t])));
  e.add("tables_present", v(static_cast<double>(std::popcount(md.valid))));
  e.add("uncompressed_tables", v(md.uncompressed_tables));
  e.add("stream_count", v(md.stream_count));
  e.add("strings_heap_log", v(log_size(md.strings_size)));
  e.add("us_heap_log", v(log_size(md.us_size)));
  e.add("blob_heap_log", v(log_size(md.blob_size)));
  e.add("tables_stream_log", v(log_size(md.tables_size)));
  e.add("methods_per_type", v(md.rows[dotnet::t_type_def] ? static_cast<double>(md.rows[dotnet::t_method_def]) /
                                                             md.rows[dotnet::t_type_def]
                                                       : 0.0));
  std::size_t counted = 0;
  for (std::size_t i = 0; i < dotnet::anomaly_count; ++i) {
    const auto a = static_cast<dotnet::Anomaly>(i);
    e.add(e.schema_mode() ? std::string("anomaly_") + dotnet::anomaly_name(a) : std::string(), v(md.has(a)));
    counted += md.has(a);
  }
  e.add("anomaly_count", v(static_cast<double>(counted)));

  const auto& us = md.user_strings;
  e.add("us_count_log", v(log_size(us.count)));
  e.add("us_chars_log", v(log_size(static_cast<double>(us.chars))));
  e.add("us_max_chars_log", v(log_size(us.max_chars)));
  e.add("us_mean_chars", v(us.count ? static_cast<double>(us.chars) / us.count : 0.0));
  e.add("us_base64_like", v(us.base64_like));
  e.add("us_urls", v(us.urls));
  e.add("us_non_ascii_fraction", v(us.count ? static_cast<double>(us.non_ascii) / us.count : 0.0));
  e.add("us_entropy", v(us.entropy));

  double res_total = 0, res_max = 0, res_max_ent = 0, res_ent_sum = 0;
  std::size_t embedded = 0, measured = 0, high_entropy = 0;
  for (const auto& r : md.resources) {
    if (!r.embedded || r.size < 0) continue;
    ++embedded;
    res_total += static_cast<double>(r.size);
    res_max = std::max(res_max, static_cast<double>(r.size));
    if (r.entropy >= 0) {
      ++measured;
      res_ent_sum += r.entropy;
      res_max_ent = std::max(res_max_ent, r.entropy);
      high_entropy += r.entropy > 7.2 && r.size > 8192;
    }
  }
  e.add("resources", v(static_cast<double>(md.resources.size())));
  e.add("resources_embedded", v(static_cast<double>(embedded)));
  e.add("resources_total_log", v(log_size(res_total)));
  e.add("resources_max_log", v(log_size(res_max)));
  e.add("resources_file_ratio", v(res_total / static_cast<double>(std::max<std::uint64_t>(pe.file_size, 1))));
  e.add("resources_max_entropy", have && measured ? res_max_ent : kMissing);
  e.add("resources_mean_entropy", have && measured ? res_ent_sum / static_cast<double>(measured) : kMissing);
  e.add("resources_high_entropy", v(static_cast<double>(high_entropy)));

  NameStats types, methods;
  bool marker = false;
  for (auto n : md.type_def_names) {
    types.add(n);
    marker = marker || obfuscator_marker(n);
  }
  for (auto n : md.method_def_names) methods.add(n);
  for (const auto& t : md.type_refs) marker = marker || obfuscator_marker(t.name);
  e.add("type_names_non_printable", v(types.ratio(types.non_printable)));
  e.add("type_names_non_ascii", v(types.ratio(types.non_ascii)));
  e.add("type_names_short", v(types.ratio(types.short_names)));
  e.add("type_names_mean_length", v(types.ratio(types.length)));
  e.add("method_names_non_printable", v(methods.ratio(methods.non_printable)));
  e.add("method_names_non_ascii", v(methods.ratio(methods.non_ascii)));
  e.add("method_names_short", v(methods.ratio(methods.short_names)));
  e.add("method_names_mean_length", v(methods.ratio(methods.length)));
  e.add("obfuscator_marker", v(marker));

  // References: "Namespace.Type" per TypeRef, "Namespace.Type::Member" per MemberRef (one reused buffer).
  std::array<float, 256> member_bins{};
  std::array<float, 128> type_bins{};
  std::array<float, 32> asm_bins{};
  std::array<float, 64> pinvoke_bins{};
  std::array<double, 16> groups{};
  std::string full;
  auto qualified = [&](const dotnet::TypeRef& t) {
    full.assign(t.ns);
    if (!t.ns.empty()) full += '.';
    full += t.name;
  };
  auto match_groups = [&](std::string_view s, bool member) {
    for (std::size_t g = 0; g < ref_groups().size(); ++g)
      for (const char* n : ref_groups()[g].needles) {
        const bool member_needle = contains(n, "::");
        if (member_needle == member && contains(s, n)) {
          groups[g] += 1;
          break;
        }
      }
  };
  for (const auto& t : md.type_refs) {
    qualified(t);
    type_bins[fnv_lower(full) % type_bins.size()] = 1;
    match_groups(full, false);
  }
  for (const auto& m : md.member_refs) {
    qualified(md.type_refs[m.type_ref]);
    full += "::";
    full += m.name;
    member_bins[fnv_lower(full) % member_bins.size()] = 1;
    match_groups(full, true);
  }
  for (auto a : md.assembly_refs) asm_bins[fnv_lower(a) % asm_bins.size()] = 1;
  std::array<double, 14> native{};
  for (const auto& p : md.pinvokes) {
    std::string_view mod = p.module;
    if (auto dot = mod.rfind('.'); dot != std::string_view::npos) mod = mod.substr(0, dot);
    pinvoke_bins[fnv_lower(p.entry, fnv_lower(":", fnv_lower(mod))) % pinvoke_bins.size()] = 1;
    for (std::size_t g = 0; g < native.size() && g < api_group_count(); ++g) native[g] += api_group_matches(g, p.entry);
  }
  e.add("member_refs_log", v(log_size(static_cast<double>(md.member_refs.size()))));
  e.add("member_refs_other_parent_log", v(log_size(md.member_refs_other_parent)));
  e.add("assembly_refs", v(static_cast<double>(md.assembly_refs.size())));
  e.add("pinvokes", v(static_cast<double>(md.pinvokes.size())));
  for (std::size_t g = 0; g < groups.size(); ++g)
    e.add(std::string("ref_") + (e.schema_mode() ? ref_groups()[g].name : ""), v(groups[g]));
  for (std::size_t g = 0; g < native.size(); ++g)
    e.add(std::string("pinvoke_api_") + (e.schema_mode() ? api_group_name(g) : ""), v(native[g]));
  e.add_array("member_ref_hash", member_bins.size(), [&](std::size_t i) { return member_bins[i]; });
  e.add_array("type_ref_hash", type_bins.size(), [&](std::size_t i) { return type_bins[i]; });
  e.add_array("assembly_ref_hash", asm_bins.size(), [&](std::size_t i) { return asm_bins[i]; });
  e.add_array("pinvoke_hash", pinvoke_bins.size(), [&](std::size_t i) { return pinvoke_bins[i]; });
}

}  // namespace mamori::features::detail
