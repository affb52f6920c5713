#include "features/office_features.hpp"

#include <cmath>
#include <cstdio>

#include "engine/filetype.hpp"
#include "features/office_internal.hpp"
#include "formats/vba/vba.hpp"

namespace mamori::features {

namespace office {

Acc::Acc() {
  code.kw.assign(token_keywords().size(), 0.0);
  code.sub.assign(substring_keywords().size(), 0.0);
}

void Acc::anomaly(std::string s) {
  if (!out || depth > 0) return;
  for (const auto& x : out->anomalies)
    if (x == s) return;
  if (out->anomalies.size() < 64) out->anomalies.push_back(std::move(s));
}

void Acc::hit(std::string where, std::string category, std::string_view text) {
  if (!out || !opt || !opt->collect_hits || out->hits.size() >= office_limits::max_code_hits) return;
  std::string t(text.substr(0, 160));
  for (auto& c : t)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  out->hits.push_back({std::move(where), std::move(category), std::move(t)});
}

void Acc::embed(std::string name, std::vector<std::uint8_t> bytes) {
  if (!out || !opt || !opt->collect_embedded || depth > 0) return;
  if (out->embedded.size() >= office_limits::max_embedded ||
      embedded_bytes + bytes.size() > office_limits::max_embedded_bytes) {
    anomaly("embedded_objects_truncated_by_limit");
    return;
  }
  embedded_bytes += bytes.size();
  out->embedded.push_back({std::move(name), std::move(bytes)});
}

void Acc::scan_payload(ByteView b, std::string_view where) {
  const PayloadStats before = payload;
  features::scan_payload(b, payload);
  if (where == "file")
    file_clear_pe.assign(payload.clear_pe.begin() + static_cast<std::ptrdiff_t>(before.n_clear_pe),
                         payload.clear_pe.begin() + static_cast<std::ptrdiff_t>(payload.n_clear_pe));
  // Decoded executables go to the engine's PE model; 16 MiB holds any loader these documents carry.
  constexpr std::size_t kMaxDecoded = 16u << 20;
  char buf[96];
  for (std::size_t i = before.n_encoded; i < payload.n_encoded; ++i) {
    const auto& e = payload.encoded[i];
    if (e.key_len == 1)
      std::snprintf(buf, sizeof buf, "xor-encoded executable at offset 0x%llx, key 0x%02x",
                    static_cast<unsigned long long>(e.mz_offset), unsigned{e.key[0]});
    else
      std::snprintf(buf, sizeof buf, "xor-encoded executable at offset 0x%llx, key 0x%02x%02x%02x%02x",
                    static_cast<unsigned long long>(e.mz_offset), unsigned{e.key[0]}, unsigned{e.key[1]},
                    unsigned{e.key[2]}, unsigned{e.key[3]});
    hit(std::string(where), "payload", buf);
    if (depth == 0) {
      auto exe = decode_executable(b, e, kMaxDecoded);
      if (!exe.empty()) {
        std::snprintf(buf, sizeof buf, "/xor-executable@0x%llx", static_cast<unsigned long long>(e.mz_offset));
        embed(std::string(where) + buf, std::move(exe));
      }
    }
  }
  if (payload.truncated && !before.truncated) anomaly("payload_scan_truncated_by_limit");
  if (payload.peb_access > before.peb_access || payload.get_pc > before.get_pc) {
    std::snprintf(buf, sizeof buf, "shellcode idioms: %u PEB reads, %u GetPC sequences",
                  payload.peb_access - before.peb_access, payload.get_pc - before.get_pc);
    hit(std::string(where), "payload", buf);
  }
}

}  // namespace office

namespace {

using office::Acc;

// Feature names from keyword text: letters, digits and dots kept, anything else '_'.
std::string feature_name(std::string_view s) {
  std::string o;
  for (unsigned char c : s) o += (std::isalnum(c) || c == '.') ? static_cast<char>(c) : '_';
  return o;
}

constexpr const char* kTypes[] = {"ole2-word", "ole2-excel", "ole2-ppt", "ole2-msg", "ole2-msi", "ole2-encrypted-package",
                                  "ole2", "ooxml-word", "ooxml-excel", "ooxml-powerpoint", "ooxml", "rtf", "pdf"};

void emit_all(Emitter& e, const Acc& a) {
  const double nan = kMissing;
  const bool is_ole = a.ole.present > 0;
  const bool is_ooxml = a.type.rfind("ooxml", 0) == 0;
  const bool is_rtf = a.type == "rtf", is_pdf = a.type == "pdf";
  auto when = [nan](bool on, double v) { return on ? v : nan; };

  e.group("doc", "Document type one-hots (the model conditions on them) and the file size.");
  for (const char* t : kTypes) e.add(std::string("is_") + feature_name(t), a.type == t);
  e.add("log_size", log_size(a.size));

  e.group("ole2", "Compound-file structure, well-known streams and storages, SummaryInformation metadata "
                  "(NaN when the file is not OLE2).");
  const auto& o = a.ole;
  e.add("entries", when(is_ole, o.entries));
  e.add("streams", when(is_ole, o.streams));
  e.add("storages", when(is_ole, o.storages));
  e.add("orphans", when(is_ole, o.orphans));
  e.add("anomalies", when(is_ole, o.anomalies));
  e.add("stream_bytes_ratio", when(is_ole, a.size > 0 ? o.stream_bytes / a.size : 0));
  e.add("big_streams", when(is_ole, o.big_streams));
  e.add("summary_present", when(is_ole, o.summary));
  e.add("code_page", when(is_ole && o.summary > 0, o.code_page));
  e.add("empty_author", when(is_ole && o.summary > 0, o.empty_author));
  e.add("empty_title", when(is_ole && o.summary > 0, o.empty_title));
  e.add("empty_subject", when(is_ole && o.summary > 0, o.empty_subject));
  e.add("has_template", when(is_ole && o.summary > 0, o.has_template));
  e.add("normal_template", when(is_ole && o.summary > 0, o.normal_template));
  e.add("app_word", when(is_ole && o.summary > 0, o.app_word));
  e.add("app_excel", when(is_ole && o.summary > 0, o.app_excel));
  e.add("app_powerpoint", when(is_ole && o.summary > 0, o.app_ppt));
  e.add("app_other", when(is_ole && o.summary > 0, o.app_other));
  e.add("pages", when(is_ole && o.summary > 0, o.pages));
  e.add("words", when(is_ole && o.summary > 0, o.words));
  e.add("chars", when(is_ole && o.summary > 0, o.chars));
  e.add("edit_time_s", when(is_ole && o.summary > 0, o.edit_time));
  e.add("created_eq_saved", when(is_ole && o.summary > 0, o.created_eq_saved));
  e.add("no_dates", when(is_ole && o.summary > 0, o.no_dates));
  e.add("security", when(is_ole && o.summary > 0, o.security));
  e.add("last_author_eq_author", when(is_ole && o.summary > 0, o.last_author_eq));
  e.add("doc_summary", when(is_ole, o.docsummary));
  e.add("compobj", when(is_ole, o.compobj));
  e.add("object_pool", when(is_ole, o.object_pool));
  e.add("ole10native", when(is_ole, o.ole10native));
  e.add("package_streams", when(is_ole, o.package_streams));
  e.add("ole_streams", when(is_ole, o.ole_objects));
  e.add("word_fib_encrypted", when(is_ole, o.word_fib_encrypted));
  e.add("word_fib_obfuscated", when(is_ole, o.word_fib_obfuscated));
  e.add("word_1table", when(is_ole, o.word_1table));
  e.add("word_0table", when(is_ole, o.word_0table));
  e.add("data_stream", when(is_ole, o.data_stream));
  e.add("macros_storage", when(is_ole, o.macros_storage));
  e.add("embedded_pe", when(is_ole, o.embedded_pe));
  e.add("embedded_zip", when(is_ole, o.embedded_zip));
  e.add("encryption_info", when(is_ole, o.encryption_info));
  e.add("encrypted_package", when(is_ole, o.encrypted_package));
  e.add("excel5_vba_storage", when(is_ole, o.vba5_storage));
  for (std::size_t i = 0; i < ole2::anomaly_count; ++i)
    e.add(std::string("anomaly.") + ole2::anomaly_name(static_cast<ole2::Anomaly>(i)), when(is_ole, o.anomaly_bits[i]));

  e.group("vba", "VBA project structure ([MS-OVBA]): modules, p-code versus source (stomping), hidden modules, "
                 "references, project password, forms, and the VBA reader's anomalies.");
  const auto& v = a.vba;
  e.add("projects", v.projects);
  e.add("modules", v.modules);
  e.add("procedural_modules", v.procedural);
  e.add("document_class_modules", v.doc_class);
  e.add("missing_streams", v.missing_streams);
  e.add("stomp_suspects", v.stomp_suspects);
  e.add("hidden_modules", v.hidden_modules);
  e.add("log_pcode_bytes", log_size(v.pcode_bytes));
  e.add("log_source_bytes", log_size(v.source_bytes));
  e.add("modules_without_code", v.no_source_modules);
  e.add("references", v.references);
  e.add("vba_version", v.projects > 0 ? v.vba_version : nan);
  e.add("sys_kind", v.projects > 0 ? v.sys_kind : nan);
  e.add("code_page", v.projects > 0 ? v.code_page : nan);
  e.add("project_lines", v.project_lines);
  e.add("project_password", v.project_password);
  e.add("forms", v.forms);
  for (std::size_t i = 0; i < vba::anomaly_count; ++i)
    e.add(std::string("anomaly.") + vba::anomaly_name(static_cast<vba::Anomaly>(i)), v.anomaly_bits[i]);

  e.group("macro", "Macro capabilities: keyword counts per category (auto-exec triggers, write, execute, download, "
                   "obfuscation, self-modification, environment, native API), ActiveX event handlers, and the "
                   "three flags of the baseline rule.");
  const auto& c = a.code;
  e.add("code_modules", c.modules);
  e.add("log_code_bytes", log_size(c.code_bytes));
  e.add("code_lines", c.code_lines);
  e.add("procedures", c.procedures);
  static constexpr const char* kCats[] = {"none", "autoexec", "write", "execute", "download", "obfuscation",
                                          "selfmod", "environment", "api"};
  for (std::size_t i = 1; i < office::cat_count; ++i) e.add(std::string("cat_") + kCats[i], c.cats[i]);
  e.add("control_events", c.control_events);
  const bool autoexec = c.cats[office::cat_autoexec] > 0 || c.control_events > 0 || a.xlm.auto_open_names > 0;
  const bool writes = c.cats[office::cat_write] > 0;
  const bool executes = c.cats[office::cat_execute] > 0 || a.xlm.exec + a.xlm.call + a.xlm.reg > 0;
  e.add("autoexec", autoexec);
  e.add("write", writes);
  e.add("execute", executes);

  e.group("macro_kw", "Counts of capability keywords among the macro's identifiers (case-insensitive).");
  const auto& tk = office::token_keywords();
  for (std::size_t i = 0; i < tk.size(); ++i) e.add(feature_name(tk[i].name), c.kw[i]);

  e.group("macro_str", "Counts of command, COM class, URL and file-type substrings in the macro text, strings "
                       "included (case-insensitive).");
  const auto& sk = office::substring_keywords();
  for (std::size_t i = 0; i < sk.size(); ++i) e.add(feature_name(sk[i].name), c.sub[i]);

  e.group("macro_obf", "Obfuscation measures of the macro text: line lengths, comment ratio, string literals (long, "
                       "hex, base64), concatenation and Chr() arithmetic density, identifier length, randomness "
                       "and entropy.");
  const double lines = std::max(1.0, c.code_lines);
  const double ids = std::max(1.0, c.identifiers - 0.0);
  double id_total = 0, id_ent = 0;
  for (double n : c.id_chars) id_total += n;
  for (double n : c.id_chars)
    if (n > 0) id_ent -= n / id_total * std::log2(n / id_total);
  const bool code = c.code_lines > 0;
  e.add("lines", c.lines);
  e.add("mean_line", code ? c.sum_line / std::max(1.0, c.lines) : nan);
  e.add("max_line", c.max_line);
  e.add("long_lines", c.long_lines);
  e.add("comment_ratio", code ? c.comment_lines / (c.comment_lines + c.code_lines) : nan);
  e.add("blank_ratio", code ? c.blank_lines / std::max(1.0, c.lines) : nan);
  e.add("strings", c.strings);
  e.add("strings_per_line", code ? c.strings / lines : nan);
  e.add("string_byte_ratio", code ? c.string_bytes / std::max(1.0, c.code_bytes) : nan);
  e.add("max_string", c.max_string);
  e.add("long_strings", c.long_strings);
  e.add("hex_strings", c.hex_strings);
  e.add("base64_strings", c.b64_strings);
  e.add("concat_amp_per_line", code ? c.concat_amp / lines : nan);
  e.add("concat_plus_per_line", code ? c.concat_plus / lines : nan);
  e.add("chr_calls", c.chr_calls);
  e.add("chr_per_line", code ? c.chr_calls / lines : nan);
  e.add("chr_arithmetic", c.chr_arith);
  e.add("numbers_per_line", code ? c.numbers / lines : nan);
  e.add("tokens_per_line", code ? c.tokens / lines : nan);
  e.add("distinct_identifiers", c.distinct_identifiers);
  e.add("mean_identifier_length", code && c.identifiers > 0 ? c.id_len_sum / ids : nan);
  e.add("long_identifier_ratio", code && c.identifiers > 0 ? c.id_long / ids : nan);
  e.add("digit_identifier_ratio", code && c.identifiers > 0 ? c.id_mixed_digits / ids : nan);
  e.add("consonant_run_ratio", code && c.identifiers > 0 ? c.id_consonant_runs / ids : nan);
  e.add("identifier_entropy", code && id_total > 0 ? id_ent : nan);
  e.add("distinct_identifier_ratio", code && c.identifiers > 0 ? c.distinct_identifiers / ids : nan);

  e.group("macro_bigrams", "Hashed bigrams of normalised macro tokens (language keywords kept, other names as "
                           "<id>, literals as <str>/<num>), 256 buckets, as a fraction of all tokens.");
  const double toks = std::max(1.0, c.tokens);
  e.add_array("b", office::kBigramBuckets, [&](std::size_t i) { return c.bigrams[i] / toks; });

  e.group("xlm", "Excel 4 (XLM) macros: macro sheets and their visibility, Auto_Open/Auto_Close names, EXEC / CALL "
                 "/ REGISTER / CHAR / GOTO / HALT / GET.WORKSPACE calls, URL and API strings (BIFF8 or OOXML).");
  const auto& x = a.xlm;
  e.add("sheets", x.sheets);
  e.add("macro_sheets", x.macro_sheets);
  e.add("hidden_macro_sheets", x.hidden_macro_sheets);
  e.add("very_hidden_sheets", x.very_hidden_sheets);
  e.add("hidden_sheets", x.hidden_sheets);
  e.add("vba_module_sheets", x.vba_module_sheets);
  e.add("auto_open_names", x.auto_open_names);
  e.add("auto_close_names", x.auto_close_names);
  e.add("defined_names", x.defined_names);
  e.add("hidden_names", x.hidden_names);
  e.add("macro_formulas", x.formulas);
  e.add("exec", x.exec);
  e.add("call", x.call);
  e.add("register", x.reg);
  e.add("char", x.chr);
  e.add("halt", x.halt);
  e.add("goto", x.go_to);
  e.add("command_functions", x.formula_fn);
  e.add("run", x.run);
  e.add("get_workspace", x.get_workspace);
  e.add("url_strings", x.url_strings);
  e.add("api_strings", x.api_strings);
  e.add("biff_records", x.biff_records);
  e.add("biff_bad_records", x.biff_bad_records);

  e.group("ooxml", "OOXML package: parts, content types, relationships (external targets, remote attachedTemplate, "
                   "external OLE links, frames, MHTML targets), DDE fields and links, embedded objects and ActiveX, "
                   "vbaProject.bin, custom UI, zip oddities (NaN when the file is not OOXML).");
  const auto& z = a.ooxml;
  const bool zx = is_ooxml;
  e.add("entries", when(zx, z.entries));
  e.add("inflation_ratio", when(zx, a.size > 0 ? z.uncompressed_bytes / a.size : 0));
  e.add("rels_parts", when(zx, z.rels));
  e.add("relationships", when(zx, z.relationships));
  e.add("external_relationships", when(zx, z.external_rels));
  e.add("external_http", when(zx, z.external_http));
  e.add("external_unc_or_file", when(zx, z.external_unc_file));
  e.add("remote_template", when(zx, z.remote_template));
  e.add("external_oleobject", when(zx, z.external_oleobject));
  e.add("external_frame", when(zx, z.external_frame));
  e.add("external_hyperlinks", when(zx, z.external_hyperlinks));
  e.add("external_other", when(zx, z.external_other));
  e.add("mhtml_targets", when(zx, z.mhtml_targets));
  e.add("external_link_parts", when(zx, z.external_links_parts));
  e.add("dde_links", when(zx, z.dde_links));
  e.add("fields", when(zx, z.fields));
  e.add("dde_fields", when(zx, z.dde_fields));
  e.add("ddeauto_fields", when(zx, z.ddeauto_fields));
  e.add("embeddings", when(zx, z.embeddings));
  e.add("ole_objects", when(zx, z.ole_objects));
  e.add("activex", when(zx, z.activex));
  e.add("activex_bin", when(zx, z.activex_bin));
  e.add("embedded_exe", when(zx, z.embedded_exe));
  e.add("embedded_ole2", when(zx, z.embedded_ole2));
  e.add("embedded_other", when(zx, z.embedded_other));
  e.add("vba_project", when(zx, z.vba_project));
  e.add("macro_enabled_content_types", when(zx, z.macro_enabled_ct));
  e.add("custom_ui", when(zx, z.custom_ui));
  e.add("macrosheet_parts", when(zx, z.macrosheet_parts));
  e.add("content_types", when(zx, z.content_types));
  e.add("missing_content_types", when(zx, z.missing_content_types));
  e.add("webextensions", when(zx, z.webextensions));
  e.add("custom_xml", when(zx, z.custom_xml));
  e.add("has_main_part", when(zx, z.has_document));
  e.add("zip_errors", when(zx, z.zip_errors));
  e.add("encrypted_entries", when(zx, z.encrypted_entries));
  e.add("path_traversal", when(zx, z.dotdot_paths + z.absolute_paths));
  e.add("duplicate_names", when(zx, z.duplicate_names));

  e.group("rtf", "RTF: objects and the control words that embed, link or auto-update them, OLE1 class names "
                 "(Equation Editor, Package, OLE2Link...), \\objdata hex oddities, group depth, DDE fields "
                 "(NaN when the file is not RTF).");
  const auto& r = a.rtf;
  for (const auto& [n, val] : std::initializer_list<std::pair<const char*, double>>{
           {"objects", r.objects}, {"objdata", r.objdata}, {"objupdate", r.objupdate}, {"objemb", r.objemb},
           {"objlink", r.objlink}, {"objautlink", r.objautlink}, {"objocx", r.objocx}, {"objhtml", r.objhtml},
           {"class_equation", r.equation}, {"class_package", r.package}, {"class_ole2link", r.ole2link},
           {"class_word", r.word_doc}, {"class_excel", r.excel}, {"class_other", r.other_class}, {"bin", r.bin},
           {"max_depth", r.max_depth}, {"unbalanced", r.unbalanced}, {"header_nonstandard", r.header_nonstandard},
           {"control_words", r.control_words}, {"log_hex_bytes", log_size(r.hex_bytes)},
           {"hex_whitespace_ratio", r.hex_bytes > 0 ? r.hex_whitespace / r.hex_bytes : 0}, {"odd_hex", r.odd_hex},
           {"log_decoded_bytes", log_size(r.decoded_bytes)}, {"ole1_malformed", r.ole1_bad}, {"fields", r.fields},
           {"ddeauto", r.ddeauto}, {"dde", r.dde}, {"embedded_pe", r.embedded_pe}, {"embedded_ole2", r.embedded_ole2},
           {"after_last_brace", r.after_last_brace}})
    e.add(n, when(is_rtf, val));

  e.group("pdf", "PDF: pdfid-style keyword counts (obj, stream, /JS, /JavaScript, /OpenAction, /Launch, "
                 "/EmbeddedFile...), names hidden with #xx escapes, header offset and version, %%EOF count and bytes "
                 "after the last, URLs, eval/unescape (NaN when the file is not PDF).");
  const auto& pk = office::pdf_keywords();
  for (std::size_t i = 0; i < pk.size(); ++i) e.add(feature_name(pk[i][0] == '/' ? pk[i] + 1 : pk[i]), when(is_pdf, a.pdf.kw[i]));
  e.add("obfuscated_names", when(is_pdf, a.pdf.obfuscated_names));
  e.add("header_offset", when(is_pdf, a.pdf.header_offset));
  e.add("version", when(is_pdf, a.pdf.version));
  e.add("eofs", when(is_pdf, a.pdf.eofs));
  e.add("after_eof", when(is_pdf, a.pdf.after_eof));
  e.add("urls", when(is_pdf, a.pdf.urls));
  e.add("js_calls", when(is_pdf, a.pdf.js_bytes));

  e.group("pdf_shape", "PDF shape (schema v7): link annotations and whether their /URI link spreads over the page "
                       "(largest /Rect over the /MediaBox), form fields and images, text (Tj/TJ) and drawing (Do) "
                       "operators of the decoded content streams, actions run on open resolved through references "
                       "(/OpenAction, page-open /AA), form submissions to web URLs, JavaScript traits (eval, unescape, "
                       "fromCharCode, %u and \\x escapes, hex runs, longest string, timers, annotation access, old "
                       "exploit APIs, navigation) and link targets (plain http, mailto, other schemes, shorteners, "
                       "file-sharing and free hosts, odd ports, user@host, long or query URLs, digit-heavy and deep "
                       "host names). NaN when the file is not PDF.");
  const auto& ps = a.pdf_shape;
  const double per_page = ps.pages > 0 ? ps.pages : 1;
  for (const auto& [n, val] : std::initializer_list<std::pair<const char*, double>>{
           {"link_annots", ps.link_annots}, {"uri_links", ps.uri_links},
           {"max_uri_link_fraction", ps.max_uri_link_fraction}, {"big_uri_links", ps.big_uri_links},
           {"uri_links_per_page", ps.uri_links / per_page}, {"widgets", ps.widgets}, {"images", ps.images},
           {"content_streams", ps.content_streams}, {"log_text_ops", log_size(ps.text_ops)},
           {"text_ops_per_page", ps.text_ops / per_page}, {"draw_ops", ps.draw_ops},
           {"no_text", ps.content_streams > 0 && ps.text_ops == 0},
           {"few_pages_with_link", ps.pages <= 2 && ps.uri_links > 0},
           {"open_uri", ps.open_uri}, {"open_javascript", ps.open_javascript}, {"open_launch", ps.open_launch},
           {"open_submit", ps.open_submit}, {"open_other", ps.open_other}, {"submit_web", ps.submit_web},
           {"js_log_bytes", log_size(ps.js_bytes)}, {"js_eval", ps.js_eval}, {"js_unescape", ps.js_unescape},
           {"js_from_char_code", ps.js_from_char_code}, {"js_percent_u", ps.js_percent_u},
           {"js_hex_escapes", ps.js_hex_escapes}, {"js_hex_runs", ps.js_hex_runs},
           {"js_log_longest_string", log_size(ps.js_longest_string)}, {"js_timers", ps.js_timers},
           {"js_annots", ps.js_annots}, {"js_exploit_apis", ps.js_exploit_apis}, {"js_navigation", ps.js_navigation},
           {"uri_distinct", ps.uri_distinct}, {"uri_plain_http", ps.uri_plain_http}, {"uri_mailto", ps.uri_mailto},
           {"uri_other_scheme", ps.uri_other_scheme}, {"uri_shorteners", ps.uri_shorteners},
           {"uri_file_hosting", ps.uri_file_hosting}, {"uri_odd_port", ps.uri_odd_port},
           {"uri_userinfo", ps.uri_userinfo}, {"uri_long", ps.uri_long}, {"uri_query", ps.uri_query},
           {"uri_percent_encoded", ps.uri_percent_encoded}, {"uri_host_digits", ps.uri_host_digits},
           {"uri_deep_hosts", ps.uri_deep_hosts}})
    e.add(n, when(is_pdf, val));

  e.group("encryption", "Encryption: OOXML Standard / Agile / other EncryptionInfo, BIFF FILEPASS, Word FIB "
                        "encryption, and whether the default password opened it.");
  e.add("encrypted", a.enc.encrypted + a.enc.word_rc4 > 0);
  e.add("ooxml_standard", a.enc.ooxml_standard);
  e.add("ooxml_agile", a.enc.ooxml_agile);
  e.add("ooxml_other", a.enc.ooxml_other);
  e.add("biff_filepass", a.enc.biff_filepass);
  e.add("word_fib", a.enc.word_rc4);
  e.add("decrypted", a.enc.decrypted);

  e.group("behaviour", "What the macros do, from the static VBA/XLM evaluator (src/analysis: concatenation, Chr() "
                       "arithmetic, StrReverse/Replace/Split folded first, PowerShell -enc decoded) and from "
                       "replication and stealth identifiers; plus the auto-exec -> download/execute chains. Meant "
                       "to hold across sources and epochs (schema v2).");
  const auto& ev = a.eval;
  const bool macros = c.code_lines > 0 || a.xlm.formulas > 0 || ev.projects > 0;
  e.add("evaluated_projects", ev.projects);
  e.add("ioc_urls", ev.urls);
  e.add("ioc_url_executables", ev.url_executables);
  e.add("ioc_ips", ev.ips);
  e.add("ioc_domains", ev.domains);
  e.add("ioc_commands", ev.commands);
  e.add("ioc_paths", ev.paths);
  e.add("decoded_strings", ev.decoded);
  e.add("powershell_layers", ev.powershell);
  e.add("evaluator_limits_hit", ev.limits_hit);
  e.add("replication", c.replication);
  e.add("stealth", c.stealth);
  e.add("startup_paths", c.startup_paths);
  const bool downloads = c.cats[office::cat_download] > 0 || ev.urls > 0 || a.xlm.url_strings > 0;
  const bool runs = executes || ev.commands > 0;
  e.add("autoexec_download", macros && autoexec && downloads);
  e.add("autoexec_execute", macros && autoexec && runs);
  e.add("autoexec_download_execute", macros && autoexec && downloads && runs);
  e.add("autoexec_replicates", macros && autoexec && (c.replication > 0 || c.cats[office::cat_selfmod] > 0));

  e.group("active", "What runs or is fetched when the document opens, per format (schema v3): attachedTemplate and "
                    "external OLE objects / frames pointing at web hosts other than Microsoft's or at shares, "
                    "external targets on IP-literal hosts; RTF Equation Editor objects that load without a click, "
                    "OLE2Link / URL-moniker objects, auto-updated objects whose data is not OLE1, executables in "
                    "objects; PDF /OpenAction or /AA next to JavaScript or /Launch, embedded executables and "
                    "documents, /URI hosts (NaN when the file is not of that format).");
  const auto& ac = a.active;
  e.add("remote_template_web", when(is_ooxml, ac.remote_template_web));
  e.add("remote_template_unc", when(is_ooxml, ac.remote_template_unc));
  e.add("external_object_untrusted", when(is_ooxml, ac.external_object_web));
  e.add("external_ip_hosts", when(is_ooxml, ac.external_ip_hosts));
  e.add("rtf_equation_autoload", when(is_rtf, ac.rtf_equation_autoload));
  e.add("rtf_link_moniker", when(is_rtf, ac.rtf_link_moniker));
  e.add("rtf_update_malformed", when(is_rtf, ac.rtf_update_malformed));
  e.add("rtf_executable_object", when(is_rtf, ac.rtf_executable_package));
  e.add("pdf_auto_javascript", when(is_pdf, ac.pdf_auto_javascript));
  e.add("pdf_auto_launch", when(is_pdf, ac.pdf_auto_launch));
  e.add("pdf_embedded_executable", when(is_pdf, ac.pdf_embedded_executable));
  e.add("pdf_embedded_document", when(is_pdf, ac.pdf_embedded_document));
  e.add("pdf_uri_hosts", when(is_pdf, ac.pdf_uri_hosts));
  e.add("pdf_uri_ip_hosts", when(is_pdf, ac.pdf_uri_ip_hosts));
  e.add("pdf_uri_executables", when(is_pdf, ac.pdf_uri_executables));

  e.group("spread", "How a macro copies itself (schema v4): statement lines that put code into another document's "
                    "project (ActiveWorkbook/Documents/NormalTemplate with Import, AddFromString, InsertLines...), read "
                    "the macro's own code out (ThisWorkbook/ThisDocument with Export or Lines), assign an Excel 5 "
                    "application event hook (Application.OnSheetActivate = ...), save into Excel's start-up folders, "
                    "copy a module sheet into another workbook, or call OrganizerCopy / MacroCopy; and how many of "
                    "these six kinds occur. Business add-ins show one kind at most; macro viruses two or more.");
  const double spread[] = {c.spread_inject, c.spread_self_read, c.spread_hook, c.spread_save_startup,
                           c.spread_sheet_copy, c.spread_macro_copy};
  e.add("inject_lines", spread[0]);
  e.add("self_read_lines", spread[1]);
  e.add("event_hook_lines", spread[2]);
  e.add("save_to_startup_lines", spread[3]);
  e.add("sheet_copy_lines", spread[4]);
  e.add("macro_copy_lines", spread[5]);
  double kinds = 0;
  for (double n_lines : spread) kinds += n_lines > 0 ? 1 : 0;
  e.add("kinds", kinds);

  e.group("chain", "The auto-exec -> download/execute chain read as the VBA project's procedure graph (schema v5): "
                   "triggers are entry points Office runs with no click (AutoOpen, Document_Open, Workbook_Open, "
                   "Auto_Close, Document_Close, ActiveX *_Layout / *_Painted / WebBrowser events; not *_Click), "
                   "calls are procedure names in code or in strings (Run \"Foo\", OnTime), followed to a bounded "
                   "depth; a download is URLDownloadToFile (or a Declare aliased to it), XMLHTTP/WinHttp .Send "
                   "in a project with a web URL, or a download command; an execute is Shell, ShellExecute, "
                   "WinExec, CreateProcess, WScript.Shell .Run/.Exec, Win32_Process Create, CallByName to them; "
                   "a write is Open For Output/Binary/Append, Put #, Print #, SaveToFile, CreateTextFile. Also: "
                   "an executable name or loader tool (rundll32, mshta...) in a reached string, CreateObject / "
                   "GetObject of a computed class, a URL naming an executable; and procedures holding a download "
                   "and an execute, reached or not. Strings the evaluator recovers count in the procedure that "
                   "builds them.");
  const auto& ch = a.chain;
  e.add("trigger_execute", ch.trigger_execute);
  e.add("trigger_download_execute", ch.trigger_download_execute);
  e.add("trigger_write_execute", ch.trigger_write_execute);
  e.add("trigger_executable_string", ch.trigger_executable_string);
  e.add("trigger_object_by_expression", ch.trigger_object_by_expression);
  e.add("trigger_remote_executable", ch.trigger_remote_executable);
  e.add("download_execute_procedures", ch.download_execute_procedures);

  e.group("payload", "Machine code and executables hidden in the document (schema v6; src/features/payload_scan.hpp): "
                     "read in the file's bytes (OLE2, RTF, PDF), in the inflated embeddings and ActiveX parts of "
                     "OOXML and in decoded RTF objects. Clear DOS stub sentences and MZ/PE headers after offset 0, "
                     "the stub sentence XORed with a one- or four-byte key, shellcode idioms (PEB reads through "
                     "fs:[0x30] / gs:[0x60], GetPC sequences), distinct ROR-13 API-name hashes pushed as immediates, "
                     "NOP sleds.");
  const auto& pl = a.payload;
  e.add("dos_stubs", pl.dos_stubs);
  e.add("pe_headers", pl.pe_headers);
  e.add("xor1_executables", pl.xor1_stubs);
  e.add("xor4_executables", pl.xor4_stubs);
  e.add("peb_access", pl.peb_access);
  e.add("get_pc", pl.get_pc);
  e.add("api_hashes", pl.api_hashes);
  e.add("nop_sleds", pl.nop_sleds);
}

Schema build_schema() {
  return make_schema("office", kOfficeSchemaVersion, NameCase::exact, [](Emitter& e) {
    Acc a;
    emit_all(e, a);
  });
}

std::size_t index_of(const char* name) {
  const auto& f = office_schema().features;
  for (std::size_t i = 0; i < f.size(); ++i)
    if (f[i].name == name) return i;
  return 0;
}

}  // namespace

const Schema& office_schema() {
  static const Schema s = build_schema();
  return s;
}

std::string office_schema_markdown() {
  return schema_markdown(office_schema(), "Document feature schema",
                         "Generated by `mamori features --kind office --markdown` from src/features/office_features.cpp; "
                         "do not edit. One layout for OLE2, OOXML, RTF and PDF documents; groups that do not apply to "
                         "a file's type are NaN (XGBoost's missing).");
}

OfficeSample featurize_office(ByteView bytes, const OfficeOptions& opt) {
  OfficeSample s;
  Acc a;
  a.out = &s;
  a.opt = &opt;
  a.size = static_cast<double>(bytes.size());
  const auto t = engine::detect_type(bytes);
  // Compressed containers are read part by part (analyze_ooxml); anything else in its own bytes.
  if (t.kind != engine::FileKind::ooxml && t.kind != engine::FileKind::zip) a.scan_payload(bytes, "file");
  switch (t.kind) {
    case engine::FileKind::ole2:
      a.type = "ole2";
      office::analyze_ole2(bytes, a);
      break;
    case engine::FileKind::ooxml:
    case engine::FileKind::zip:
      a.type = t.subtype == "zip" ? "ooxml" : t.subtype;
      office::analyze_ooxml(bytes, a);
      break;
    case engine::FileKind::rtf:
      a.type = "rtf";
      office::analyze_rtf(bytes, a);
      break;
    case engine::FileKind::pdf:
      a.type = "pdf";
      office::analyze_pdf(bytes, a);
      break;
    default:
      a.type = t.subtype;
      break;
  }
  // A package the default password opened is analysed in place too, so the vector sees its macros.
  if (s.decrypted && a.depth < office_limits::max_inline_depth) {
    ++a.depth;
    office::analyze_ooxml(ByteView(s.decrypted_package.data(), s.decrypted_package.size()), a);
    --a.depth;
  }
  s.doc_type = a.type;
  const auto& sch = office_schema();
  s.x.assign(sch.features.size(), 0.0f);
  Emitter e(s.x);
  emit_all(e, a);
  s.autoexec = s.x[index_of("macro.autoexec")] > 0;
  s.writes = s.x[index_of("macro.write")] > 0;
  s.executes = s.x[index_of("macro.execute")] > 0;
  return s;
}

bool office_baseline_rule(const std::vector<float>& x) {
  static const std::size_t ia = index_of("macro.autoexec"), iw = index_of("macro.write"), ix = index_of("macro.execute");
  if (x.size() <= std::max({ia, iw, ix})) return false;
  return x[ia] > 0 && (x[iw] > 0 || x[ix] > 0);
}

std::string office_rule(const std::vector<float>& x) {
  static const std::size_t stealth = index_of("behaviour.stealth"), startup = index_of("behaviour.startup_paths");
  static const std::size_t replication = index_of("behaviour.replication");
  static const std::size_t spread_kinds = index_of("spread.kinds");
  static const std::size_t save_startup = index_of("spread.save_to_startup_lines");
  static const std::size_t autoexec_lines = index_of("macro.cat_autoexec"), events = index_of("macro.control_events");
  static const std::size_t code = index_of("macro.code_lines"), sheets = index_of("xlm.macro_sheets");
  static const std::size_t vba_autoexec = index_of("macro.autoexec");
  static const std::size_t auto_open = index_of("xlm.auto_open_names"), exec = index_of("xlm.exec");
  static const std::size_t call = index_of("xlm.call"), reg = index_of("xlm.register");
  static const std::size_t chr = index_of("xlm.char"), formula = index_of("xlm.command_functions");
  static const std::size_t go_to = index_of("xlm.goto"), run = index_of("xlm.run");
  static const std::size_t xlm_url = index_of("xlm.url_strings");
  static const std::size_t chain_dl_ex = index_of("chain.trigger_download_execute");
  static const std::size_t chain_ex = index_of("chain.trigger_execute");
  static const std::size_t chain_computed_class = index_of("chain.trigger_object_by_expression");
  static const std::size_t chain_remote_exe = index_of("chain.trigger_remote_executable");
  static const std::size_t template_web = index_of("active.remote_template_web");
  static const std::size_t object_untrusted = index_of("active.external_object_untrusted");
  static const std::size_t ext_unc = index_of("ooxml.external_unc_or_file");
  static const std::size_t equation = index_of("active.rtf_equation_autoload");
  static const std::size_t moniker = index_of("active.rtf_link_moniker");
  static const std::size_t update_bad = index_of("active.rtf_update_malformed");
  static const std::size_t objupdate = index_of("rtf.objupdate"), autolink = index_of("rtf.objautlink");
  static const std::size_t rtf_exe = index_of("active.rtf_executable_object");
  static const std::size_t pdf_exe = index_of("active.pdf_embedded_executable");
  // Followed through references (schema v7): /OpenAction and /AA next to a /Launch used anywhere else (a link that
  // opens a file, a benign PyMuPDF test file) is not a launch on open.
  static const std::size_t pdf_launch = index_of("pdf_shape.open_launch");
  static const std::size_t xor1 = index_of("payload.xor1_executables"), xor4 = index_of("payload.xor4_executables");
  static const std::size_t peb = index_of("payload.peb_access"), get_pc = index_of("payload.get_pc");
  static const std::size_t stubs = index_of("payload.dos_stubs"), pe_headers = index_of("payload.pe_headers");
  if (x.size() != office_schema().features.size()) return {};
  // NaN (a group that does not apply to the file's type) compares false everywhere below.
  // "Starts by itself": more auto-exec lines (Workbook_Open, Auto_Open...) than control event handlers (*_Click...),
  // which `macro.cat_autoexec` counts too. Word add-in templates that install themselves into the start-up folder or
  // export and import their modules do it from buttons and dialogs (corpus 11d: 22 such templates, every one with
  // more event handlers than auto-exec lines); a virus does it from the open/close hooks.
  const bool starts_itself = x[autoexec_lines] > x[events];
  // A macro that copies itself (OrganizerCopy, NormalTemplate, StartupPath...) and also turns off the user's
  // protections, or writes into XLSTART / Normal.dot from a hook Office runs by itself, spreads itself. Either half
  // alone is not enough: add-in installers copy themselves into XLSTART, business templates save NormalTemplate
  // (docs/office.md, "Rules").
  if (x[code] > 0 && x[replication] > 0 && (x[stealth] > 0 || (x[startup] > 0 && starts_itself))) return "macro-replication";
  // Or two different ways of spreading in the code itself (group `spread`), one of them a save into the start-up
  // folders, or with stealth, or started by itself: e.g. an Excel virus that hooks OnSheetActivate and saves itself
  // into XLSTART, or exports its module and imports it into the active workbook. One kind alone is what add-in
  // installers and VBA developer tools do (they import modules, save into XLSTART); Word template managers inject
  // and copy modules from their dialogs, which is two kinds but none of the three.
  if (x[code] > 0 && x[spread_kinds] >= 2 && (x[stealth] > 0 || starts_itself || x[save_startup] > 0))
    return "macro-replication";
  // Or a macro Office starts by itself that saves the workbook into Excel's start-up folders (StartupPath,
  // XLSTART...), where every later Excel session opens it: the Laroux family's one move. An installer behind a
  // button is not named.
  if (x[code] > 0 && starts_itself && x[save_startup] > 0) return "macro-replication";
  // An Excel 4 macro sheet that runs on open and calls EXEC, CALL or REGISTER, or writes formulas it builds from
  // CHAR() and jumps to them (the self-decoding dropper): BIFF, XLSM and XLSB alike. Started by an Auto_Open
  // name, or by VBA with an auto-exec trigger; in the second case CALL/REGISTER are not enough, since Microsoft's
  // own Solver add-in (SOLVER.XLA/.XLAM) opens with VBA and REGISTERs its DLL from a macro sheet: EXEC, a
  // download or the decoding shape is required.
  const bool xlm_runs = x[exec] + x[call] + x[reg] > 0;
  const bool xlm_decodes = x[chr] >= 16 && x[formula] > 0 && x[go_to] + x[run] > 0;
  const bool xlm_drops = x[exec] > 0 || x[xlm_url] > 0 || xlm_decodes;
  if (x[sheets] > 0 && ((x[auto_open] > 0 && (xlm_runs || xlm_decodes)) || (x[vba_autoexec] > 0 && xlm_drops)))
    return "xlm-auto-exec";
  // A loader: a macro Office starts by itself (an open/close trigger or an ActiveX draw event, not a click) that,
  // through its own calls, downloads and runs something, or runs something through a COM class whose name it
  // computes or from a URL that names an executable (group `chain`). No benign document with macros of the corpus
  // does either; a self-updating template that fetches and runs its installer on Windows would.
  if (x[chain_dl_ex] > 0 || (x[chain_ex] > 0 && (x[chain_computed_class] > 0 || x[chain_remote_exe] > 0)))
    return "macro-loader";
  // Template injection: the document fetches its attachedTemplate from a web host that is not Microsoft's.
  if (x[template_web] > 0) return "remote-template";
  // The same fetch on open through an OLE object, a frame (webSettings) or a subdocument linked to such a host:
  // external OLE links to an RTF or .doc (the CVE-2017-0199 family) and frameset template injection. Links to a
  // share are ordinary in offices (a chart linked from a file server), so a share or file target anywhere in the
  // package keeps the rule off; the untrusted link is then a web one.
  if (x[object_untrusted] > 0 && !(x[ext_unc] > 0)) return "remote-object-link";
  // RTF objects built to exploit: Equation Editor loaded without a click, an OLE2Link / URL moniker that is
  // updated on open, or an auto-updated object whose data is not even OLE1.
  if (x[equation] > 0 || (x[moniker] > 0 && x[objupdate] + x[autolink] > 0) || x[update_bad] > 0)
    return "rtf-exploit-object";
  // A program packed into the document: an RTF object or Package carrying a PE or an executable file name, a PDF
  // embedded file that is a PE.
  if (x[rtf_exe] > 0 || x[pdf_exe] > 0) return "packaged-executable";
  // A PDF that runs a program when it opens or a page shows (/OpenAction or /AA next to /Launch). JavaScript on
  // open stays a feature: forms use it.
  if (x[pdf_launch] > 0) return "pdf-auto-launch";
  // An executable hidden under XOR in a document: nothing but a dropper encodes one there.
  if (x[xor1] + x[xor4] > 0) return "encoded-executable";
  // Shellcode idioms in a document that holds no clear executable (a clear one carries the same idioms in about 4%
  // of benign programs, and benign documents do package programs).
  if (x[peb] + x[get_pc] > 0 && x[stubs] + x[pe_headers] == 0) return "shellcode";
  return {};
}

std::string office_bucket(const float* x) {
  static const std::size_t first_type = index_of("doc.is_ole2_word");
  static const std::size_t code = index_of("macro.code_lines"), xlm = index_of("xlm.macro_sheets");
  std::string type = "other";
  for (std::size_t i = 0; i < std::size(kTypes); ++i)
    if (x[first_type + i] > 0.5f) type = kTypes[i];
  if (type == "rtf" || type == "pdf") return type;
  const std::string container = type.rfind("ooxml", 0) == 0 ? "ooxml" : type.rfind("ole2", 0) == 0 ? "ole2" : "other";
  std::string app = "other";
  if (type.find("word") != std::string::npos) app = "word";
  else if (type.find("excel") != std::string::npos) app = "excel";
  else if (type.find("ppt") != std::string::npos || type.find("powerpoint") != std::string::npos) app = "ppt";
  if (x[xlm] > 0) return container + ":" + app + "-xlm";
  if (x[code] > 0) return container + ":" + app + "-vba";
  return container + ":" + app;
}

}  // namespace mamori::features
