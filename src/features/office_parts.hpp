// Helpers of the OOXML reader that work on part names and part bytes alone (src/features/office_parts.cpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mamori::features::office {

/// True for a part name (lower case) that Word gives altChunk parts or that holds a document type Word imports as a
/// chunk (.rtf, .mht, .mhtml, .htm, .html), outside embeddings, ActiveX and relationships parts.
bool chunk_part_name(std::string_view lower_name);
/// The part name (lower case, "." and ".." resolved) that relationship `target` of relationships part `rels_name`
/// points to; empty for URLs and for targets that leave the package.
std::string resolve_part_target(std::string_view rels_name, std::string_view target);
/// Decoded size in bytes of the longest hexadecimal string literal "<...>" of a PostScript program (comments,
/// literal strings, "<<" and "<~" skipped).
std::size_t longest_ps_hex_string(std::string_view ps);

}  // namespace mamori::features::office
