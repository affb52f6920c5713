// The PE feature vector: EMBER-v2-style groups plus what Emotet-era loaders show (Rich toolchain ids, padding,
// anomalies, resource payloads, .NET flags, behavioural API groups). Fixed length; the layout is versioned.
//
// Bump kPeSchemaVersion whenever a name, an order or a meaning changes: models record the schema hash and are
// refused by an extractor that does not match.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "features/byte_scan.hpp"
#include "features/emitter.hpp"
#include "formats/pe/pe.hpp"

namespace mamori::features {

inline constexpr int kPeSchemaVersion = 2;  // 2: the "dotnet" group (CLI metadata)
/// Bump when a parser or extractor fix changes the values (not the layout) of vectors, so that cached training
/// vectors are recomputed. Models need no retraining check for this; the layout is what they depend on.
inline constexpr int kExtractorRevision = 2;

/// The schema of the PE vector (computed once, cached).
const Schema& pe_schema();

/// Fills `out` (resized to the schema size) from a parsed PE and its byte statistics.
void extract_pe(const pe::PeFile& pe, const ByteStats& bytes, std::vector<float>& out);

/// Markdown documentation of the schema, generated from the same code that fills the vector.
std::string pe_schema_markdown();

}  // namespace mamori::features

namespace mamori::features {

/// Everything the PE model needs from one file: the parsed image (or what little of it was readable) and its vector.
struct PeSample {
  pe::PeFile pe;
  std::vector<float> x;
  /// Set when pe::parse could not read the headers (e.g. cut off inside the COFF header); the vector is then built
  /// from the byte groups alone, and the header groups describe an empty image.
  std::optional<Error> header_error;
  /// The whole file's size and how much of it is runs of one byte value (ByteStats), archive-collapsed padding
  /// included: what binary_padding() judges.
  std::uint64_t file_size = 0;
  std::uint64_t padding_bytes = 0;
};

/// Binary padding (ATT&CK T1027.001): at least kBinaryPaddingMinBytes of the file, and at least half of it, are runs of
/// one byte value. Loaders are inflated this way to pass scanners' and sandboxes' size caps; benign executables pad
/// sections and alignment, but in the corpus none is mostly padding past a megabyte (docs/MEASUREMENTS.md, "Binary
/// padding rule"). The model has seen only a handful of such files, so the engine backs its score with this rule.
inline constexpr std::uint64_t kBinaryPaddingMinBytes = std::uint64_t{1} << 20;
bool binary_padding(const PeSample& s);

/// Parses and featurises a PE file. Call only on bytes that detect_type() classified as PE.
/// `collapsed_tail`: padding bytes that an archive reader dropped from the end of this file (it keeps a run of at
/// least kPaddingRun, so the tail is still padding here). The vector is then that of the file as it was, padding
/// and all, so that a padded loader zipped up scores as it does on disk: the model saw the whole file's size,
/// padding share and overlay entropy when it was trained.
PeSample featurize_pe(ByteView bytes, std::uint64_t collapsed_tail = 0);

}  // namespace mamori::features
