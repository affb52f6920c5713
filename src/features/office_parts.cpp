// Part names and part contents of OOXML packages that need no zip: altChunk part names, relationship targets
// resolved to part names, and the longest hex string of an EPS image's PostScript. Kept apart from office_ooxml.cpp so
// that fuzz/fuzz_office_parts.cpp can drive them alone.
#include "features/office_parts.hpp"

#include <algorithm>
#include <vector>

namespace mamori::features::office {

namespace {

bool has_prefix(std::string_view s, std::string_view p) { return s.size() >= p.size() && s.substr(0, p.size()) == p; }
bool has_suffix(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}
std::string ascii_lower(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

}  // namespace

// Parts Word produces for altChunk (w:altChunk, relationship type aFChunk): "word/afchunk.rtf", "afchunk1.mht",
// "afchunk2.htm", "afchunk3.docx". Word imports such a part as a document of its own type when it opens the package, so
// an RTF chunk carries RTF objects and exploits (CVE-2023-36884, RomCom). Outside embeddings and ActiveX (scanned
// already) these names and types are not what a package's own parts are: 0 of 2,029 benign OOXML documents of the
// corpora have one (tools/corpus/ooxml_parts.py, docs/MEASUREMENTS.md, tenth session).
bool chunk_part_name(std::string_view low) {
  if (low.find("/embeddings/") != std::string_view::npos || low.find("/activex/") != std::string_view::npos) return false;
  if (has_suffix(low, ".rels")) return false;
  const std::size_t slash = low.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? low : low.substr(slash + 1);
  if (has_prefix(base, "afchunk")) return true;
  for (std::string_view ext : {".rtf", ".mht", ".mhtml", ".htm", ".html"})
    if (has_suffix(low, ext)) return true;
  return false;
}

// Part name a relationship target points to, from the relationships part's own name ("word/_rels/document.xml.rels"
// + "afchunk.rtf" -> "word/afchunk.rtf"; "/word/afchunk.rtf" is from the package root), lower case, "." and ".."
// steps resolved. Empty when the target leaves the package or is a URL.
std::string resolve_part_target(std::string_view rels_name, std::string_view target) {
  std::string t = ascii_lower(target.substr(0, 1024));
  if (t.find("://") != std::string::npos || t.find(':') != std::string::npos) return {};
  std::string path;
  if (!t.empty() && t.front() == '/') {
    path = t.substr(1);
  } else {
    const std::string rl = ascii_lower(rels_name);
    const std::size_t r = rl.rfind("_rels/");
    path = (r == std::string::npos ? std::string() : rl.substr(0, r)) + t;
  }
  std::vector<std::string> out;
  std::size_t p = 0;
  for (std::size_t steps = 0; p <= path.size() && steps < 256; ++steps) {
    std::size_t q = path.find('/', p);
    if (q == std::string::npos) q = path.size();
    const std::string seg = path.substr(p, q - p);
    if (seg == "..") {
      if (out.empty()) return {};
      out.pop_back();
    } else if (!seg.empty() && seg != ".") {
      out.push_back(seg);
    }
    p = q + 1;
  }
  std::string r;
  for (const auto& seg : out) r += (r.empty() ? "" : "/") + seg;
  return r;
}

// Longest hexadecimal string literal ("<4f2a...>") of a PostScript program, in decoded bytes. Comments and literal
// strings "(...)" are skipped, so are dictionaries "<<" and ASCII85 strings "<~". PostScript implementations cap a
// string at 65,535 bytes (PostScript Language Reference, appendix B, "Implementation Limits"): an image that needs more
// is read from the file with readhexstring, never written as one literal. The EPS images of the CVE-2015-2545 and
// CVE-2017-0261/0262 documents carry their shellcode and ROP data as literals of 120-350 KB. One pass, O(n).
std::size_t longest_ps_hex_string(std::string_view ps) {
  auto hexd = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); };
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\0'; };
  std::size_t best = 0;
  std::size_t i = 0;
  while (i < ps.size()) {
    const char c = ps[i];
    if (c == '%') {
      while (i < ps.size() && ps[i] != '\n' && ps[i] != '\r') ++i;
    } else if (c == '(') {
      int depth = 1;
      ++i;
      while (i < ps.size() && depth > 0) {
        if (ps[i] == '\\') ++i;
        else if (ps[i] == '(') ++depth;
        else if (ps[i] == ')') --depth;
        ++i;
      }
    } else if (c == '<' && i + 1 < ps.size() && (ps[i + 1] == '<' || ps[i + 1] == '~')) {
      i += 2;
    } else if (c == '<') {
      std::size_t digits = 0;
      std::size_t j = i + 1;
      while (j < ps.size() && (hexd(ps[j]) || space(ps[j]))) digits += hexd(ps[j++]) ? 1 : 0;
      if (j < ps.size() && ps[j] == '>') best = std::max(best, (digits + 1) / 2);
      i = j;
    } else {
      ++i;
    }
  }
  return best;
}

}  // namespace mamori::features::office
