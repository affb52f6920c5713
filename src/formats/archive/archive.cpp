#include "formats/archive/archive.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <unordered_set>

#include "common/stats.hpp"

namespace mamori::archive {

const char* stop_name(Stop s) noexcept {
  switch (s) {
    case Stop::none: return "none";
    case Stop::entries: return "entries";
    case Stop::total_bytes: return "total_bytes";
    case Stop::ratio: return "ratio";
    case Stop::raw_bytes: return "raw_bytes";
    case Stop::time: return "time";
    case Stop::visitor: return "visitor";
  }
  return "none";
}

const char* anomaly_name(AnomalyCode c) noexcept {
  switch (c) {
    case AnomalyCode::header_unreadable: return "header_unreadable";
    case AnomalyCode::data_error: return "data_error";
    case AnomalyCode::entry_truncated_by_limit: return "entry_truncated_by_limit";
    case AnomalyCode::name_truncated: return "name_truncated";
    case AnomalyCode::name_suspicious: return "name_suspicious";
    case AnomalyCode::encrypted_unopened: return "encrypted_unopened";
    case AnomalyCode::padding_collapsed: return "padding_collapsed";
    case AnomalyCode::size_mismatch: return "size_mismatch";
    case AnomalyCode::duplicate_name: return "duplicate_name";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------------------------
// PaddingSink

namespace {

// First index j >= i where 8 equal bytes start, or where fewer than 8 bytes are left. No run of padding_run can
// begin between i and j, so those bytes are content and are copied in one go: ordinary data has runs of a few
// bytes, and one insert per run would make content cost many times what padding costs.
std::size_t next_uniform(const std::uint8_t* p, std::size_t i, std::size_t n) {
  std::size_t k = i;
  for (; k + 8 <= n; k += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + k, 8);
    if (w == 0x0101010101010101ull * (w & 0xff)) {
      std::size_t j = k;
      while (j > i && p[j - 1] == p[k]) --j;
      return j;
    }
  }
  return k;
}

}  // namespace

void PaddingSink::write(const std::uint8_t* p, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t c = p[i];
    if (static_cast<int>(c) != last_) {
      const std::size_t j = next_uniform(p, i, n);
      if (j > i) {
        flush_pending();
        out_.insert(out_.end(), p + i, p + j);
        raw_ += j - i;
        // The copied bytes may end in the first bytes of a run that the next write continues.
        last_ = p[j - 1];
        run_len_ = 1;
        while (run_len_ < j - i && p[j - 1 - run_len_] == p[j - 1]) ++run_len_;
        i = j;
        continue;
      }
    }
    const std::size_t len = run_length(p + i, n - i, c);
    if (static_cast<int>(c) == last_) {
      run_len_ += len;
    } else {
      flush_pending();
      last_ = c;
      run_len_ = len;
    }
    if (pending_ > 0) {
      pending_ += len;
      padding_ += len;
    } else if (run_len_ >= run_) {
      // The run just became padding: take its earlier part back out of the output and hold the whole run.
      const std::uint64_t earlier = run_len_ - len;
      out_.resize(out_.size() - static_cast<std::size_t>(earlier));
      pending_ = run_len_;
      padding_ += run_len_;
    } else {
      out_.insert(out_.end(), p + i, p + i + len);
    }
    raw_ += len;
    i += len;
  }
}

void PaddingSink::flush_pending() {
  if (pending_ == 0) return;
  const std::uint8_t c = static_cast<std::uint8_t>(last_);
  if (!collapse_ || out_.size() + pending_ <= exact_cap_) {
    out_.insert(out_.end(), static_cast<std::size_t>(pending_), c);
  } else {
    // Drop whole KiB only: offsets after the run then move by a multiple of the byte pass's block.
    const std::uint64_t drop = (pending_ - std::min(keep_, pending_)) / 1024 * 1024;
    const std::uint64_t keep = pending_ - drop;
    out_.insert(out_.end(), static_cast<std::size_t>(keep), c);
    collapsed_ += drop;
  }
  pending_ = 0;
}

void PaddingSink::finish() {
  flush_pending();
  last_ = -1;
  run_len_ = 0;
}

void PaddingSink::clear() {
  out_.clear();
  raw_ = padding_ = collapsed_ = 0;
  last_ = -1;
  run_len_ = pending_ = 0;
}

// ---------------------------------------------------------------------------------------------------------------
// libarchive handles

namespace {

struct ArchiveDeleter {
  void operator()(struct archive* a) const noexcept { archive_read_free(a); }
};
using Handle = std::unique_ptr<struct archive, ArchiveDeleter>;

// Offers passwords one at a time through libarchive's callback, remembering the last one handed out: libarchive
// asks again only when the previous one failed, so the last one offered is the one that opened the entry.
struct PasswordFeed {
  const std::vector<std::string>* list = nullptr;
  std::size_t next = 0;
  std::size_t last = SIZE_MAX;
  std::size_t end = SIZE_MAX;  // offer no password from this index on
};

const char* feed_password(struct archive*, void* data) {
  auto* f = static_cast<PasswordFeed*>(data);
  if (f->list == nullptr || f->next >= std::min(f->end, f->list->size())) return nullptr;
  f->last = f->next++;
  return (*f->list)[f->last].c_str();
}

enum class OpenMode { formats, raw };

Handle open_handle(ByteView bytes, OpenMode mode, PasswordFeed* feed, bool check_crc = true) {
  Handle a(archive_read_new());
  if (!a) return a;
  archive_read_support_filter_all(a.get());
  if (mode == OpenMode::raw) {
    archive_read_support_format_raw(a.get());
  } else {
    archive_read_support_format_all(a.get());
    if (!check_crc) archive_read_set_format_option(a.get(), "zip", "ignorecrc32", "1");
  }
  if (feed) archive_read_set_passphrase_callback(a.get(), feed, &feed_password);
  // An empty buffer would make libarchive read nothing and call it a zero-entry archive of no format.
  static const std::uint8_t empty[1] = {0};
  const void* p = bytes.empty() ? empty : bytes.data();
  if (archive_read_open_memory(a.get(), p, static_cast<std::size_t>(bytes.size())) != ARCHIVE_OK) return nullptr;
  return a;
}

// libarchive's UTF-8 form of the entry's path when it has one, else the raw bytes; null when there is none.
const char* entry_path(struct archive_entry* e) {
  const char* n = archive_entry_pathname_utf8(e);
  return n != nullptr ? n : archive_entry_pathname(e);
}

// Steps to the next header of a walk that reads names only: false at the end or at an unreadable header, which
// means the input is no archive when it is the first.
Result<bool> next_header(struct archive* a, struct archive_entry** e, bool first) {
  const int rc = archive_read_next_header(a, e);
  if (rc == ARCHIVE_EOF) return false;
  if (rc < ARCHIVE_WARN) {
    if (first) return make_error(ErrorCode::not_this_format, "not an archive libarchive can read");
    return false;
  }
  return true;
}

std::string clean_name(struct archive_entry* e, std::vector<Anomaly>& anomalies) {
  const char* n = entry_path(e);
  std::string s = n ? n : "";
  if (s.size() > limits::max_name_length) {
    anomalies.push_back({AnomalyCode::name_truncated, std::to_string(s.size()) + " bytes"});
    s.resize(limits::max_name_length);
  }
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '!') c = '?';  // '!' separates member paths
  if (!s.empty() && (s[0] == '/' || s.find("../") != std::string::npos || s == ".."))
    anomalies.push_back({AnomalyCode::name_suspicious, s});
  if (s.empty()) s = "data";
  return s;
}

// Why an entry's data stopped before its end: its own caps (the walk goes on) or a budget of the walk (the entry is
// visited as read so far, then the walk stops).
enum class Cut : std::uint8_t { none, entry, raw_total, content, total, time };

struct EntryCaps {
  std::uint64_t raw = UINT64_MAX;           // decompressed bytes, padding included
  bool raw_is_walk = false;                 // the walk's budget binds rather than the entry's
  std::uint64_t materialised = UINT64_MAX;  // bytes kept
  bool materialised_is_walk = false;
  std::uint64_t content = UINT64_MAX;       // non-padding bytes (always the walk's: ratio)
};

// Hands `n` bytes to the sink in slices, checking the caps after each: a bomb entry stops within one slice of its
// budget instead of after gigabytes. The raw cap is never passed.
Cut feed_sink(PaddingSink& sink, const std::uint8_t* p, std::size_t n, const ReadOptions& opt, const EntryCaps& caps,
              std::uint64_t& slices) {
  while (n > 0) {
    if (sink.raw_bytes() >= caps.raw) return caps.raw_is_walk ? Cut::raw_total : Cut::entry;
    const std::size_t k = static_cast<std::size_t>(
        std::min<std::uint64_t>({n, limits::stream_slice, caps.raw - sink.raw_bytes()}));
    sink.write(p, k);
    p += k;
    n -= k;
    const std::uint64_t materialised = opt.collapse_padding ? sink.data().size() : sink.raw_bytes();
    if (materialised > caps.materialised) {
      // Keep exactly the cap, so that callers charging these bytes against the same budget never see it passed.
      if (sink.data().size() > caps.materialised) sink.data().resize(static_cast<std::size_t>(caps.materialised));
      return caps.materialised_is_walk ? Cut::total : Cut::entry;
    }
    if (sink.content_bytes() > caps.content) return Cut::content;
    if ((++slices & 15) == 0 && std::chrono::steady_clock::now() > opt.deadline) return Cut::time;
  }
  return Cut::none;
}

// Reads the current entry's data into `sink` within `caps`. Returns libarchive's status for the data (ARCHIVE_OK or
// the failing code) and sets `cut` when a cap or the deadline stopped it.
int read_into(struct archive* a, PaddingSink& sink, const ReadOptions& opt, const EntryCaps& caps, Cut& cut) {
  cut = Cut::none;
  bool warned = false;
  std::uint64_t expect_offset = 0, slices = 0;
  for (std::uint64_t blocks = 0;; ++blocks) {
    const void* buf = nullptr;
    std::size_t size = 0;
    la_int64_t offset = 0;
    const int rc = archive_read_data_block(a, &buf, &size, &offset);
    if (rc == ARCHIVE_EOF) return warned ? ARCHIVE_WARN : ARCHIVE_OK;
    if (rc < ARCHIVE_WARN) return rc;
    // A warning (a CRC mismatch, mostly) still delivers data; for an encrypted entry it means a wrong password.
    if (rc == ARCHIVE_WARN) warned = true;
    // Sparse entries (tar, iso) skip holes by offset; a hole is a run of zeros that libarchive does not produce.
    if (offset >= 0 && static_cast<std::uint64_t>(offset) > expect_offset) {
      static const std::uint8_t zeros[64 << 10] = {};
      std::uint64_t hole = static_cast<std::uint64_t>(offset) - expect_offset;
      while (hole > 0 && cut == Cut::none) {
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(hole, sizeof zeros));
        cut = feed_sink(sink, zeros, n, opt, caps, slices);
        hole -= n;
      }
      if (cut != Cut::none) return ARCHIVE_OK;
    }
    if (offset >= 0) expect_offset = static_cast<std::uint64_t>(offset) + size;
    cut = feed_sink(sink, static_cast<const std::uint8_t*>(buf), size, opt, caps, slices);
    if (cut != Cut::none) return ARCHIVE_OK;
    if ((blocks & 63) == 63 && std::chrono::steady_clock::now() > opt.deadline) {
      cut = Cut::time;
      return ARCHIVE_OK;
    }
  }
}

// Moves a fresh handle to entry `index` (headers and skips only).
bool seek_entry(struct archive* a, std::uint64_t index) {
  struct archive_entry* e = nullptr;
  for (std::uint64_t i = 0; i <= index; ++i) {
    if (archive_read_next_header(a, &e) < ARCHIVE_WARN) return false;
    if (i < index && archive_read_data_skip(a) < ARCHIVE_WARN) return false;
  }
  return true;
}

bool is_raw_format(struct archive* a) { return archive_format(a) == ARCHIVE_FORMAT_RAW; }

}  // namespace

Result<Summary> for_each_entry(ByteView bytes, const ReadOptions& opt, const Visitor& visit) {
  // libarchive calls empty input an archive of no entries; for a scanner it is no archive.
  if (bytes.empty()) return make_error(ErrorCode::not_this_format, "empty input");
  PasswordFeed feed{&opt.passwords, 0, SIZE_MAX};
  Handle a = open_handle(bytes, OpenMode::formats, &feed, /*check_crc=*/true);
  // The handle checks CRC-32 until the walk has decompressed crc_checked_bytes; then it is swapped for one that does
  // not, unless an encrypted entry came first (its checksum tells a wrong password). Each swap happens at most once.
  bool crc_checked = true, crc_dropped = false, crc_pinned = false;
  int crc_swaps = 0;  // at most one drop and one return
  constexpr int kMaxLoneRetries = 64;  // fresh-handle tries of the archive's known password, per walk
  int lone_retries = 0;
  OpenMode mode = OpenMode::formats;
  struct archive_entry* e = nullptr;
  int rc = a ? archive_read_next_header(a.get(), &e) : ARCHIVE_FATAL;
  if (rc < ARCHIVE_WARN && opt.raw_streams) {
    // No archive format inside; a compression filter around plain data is still worth opening as one entry.
    Handle r = open_handle(bytes, OpenMode::raw, &feed);
    if (r && archive_read_next_header(r.get(), &e) >= ARCHIVE_WARN && archive_filter_count(r.get()) > 1) {
      a = std::move(r);
      mode = OpenMode::raw;
      rc = ARCHIVE_OK;
    }
  }
  if (rc < ARCHIVE_WARN) {
    std::string why = a ? (archive_error_string(a.get()) ? archive_error_string(a.get()) : "unrecognised") : "open failed";
    return make_error(ErrorCode::not_this_format, "not an archive libarchive can read: " + why);
  }
  // A raw stream with no filter is just the input again: not a container.
  if (rc != ARCHIVE_EOF && is_raw_format(a.get()) && archive_filter_count(a.get()) <= 1)
    return make_error(ErrorCode::not_this_format, "no archive format or compression filter recognised");

  Summary s;
  s.format = archive_format_name(a.get()) ? archive_format_name(a.get()) : "";
  const bool zip = (archive_format(a.get()) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP;
  for (int i = archive_filter_count(a.get()) - 1; i >= 0; --i) {
    const int code = archive_filter_code(a.get(), i);
    if (code != ARCHIVE_FILTER_NONE && archive_filter_name(a.get(), i)) s.filters.emplace_back(archive_filter_name(a.get(), i));
  }

  // What this archive's own ratio allows, in bytes (saturating: a huge archive with a huge ratio is no limit).
  std::uint64_t ratio_budget = UINT64_MAX;
  if (opt.max_ratio > 0) {
    const double b = opt.max_ratio * static_cast<double>(bytes.size()) + static_cast<double>(opt.ratio_slack);
    if (b < 1.8e19) ratio_budget = static_cast<std::uint64_t>(b);
  }
  auto left = [](std::uint64_t budget, std::uint64_t used) { return budget > used ? budget - used : 0; };
  std::uint64_t content_total = 0;
  std::unordered_set<std::string> names;
  PaddingSink sink(limits::padding_run, opt.exact_padding_cap, opt.collapsed_run_keep, opt.collapse_padding);
  for (std::uint64_t index = 0; rc != ARCHIVE_EOF; ++index) {
    if (rc < ARCHIVE_WARN) {
      const char* m = archive_error_string(a.get());
      s.anomalies.push_back({AnomalyCode::header_unreadable, m ? m : "unreadable header"});
      break;
    }
    if (index >= opt.max_entries) {
      s.stop = Stop::entries;
      break;
    }
    if (std::chrono::steady_clock::now() > opt.deadline) {
      s.stop = Stop::time;
      break;
    }
    ++s.entries;
    Entry en;
    en.index = index;
    en.name = clean_name(e, s.anomalies);
    if (mode == OpenMode::raw) en.name = "data";
    if (!names.insert(en.name).second && names.size() < opt.max_entries)
      s.anomalies.push_back({AnomalyCode::duplicate_name, en.name});
    en.regular = archive_entry_filetype(e) == AE_IFREG || archive_entry_filetype(e) == 0;
    en.size_known = archive_entry_size_is_set(e) != 0;
    en.declared_size = en.size_known ? static_cast<std::uint64_t>(std::max<la_int64_t>(0, archive_entry_size(e))) : 0;
    en.encrypted = archive_entry_is_data_encrypted(e) != 0 || archive_entry_is_encrypted(e) != 0;
    if (en.encrypted) ++s.encrypted_entries;

    if (!en.regular) {
      en.opened = false;
      if (!visit(en, ByteView())) {
        s.stop = Stop::visitor;
        break;
      }
      rc = archive_read_next_header(a.get(), &e);
      continue;
    }

    if (en.encrypted) crc_pinned = true;
    const bool want_crc = crc_pinned || (!crc_dropped && s.raw_bytes + en.declared_size < limits::crc_checked_bytes);
    if (want_crc != crc_checked && zip && mode == OpenMode::formats && crc_swaps < 2) {
      // Continue the walk on a handle that does (or no longer does) compute the checksum: one re-walk of the
      // headers. From an encrypted entry on the checksum is what tells a wrong ZipCrypto password from the right one.
      ++crc_swaps;
      if (!want_crc) crc_dropped = true;
      feed = PasswordFeed{&opt.passwords, 0, SIZE_MAX};
      Handle b = open_handle(bytes, mode, &feed, want_crc);
      if (b && seek_entry(b.get(), index)) {
        a = std::move(b);
        crc_checked = want_crc;
      }
    }

    const ReadOptions::Shared shared = opt.shared ? opt.shared() : ReadOptions::Shared{};
    EntryCaps caps;
    const std::uint64_t raw_left = std::min(left(opt.max_raw_total, s.raw_bytes), shared.raw);
    caps.raw = std::min(opt.max_raw_entry_bytes, raw_left);
    caps.raw_is_walk = raw_left <= opt.max_raw_entry_bytes;
    const std::uint64_t total_left = std::min(left(opt.max_total_bytes, s.extracted_bytes), shared.bytes);
    caps.materialised = std::min(opt.max_entry_bytes, total_left);
    caps.materialised_is_walk = total_left <= opt.max_entry_bytes;
    caps.content = std::min(left(ratio_budget, content_total), shared.content);

    sink.clear();
    Cut cut = Cut::none;
    const std::size_t feed_before = feed.last;
    int drc = read_into(a.get(), sink, opt, caps, cut);
    // ZipCrypto's one-byte check lets ~1/256 wrong passwords through; the data then fails. Retry this entry on a
    // fresh handle with the passwords after the one that falsely matched.
    std::size_t retries = 0;
    auto failed = [&](int code) { return code < ARCHIVE_WARN || (en.encrypted && code == ARCHIVE_WARN); };
    while (failed(drc) && en.encrypted && feed.last != SIZE_MAX && feed.last != feed_before &&
           feed.last + 1 < opt.passwords.size() && retries++ < opt.passwords.size()) {
      PasswordFeed again{&opt.passwords, feed.last + 1, SIZE_MAX};
      Handle b = open_handle(bytes, mode, &again);
      if (!b || !seek_entry(b.get(), index)) break;
      sink.clear();
      drc = read_into(b.get(), sink, opt, caps, cut);
      feed.next = again.next;
      feed.last = again.last;
    }
    // libarchive also tries the passwords it holds from earlier entries without asking the callback, so a false
    // match among those leaves no trace in the feed and the loop above cannot skip it. The password that opened an
    // earlier entry is then tried alone on a fresh handle (archives are mostly one password); bounded per walk, as
    // each try re-walks the headers up to this entry.
    if (failed(drc) && en.encrypted && !s.password.empty() && lone_retries < kMaxLoneRetries) {
      ++lone_retries;
      const auto it = std::find(opt.passwords.begin(), opt.passwords.end(), s.password);
      if (it != opt.passwords.end()) {
        const auto k = static_cast<std::size_t>(it - opt.passwords.begin());
        PasswordFeed one{&opt.passwords, k, SIZE_MAX, k + 1};
        Handle b = open_handle(bytes, mode, &one);
        if (b && seek_entry(b.get(), index)) {
          sink.clear();
          cut = Cut::none;
          const int again = read_into(b.get(), sink, opt, caps, cut);
          if (!failed(again)) {
            drc = again;
            feed.last = k;
          } else {
            sink.clear();
          }
        }
      }
    }
    sink.finish();
    // A padding run held back until the end of the entry is flushed by finish(), after the last cap check: the kept
    // part of it may not pass the cap either.
    if (sink.data().size() > caps.materialised) {
      sink.data().resize(static_cast<std::size_t>(caps.materialised));
      if (cut == Cut::none) cut = caps.materialised_is_walk ? Cut::total : Cut::entry;
    }
    en.raw_bytes = sink.raw_bytes();
    en.padding_bytes = sink.padding_bytes();
    en.collapsed_bytes = sink.collapsed_bytes();
    en.truncated = cut != Cut::none;
    if (drc == ARCHIVE_WARN && !en.encrypted) {
      const char* m = archive_error_string(a.get());
      s.anomalies.push_back({AnomalyCode::data_error, en.name + ": " + (m ? m : "warning")});
    }
    if (failed(drc)) {
      const char* m = archive_error_string(a.get());
      en.error = m ? m : "unreadable data";
      en.opened = false;
      if (en.encrypted) {
        ++s.unopened_encrypted;
        s.anomalies.push_back({AnomalyCode::encrypted_unopened, en.name});
      } else {
        s.anomalies.push_back({AnomalyCode::data_error, en.name + ": " + en.error});
      }
    } else if (en.encrypted && feed.last != SIZE_MAX) {
      en.password = opt.passwords[feed.last];
      s.password = en.password;
    }
    if (en.truncated) s.anomalies.push_back({AnomalyCode::entry_truncated_by_limit, en.name});
    if (en.collapsed_bytes > 0)
      s.anomalies.push_back({AnomalyCode::padding_collapsed, en.name + ": " + std::to_string(en.collapsed_bytes) + " bytes"});
    if (en.opened && !en.truncated && en.size_known && mode != OpenMode::raw && en.declared_size != en.raw_bytes)
      s.anomalies.push_back({AnomalyCode::size_mismatch, en.name + ": declared " + std::to_string(en.declared_size) +
                                                             ", read " + std::to_string(en.raw_bytes)});
    s.padding_bytes += en.padding_bytes;
    s.collapsed_bytes += en.collapsed_bytes;
    s.raw_bytes += sink.raw_bytes();
    content_total += sink.content_bytes();
    s.content_bytes = content_total;
    s.extracted_bytes += sink.data().size();
    Stop stop = Stop::none;
    switch (cut) {
      case Cut::none: case Cut::entry: break;
      case Cut::raw_total: stop = Stop::raw_bytes; break;
      case Cut::content: stop = Stop::ratio; break;
      case Cut::total: stop = Stop::total_bytes; break;
      case Cut::time: stop = Stop::time; break;
    }
    const ByteView data = en.opened ? ByteView(sink.data().data(), sink.data().size()) : ByteView();
    // An entry cut by the walk's budget is still visited when something of it was read: the real content in front
    // of a padding run or a bomb's kernel is what a scan must see.
    if ((stop == Stop::none || !data.empty()) && !visit(en, data)) {
      s.stop = stop == Stop::none ? Stop::visitor : stop;
      break;
    }
    if (stop != Stop::none) {
      if (data.empty()) --s.entries;  // `entries` counts visited entries; nothing of this one was read
      s.stop = stop;
      break;
    }
    rc = archive_read_next_header(a.get(), &e);
  }
  return s;
}

namespace {

std::string part_key(std::string_view n) {
  while (!n.empty() && (n.front() == '/' || n.front() == '\\')) n.remove_prefix(1);
  std::string s(n);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::replace(s.begin(), s.end(), '\\', '/');
  return s;
}

}  // namespace

Result<std::vector<std::uint8_t>> read_entry(ByteView zip, std::string_view name, std::uint64_t max_bytes) {
  Handle a = open_handle(zip, OpenMode::formats, nullptr);
  if (!a) return make_error(ErrorCode::internal, "libarchive: cannot allocate a reader");
  const std::string want = part_key(name);
  struct archive_entry* e = nullptr;
  for (std::uint64_t i = 0; i < limits::default_max_entries; ++i) {
    auto more = next_header(a.get(), &e, i == 0);
    if (!more.ok()) return more.error();
    if (!*more) break;
    const char* n = entry_path(e);
    if (n == nullptr || part_key(n) != want) continue;
    std::vector<std::uint8_t> out;
    for (;;) {
      const void* buf = nullptr;
      std::size_t size = 0;
      la_int64_t offset = 0;
      const int drc = archive_read_data_block(a.get(), &buf, &size, &offset);
      if (drc == ARCHIVE_EOF) return out;
      if (drc < ARCHIVE_WARN) return make_error(ErrorCode::truncated, std::string(name) + ": unreadable data");
      if (offset >= 0 && static_cast<std::uint64_t>(offset) > out.size()) {
        if (static_cast<std::uint64_t>(offset) > max_bytes)
          return make_error(ErrorCode::limit_exceeded, std::string(name) + " is larger than " + std::to_string(max_bytes));
        out.resize(static_cast<std::size_t>(offset), 0);
      }
      if (out.size() + size > max_bytes)
        return make_error(ErrorCode::limit_exceeded, std::string(name) + " is larger than " + std::to_string(max_bytes));
      const auto* p = static_cast<const std::uint8_t*>(buf);
      out.insert(out.end(), p, p + size);
    }
  }
  return make_error(ErrorCode::truncated, "no entry named " + std::string(name));
}

Result<std::vector<std::string>> list_entries(ByteView bytes, std::uint64_t max_entries) {
  Handle a = open_handle(bytes, OpenMode::formats, nullptr);
  if (!a) return make_error(ErrorCode::internal, "libarchive: cannot allocate a reader");
  std::vector<std::string> names;
  struct archive_entry* e = nullptr;
  for (std::uint64_t i = 0; i < max_entries; ++i) {
    auto more = next_header(a.get(), &e, i == 0);
    if (!more.ok()) return more.error();
    if (!*more) break;
    const char* n = entry_path(e);
    names.emplace_back(n ? n : "");
  }
  return names;
}

}  // namespace mamori::archive
