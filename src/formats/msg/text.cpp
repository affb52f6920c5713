// [MS-OXRTFCP] RTF decompression, and the readable text of RTF and HTML bodies (for password harvesting and
// reporting, not for display).
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/anomalies.hpp"
#include "formats/msg/msg.hpp"

namespace mamori::msg {

namespace {

// The dictionary's initial contents ([MS-OXRTFCP] 2.1.3.1.1): 207 bytes of common RTF.
constexpr std::string_view kPrebuffer =
    "{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans "
    "SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";
static_assert(kPrebuffer.size() == 207);
constexpr std::uint32_t kCompressed = 0x75465A4C;    // "LZFu"
constexpr std::uint32_t kUncompressed = 0x414C454D;  // "MELA"

void flag(Message* m, Anomaly a, std::uint64_t detail = 0) {
  if (m) flag_first(*m, a, detail);
}

}  // namespace

std::string decompress_rtf(ByteView in, Message* m) {
  if (in.size() < 16) {
    flag(m, Anomaly::rtf_compressed_invalid, in.size());
    return {};
  }
  const std::uint32_t comp_size = in.le_or<std::uint32_t>(0, 0);
  const std::uint32_t raw_size = in.le_or<std::uint32_t>(4, 0);
  const std::uint32_t type = in.le_or<std::uint32_t>(8, 0);
  // CompSize counts everything after itself; a larger claim is read as far as the stream goes.
  const ByteView body = in.clamp(16, comp_size >= 12 ? comp_size - 12 : 0);
  std::string out;
  if (type == kUncompressed) {
    const auto n = std::min<std::uint64_t>({body.size(), raw_size, limits::max_rtf_bytes});
    out.assign(reinterpret_cast<const char*>(body.data()), n);
    if (raw_size > limits::max_rtf_bytes) flag(m, Anomaly::rtf_truncated_by_limit, raw_size);
    return out;
  }
  if (type != kCompressed) {
    flag(m, Anomaly::rtf_compressed_invalid, type);
    return {};
  }
  std::array<char, 4096> dict{};
  std::memcpy(dict.data(), kPrebuffer.data(), kPrebuffer.size());
  std::uint32_t write = static_cast<std::uint32_t>(kPrebuffer.size());
  out.reserve(std::min<std::uint64_t>(raw_size, 1u << 20));
  std::uint64_t pos = 0;
  bool done = false;
  auto emit = [&](char c) {
    out.push_back(c);
    dict[write] = c;
    write = (write + 1) & 0xFFF;
  };
  while (!done && pos < body.size()) {
    const std::uint8_t control = body.data()[pos++];
    for (int bit = 0; bit < 8 && !done; ++bit) {
      if (pos >= body.size()) {
        done = true;
        break;
      }
      if (out.size() >= limits::max_rtf_bytes) {
        flag(m, Anomaly::rtf_truncated_by_limit, out.size());
        return out;
      }
      if (((control >> bit) & 1) == 0) {
        emit(static_cast<char>(body.data()[pos++]));
        continue;
      }
      if (pos + 2 > body.size()) {
        done = true;
        break;
      }
      const std::uint16_t ref = static_cast<std::uint16_t>((body.data()[pos] << 8) | body.data()[pos + 1]);
      pos += 2;
      const std::uint32_t offset = ref >> 4;
      const std::uint32_t len = (ref & 0xFu) + 2;
      if (offset == write) {  // the end marker: a reference to the current write position
        done = true;
        break;
      }
      for (std::uint32_t k = 0; k < len && out.size() < limits::max_rtf_bytes; ++k) emit(dict[(offset + k) & 0xFFF]);
    }
  }
  if (out.size() != raw_size) flag(m, Anomaly::rtf_size_mismatch, raw_size);
  return out;
}

std::string rtf_to_text(std::string_view rtf) {
  std::string out;
  // Destinations whose text is not body text (font names, colours, styles, embedded objects, pictures).
  constexpr std::array<std::string_view, 12> skip = {"fonttbl", "colortbl", "stylesheet", "info",   "pict",     "object",
                                                     "themedata", "datastore", "latentstyles", "listtable", "xmlnstbl", "generator"};
  std::vector<int> skip_depth;  // group depths being skipped
  int depth = 0;
  bool star = false;
  for (std::size_t i = 0; i < rtf.size() && out.size() < limits::max_body_bytes; ++i) {
    const char c = rtf[i];
    const bool skipping = !skip_depth.empty();
    if (c == '{') {
      ++depth;
      if (depth > 4096) break;
      continue;
    }
    if (c == '}') {
      if (!skip_depth.empty() && skip_depth.back() == depth) skip_depth.pop_back();
      --depth;
      continue;
    }
    if (c == '\r' || c == '\n') continue;
    if (c != '\\') {
      if (!skipping) out.push_back(c);
      continue;
    }
    if (i + 1 >= rtf.size()) break;
    const char n = rtf[i + 1];
    if (n == '*') {
      star = true;
      ++i;
      continue;
    }
    if (n == '\'' && i + 3 < rtf.size()) {  // \'hh: a byte in the document's code page
      const std::string hex(rtf.substr(i + 2, 2));
      char* end = nullptr;
      const long v = std::strtol(hex.c_str(), &end, 16);
      if (!skipping && end == hex.c_str() + 2) out.push_back(static_cast<char>(v));
      i += 3;
      continue;
    }
    if (!std::isalpha(static_cast<unsigned char>(n))) {  // \\, \{, \} and other control symbols
      if (!skipping && (n == '\\' || n == '{' || n == '}')) out.push_back(n);
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    while (j < rtf.size() && std::isalpha(static_cast<unsigned char>(rtf[j])) && j - i < 32) ++j;
    const std::string_view word = rtf.substr(i + 1, j - i - 1);
    while (j < rtf.size() && (std::isdigit(static_cast<unsigned char>(rtf[j])) || rtf[j] == '-')) ++j;
    if (j < rtf.size() && rtf[j] == ' ') ++j;
    i = j - 1;
    if (star || std::find(skip.begin(), skip.end(), word) != skip.end()) {
      if (skip_depth.empty() || skip_depth.back() != depth) skip_depth.push_back(depth);
      star = false;
      continue;
    }
    if (!skipping && (word == "par" || word == "line")) out.push_back('\n');
    else if (!skipping && word == "tab") out.push_back('\t');
  }
  return out;
}

std::string html_to_text(std::string_view html) {
  std::string out;
  std::size_t i = 0;
  auto starts = [&](std::size_t at, std::string_view w) {
    if (at + w.size() > html.size()) return false;
    for (std::size_t k = 0; k < w.size(); ++k)
      if (std::tolower(static_cast<unsigned char>(html[at + k])) != w[k]) return false;
    return true;
  };
  while (i < html.size() && out.size() < limits::max_body_bytes) {
    const char c = html[i];
    if (c == '<') {
      for (std::string_view blk : {"script", "style"}) {
        if (starts(i + 1, blk)) {
          const std::string close = "</" + std::string(blk);
          std::size_t k = i + 1;
          while (k < html.size() && !starts(k, close)) ++k;
          i = k;
          break;
        }
      }
      const bool breaks = starts(i + 1, "br") || starts(i + 1, "p") || starts(i + 1, "/p") || starts(i + 1, "div") ||
                          starts(i + 1, "/div") || starts(i + 1, "tr");
      const auto end = html.find('>', i);
      if (end == std::string_view::npos) break;
      if (breaks) out.push_back('\n');
      i = end + 1;
      continue;
    }
    if (c == '&') {
      static constexpr std::array<std::pair<std::string_view, char>, 6> ents = {
          {{"&nbsp;", ' '}, {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}}};
      bool hit = false;
      for (const auto& [e, ch] : ents)
        if (starts(i, e)) {
          out.push_back(ch);
          i += e.size();
          hit = true;
          break;
        }
      if (hit) continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

}  // namespace mamori::msg
