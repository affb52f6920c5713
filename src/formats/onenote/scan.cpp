// FileDataStoreObject search ([MS-ONESTORE] 2.6.13) and file-name collection for OneNote sections.
#include <algorithm>
#include <cctype>
#include <cstring>

#include "common/anomalies.hpp"
#include "common/mapped_file.hpp"
#include "formats/onenote/onenote.hpp"

namespace mamori::onenote {

const char* anomaly_name(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::header_not_onenote: return "header_not_onenote";
    case Anomaly::file_data_truncated: return "file_data_truncated";
    case Anomaly::file_data_footer_missing: return "file_data_footer_missing";
    case Anomaly::embedded_truncated_by_limit: return "embedded_truncated_by_limit";
    case Anomaly::file_data_length_mismatch: return "file_data_length_mismatch";
    case Anomaly::kCount: break;
  }
  return "unknown";
}

namespace {

// GUIDs as stored (first three fields little endian).
constexpr std::uint8_t kSectionGuid[16] = {0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D,
                                           0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3};
constexpr std::uint8_t kHeaderGuid[16] = {0xE7, 0x16, 0xE3, 0xBD, 0x65, 0x26, 0x11, 0x45,
                                          0xA4, 0xC4, 0x8D, 0x4D, 0x0B, 0x7A, 0x9E, 0xAC};
constexpr std::uint8_t kFooterGuid[16] = {0x22, 0xA7, 0xFB, 0x71, 0x79, 0x0F, 0x0B, 0x4A,
                                          0xBB, 0x13, 0x89, 0x92, 0x56, 0x42, 0x6B, 0x24};
// guidHeader, cbLength, unused (4), reserved (8).
constexpr std::uint64_t kObjectHeader = 16 + 8 + 4 + 8;

void flag(Section& s, Anomaly a, std::uint64_t detail) { flag_first(s, a, detail); }

// Searches in windows of kWindow bytes and releases each window's pages once passed, so that a search through a
// large section does not keep the whole file resident (see release_pages).
constexpr std::uint64_t kWindow = 8u << 20;

const std::uint8_t* find_guid(const std::uint8_t* p, const std::uint8_t* end, const std::uint8_t* guid) {
  while (end - p >= 16) {
    const std::uint8_t* stop = end - p > static_cast<std::ptrdiff_t>(kWindow) ? p + kWindow : end;
    const std::uint8_t* q = p;
    while (stop - q >= 1 && end - q >= 16) {
      const void* hit = std::memchr(q, guid[0], static_cast<std::size_t>(std::min(stop - q, end - q - 15)));
      if (!hit) break;
      q = static_cast<const std::uint8_t*>(hit);
      if (std::memcmp(q, guid, 16) == 0) return q;
      ++q;
    }
    if (stop == end) return nullptr;
    release_pages(p, static_cast<std::uint64_t>(stop - p));
    p = stop;
  }
  return nullptr;
}

bool guid_at(ByteView b, std::uint64_t off, const std::uint8_t* guid) {
  return b.fits(off, 16) && std::memcmp(b.data() + off, guid, 16) == 0;
}

bool name_char(std::uint16_t c) {
  return c >= 0x20 && c != 0x7F && c != '<' && c != '>' && c != ':' && c != '"' && c != '/' && c != '\\' &&
         c != '|' && c != '?' && c != '*';
}

// "name.ext" with a short alphanumeric extension that holds a letter and something before the dot.
bool looks_like_file_name(const std::string& s) {
  const auto dot = s.find_last_of('.');
  if (dot == std::string::npos || dot == 0 || s.size() - dot - 1 < 2 || s.size() - dot - 1 > 5) return false;
  bool letter = false;
  for (std::size_t i = dot + 1; i < s.size(); ++i) {
    if (!std::isalnum(static_cast<unsigned char>(s[i]))) return false;
    letter |= std::isalpha(static_cast<unsigned char>(s[i])) != 0;
  }
  return letter;
}

// UTF-16LE names in `v` (ASCII range only: enough to tell the extension), at most limits::max_names in all, and
// at most `budget` bytes examined over the whole section (property sets are small; a huge stretch between objects
// is not worth reading twice).
void collect_names(ByteView v, std::vector<std::string>& out, std::uint64_t& budget) {
  v = v.clamp(0, budget);
  budget -= v.size();
  for (std::uint64_t start = 0; start < 2; ++start) {
    std::string run;
    bool ascii = true;
    auto end_run = [&] {
      if (ascii && run.size() >= 3 && run.size() <= 255 && looks_like_file_name(run) && out.size() < limits::max_names &&
          std::find(out.begin(), out.end(), run) == out.end())
        out.push_back(run);
      run.clear();
      ascii = true;
    };
    for (std::uint64_t i = start; i + 1 < v.size(); i += 2) {
      const std::uint16_t c = static_cast<std::uint16_t>(v.data()[i] | (v.data()[i + 1] << 8));
      if (name_char(c) && run.size() < 256) {
        if (c >= 0x80) ascii = false;
        run.push_back(c < 0x80 ? static_cast<char>(c) : '?');
      } else {
        end_run();
      }
    }
    end_run();
  }
}

}  // namespace

bool sniff(ByteView bytes) noexcept { return guid_at(bytes, 0, kSectionGuid); }

Section scan(ByteView b) {
  Section s;
  if (!sniff(b)) flag(s, Anomaly::header_not_onenote, 0);
  const std::uint8_t* const begin = b.data();
  const std::uint8_t* const end = begin + b.size();
  const std::uint8_t* p = begin;
  std::uint64_t names_from = 0;  // names are collected between the embedded files, not inside them
  std::uint64_t name_budget = limits::max_name_scan_bytes;
  while (p && p < end) {
    p = find_guid(p, end, kHeaderGuid);
    if (!p) break;
    const auto off = static_cast<std::uint64_t>(p - begin);
    if (s.files.size() >= limits::max_embedded_files) {
      flag(s, Anomaly::embedded_truncated_by_limit, off);
      break;
    }
    EmbeddedFile f;
    f.offset = off;
    f.declared_size = b.le_or<std::uint64_t>(off + 16, 0);
    const std::uint64_t data_off = off + kObjectHeader;
    f.data = b.clamp(data_off, f.declared_size);
    if (!b.fits(data_off, f.declared_size)) flag(s, Anomaly::file_data_truncated, off);
    collect_names(b.clamp(names_from, off - std::min(off, names_from)), s.names, name_budget);
    std::uint64_t next = data_off + f.data.size();
    if (f.data.size() == f.declared_size) {
      // The footer follows the data after zero padding to 8 bytes; writers disagree on what the boundary is
      // measured from, so accept any of the eight positions.
      for (std::uint64_t pad = 0; pad < 8 && !f.footer_ok; ++pad)
        if (guid_at(b, next + pad, kFooterGuid)) f.footer_ok = true, next += pad + 16;
    }
    if (!f.footer_ok) {
      // The length is wrong. If a footer follows further on (before any other object), it marks where the data
      // really ends: cut there, without the zero padding in front of it.
      // Both searches stop at the next object's header, which the main loop finds next anyway: linear overall.
      const std::uint8_t* const from = begin + std::min<std::uint64_t>(data_off, b.size());
      const std::uint8_t* next_head = find_guid(from, end, kHeaderGuid);
      const std::uint8_t* foot = find_guid(from, next_head ? next_head + 15 : end, kFooterGuid);
      if (foot) {
        std::uint64_t cut = static_cast<std::uint64_t>(foot - begin) - data_off;
        while (cut > 0 && b.data()[data_off + cut - 1] == 0) --cut;
        f.data = b.clamp(data_off, cut);
        f.footer_ok = true;
        next = static_cast<std::uint64_t>(foot - begin) + 16;
        flag(s, Anomaly::file_data_length_mismatch, off);
      } else {
        flag(s, Anomaly::file_data_footer_missing, off);
      }
    }
    // A header whose length cannot be right is not allowed to swallow the rest of the file: go on searching
    // right after it, so an object hidden behind a bogus one is still found.
    const bool plausible = f.footer_ok;
    s.files.push_back(f);
    names_from = plausible ? next : off + 16;
    p = plausible ? begin + next : p + 16;
  }
  collect_names(b.from(names_from), s.names, name_budget);
  return s;
}

}  // namespace mamori::onenote
