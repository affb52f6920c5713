#include "support/rtf_builder.hpp"

namespace mamori::test {
namespace {

void u32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) b.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
}
void lpas(std::vector<std::uint8_t>& b, const std::string& s) {
  if (s.empty()) {
    u32(b, 0);
    return;
  }
  u32(b, static_cast<std::uint32_t>(s.size() + 1));
  b.insert(b.end(), s.begin(), s.end());
  b.push_back(0);
}

}  // namespace

std::vector<std::uint8_t> ole1_embedded(const std::string& class_name, const std::vector<std::uint8_t>& native,
                                        std::uint32_t declared_size) {
  std::vector<std::uint8_t> b;
  u32(b, 0x00000501);
  u32(b, 2);
  lpas(b, class_name);
  lpas(b, "");
  lpas(b, "");
  u32(b, declared_size == 0xFFFFFFFFu ? static_cast<std::uint32_t>(native.size()) : declared_size);
  b.insert(b.end(), native.begin(), native.end());
  return b;
}

std::vector<std::uint8_t> ole1_linked(const std::string& class_name, const std::string& topic) {
  std::vector<std::uint8_t> b;
  u32(b, 0x00000501);
  u32(b, 1);
  lpas(b, class_name);
  lpas(b, topic);
  lpas(b, "");
  lpas(b, "");  // NetworkName
  u32(b, 0);
  u32(b, 0);
  return b;
}

std::vector<std::uint8_t> package_native(const std::string& label, const std::string& source,
                                         const std::string& temp, const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> b{0x02, 0x00};
  b.insert(b.end(), label.begin(), label.end());
  b.push_back(0);
  b.insert(b.end(), source.begin(), source.end());
  b.push_back(0);
  u32(b, 0x00030000);
  u32(b, static_cast<std::uint32_t>(temp.size() + 1));
  b.insert(b.end(), temp.begin(), temp.end());
  b.push_back(0);
  u32(b, static_cast<std::uint32_t>(payload.size()));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

std::string rtf_hex(const std::vector<std::uint8_t>& data, HexStyle style) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t k = 0; k < data.size(); ++k) {
    out += digits[data[k] >> 4];
    if (style == HexStyle::obfuscated) {
      switch (k % 7) {
        case 0: out += " \r\n\t"; break;
        case 1: out += "\\par "; break;
        case 2: out += "7\\'41"; break;  // Word takes back the digit before \' ("7")
        case 3: out += "{\\*\\junk 4142434445}"; break;
        case 4: out += "\\abcdef0123 "; break;  // a control word made of hex-looking letters and digits
        case 5: out += "\\bin0 "; break;
        default: out += "{\\hlsrc 0102}{}"; break;  // a destination group inside the data is not data
      }
    }
    out += digits[data[k] & 0xF];
    if (style != HexStyle::obfuscated && k % 32 == 31) out += "\r\n";
  }
  if (style == HexStyle::odd) out += "7";
  return out;
}

std::string rtf_object(const std::string& objclass, const std::string& hex, const std::string& extra_words) {
  return "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}\\pard Hello\\par{\\object\\objemb" + extra_words +
         "{\\*\\objclass " + objclass + "}\\objw100\\objh100{\\*\\objdata " + hex +
         "}{\\result{\\pict\\wmetafile8 0100}}}\\par}";
}

std::string rtf_embedded_object(const std::string& class_name, const std::vector<std::uint8_t>& native,
                                const std::string& extra_words) {
  return rtf_object(class_name, rtf_hex(ole1_embedded(class_name, native), HexStyle::plain), extra_words);
}

}  // namespace mamori::test
