// Process-list parsing: decode to UTF-8, split CSV records, recognise the export from its header.
#include "emocheck/process_list.hpp"

#include <algorithm>
#include <array>

#include "common/codepage.hpp"

namespace mamori::emocheck {

const char* process_list_format_name(ProcessListFormat f) noexcept {
  switch (f) {
    case ProcessListFormat::tasklist: return "tasklist";
    case ProcessListFormat::cim_csv: return "Win32_Process Export-Csv";
    case ProcessListFormat::wmic_csv: return "wmic /format:csv";
  }
  return "?";
}

const char* process_list_anomaly_name(ProcessListAnomaly a) noexcept {
  switch (a) {
    case ProcessListAnomaly::invalid_utf8: return "invalid_utf8";
    case ProcessListAnomaly::odd_utf16_length: return "odd_utf16_length";
    case ProcessListAnomaly::unterminated_quote: return "unterminated_quote";
    case ProcessListAnomaly::extra_fields: return "extra_fields";
    case ProcessListAnomaly::missing_fields: return "missing_fields";
    case ProcessListAnomaly::field_truncated: return "field_truncated";
    case ProcessListAnomaly::fields_truncated: return "fields_truncated";
    case ProcessListAnomaly::rows_truncated: return "rows_truncated";
    case ProcessListAnomaly::bad_pid: return "bad_pid";
  }
  return "?";
}

namespace {

// UTF-16LE without a BOM: an ASCII header puts NUL in every odd byte. Looking at the first 64 bytes is enough.
bool looks_utf16le(ByteView b) {
  const std::uint64_t n = std::min<std::uint64_t>(b.size(), 64) & ~std::uint64_t{1};
  if (n < 4) return false;
  std::size_t odd_zero = 0, even_zero = 0;
  for (std::uint64_t i = 0; i < n; i += 2) {
    even_zero += b.data()[i] == 0;
    odd_zero += b.data()[i + 1] == 0;
  }
  return odd_zero * 4 >= n / 2 * 3 && even_zero * 4 < n / 2;
}

}  // namespace

std::string decode_text(ByteView b, std::string* encoding, bool* invalid_utf8, bool* odd_utf16) {
  auto set = [](auto* p, auto v) {
    if (p) *p = v;
  };
  set(invalid_utf8, false);
  set(odd_utf16, false);
  auto from_utf16 = [&](ByteView body, bool be, const char* name) {
    set(encoding, std::string(name));
    set(odd_utf16, body.size() % 2 != 0);
    // NUL units are dropped rather than ending the text: a stray NUL in an export must not hide the rows after it.
    return utf16_to_utf8(body, static_cast<std::size_t>(body.size() / 2), be ? Utf16Order::big : Utf16Order::little,
                         Utf16Nul::skipped);
  };
  if (b.size() >= 2 && b.data()[0] == 0xFF && b.data()[1] == 0xFE) return from_utf16(b.from(2), false, "utf-16le-bom");
  if (b.size() >= 2 && b.data()[0] == 0xFE && b.data()[1] == 0xFF) return from_utf16(b.from(2), true, "utf-16be-bom");
  if (looks_utf16le(b)) return from_utf16(b, false, "utf-16le");
  ByteView body = b;
  if (b.size() >= 3 && b.data()[0] == 0xEF && b.data()[1] == 0xBB && b.data()[2] == 0xBF) {
    body = b.from(3);
    set(encoding, std::string("utf-8-bom"));
  } else {
    set(encoding, std::string("utf-8"));
  }
  const std::string_view raw(reinterpret_cast<const char*>(body.data()), static_cast<std::size_t>(body.size()));
  std::string out = codepage_to_utf8(raw, 65001);
  // codepage_to_utf8 turns invalid bytes into U+FFFD; a U+FFFD in the output that was not in the input marks them.
  set(invalid_utf8, out.size() != raw.size() || out != raw);
  return out;
}

namespace {

struct Csv {
  std::string_view text;
  std::size_t pos = 0;
  std::vector<ProcessListAnomaly>* anomalies;

  void note(ProcessListAnomaly a) {
    if (std::find(anomalies->begin(), anomalies->end(), a) == anomalies->end()) anomalies->push_back(a);
  }

  bool done() const { return pos >= text.size(); }

  // One record; CR, LF and CRLF (and wmic's CR CR LF) all end a record outside quotes. Returns false at the end.
  bool next(std::vector<std::string>& fields) {
    fields.clear();
    if (done()) return false;
    std::string field;
    bool quoted = false, any = false, field_cut = false;
    auto push = [&] {
      // A cut may have split a UTF-8 sequence: drop its lead bytes so every field stays valid UTF-8.
      if (field_cut) {
        std::size_t back = 0;
        while (back < 4 && back < field.size() && (static_cast<unsigned char>(field[field.size() - 1 - back]) & 0xC0) == 0x80)
          ++back;
        if (back < field.size()) {
          const auto lead = static_cast<unsigned char>(field[field.size() - 1 - back]);
          const std::size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
          if (need != back + 1) field.resize(field.size() - 1 - back);
        }
      }
      if (fields.size() < process_list_limits::max_fields) {
        fields.push_back(std::move(field));
      } else {
        note(ProcessListAnomaly::fields_truncated);
      }
      field.clear();
      field_cut = false;
    };
    auto add = [&](char c) {
      if (field.size() < process_list_limits::max_field_bytes) {
        field.push_back(c);
      } else if (!field_cut) {
        field_cut = true;
        note(ProcessListAnomaly::field_truncated);
      }
    };
    while (pos < text.size()) {
      const char c = text[pos++];
      any = true;
      if (quoted) {
        if (c == '"') {
          if (pos < text.size() && text[pos] == '"') {
            add('"');
            ++pos;
          } else {
            quoted = false;
          }
        } else {
          add(c);
        }
        continue;
      }
      if (c == '"' && field.empty()) {
        quoted = true;
      } else if (c == ',') {
        push();
      } else if (c == '\r' || c == '\n') {
        while (pos < text.size() && (text[pos] == '\r' || text[pos] == '\n')) ++pos;
        break;
      } else {
        add(c);
      }
    }
    if (quoted) note(ProcessListAnomaly::unterminated_quote);
    if (any) push();
    return true;
  }
};

std::string trim(std::string s) {
  auto sp = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && sp(s.back())) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && sp(s[i])) ++i;
  return s.substr(i);
}

std::optional<std::uint32_t> parse_pid(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > 0xFFFFFFFFull) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

int find_col(const std::vector<std::string>& header, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names)
    for (std::size_t i = 0; i < header.size(); ++i)
      if (iequals(header[i], n)) return static_cast<int>(i);
  return -1;
}

bool blank(const std::vector<std::string>& row) {
  return std::all_of(row.begin(), row.end(), [](const std::string& f) { return trim(f).empty(); });
}

}  // namespace

Result<ProcessList> parse_process_list(ByteView bytes) {
  if (bytes.empty()) return make_error(ErrorCode::invalid_argument, "process list is empty");
  if (bytes.size() > process_list_limits::max_input_bytes)
    return make_error(ErrorCode::limit_exceeded, "process list is larger than 256 MiB");
  ProcessList out;
  bool bad_utf8 = false, odd = false;
  const std::string text = decode_text(bytes, &out.encoding, &bad_utf8, &odd);
  if (bad_utf8) out.anomalies.push_back(ProcessListAnomaly::invalid_utf8);
  if (odd) out.anomalies.push_back(ProcessListAnomaly::odd_utf16_length);
  Csv csv{text, 0, &out.anomalies};

  // The header: the first non-blank record that is not Export-Csv's "#TYPE" line.
  std::vector<std::string> header;
  while (csv.next(header)) {
    if (blank(header)) continue;
    if (!header[0].empty() && header[0][0] == '#') continue;
    break;
  }
  for (auto& h : header) h = trim(h);
  int c_name = -1, c_pid = -1, c_path = -1, c_cmd = -1;
  if (!header.empty() && iequals(header[0], "Node")) {
    out.format = ProcessListFormat::wmic_csv;
    c_name = find_col(header, {"Name", "Caption"});
    c_pid = find_col(header, {"ProcessId", "Handle"});
    c_path = find_col(header, {"ExecutablePath"});
    c_cmd = find_col(header, {"CommandLine"});
  } else if (find_col(header, {"ProcessId"}) >= 0) {
    out.format = ProcessListFormat::cim_csv;
    c_name = find_col(header, {"Name", "ProcessName", "Caption"});
    c_pid = find_col(header, {"ProcessId"});
    c_path = find_col(header, {"ExecutablePath", "Path"});
    c_cmd = find_col(header, {"CommandLine"});
  } else if (header.size() >= 2 && iequals(header[1], "PID")) {
    // tasklist's header is localized except for "PID"; the image name is always the first column.
    out.format = ProcessListFormat::tasklist;
    c_name = 0;
    c_pid = 1;
  } else {
    return make_error(ErrorCode::not_this_format,
                      "process list header is not tasklist /fo csv, Win32_Process Export-Csv or wmic /format:csv");
  }
  if (c_name < 0 && c_path < 0)
    return make_error(ErrorCode::not_this_format, "process list has neither a name nor an executable path column");

  std::vector<std::string> row;
  while (csv.next(row)) {
    if (blank(row)) continue;
    if (out.processes.size() >= process_list_limits::max_rows) {
      csv.note(ProcessListAnomaly::rows_truncated);
      break;
    }
    if (row.size() > header.size()) {
      csv.note(ProcessListAnomaly::extra_fields);
      // wmic does not quote: the commas of a command line split it. Put the spill back into CommandLine.
      if (out.format == ProcessListFormat::wmic_csv && c_cmd >= 0) {
        const std::size_t extra = row.size() - header.size();
        const auto first = static_cast<std::size_t>(c_cmd);
        std::string merged = row[first];
        for (std::size_t i = 1; i <= extra; ++i) merged += "," + row[first + i];
        row[first] = std::move(merged);
        row.erase(row.begin() + static_cast<std::ptrdiff_t>(first + 1),
                  row.begin() + static_cast<std::ptrdiff_t>(first + 1 + extra));
      }
    } else if (row.size() < header.size()) {
      csv.note(ProcessListAnomaly::missing_fields);
    }
    auto col = [&](int c) -> std::string {
      return c >= 0 && static_cast<std::size_t>(c) < row.size() ? trim(row[static_cast<std::size_t>(c)]) : std::string();
    };
    ProcessInfo p;
    p.name = col(c_name);
    p.image_path = col(c_path);
    p.command_line = col(c_cmd);
    if (p.name.empty() && !p.image_path.empty()) p.name = std::string(win_basename(p.image_path));
    const std::string pid = col(c_pid);
    if (!pid.empty()) {
      p.pid = parse_pid(pid);
      if (!p.pid) csv.note(ProcessListAnomaly::bad_pid);
    }
    if (p.name.empty() && p.image_path.empty() && p.command_line.empty()) continue;
    out.processes.push_back(std::move(p));
  }
  return out;
}

}  // namespace mamori::emocheck
