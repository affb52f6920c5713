// Helpers for the IOC/deobfuscation tests: encodings built at test time (base64, UTF-16LE, raw deflate and gzip
// with zlib) and IOC list queries.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "engine/verdict.hpp"

namespace mamori::test {

inline std::string base64(const std::vector<std::uint8_t>& b) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string r;
  std::size_t i = 0;
  for (; i + 2 < b.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{b[i]} << 16) | (std::uint32_t{b[i + 1]} << 8) | b[i + 2];
    r += k[v >> 18];
    r += k[(v >> 12) & 63];
    r += k[(v >> 6) & 63];
    r += k[v & 63];
  }
  if (i + 1 == b.size()) {
    const std::uint32_t v = std::uint32_t{b[i]} << 16;
    r += k[v >> 18];
    r += k[(v >> 12) & 63];
    r += "==";
  } else if (i + 2 == b.size()) {
    const std::uint32_t v = (std::uint32_t{b[i]} << 16) | (std::uint32_t{b[i + 1]} << 8);
    r += k[v >> 18];
    r += k[(v >> 12) & 63];
    r += k[(v >> 6) & 63];
    r += '=';
  }
  return r;
}

inline std::vector<std::uint8_t> utf16le(const std::string& ascii) {
  std::vector<std::uint8_t> r;
  for (char c : ascii) {
    r.push_back(static_cast<std::uint8_t>(c));
    r.push_back(0);
  }
  return r;
}

/// What `powershell -EncodedCommand` takes: base64 of the UTF-16LE script.
inline std::string encode_command(const std::string& script) { return base64(utf16le(script)); }

/// zlib deflate with the given window bits: -15 raw deflate (DeflateStream), 31 gzip (GZipStream).
inline std::vector<std::uint8_t> compress(const std::string& text, int window_bits) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::vector<std::uint8_t> out(deflateBound(&z, static_cast<uLong>(text.size())) + 64);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline std::set<std::string> values_of(const std::vector<engine::Ioc>& iocs, const std::string& type) {
  std::set<std::string> r;
  for (const auto& i : iocs)
    if (i.type == type) r.insert(i.value);
  return r;
}

inline const engine::Ioc* find_ioc(const std::vector<engine::Ioc>& iocs, const std::string& type, const std::string& value) {
  auto it = std::find_if(iocs.begin(), iocs.end(), [&](const engine::Ioc& i) { return i.type == type && i.value == value; });
  return it == iocs.end() ? nullptr : &*it;
}

inline std::string dump(const std::vector<engine::Ioc>& iocs) {
  std::string s;
  for (const auto& i : iocs) s += i.type + " " + i.value + " (" + i.where + ")\n";
  return s;
}

}  // namespace mamori::test
