// Shared between the office_* feature sources: the accumulator every document reader fills, and the readers.
// Not a public interface; the engine and the trainer use office_features.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "features/office_features.hpp"
#include "features/payload_scan.hpp"
#include "formats/ole2/ole2.hpp"

namespace mamori::xls {
struct Workbook;
}
namespace mamori::analysis {
struct Evaluation;
}

namespace mamori::features::office {

inline constexpr std::size_t kBigramBuckets = 256;

/// Token keywords (matched on identifiers, case-insensitive) with the capability they stand for.
enum Cat : std::uint8_t { cat_none = 0, cat_autoexec, cat_write, cat_execute, cat_download, cat_obfuscation,
                          cat_selfmod, cat_environment, cat_api, cat_count };
struct Keyword {
  const char* name;
  Cat cat;
};
const std::vector<Keyword>& token_keywords();
/// Substrings searched in the lower-cased source (strings included): commands, COM classes, URLs, file types.
const std::vector<Keyword>& substring_keywords();

struct CodeStats {
  double modules = 0, code_bytes = 0, lines = 0, code_lines = 0, comment_lines = 0, blank_lines = 0;
  double max_line = 0, sum_line = 0, long_lines = 0;
  double tokens = 0, identifiers = 0, distinct_identifiers = 0, id_len_sum = 0, id_long = 0, id_mixed_digits = 0;
  double id_consonant_runs = 0;
  std::array<double, 64> id_chars{};  // histogram of identifier characters (a-z, 0-9, _ and other)
  double strings = 0, string_bytes = 0, max_string = 0, long_strings = 0, hex_strings = 0, b64_strings = 0;
  double concat_amp = 0, concat_plus = 0, chr_calls = 0, chr_arith = 0, numbers = 0, max_number_run = 0;
  double procedures = 0;
  std::vector<double> kw;    // per token keyword
  std::vector<double> sub;   // per substring keyword
  std::array<double, cat_count> cats{};
  double control_events = 0;  // Sub X_Click / _Change / _Layout ... declarations (ActiveX triggers)
  std::array<float, kBigramBuckets> bigrams{};
  std::unordered_set<std::uint64_t> id_seen;
  // What macro viruses do, which the download/execute categories miss: copy their code into other documents or
  // the global template / XLSTART (replication) and switch off the user's protections (stealth).
  double replication = 0, stealth = 0, startup_paths = 0;
  // Statement lines that spread the macro (schema v4, group `spread`): code put into another document's project,
  // the macro's own code read out, Excel 5 application event hooks assigned, the workbook saved into Excel's
  // start-up folders, a module sheet copied into another workbook, OrganizerCopy / MacroCopy.
  double spread_inject = 0, spread_self_read = 0, spread_hook = 0, spread_save_startup = 0, spread_sheet_copy = 0;
  double spread_macro_copy = 0;
};

/// What the static VBA/XLM evaluator (src/analysis) recovers from the macros: behaviour that survives
/// obfuscation, since the evaluator folds the concatenations and Chr() arithmetic first.
struct EvalStats {
  double projects = 0, urls = 0, ips = 0, domains = 0, commands = 0, paths = 0, decoded = 0, powershell = 0;
  double url_executables = 0, limits_hit = 0;
};

struct XlmStats {
  double macro_sheets = 0, hidden_macro_sheets = 0, very_hidden_sheets = 0, hidden_sheets = 0, sheets = 0;
  double auto_open_names = 0, auto_close_names = 0, defined_names = 0, hidden_names = 0;
  double exec = 0, call = 0, reg = 0, chr = 0, halt = 0, go_to = 0, formula_fn = 0, run = 0, get_workspace = 0;
  double formulas = 0, url_strings = 0, api_strings = 0;
  double filepass = 0, biff_records = 0, biff_bad_records = 0, vba_module_sheets = 0;
};

struct OoxmlStats {
  double entries = 0, uncompressed_bytes = 0, compression_ratio_max = 0, rels = 0, relationships = 0;
  double external_rels = 0, external_http = 0, external_unc_file = 0, remote_template = 0, external_oleobject = 0;
  double external_frame = 0, external_hyperlinks = 0, external_other = 0, mhtml_targets = 0;
  double external_links_parts = 0, dde_links = 0, dde_fields = 0, ddeauto_fields = 0, fields = 0;
  double embeddings = 0, ole_objects = 0, activex = 0, activex_bin = 0, vba_project = 0, macro_enabled_ct = 0;
  double custom_ui = 0, macrosheet_parts = 0, content_types = 0, missing_content_types = 0, zip_errors = 0;
  double embedded_exe = 0, embedded_ole2 = 0, embedded_other = 0, webextensions = 0, custom_xml = 0;
  double has_document = 0, encrypted_entries = 0, dotdot_paths = 0, absolute_paths = 0, duplicate_names = 0;
};

struct RtfStats {
  double objects = 0, objdata = 0, objupdate = 0, objemb = 0, objlink = 0, objautlink = 0, objocx = 0, objhtml = 0;
  double equation = 0, package = 0, ole2link = 0, word_doc = 0, excel = 0, other_class = 0, bin = 0;
  double max_depth = 0, unbalanced = 0, header_nonstandard = 0, control_words = 0, hex_bytes = 0;
  double hex_whitespace = 0, odd_hex = 0, decoded_bytes = 0, ole1_bad = 0, fields = 0, ddeauto = 0, dde = 0;
  double embedded_pe = 0, embedded_ole2 = 0, after_last_brace = 0, shellcode_like = 0, unknown_destinations = 0;
};

struct PdfStats {
  std::array<double, 24> kw{};   // pdfid-style keyword counts (see pdf_keywords())
  double obfuscated_names = 0, header_offset = 0, version = 0, after_eof = 0, eofs = 0, urls = 0, js_bytes = 0;
};

/// The PDF's shape, JavaScript traits and link targets (schema v6, group `pdf_shape`): what a reader shows (text or
/// only images, a link spread over the page), what runs on open, what the script does, where the links go.
struct PdfShapeStats {
  double link_annots = 0, uri_links = 0, max_uri_link_fraction = 0, big_uri_links = 0, widgets = 0, images = 0;
  double content_streams = 0, text_ops = 0, draw_ops = 0, pages = 0;
  double open_uri = 0, open_javascript = 0, open_launch = 0, open_submit = 0, open_other = 0, submit_web = 0;
  double js_bytes = 0, js_eval = 0, js_unescape = 0, js_from_char_code = 0, js_percent_u = 0, js_hex_escapes = 0;
  double js_hex_runs = 0, js_longest_string = 0, js_timers = 0, js_annots = 0, js_exploit_apis = 0, js_navigation = 0;
  double uri_distinct = 0, uri_plain_http = 0, uri_mailto = 0, uri_other_scheme = 0, uri_shorteners = 0;
  double uri_file_hosting = 0, uri_odd_port = 0, uri_userinfo = 0, uri_long = 0, uri_query = 0, uri_percent_encoded = 0;
  double uri_host_digits = 0, uri_deep_hosts = 0;
};

struct Ole2Stats {
  double present = 0, entries = 0, streams = 0, storages = 0, orphans = 0, anomalies = 0;
  std::array<double, 64> anomaly_bits{};
  double summary = 0, code_page = 0, empty_author = 0, empty_title = 0, empty_subject = 0, has_template = 0;
  double normal_template = 0, app_word = 0, app_excel = 0, app_ppt = 0, app_other = 0, pages = 0, words = 0;
  double chars = 0, edit_time = 0, created_eq_saved = 0, no_dates = 0, security = 0, last_author_eq = 0;
  double docsummary = 0, compobj = 0, object_pool = 0, ole10native = 0, package_streams = 0, ole_objects = 0;
  double word_fib_encrypted = 0, word_fib_obfuscated = 0, word_1table = 0, word_0table = 0, data_stream = 0;
  double macros_storage = 0, big_streams = 0, stream_bytes = 0, embedded_pe = 0, embedded_zip = 0;
  double encryption_info = 0, encrypted_package = 0, msi = 0, msg = 0;
  double vba5_storage = 0;  // Excel 5/95 "_VBA_PROJECT" storage: VBA before [MS-OVBA], no source we can read
};

/// Shapes that run or fetch something when the document opens, per format (schema v3): remote templates and
/// external objects to untrusted hosts, RTF objects built to exploit (Equation Editor, OLE2Link / URL monikers,
/// auto-updated objects whose data is not OLE1), executables packed into objects, PDF actions on open.
struct ActiveStats {
  double remote_template_web = 0, remote_template_unc = 0, external_object_web = 0, external_ip_hosts = 0;
  double rtf_equation_autoload = 0, rtf_link_moniker = 0, rtf_update_malformed = 0, rtf_executable_package = 0;
  double pdf_auto_javascript = 0, pdf_auto_launch = 0, pdf_embedded_executable = 0, pdf_embedded_document = 0;
  double pdf_uri_hosts = 0, pdf_uri_ip_hosts = 0, pdf_uri_executables = 0;
};

/// Where an external link (relationship target, /URI) points.
struct LinkTarget {
  enum Kind : std::uint8_t { local, web, unc, other } kind = other;
  std::string host;        // lower case; empty for local paths
  bool ip_host = false;    // 1.2.3.4, 3232235777, 0x7f000001, [::1]
  bool trusted = false;    // a Microsoft / Office template host (templates.office.com, *.microsoft.com)
  bool executable = false; // the path ends in an executable, script or archive extension
};
LinkTarget classify_link(std::string_view target);

namespace chain_limits {
// Procedures read per project (a generated macro may hold thousands; the rest are left out and flagged).
inline constexpr std::size_t max_procedures = 4096;
// Distinct identifiers kept per procedure (the call edges are looked up among them).
inline constexpr std::size_t max_ids_per_procedure = 4096;
// Bytes of string literals and evaluated strings kept per procedure, and for the whole project.
inline constexpr std::size_t max_text_per_procedure = 256u << 10;
inline constexpr std::size_t max_project_text = 4u << 20;
// Evaluator strings and IOCs placed onto procedures.
inline constexpr std::size_t max_evaluated_strings = 8192;
// Call edges for the whole project, trigger procedures followed, and levels of calls followed from each.
inline constexpr std::size_t max_edges = 1u << 18;
inline constexpr std::size_t max_triggers = 64;
inline constexpr std::uint32_t max_call_depth = 12;
// One statement: bytes after joining continuation lines, and tokens read.
inline constexpr std::size_t max_statement_bytes = 1u << 20;
inline constexpr std::size_t max_tokens_per_statement = 1u << 16;
}  // namespace chain_limits

/// One module's source for the chain analysis, named as analysis::evaluate_vba names it.
struct ChainModule {
  std::string_view name;
  std::string_view source;
};

/// The auto-exec -> download/execute chain (schema v5, group `chain`; office_chain.cpp): what the procedures
/// reachable from a true open/close trigger (not a *_Click handler) do. Flags are 0/1; counts are summed over the
/// projects of a document. triggers, trigger_download, trigger_command, reached_procedures and max_depth are
/// measured but not in the vector: they fire as often on benign macros (docs/MEASUREMENTS.md, "Session 6").
struct ChainStats {
  double triggers = 0;                     // trigger procedures (AutoOpen, Document_Open, Frame1_Layout...)
  double trigger_download = 0, trigger_execute = 0, trigger_download_execute = 0;
  double trigger_write_execute = 0;        // a file written and something run, both reached from one trigger
  double trigger_executable_string = 0;    // a reached procedure names an .exe/.dll/... or rundll32, mshta...
  double trigger_object_by_expression = 0; // a reached CreateObject/GetObject whose class is computed
  double trigger_remote_executable = 0;    // a reached procedure builds a URL naming an executable
  double trigger_command = 0;              // a reached procedure builds a command line (evaluator)
  double reached_procedures = 0, max_depth = 0;
  double download_execute_procedures = 0;  // procedures holding both, reached or not
  double truncated = 0;                    // more procedures than chain_limits::max_procedures
};

/// Reads the procedures of one project's modules into a call graph and fills `out` (see ChainStats). `ev` is the
/// evaluator's result for the same modules (its "vba:Module:line" places put recovered strings on procedures), or
/// null. Bounded by chain_limits; any text is accepted.
void analyze_chain(const std::vector<ChainModule>& modules, const analysis::Evaluation* ev, ChainStats& out);

struct VbaStats {
  double projects = 0, modules = 0, procedural = 0, doc_class = 0, missing_streams = 0, stomp_suspects = 0;
  double pcode_bytes = 0, source_bytes = 0, no_source_modules = 0, references = 0, hidden_modules = 0;
  double vba_version = 0, sys_kind = 0, code_page = 0, project_lines = 0, project_password = 0, forms = 0;
  std::array<double, 64> anomaly_bits{};
};

struct EncStats {
  double encrypted = 0, ooxml_standard = 0, ooxml_agile = 0, ooxml_other = 0, biff_filepass = 0, word_rc4 = 0;
  double decrypted = 0;
};

struct Acc {
  OfficeSample* out = nullptr;
  const OfficeOptions* opt = nullptr;
  std::uint64_t embedded_bytes = 0;
  int depth = 0;  // nested vbaProject.bin / embedded package analysed in-line
  // The VBA projects being read are among those whose IOCs the handler reports (OfficeSample::macro_iocs).
  bool report_iocs = false;
  int vba_bins = 0;  // top-level vbaProject.bin parts seen
  std::string type;
  double size = 0;
  Ole2Stats ole;
  VbaStats vba;
  CodeStats code;
  XlmStats xlm;
  OoxmlStats ooxml;
  RtfStats rtf;
  PdfStats pdf;
  PdfShapeStats pdf_shape;
  EncStats enc;
  EvalStats eval;
  ActiveStats active;
  ChainStats chain;
  PayloadStats payload;
  // Offsets of the clear PE headers that the payload pass found in the document's own bytes (where "file").
  std::vector<std::uint64_t> file_clear_pe;

  Acc();
  void anomaly(std::string s);
  void hit(std::string where, std::string category, std::string_view text);
  /// Hands an embedded object to the engine (owned copy), within office_limits.
  void embed(std::string name, std::vector<std::uint8_t> bytes);
  /// Looks for shellcode and hidden executables in `b` (features::scan_payload); XOR-encoded executables found at
  /// the top level are decoded and handed to the engine as members named after `where`.
  void scan_payload(ByteView b, std::string_view where);
};

// Readers. Each fills `a` from its format and records anomalies; none throws.
void analyze_ole2(ByteView bytes, Acc& a);
void analyze_ole2_file(const ole2::File& f, Acc& a, std::string_view prefix);
void analyze_vba_projects(const ole2::File& f, Acc& a, std::string_view prefix);
void analyze_code(std::string_view source, std::string_view module, Acc& a, std::string_view kind = "vba");
void analyze_biff(ByteView workbook, Acc& a);
/// A workbook read by src/formats/xls (BIFF5/8 or OOXML/XLSB): sheets, names, XLM counts, formulas as macro text.
void analyze_workbook(const xls::Workbook& w, Acc& a);
void analyze_ooxml(ByteView bytes, Acc& a);
void analyze_rtf(ByteView bytes, Acc& a);
void analyze_pdf(ByteView bytes, Acc& a);
const std::vector<const char*>& pdf_keywords();
/// Encrypted OOXML inside OLE2 ([MS-OFFCRYPTO]): classifies EncryptionInfo and, for Standard AES encryption, tries the
/// default password. Returns the decrypted package when that works.
// SHA-512 spun hashes ([MS-OFFCRYPTO] 2.3.4.11: H0 = H(salt + password), `spins` rounds of H(iterator + H)) of
// several passwords over one salt, in order; `allow_lanes` lets eight run at once where the processor can.
bool spin_lanes_available();  // eight SHA-512 spin loops at once (AVX-512 on this processor)
std::vector<std::vector<std::uint8_t>> spun_sha512_hashes(const std::vector<std::uint8_t>& salt, std::uint32_t spins,
                                                          const std::vector<std::string_view>& passwords,
                                                          bool allow_lanes);
bool decrypt_encrypted_package(ByteView encryption_info, ByteView encrypted_package, Acc& a,
                               std::vector<std::uint8_t>& package);

/// Case-insensitive substring count in `hay` (ASCII).
std::size_t count_ci(std::string_view hay, std::string_view needle, std::size_t cap = 1u << 20);
std::string lower(std::string_view s);

}  // namespace mamori::features::office
