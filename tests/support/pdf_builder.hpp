// Builds small PDF files for the pdf scanner tests and seed makers: numbered objects (dictionary text and an
// optional stream, raw or FlateDecode-compressed with zlib), an xref table, a trailer and %%EOF.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mamori::test {

struct PdfObject {
  std::string dict;                   // "<< /Type /Catalog /Pages 2 0 R >>" (for streams: without /Length, /Filter)
  std::string stream;                 // stream body; empty with has_stream = false: a plain object
  bool has_stream = false;
  bool flate = false;                 // compress the body and add /Filter /FlateDecode
  bool wrong_length = false;          // write a /Length that is off by 7

  PdfObject(std::string d) : dict(std::move(d)) {}  // NOLINT: lists of objects read better without the type
  PdfObject(std::string d, std::string s, bool st, bool fl) : dict(std::move(d)), stream(std::move(s)), has_stream(st), flate(fl) {}
};

struct PdfSpec {
  std::string header = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n";
  std::vector<PdfObject> objects;     // numbered from 1
  std::string trailer_extra;          // added inside the trailer dictionary
  std::string after_eof;              // bytes appended after %%EOF
  bool write_eof = true;
};

std::string build_pdf(const PdfSpec& spec);
std::string zlib_compress(const std::string& data);

}  // namespace mamori::test
