// What `mamori extract` shows an analyst about a document: macro modules (with a note where p-code exists without
// source), form and document strings, XLM formulas, embedded objects (Ole10Native payloads and streams that hold a
// whole file), the strings the evaluator deobfuscated, and the IOCs.
//
// extract_document() reads OLE2 files (Word, Excel, PowerPoint, standalone vbaProject.bin) and OOXML packages
// (vbaProject.bin, macro sheets and embeddings read from the zip with libarchive, each bounded). It never writes
// anything; the CLI writes objects under names it generates itself (see docs/iocs.md). Hostile input becomes notes,
// never a crash.
//
// Lifetime: everything is owned.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/iocs.hpp"
#include "common/bytes.hpp"
#include "common/result.hpp"

namespace mamori::analysis {

namespace limits {
// Embedded objects kept per document, and bytes per object and in total.
inline constexpr std::size_t max_objects = 256;
inline constexpr std::uint64_t max_object_bytes = 64ull << 20;
inline constexpr std::uint64_t max_total_object_bytes = 256ull << 20;
// Zip entries looked at in an OOXML package, and bytes read from one entry.
inline constexpr std::size_t max_zip_entries = 10000;
inline constexpr std::uint64_t max_zip_entry_bytes = 64ull << 20;
// Nesting of containers inside containers (an OLE object inside an OOXML package inside ...).
inline constexpr unsigned max_extract_depth = 3;
}  // namespace limits

struct ExtractedModule {
  std::string project;        // where the project was found ("Macros/VBA", "word/vbaProject.bin:VBA")
  std::string name;
  std::string source;         // as stored (Attribute lines included); empty when there is none
  std::uint64_t pcode_size = 0;
  bool pcode_without_source = false;  // stomping: the p-code runs, this source does not
};

struct EmbeddedObject {
  std::string origin;         // the stream or zip entry it came from (display only; never a file name)
  std::string kind;           // "ole10native", "package", "stream", "zip-entry"
  std::string label;          // the file name the object declares, when it has one (display only)
  std::vector<std::uint8_t> data;
  std::string sha256;
  bool truncated = false;     // cut at limits::max_object_bytes
};

struct XlmFormula {
  std::string cell;           // "Macro1!A1"
  std::string text;           // "=EXEC(...)"
};

struct Extraction {
  std::string format;         // "ole2", "ooxml"
  std::vector<ExtractedModule> modules;
  std::vector<FormString> form_strings;
  std::vector<XlmFormula> xlm;
  std::vector<EmbeddedObject> objects;
  std::vector<DecodedString> strings;
  std::vector<engine::Ioc> iocs;
  std::vector<std::string> notes;  // what could not be read, limits reached
};

/// Extracts what is listed above. Errors: not_this_format when the bytes are neither a compound file nor a zip.
Result<Extraction> extract_document(ByteView bytes);

}  // namespace mamori::analysis
