// PDF structure counts and the active content analysts look for, in one bounded pass (our own pdfid-style
// scanner, not a full PDF parser: no xref resolution, no object graph).
//
// pdf::parse(bytes) lexes the file once: comments (%%EOF markers), names (with #xx escapes decoded, so that
// /J#61vaScript counts as /JavaScript and also as obfuscated), literal and hex strings, words (obj, endobj, stream,
// endstream, xref, trailer, startxref) and numbers. It keeps a little per-object state (the object number, its
// /Type, /Filter, /Length, the names seen) so that:
//   - stream data is skipped rather than lexed as PDF (by /Length when it checks out, else up to "endstream"),
//     and FlateDecode / ASCIIHexDecode streams are decoded (bounded) to look for JavaScript, to read object streams
//     (/ObjStm: their objects are lexed as well, so names hidden in them are counted) and to return embedded file
//     payloads (/Type /EmbeddedFile) so the engine can scan them as members;
//   - /URI strings and /Launch commands (/F, /P, /Win) are returned as strings for IOCs;
//   - the shape of the document (Shape): link annotations with their /Rect against the page's /MediaBox and their
//     action (inline or by reference, resolved once the file is read), actions that run on open (/OpenAction and the
//     page-open /AA triggers, by reference too), form submissions to web URLs, images, widgets and the text and
//     drawing operators of the decoded content streams. Objects inside object streams count as objects (their
//     numbers come from the stream's header), so references into them resolve;
//   - what the JavaScript does (JsTraits): eval / unescape / fromCharCode, %u and \x escapes, long hex runs and
//     string literals, timers, annotation access, the APIs of old reader exploits, navigation.
//
// parse() fails only when there is no "%PDF-" header anywhere. Everything else becomes an Anomaly.
//
// Lifetime: Document owns everything it returns.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace mamori::pdf {

namespace limits {
// Decoded bytes per stream and in total (decompression bombs stop here).
inline constexpr std::uint64_t max_stream_decoded = 16ull << 20;
inline constexpr std::uint64_t max_total_decoded = 128ull << 20;
// Streams decoded per file (the rest are counted, not decoded).
inline constexpr std::uint32_t max_streams_decoded = 4096;
// Strings returned per list (URIs, launch commands, JavaScript snippets) and bytes per string.
inline constexpr std::uint32_t max_list = 1024;
inline constexpr std::uint32_t max_string = 4096;
// Embedded files returned, and bytes per file.
inline constexpr std::uint32_t max_embedded_files = 256;
inline constexpr std::uint64_t max_embedded_size = 64ull << 20;
// Characters of one name token kept for matching (longer names are counted but never match a keyword).
inline constexpr std::uint32_t max_name = 128;
// Nesting of object streams lexed (an object stream cannot hold streams, so 1 is the spec; this stops loops).
inline constexpr std::uint32_t max_objstm_depth = 1;
// Link annotations, action objects and on-open references remembered for the end-of-file resolution.
inline constexpr std::uint32_t max_links = 4096;
inline constexpr std::uint32_t max_actions = 16384;
inline constexpr std::uint32_t max_refs = 4096;
// Object numbers read from one object stream's header.
inline constexpr std::uint32_t max_objstm_objects = 65536;
// JavaScript bytes looked at for traits: per piece and per file.
inline constexpr std::uint64_t max_js_scan = 1ull << 20;
inline constexpr std::uint64_t max_js_scan_total = 8ull << 20;
// Bytes of one content stream tokenised for text and drawing operators, and in total.
inline constexpr std::uint64_t max_content_scan = 4ull << 20;
inline constexpr std::uint64_t max_content_scan_total = 64ull << 20;
// JavaScript bytes looked at for exploit shapes (JsExploit): per piece and per file. A /JS string is kept up to the
// per-piece bound for this scan (Document::javascript keeps its first max_string bytes only).
inline constexpr std::uint64_t max_exploit_scan = 1ull << 20;
inline constexpr std::uint64_t max_exploit_scan_total = 8ull << 20;
// Streams remembered (where they lie, not their bytes) in case a /JS after them names them.
inline constexpr std::uint32_t max_later_streams = 4096;
}  // namespace limits

/// The keywords counted, pdfid's set. Stable numeric values.
enum class Key : std::uint8_t {
  obj = 0, endobj, stream, endstream, xref, trailer, startxref,
  page, encrypt, objstm, js, javascript, aa, openaction, acroform, jbig2decode, richmedia, launch, embeddedfile,
  xfa, uri, submitform, gotor, colors_gt_2_24,
  kCount
};
inline constexpr std::size_t key_count = static_cast<std::size_t>(Key::kCount);
/// "obj", "/Page", "/JavaScript", "/Colors > 2^24".
const char* key_name(Key k) noexcept;

/// Structural oddities. Stable numeric values.
enum class Anomaly : std::uint8_t {
  header_not_at_start = 0,     // "%PDF-" after offset 0 (readers accept it within 1024 bytes); detail = offset
  header_late,                 // "%PDF-" beyond the first 1024 bytes
  eof_missing,                 // no %%EOF
  data_after_eof,              // non-whitespace bytes after the last %%EOF; detail = bytes
  name_obfuscated,             // a keyword spelled with #xx escapes; detail = key
  stream_unterminated,         // stream without endstream; detail = offset
  stream_length_mismatch,      // /Length does not end at endstream
  stream_decode_error,         // FlateDecode data that does not inflate cleanly; detail = object number
  stream_decode_truncated_by_limit,
  streams_truncated_by_limit,  // more streams than limits::max_streams_decoded
  unsupported_filter,          // a filter we do not decode (LZW, ASCII85, DCT, JBIG2, Crypt...) on a stream we wanted
  obj_endobj_mismatch,         // obj and endobj counts differ
  encrypted,                   // /Encrypt in the trailer: strings and streams cannot be read
  list_truncated_by_limit,
  embedded_truncated_by_limit,
  string_unterminated,         // a literal or hex string runs to the end of the file
  kCount
};
inline constexpr std::size_t anomaly_count = static_cast<std::size_t>(Anomaly::kCount);
static_assert(anomaly_count <= 64, "anomaly_bits is 64 bits wide");
const char* anomaly_name(Anomaly a) noexcept;

struct AnomalyRecord {
  Anomaly code;
  std::uint64_t detail;
};

struct EmbeddedFile {
  std::uint32_t object = 0;            // object number of the /EmbeddedFile stream
  std::vector<std::uint8_t> bytes;     // decoded (or raw, when it has no filter we decode)
  bool decoded = false;                // a filter was applied
  bool complete = true;                // false: decoding failed part way or hit the cap
};

struct Stats {
  std::uint32_t streams = 0, streams_decoded = 0, decode_errors = 0, undecoded_filters = 0;
  std::uint32_t js_streams = 0;        // decoded streams whose content looks like JavaScript
  std::uint32_t js_streams_late = 0;   // streams a /JS named only after them, read by the exploit scan alone
  std::uint32_t objstm_decoded = 0;    // object streams whose objects were lexed
  std::uint32_t names_obfuscated = 0;  // names written with #xx escapes (any name)
  std::uint64_t decoded_bytes = 0;
};

/// What the JavaScript of a file does, counted over /JS strings and JavaScript streams (limits::max_js_scan).
struct JsTraits {
  std::uint64_t bytes = 0;            // code looked at
  std::uint32_t eval = 0, unescape = 0, from_char_code = 0;
  std::uint32_t percent_u = 0;        // %uXXXX escapes (shellcode spelled for unescape)
  std::uint32_t hex_escapes = 0;      // \xXX escapes
  std::uint32_t hex_runs = 0;         // runs of 64 or more hex digits
  std::uint32_t longest_string = 0;   // longest quoted string literal, in bytes
  std::uint32_t timers = 0;           // app.setTimeOut, app.setInterval
  std::uint32_t annots = 0;           // getAnnots, syncAnnotScan (payloads hidden in annotations)
  std::uint32_t exploit_apis = 0;     // util.printf, Collab.collectEmailInfo, getIcon, media.newPlayer, spell.customDictionaryOpen
  std::uint32_t navigation = 0;       // app.launchURL, getURL, submitForm, app.openDoc, exportDataObject, mailDoc
};

/// Counts JavaScript traits of `code` (at most limits::max_js_scan bytes of it) into `t`.
void scan_javascript(ByteView code, JsTraits& t) noexcept;

/// Exploit shapes in a file's JavaScript, for structural rules rather than model features: what the reader exploits
/// of 2008-2013 needed and forms do not do. Counted over whole /JS strings, JavaScript streams and the scripts of XFA
/// packets (also those stored as embedded files), at most limits::max_exploit_scan_total bytes per file.
struct JsExploit {
  std::uint64_t bytes = 0;            // code looked at
  // Bytes of the longest run of one repeated 1, 2 or 4-byte unit in decoded escapes (consecutive %uXXXX, or \xXX /
  // %XX): a NOP sled or spray filler spelled for unescape. A run whose unit is filler text (spaces, dashes, box
  // drawing, CJK punctuation, full-width forms, printable ASCII) does not count, so a form whose messages were
  // escape()d (CJK ideographs) is not a sled.
  std::uint32_t longest_sled = 0;
  std::uint32_t escapes = 0;          // %uXXXX escapes seen (the whole text, not only traits' first bytes)
  std::uint32_t unescape = 0;         // unescape( calls, or unescape assigned to a variable
  std::uint32_t doubling = 0;         // `s += s` or `s = s + s`: a string doubled, how sprays grow a block
  std::uint32_t wide_printf = 0;      // util.printf with a field width of 1000 or more (CVE-2008-2992)
  std::uint32_t null_player = 0;      // media.newPlayer(null) (CVE-2009-4324)
  // Code that is decoded at run time and then run: the annotations' text read as code (getAnnots/syncAnnotScan and
  // .subject), a member called by a computed name (app[f](...), this[x](...), or any owner indexed by a string built
  // with + such as a['ev' + f + 'l'](...)), eval or unescape used as a value
  // (`var d = eval;`), and the longest list of character codes (1-3 digit numbers with one separator) in the text.
  std::uint32_t annot_subject = 0;
  std::uint32_t metadata_read = 0;    // the document's information read as text: this.creator, this.info, ...
  std::uint32_t computed_call = 0;
  std::uint32_t eval_value = 0;
  std::uint32_t longest_code_list = 0;
  std::uint32_t eval_calls = 0;       // eval( / eval (, also after a comment
  std::uint32_t from_char_code = 0;
  // Collab.collectEmailInfo, Collab.getIcon, spell.customDictionaryOpen (CVE-2007-5659, CVE-2009-0927,
  // CVE-2009-1493): APIs no form calls.
  std::uint32_t exploit_calls = 0;
  // Not JavaScript but read in the same streams: TIFF images of XFA image fields (base64 element text) with a tag
  // that overruns its fixed count (HalftoneHints, TransferRange, DotRange: CVE-2010-0188), and base64 TIFF headers
  // written as a script's string literals (the same image assembled by the script).
  std::uint32_t xfa_tiff_overlong = 0;
  std::uint32_t script_tiff = 0;
};

/// Counts exploit shapes of `code` (at most limits::max_exploit_scan bytes of it) into `x`.
void scan_exploit(ByteView code, JsExploit& x) noexcept;

/// The document's shape: what a reader shows and what a click or the opening does.
struct Shape {
  std::uint32_t link_annots = 0;      // /Subtype /Link
  std::uint32_t uri_links = 0;        // link annotations whose action (inline or by reference) is /URI
  double max_uri_link_fraction = 0;   // largest URI link /Rect over the page area (largest /MediaBox), at most 1
  std::uint32_t big_uri_links = 0;    // URI links covering a quarter of the page or more
  double page_area = 0;               // largest /MediaBox area in points^2; 0 when none was read
  std::uint32_t widgets = 0;          // /Subtype /Widget: form fields
  std::uint32_t images = 0;           // /Subtype /Image
  std::uint32_t content_streams = 0;  // decoded streams tokenised for operators
  std::uint64_t text_ops = 0;         // Tj and TJ
  std::uint64_t draw_ops = 0;         // Do: an image or a form drawn
  // Actions run on open: /OpenAction, or a page's /AA /O, /PO, /PV trigger (inline or by reference).
  std::uint32_t open_uri = 0, open_javascript = 0, open_launch = 0, open_submit = 0, open_other = 0;
  std::uint32_t submit_web = 0;       // /SubmitForm actions whose /F is an http(s) URL
};

struct Document {
  std::uint64_t header_offset = 0;
  std::string version;                 // "1.7"
  std::array<std::uint32_t, key_count> counts{};      // occurrences, obfuscated spellings included
  std::array<std::uint32_t, key_count> obfuscated{};  // occurrences spelled with #xx escapes
  std::uint32_t eof_markers = 0;
  std::uint64_t last_eof_offset = 0;   // offset after the last "%%EOF"
  std::uint64_t bytes_after_eof = 0;   // non-whitespace bytes after it
  std::vector<std::string> uris;       // /URI targets
  std::vector<std::string> launches;   // /Launch commands: "F P" (file and parameters)
  std::vector<std::string> javascript; // JavaScript from /JS strings and JavaScript-looking streams (snippets)
  std::vector<std::string> file_names; // /F and /UF of file specifications (embedded file names)
  std::vector<EmbeddedFile> embedded_files;
  Stats stats;
  Shape shape;
  JsTraits js;
  JsExploit exploit;
  std::vector<AnomalyRecord> anomalies;
  std::uint64_t anomaly_bits = 0;

  std::uint32_t count(Key k) const noexcept { return counts[static_cast<std::size_t>(k)]; }
  bool has(Anomaly a) const noexcept { return (anomaly_bits >> static_cast<unsigned>(a)) & 1u; }
  void add(Anomaly a, std::uint64_t detail = 0);
};

/// True when "%PDF-" appears within the first 1024 bytes.
bool sniff(ByteView bytes) noexcept;

/// Scans a PDF. Errors: not_this_format when there is no "%PDF-" header at all.
Result<Document> parse(ByteView bytes);

/// Bounded zlib inflate of a FlateDecode stream; `complete` is false when the data is corrupt or the cap is hit.
std::vector<std::uint8_t> flate_decode(ByteView data, std::uint64_t cap, bool& complete);

}  // namespace mamori::pdf
