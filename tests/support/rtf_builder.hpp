// Builds the pieces of RTF documents with embedded objects for the rtf parser tests and seed makers: OLE1
// ObjectHeader + EmbeddedObject wrappers ([MS-OLEDS] 2.2.4/2.2.5), Packager native data, and hex encodings of
// object data with the obfuscations seen in exploit documents. Written from the specifications.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mamori::test {

std::vector<std::uint8_t> ole1_embedded(const std::string& class_name, const std::vector<std::uint8_t>& native,
                                        std::uint32_t declared_size = 0xFFFFFFFFu);
std::vector<std::uint8_t> ole1_linked(const std::string& class_name, const std::string& topic);
std::vector<std::uint8_t> package_native(const std::string& label, const std::string& source,
                                         const std::string& temp, const std::vector<std::uint8_t>& payload);

enum class HexStyle {
  plain,          // lowercase hex, a newline every 64 digits
  obfuscated,     // whitespace, \par, 7\'41 (the 7 is taken back), {\*\junk 41}, {\hlsrc 0102}, a control word
                  // swallowing hex letters (\abcdef0123), \bin0
  odd,            // plain with one stray trailing nibble
};
std::string rtf_hex(const std::vector<std::uint8_t>& data, HexStyle style);

/// "{\rtf1{\object\objemb{\*\objclass CLASS}{\*\objdata HEX}}}" with the given pieces.
std::string rtf_object(const std::string& objclass, const std::string& hex, const std::string& extra_words = "");

/// rtf_object of class `class_name` whose data is ole1_embedded(class_name, native) in plain hex.
std::string rtf_embedded_object(const std::string& class_name, const std::vector<std::uint8_t>& native,
                                const std::string& extra_words = "");

}  // namespace mamori::test
