// The document feature vector (OLE2 Word/Excel/PowerPoint and others, OOXML, RTF, PDF): one fixed-length layout for
// every document type, so one model scores them all and conditions on the type one-hots. Groups: document type,
// OLE2 structure and SummaryInformation, VBA project structure, macro code (auto-exec / write / execute / download
// keywords, obfuscation measures, hashed token bigrams), Excel 4 (XLM) macros, OOXML relationships and parts, RTF
// objects, PDF keyword counts, encryption, (schema v3) what runs or is fetched on open (`active`) and (schema v4)
// how a macro copies itself into other documents (`spread`) and (schema v5) whether a true open/close trigger
// reaches a download or an execute through the project's calls (`chain`) and (schema v6) shellcode and hidden
// executables in the document's bytes (`payload`) and (schema v7) the PDF's shape, script traits and link targets
// (`pdf_shape`).
//
// featurize_office() also returns what the engine handler reports besides the score: anomalies, the macro lines
// that matched auto-exec/write/execute/download keywords, and embedded objects to scan as members.
//
// Bump kOfficeSchemaVersion whenever a name, an order or a meaning changes: models record the schema hash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "engine/verdict.hpp"
#include "features/emitter.hpp"

namespace mamori::features {

inline constexpr int kOfficeSchemaVersion = 7;  // 3: the `active` group; 4: the `spread` group; 5: the `chain` group;
                                                // 6: the `payload` group; 7: the `pdf_shape` group
/// Bump when a parser or extractor fix changes values (not the layout), so cached training vectors are recomputed.
inline constexpr int kOfficeExtractorRevision = 8;  // 2: RTF through src/formats/rtf, OOXML workbooks through xls;
                                                    // 3: Word 6/95 WordBasic macros read (vba::wordbasic);
                                                    // 4: Excel 5/95 VBA projects read (vba::read_excel5);
                                                    // 5: VBA chunks with wrong signature bits decoded (Emotet 2020);
                                                    // 6: .Run/.Exec on a computed class name executes (chain)
                                                    // 7: \x01Ole10Native matched in any case (CFB names are)
                                                    // 8: \x01CompObj, \x01Ole, \x03VBFrame, \x05DocumentSummary-
                                                    //    Information and RTF's wrapped \x01Ole10Native too

namespace office_limits {
// Embedded objects handed back per document and the bytes they may hold together.
inline constexpr std::size_t max_embedded = 256;
inline constexpr std::uint64_t max_embedded_bytes = 256ull << 20;
// OOXML: zip entries looked at, and bytes inflated per part / per document.
inline constexpr std::size_t max_zip_entries = 20000;
inline constexpr std::uint64_t max_part_bytes = 64ull << 20;
inline constexpr std::uint64_t max_package_bytes = 512ull << 20;
// Matching macro lines kept for the report (the features count all of them).
inline constexpr std::size_t max_code_hits = 12;
// Macro source analysed per document (all modules together).
inline constexpr std::uint64_t max_code_bytes = 32ull << 20;
// RTF group nesting tracked and objects decoded.
inline constexpr std::size_t max_rtf_objects = 256;
// Nested vbaProject.bin / embedded OLE2 analysed in-line for features (deeper nesting is left to the recursion).
inline constexpr int max_inline_depth = 2;
// Passwords tried on one encrypted document, the default one included (each costs a key derivation).
inline constexpr std::size_t max_passwords = 16;
}  // namespace office_limits

/// The schema of the document vector (computed once, cached).
const Schema& office_schema();
/// Markdown documentation of the schema (docs/office-features.md is this output).
std::string office_schema_markdown();

struct CodeHit {
  std::string where;     // "vba:Module1:12", "xlm:Macro1", "ooxml:word/_rels/settings.xml.rels"
  std::string category;  // "autoexec", "write", "execute", "download", "remote-template", "dde", ...
  std::string text;      // the line, trimmed and cut to 160 characters
};

struct EmbeddedObject {
  std::string name;                 // "ObjectPool/_1234/Ole10Native", "word/embeddings/oleObject1.bin"
  std::vector<std::uint8_t> bytes;  // owned: streams and zip parts are materialised anyway
};

struct OfficeOptions {
  bool collect_embedded = true;     // training needs only the vector
  bool collect_hits = true;
  /// Try the default password ("VelvetSweatshop") on encrypted packages and analyse the decrypted package.
  bool decrypt = true;
  /// More passwords to try after the default one (OOXML Standard/Agile packages and BIFF RC4 workbooks), e.g. the
  /// words quoted near "password" in the enclosing e-mail. Word's own RC4 encryption is not decrypted.
  std::vector<std::string> passwords;
};

struct OfficeSample {
  std::string doc_type;             // "ole2-word", "ooxml-excel", "rtf", "pdf", ...
  std::vector<float> x;
  std::vector<std::string> anomalies;
  std::vector<CodeHit> hits;
  std::vector<EmbeddedObject> embedded;
  /// What the static VBA evaluator recovered from the VBA projects of the top-level compound file and of the first
  /// four OOXML vbaProject.bin parts (deduplicated, analysis::limits::max_iocs), for the handler's report: the
  /// feature pass evaluates them anyway, so the handler does not parse and evaluate them a second time.
  std::vector<engine::Ioc> macro_iocs;
  bool has_macros = false;          // VBA code or XLM macro sheets
  int ole2_vba_projects = 0;        // VBA projects found in the top-level compound file (the handler's IOC pass)
  // The plain rule "auto-exec AND (write OR execute)" (the baseline the model is measured against).
  bool autoexec = false, writes = false, executes = false;
  // Encryption: kind is "", "ooxml-standard", "ooxml-agile", "ooxml-other", "biff-rc4", "biff-xor", "word-rc4", ...
  std::string encryption;
  bool decrypted = false;
  std::string password;                         // the password that opened it ("VelvetSweatshop" or a caller's)
  std::vector<std::uint8_t> decrypted_package;  // the OOXML package inside EncryptedPackage, when decrypted
  /// A rule read from the structure rather than from the vector (so it needs no retraining): "equation-exploit-object"
  /// (an Equation Editor 3.0 object whose Ole10Native stream is 1 KiB or more or named in another case than Office
  /// writes, or an MTEF FONT record with an impossible face name: the CVE-2017-11882 / CVE-2018-0802 family),
  /// "executable-outside-objects" (a Word/Excel/PowerPoint compound file holding a PE image in free or unreachable
  /// sectors, after the last sector or in a root document stream, not in an embedded object), "script-moniker-link"
  /// (an external OLE object / frame / template relationship whose percent-decoded target is script:, mhtml:, ...),
  /// "mscomctl-overflow" (a Windows Common Control's Cobj block copying more than 8 bytes, in a Ctls / OCXDATA /
  /// contents stream or in the Ctls stream of an RC4 CryptoAPI workbook's encryption stream: CVE-2012-0158),
  /// and for PDFs the JavaScript rules of pdf::JsExploit: "pdf-javascript-sled", "pdf-heap-spray", "pdf-exploit-call",
  /// "pdf-xfa-tiff-overflow", "pdf-annotation-payload", "pdf-metadata-payload", "pdf-javascript-decoder"
  /// (docs/office.md, "Rules").
  /// Empty when none applies.
  std::string structural_rule;
};

/// Parses and featurises a document. Any bytes are accepted: unknown types give a vector of the type one-hots
/// only. Never throws on hostile input.
OfficeSample featurize_office(ByteView bytes, const OfficeOptions& opt = {});

/// Whether the vector says "auto-exec AND (write OR execute)" (the baseline rule), for reports.
bool office_baseline_rule(const std::vector<float>& x);

/// The deterministic rules combined with the model (a document a rule names is malicious whatever its score):
/// "macro-replication" (macros that copy themselves and disable macro-virus protection or write into
/// XLSTART/Normal.dot), "xlm-auto-exec" (an auto-open Excel 4 macro sheet calling EXEC/CALL/REGISTER or decoding
/// formulas from CHAR()), "macro-loader" (an open/close trigger whose calls reach a download and an execute, or an
/// execute through a computed COM class or an executable's URL), "remote-template" (attachedTemplate on a
/// non-Microsoft web host), "remote-object-link" (an OLE object, frame or subdocument linked to such a host, and no
/// share or file link in the package), "rtf-exploit-object"
/// (Equation Editor / OLE2Link / malformed objects loaded on open) and "packaged-executable" (a PE inside an RTF
/// object or a PDF embedded file) and "pdf-auto-launch" (a /Launch action that /OpenAction or a
/// page-open /AA trigger runs, inline or by reference). Empty when none applies.
std::string office_rule(const std::vector<float>& x);
/// A short bucket name for reports ("word-vba", "excel-vba", "xlm", "ooxml", "rtf", "pdf", ...) from the vector.
std::string office_bucket(const float* x);

}  // namespace mamori::features
