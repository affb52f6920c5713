// Compound file header, DIFAT, FAT, miniFAT, directory tree and stream reading ([MS-CFB] sections 2.2-2.6).
#include <algorithm>

#include "common/anomalies.hpp"
#include "common/codepage.hpp"
#include "common/stats.hpp"
#include "formats/ole2/ole2.hpp"

namespace mamori::ole2 {

const char* anomaly_name(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::version_invalid: return "version_invalid";
    case Anomaly::byte_order_invalid: return "byte_order_invalid";
    case Anomaly::sector_shift_invalid: return "sector_shift_invalid";
    case Anomaly::mini_sector_shift_invalid: return "mini_sector_shift_invalid";
    case Anomaly::mini_stream_cutoff_invalid: return "mini_stream_cutoff_invalid";
    case Anomaly::file_not_sector_aligned: return "file_not_sector_aligned";
    case Anomaly::fat_sector_out_of_range: return "fat_sector_out_of_range";
    case Anomaly::fat_count_mismatch: return "fat_count_mismatch";
    case Anomaly::difat_chain_loop: return "difat_chain_loop";
    case Anomaly::difat_chain_out_of_range: return "difat_chain_out_of_range";
    case Anomaly::difat_count_mismatch: return "difat_count_mismatch";
    case Anomaly::difat_truncated_by_limit: return "difat_truncated_by_limit";
    case Anomaly::chain_loop: return "chain_loop";
    case Anomaly::chain_out_of_range: return "chain_out_of_range";
    case Anomaly::chain_too_short: return "chain_too_short";
    case Anomaly::chain_longer_than_size: return "chain_longer_than_size";
    case Anomaly::chain_truncated_by_limit: return "chain_truncated_by_limit";
    case Anomaly::minifat_chain_loop: return "minifat_chain_loop";
    case Anomaly::minifat_chain_out_of_range: return "minifat_chain_out_of_range";
    case Anomaly::minifat_chain_too_short: return "minifat_chain_too_short";
    case Anomaly::mini_stream_unreadable: return "mini_stream_unreadable";
    case Anomaly::directory_unreadable: return "directory_unreadable";
    case Anomaly::directory_truncated_by_limit: return "directory_truncated_by_limit";
    case Anomaly::root_entry_invalid: return "root_entry_invalid";
    case Anomaly::entry_type_invalid: return "entry_type_invalid";
    case Anomaly::entry_name_invalid: return "entry_name_invalid";
    case Anomaly::tree_loop: return "tree_loop";
    case Anomaly::tree_sibling_out_of_range: return "tree_sibling_out_of_range";
    case Anomaly::tree_too_deep: return "tree_too_deep";
    case Anomaly::orphan_entry: return "orphan_entry";
    case Anomaly::duplicate_path: return "duplicate_path";
    case Anomaly::stream_size_beyond_file: return "stream_size_beyond_file";
    case Anomaly::stream_size_high_bits_v3: return "stream_size_high_bits_v3";
    case Anomaly::stream_truncated_by_limit: return "stream_truncated_by_limit";
    case Anomaly::property_set_malformed: return "property_set_malformed";
    case Anomaly::kCount: break;
  }
  return "unknown";
}

namespace {

constexpr std::string_view kSignature("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
constexpr std::uint32_t kHeaderSize = 512;
constexpr std::uint32_t kEntrySize = 128;
constexpr std::uint32_t kStandardCutoff = 4096;

void flag(File& f, Anomaly a, std::uint64_t detail = 0) { flag_first(f, a, detail); }

enum class ChainEnd : std::uint8_t {
  end_of_chain,  // reached ENDOFCHAIN
  enough,        // collected the sectors asked for (the chain may go on: see `more`)
  loop,
  out_of_range,
};

struct Chain {
  std::vector<std::uint32_t> sectors;
  ChainEnd end = ChainEnd::end_of_chain;
  bool more = false;  // with `enough`: the next link is not ENDOFCHAIN
};

// Follows `table` from `start`, collecting at most `want` sectors. A sector is readable when it is below
// `sector_limit` (the sectors the file or mini stream holds); its successor is known only when it also indexes the
// table, so a FAT cut short still yields the first sectors of each chain. The visited set stops loops.
Chain follow(const std::vector<std::uint32_t>& table, std::uint32_t start, std::uint64_t want,
             std::uint64_t sector_limit) {
  Chain c;
  std::vector<bool> visited(static_cast<std::size_t>(sector_limit), false);
  std::uint32_t cur = start;
  while (true) {
    if (cur == kEndOfChain) {
      c.end = ChainEnd::end_of_chain;
      return c;
    }
    if (c.sectors.size() >= want) {
      c.end = ChainEnd::enough;
      c.more = true;
      return c;
    }
    if (cur >= sector_limit) {
      c.end = ChainEnd::out_of_range;
      return c;
    }
    if (visited[cur]) {
      c.end = ChainEnd::loop;
      return c;
    }
    visited[cur] = true;
    c.sectors.push_back(cur);
    if (cur >= table.size()) {  // no FAT entry: the successor is unknown
      c.end = c.sectors.size() >= want ? ChainEnd::enough : ChainEnd::out_of_range;
      return c;
    }
    cur = table[cur];
  }
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

class Parser {
 public:
  Parser(File& f, ByteView bytes) : f_(f), bytes_(bytes) {}

  void run() {
    read_header_fields();
    build_fat();
    read_directory();
    read_mini_stream_and_minifat();
    walk_tree();
    check_streams();
    read_summary();
  }

 private:
  std::uint64_t sector_offset(std::uint32_t s) const { return (std::uint64_t{s} + 1) * f_.sector_size; }
  ByteView sector(std::uint32_t s) const { return bytes_.clamp(sector_offset(s), f_.sector_size); }

  void read_header_fields() {
    auto& h = f_.header;
    h.minor_version = bytes_.le_or<std::uint16_t>(24, 0);
    h.major_version = bytes_.le_or<std::uint16_t>(26, 0);
    h.byte_order = bytes_.le_or<std::uint16_t>(28, 0);
    h.sector_shift = bytes_.le_or<std::uint16_t>(30, 0);
    h.mini_sector_shift = bytes_.le_or<std::uint16_t>(32, 0);
    h.num_dir_sectors = bytes_.le_or<std::uint32_t>(40, 0);
    h.num_fat_sectors = bytes_.le_or<std::uint32_t>(44, 0);
    h.first_dir_sector = bytes_.le_or<std::uint32_t>(48, kEndOfChain);
    h.mini_stream_cutoff = bytes_.le_or<std::uint32_t>(56, 0);
    h.first_minifat_sector = bytes_.le_or<std::uint32_t>(60, kEndOfChain);
    h.num_minifat_sectors = bytes_.le_or<std::uint32_t>(64, 0);
    h.first_difat_sector = bytes_.le_or<std::uint32_t>(68, kEndOfChain);
    h.num_difat_sectors = bytes_.le_or<std::uint32_t>(72, 0);

    if (h.major_version != 3 && h.major_version != 4) flag(f_, Anomaly::version_invalid, h.major_version);
    if (h.byte_order != 0xFFFE) flag(f_, Anomaly::byte_order_invalid, h.byte_order);
    // The sector size follows the shift when it is one of the two legal values, else the version.
    const std::uint16_t expected_shift = h.major_version == 4 ? 12 : 9;
    std::uint16_t shift = expected_shift;
    if (h.sector_shift == 9 || h.sector_shift == 12) shift = h.sector_shift;
    if (h.sector_shift != expected_shift) flag(f_, Anomaly::sector_shift_invalid, h.sector_shift);
    f_.sector_size = 1u << shift;
    if (h.mini_sector_shift != 6) flag(f_, Anomaly::mini_sector_shift_invalid, h.mini_sector_shift);
    f_.mini_sector_size = 64;  // the only size Windows reads
    if (h.mini_stream_cutoff != kStandardCutoff) flag(f_, Anomaly::mini_stream_cutoff_invalid, h.mini_stream_cutoff);

    // Sectors present in the file (a partial last sector counts; it reads short).
    const std::uint64_t ss = f_.sector_size;
    file_sectors_ = bytes_.size() > ss ? ceil_div(bytes_.size() - ss, ss) : 0;
    if (bytes_.size() > ss && (bytes_.size() - ss) % ss != 0) flag(f_, Anomaly::file_not_sector_aligned, bytes_.size());
  }

  // DIFAT (header entries, then the DIFAT sector chain) -> FAT sector list -> FAT.
  void build_fat() {
    const auto& h = f_.header;
    std::vector<std::uint32_t> difat;
    for (std::uint32_t i = 0; i < 109; ++i) difat.push_back(bytes_.le_or<std::uint32_t>(76 + i * 4, kFreeSect));

    const std::uint32_t per_sector = f_.sector_size / 4 - 1;  // the last slot links to the next DIFAT sector
    std::vector<bool> seen(static_cast<std::size_t>(file_sectors_), false);
    std::uint32_t cur = h.first_difat_sector;
    std::uint32_t walked = 0;
    // Follow only as many sectors as the header declares: a zero count with a stale start sector is common, and
    // reading a FAT sector as DIFAT would invent FAT sectors.
    while (walked < h.num_difat_sectors && cur != kEndOfChain && cur != kFreeSect) {
      if (walked >= limits::max_difat_sectors) {
        flag(f_, Anomaly::difat_truncated_by_limit, walked);
        break;
      }
      if (cur >= file_sectors_) {
        flag(f_, Anomaly::difat_chain_out_of_range, cur);
        break;
      }
      if (seen[cur]) {
        flag(f_, Anomaly::difat_chain_loop, cur);
        break;
      }
      seen[cur] = true;
      const ByteView s = sector(cur);
      for (std::uint32_t i = 0; i < per_sector; ++i) difat.push_back(s.le_or<std::uint32_t>(i * 4ull, kFreeSect));
      cur = s.le_or<std::uint32_t>(per_sector * 4ull, kEndOfChain);
      ++walked;
    }
    if (walked != h.num_difat_sectors && !f_.has(Anomaly::difat_truncated_by_limit))
      flag(f_, Anomaly::difat_count_mismatch, h.num_difat_sectors);

    // The first num_fat_sectors DIFAT entries name the FAT sectors in order.
    std::vector<std::uint32_t> fat_sectors;
    for (std::uint32_t s : difat) {
      if (fat_sectors.size() >= h.num_fat_sectors) break;
      if (s > kMaxRegSect) break;  // FREESECT / ENDOFCHAIN: the list ends early
      fat_sectors.push_back(s);
    }
    if (fat_sectors.size() != h.num_fat_sectors) flag(f_, Anomaly::fat_count_mismatch, h.num_fat_sectors);

    // FAT entries past the last sector of the file can only name missing sectors, so the table stops there.
    const std::uint32_t per_fat = f_.sector_size / 4;
    const std::uint64_t wanted = std::min<std::uint64_t>(std::uint64_t{fat_sectors.size()} * per_fat, file_sectors_);
    f_.fat.assign(static_cast<std::size_t>(wanted), kFreeSect);
    for (std::size_t i = 0; i < fat_sectors.size() && std::uint64_t{i} * per_fat < wanted; ++i) {
      const std::uint32_t s = fat_sectors[i];
      if (s >= file_sectors_) {
        flag(f_, Anomaly::fat_sector_out_of_range, s);
        continue;
      }
      const ByteView v = sector(s);
      const std::uint64_t base = std::uint64_t{i} * per_fat;
      for (std::uint32_t k = 0; k < per_fat && base + k < wanted; ++k)
        f_.fat[static_cast<std::size_t>(base + k)] = v.le_or<std::uint32_t>(k * 4ull, kFreeSect);
    }
  }

  void read_directory() {
    const std::uint64_t per_sector = f_.sector_size / kEntrySize;
    const std::uint64_t max_sectors = ceil_div(limits::max_directory_entries, per_sector);
    Chain c = follow(f_.fat, f_.header.first_dir_sector, max_sectors, file_sectors_);
    if (c.end == ChainEnd::loop) flag(f_, Anomaly::chain_loop, f_.header.first_dir_sector);
    if (c.end == ChainEnd::out_of_range) flag(f_, Anomaly::chain_out_of_range, f_.header.first_dir_sector);
    if (c.end == ChainEnd::enough) flag(f_, Anomaly::directory_truncated_by_limit, c.sectors.size());
    for (std::uint32_t s : c.sectors) {
      const ByteView v = sector(s);
      for (std::uint64_t k = 0; k < per_sector; ++k) {
        auto e = v.sub(k * kEntrySize, kEntrySize);
        if (!e) break;  // the file ends inside this sector
        f_.entries.push_back(read_entry(*e, f_.entries.size()));
      }
    }
    if (f_.entries.empty()) {
      flag(f_, Anomaly::directory_unreadable, f_.header.first_dir_sector);
      return;
    }
    if (f_.entries[0].type != EntryType::root) flag(f_, Anomaly::root_entry_invalid, static_cast<std::uint64_t>(f_.entries[0].type));
  }

  DirEntry read_entry(ByteView e, std::size_t index) {
    DirEntry d;
    const std::uint16_t name_len = e.le_or<std::uint16_t>(64, 0);
    const std::uint8_t type = e.le_or<std::uint8_t>(66, 0);
    d.type = static_cast<EntryType>(type);
    if (type != 0 && type != 1 && type != 2 && type != 5) {
      flag(f_, Anomaly::entry_type_invalid, index);
      d.type = EntryType::unused;  // lock bytes / property types are not used by any writer; treat as free
    }
    if (d.type != EntryType::unused) {
      // Length in bytes including the terminating NUL: even, 2..64, and the last unit is NUL.
      const bool len_ok = name_len >= 2 && name_len <= 64 && name_len % 2 == 0 &&
                          e.le_or<std::uint16_t>(name_len - 2u, 1) == 0;
      if (!len_ok) flag(f_, Anomaly::entry_name_invalid, index);
      const std::size_t units = len_ok ? (name_len - 2u) / 2 : 32;
      d.name = utf16le_to_utf8(e.clamp(0, 64), units);
    }
    d.color = e.le_or<std::uint8_t>(67, 0);
    d.left = e.le_or<std::uint32_t>(68, kNoStream);
    d.right = e.le_or<std::uint32_t>(72, kNoStream);
    d.child = e.le_or<std::uint32_t>(76, kNoStream);
    for (std::size_t i = 0; i < 16; ++i) d.clsid[i] = e.le_or<std::uint8_t>(80 + i, 0);
    d.state_bits = e.le_or<std::uint32_t>(96, 0);
    d.created = e.le_or<std::uint64_t>(100, 0);
    d.modified = e.le_or<std::uint64_t>(108, 0);
    d.start_sector = e.le_or<std::uint32_t>(116, kEndOfChain);
    d.size = e.le_or<std::uint64_t>(120, 0);
    if (f_.header.major_version != 4 && (d.size >> 32) != 0) {
      // [MS-CFB] 2.6.3: version 3 writers may leave garbage in the high DWORD; readers ignore it.
      if (d.type != EntryType::unused) flag(f_, Anomaly::stream_size_high_bits_v3, index);
      d.size &= 0xFFFFFFFFu;
    }
    return d;
  }

  void read_mini_stream_and_minifat() {
    // Entry 0 holds the mini stream even when its type byte is wrong (root_entry_invalid is already recorded).
    if (f_.entries.empty()) return;
    const DirEntry& root = f_.entries[0];
    const std::uint64_t size = std::min<std::uint64_t>(root.size, limits::max_stream_size);
    if (root.size > limits::max_stream_size) flag(f_, Anomaly::stream_truncated_by_limit, root.size);
    if (size > 0) {
      Chain c = follow(f_.fat, root.start_sector, ceil_div(size, f_.sector_size), file_sectors_);
      for (std::uint32_t s : c.sectors) {
        const ByteView v = sector(s);
        f_.mini_stream.insert(f_.mini_stream.end(), v.data(), v.data() + v.size());
      }
      if (f_.mini_stream.size() > size) f_.mini_stream.resize(static_cast<std::size_t>(size));
      if (f_.mini_stream.size() < size || c.end == ChainEnd::loop || c.end == ChainEnd::out_of_range)
        flag(f_, Anomaly::mini_stream_unreadable, f_.mini_stream.size());
    }
    const std::uint64_t mini_sectors = ceil_div(f_.mini_stream.size(), f_.mini_sector_size);
    // The miniFAT is a regular chain; it needs no more sectors than the mini stream has mini sectors.
    const std::uint64_t want = std::min<std::uint64_t>(f_.header.num_minifat_sectors,
                                                       ceil_div(mini_sectors, f_.sector_size / 4) + 1);
    if (f_.header.first_minifat_sector == kEndOfChain || want == 0) return;
    Chain c = follow(f_.fat, f_.header.first_minifat_sector, want, file_sectors_);
    if (c.end == ChainEnd::loop) flag(f_, Anomaly::chain_loop, f_.header.first_minifat_sector);
    if (c.end == ChainEnd::out_of_range) flag(f_, Anomaly::chain_out_of_range, f_.header.first_minifat_sector);
    for (std::uint32_t s : c.sectors) {
      const ByteView v = sector(s);
      for (std::uint64_t k = 0; k + 4 <= v.size(); k += 4) f_.minifat.push_back(v.le_or<std::uint32_t>(k, kFreeSect));
    }
  }

  void walk_tree() {
    auto& es = f_.entries;
    if (es.empty()) return;
    std::vector<bool> visited(es.size(), false);
    struct Item {
      std::uint32_t index, parent, storage_depth, sibling_depth;
    };
    std::vector<Item> stack;
    visited[0] = true;
    es[0].reachable = true;
    stack.push_back({es[0].child, 0, 1, 0});
    while (!stack.empty()) {
      const Item it = stack.back();
      stack.pop_back();
      if (it.index == kNoStream) continue;
      if (it.index >= es.size()) {
        flag(f_, Anomaly::tree_sibling_out_of_range, it.index);
        continue;
      }
      if (visited[it.index]) {
        flag(f_, Anomaly::tree_loop, it.index);
        continue;
      }
      if (it.storage_depth > limits::max_storage_depth || it.sibling_depth > limits::max_sibling_depth) {
        flag(f_, Anomaly::tree_too_deep, it.index);
        continue;
      }
      visited[it.index] = true;
      DirEntry& e = es[it.index];
      e.reachable = true;
      e.parent = it.parent;
      e.path = it.parent == 0 ? e.name : es[it.parent].path + "/" + e.name;
      stack.push_back({e.right, it.parent, it.storage_depth, it.sibling_depth + 1});
      stack.push_back({e.left, it.parent, it.storage_depth, it.sibling_depth + 1});
      if (e.is_storage()) stack.push_back({e.child, it.index, it.storage_depth + 1, 0});
    }
    // Orphans: entries in use that no path reaches (hidden streams, or leftovers of an edit).
    for (std::uint32_t i = 0; i < es.size(); ++i) {
      if (!es[i].reachable && es[i].type != EntryType::unused) {
        flag(f_, Anomaly::orphan_entry, i);
        ++f_.orphan_count;
      }
    }
    // Duplicate paths make lookups ambiguous; find() returns the first in directory order.
    std::vector<std::string> paths;
    for (const auto& e : es) {
      if (!e.reachable || e.path.empty()) continue;
      std::string p = e.path;
      for (char& ch : p) ch = (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 32) : ch;
      paths.push_back(std::move(p));
    }
    std::sort(paths.begin(), paths.end());
    for (std::size_t i = 1; i < paths.size(); ++i) {
      if (paths[i] == paths[i - 1]) {
        flag(f_, Anomaly::duplicate_path, i);
        break;
      }
    }
  }

  // Every reachable stream's chain once, so that anomalies are known without reading the streams.
  void check_streams() {
    for (std::uint32_t i = 0; i < f_.entries.size(); ++i) {
      const DirEntry& e = f_.entries[i];
      if (!e.reachable || !e.is_stream() || e.size == 0) continue;
      const bool mini = e.size < kStandardCutoff;
      if (e.size > f_.file_size) flag(f_, Anomaly::stream_size_beyond_file, i);
      if (e.size > limits::max_stream_size) flag(f_, Anomaly::stream_truncated_by_limit, i);
      const std::uint64_t size = std::min<std::uint64_t>(e.size, limits::max_stream_size);
      const std::uint64_t unit = mini ? f_.mini_sector_size : f_.sector_size;
      const std::uint64_t want = std::min<std::uint64_t>(ceil_div(size, unit), limits::max_chain_length);
      if (ceil_div(size, unit) > limits::max_chain_length) flag(f_, Anomaly::chain_truncated_by_limit, i);
      const Chain c = mini ? follow(f_.minifat, e.start_sector, want, ceil_div(f_.mini_stream.size(), unit))
                           : follow(f_.fat, e.start_sector, want, file_sectors_);
      switch (c.end) {
        case ChainEnd::loop: flag(f_, mini ? Anomaly::minifat_chain_loop : Anomaly::chain_loop, i); break;
        case ChainEnd::out_of_range:
          flag(f_, mini ? Anomaly::minifat_chain_out_of_range : Anomaly::chain_out_of_range, i);
          break;
        case ChainEnd::end_of_chain:
          if (c.sectors.size() < want) flag(f_, mini ? Anomaly::minifat_chain_too_short : Anomaly::chain_too_short, i);
          break;
        case ChainEnd::enough:
          if (c.more && want == ceil_div(size, unit)) flag(f_, Anomaly::chain_longer_than_size, i);
          break;
      }
    }
  }

  void read_summary() {
    const DirEntry* e = f_.find("\x05SummaryInformation");
    if (e == nullptr || !e->is_stream()) return;
    const StreamData d = f_.read_stream(*e);
    if (!parse_summary_information(ByteView(d.bytes.data(), d.bytes.size()), f_.summary))
      flag(f_, Anomaly::property_set_malformed, d.bytes.size());
  }

  File& f_;
  ByteView bytes_;
  std::uint64_t file_sectors_ = 0;
};

}  // namespace

bool path_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

const DirEntry* File::find(std::string_view path) const noexcept {
  // Exact path first: an entry with an empty name gives its children paths that start with '/'.
  if (!path.empty()) {
    for (const auto& e : entries) {
      if (e.reachable && path_equal(e.path, path)) return &e;
    }
  }
  if (!path.empty() && path.front() != '/') return nullptr;
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return entries.empty() ? nullptr : &entries[0];
  for (const auto& e : entries) {
    if (e.reachable && path_equal(e.path, path)) return &e;
  }
  return nullptr;
}

std::vector<std::uint32_t> File::children(std::uint32_t storage_index) const {
  std::vector<std::uint32_t> out;
  if (storage_index >= entries.size() || !entries[storage_index].is_storage()) return out;
  for (std::uint32_t i = 1; i < entries.size(); ++i) {
    if (entries[i].reachable && entries[i].parent == storage_index) out.push_back(i);
  }
  return out;
}

StreamData File::read_stream(const DirEntry& e) const {
  StreamData d;
  if (e.size == 0) return d;
  const std::uint64_t size = std::min<std::uint64_t>(e.size, limits::max_stream_size);
  if (size < e.size) d.complete = false;
  const bool mini = e.type == EntryType::stream && e.size < kStandardCutoff;
  const std::uint64_t unit = mini ? mini_sector_size : sector_size;
  const std::uint64_t want = std::min<std::uint64_t>(ceil_div(size, unit), limits::max_chain_length);
  const std::uint64_t file_sectors = bytes.size() > sector_size ? ceil_div(bytes.size() - sector_size, sector_size) : 0;
  const Chain c = mini ? follow(minifat, e.start_sector, want, ceil_div(mini_stream.size(), unit))
                       : follow(fat, e.start_sector, want, file_sectors);
  d.bytes.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(size, c.sectors.size() * unit)));
  for (std::uint32_t s : c.sectors) {
    const std::uint64_t off = mini ? std::uint64_t{s} * unit : (std::uint64_t{s} + 1) * unit;
    const ByteView v = mini ? ByteView(mini_stream.data(), mini_stream.size()).clamp(off, unit) : bytes.clamp(off, unit);
    d.bytes.insert(d.bytes.end(), v.data(), v.data() + v.size());
  }
  if (d.bytes.size() > size) d.bytes.resize(static_cast<std::size_t>(size));
  if (d.bytes.size() < size) d.complete = false;
  return d;
}

std::optional<StreamData> File::read_stream(std::string_view path) const {
  const DirEntry* e = find(path);
  if (e == nullptr || !e->is_stream()) return std::nullopt;
  return read_stream(*e);
}

bool sniff(ByteView bytes) noexcept { return bytes.starts_with(kSignature); }

Result<File> parse(ByteView bytes) {
  if (!sniff(bytes)) return make_error(ErrorCode::not_this_format, "no compound file signature");
  if (bytes.size() < kHeaderSize) return make_error(ErrorCode::truncated, "compound file header cut off");
  File f;
  f.bytes = bytes;
  f.file_size = bytes.size();
  Parser(f, bytes).run();
  return f;
}

}  // namespace mamori::ole2
