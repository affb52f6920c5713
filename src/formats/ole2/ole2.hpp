// OLE2 / Compound File Binary parser ([MS-CFB]), written for hostile input.
//
// ole2::parse(bytes) returns an error only when the bytes are not a compound file at all (no D0CF11E0 signature)
// or the 512-byte header itself is cut off. Everything odd after that -- FAT sectors outside the file, looping or
// out-of-range sector chains, stream sizes their chains cannot back, directory trees that loop or run too deep,
// entries no path reaches -- is recorded in File::anomalies, and parsing goes on with what is readable. Every walk
// is bounded by a named cap in ole2::limits; reaching one is itself an anomaly.
//
// The directory's red-black tree is walked with an explicit stack, a storage-depth counter and a visited set, never
// by recursion on input. Stream lookup is by '/'-separated path, case-insensitive ("Macros/VBA/dir").
//
// Lifetime: File borrows the parsed bytes (File::bytes) and reads streams from them on demand, so the bytes must
// outlive the File. Names and paths are owned UTF-8 strings.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace mamori::ole2 {

namespace limits {
// Directory entries read (128 bytes each). Word/Excel files carry tens to a few hundred; MSI files a few thousand.
inline constexpr std::uint32_t max_directory_entries = 65536;
// Largest stream read_stream() hands out. Streams beyond it are read up to the cap and flagged.
inline constexpr std::uint64_t max_stream_size = 64ull << 20;
// Sectors followed in one chain (FAT or miniFAT). 2^20 sectors of 512 bytes covers a 512 MiB stream.
inline constexpr std::uint32_t max_chain_length = 1u << 20;
// DIFAT sectors followed after the 109 header entries (each adds 127 FAT sectors at 512 bytes; 4096 covers 4 GiB).
inline constexpr std::uint32_t max_difat_sectors = 4096;
// Storage nesting depth. Office files nest 3-4 deep (Macros/VBA, ObjectPool/_123/...).
inline constexpr std::uint32_t max_storage_depth = 32;
// Red-black tree depth inside one storage. A balanced tree of 65536 entries is at most 32 deep, but writers that
// never rebalance leave linked lists, so this only stops pathological chains; the visited set stops loops.
inline constexpr std::uint32_t max_sibling_depth = 4096;
// Property set values (SummaryInformation).
inline constexpr std::uint32_t max_properties = 1024;
inline constexpr std::uint32_t max_property_string = 4096;
}  // namespace limits

// Special sector numbers ([MS-CFB] 2.1).
inline constexpr std::uint32_t kMaxRegSect = 0xFFFFFFFAu;
inline constexpr std::uint32_t kDifSect = 0xFFFFFFFCu;
inline constexpr std::uint32_t kFatSect = 0xFFFFFFFDu;
inline constexpr std::uint32_t kEndOfChain = 0xFFFFFFFEu;
inline constexpr std::uint32_t kFreeSect = 0xFFFFFFFFu;
inline constexpr std::uint32_t kNoStream = 0xFFFFFFFFu;

/// Structural oddities. The numeric values are stable: they become feature indices.
enum class Anomaly : std::uint8_t {
  version_invalid = 0,             // major version neither 3 nor 4 (parsed with the sector shift's size)
  byte_order_invalid,              // not 0xFFFE
  sector_shift_invalid,            // not 9 (v3) / 12 (v4); detail = the shift
  mini_sector_shift_invalid,       // not 6
  mini_stream_cutoff_invalid,      // not 4096
  file_not_sector_aligned,         // the last sector is cut off
  fat_sector_out_of_range,         // a DIFAT entry names a sector outside the file
  fat_count_mismatch,              // header's FAT sector count differs from the DIFAT entries found
  difat_chain_loop,
  difat_chain_out_of_range,
  difat_count_mismatch,            // header's DIFAT sector count differs from the chain walked
  difat_truncated_by_limit,
  chain_loop,                      // a FAT chain visits a sector twice; detail = start sector
  chain_out_of_range,              // a chain names a sector beyond the FAT or the file
  chain_too_short,                 // a stream's chain ends before its size; detail = entry index
  chain_longer_than_size,          // the chain goes on after the stream's size is covered
  chain_truncated_by_limit,
  minifat_chain_loop,
  minifat_chain_out_of_range,
  minifat_chain_too_short,
  mini_stream_unreadable,          // the root entry's mini stream chain is broken or short
  directory_unreadable,            // no directory sector could be read
  directory_truncated_by_limit,
  root_entry_invalid,              // entry 0 is not a root storage
  entry_type_invalid,              // object type outside {0,1,2,5}; detail = entry index
  entry_name_invalid,              // name length odd, above 64, or not NUL-terminated
  tree_loop,                       // the directory tree reaches an entry twice
  tree_sibling_out_of_range,       // left/right/child index beyond the entries
  tree_too_deep,                   // storage depth or sibling depth above the caps
  orphan_entry,                    // a used entry no path reaches; detail = entry index
  duplicate_path,                  // two reachable entries share a path (case-insensitive)
  stream_size_beyond_file,         // a stream claims more bytes than the file holds
  stream_size_high_bits_v3,        // v3 stream size with the high 32 bits set (ignored, per spec)
  stream_truncated_by_limit,       // a stream above limits::max_stream_size
  property_set_malformed,          // SummaryInformation present but not a readable property set
  kCount
};
inline constexpr std::size_t anomaly_count = static_cast<std::size_t>(Anomaly::kCount);
static_assert(anomaly_count <= 64, "anomaly_bits is 64 bits wide");
const char* anomaly_name(Anomaly a) noexcept;

struct AnomalyRecord {
  Anomaly code;
  std::uint64_t detail;  // the offending value (a sector number, an entry index, a size)
};

enum class EntryType : std::uint8_t { unused = 0, storage = 1, stream = 2, lock_bytes = 3, property = 4, root = 5 };

struct DirEntry {
  std::string name;                 // UTF-8 from the UTF-16 name
  EntryType type = EntryType::unused;
  std::uint8_t color = 0;           // 0 red, 1 black
  std::uint32_t left = kNoStream, right = kNoStream, child = kNoStream;
  std::array<std::uint8_t, 16> clsid{};
  std::uint32_t state_bits = 0;
  std::uint64_t created = 0, modified = 0;  // FILETIME (100 ns since 1601), 0 when unset
  std::uint32_t start_sector = 0;
  std::uint64_t size = 0;           // as claimed (v3: low 32 bits only)
  // Filled by the tree walk.
  bool reachable = false;
  std::uint32_t parent = kNoStream;  // index of the containing storage
  std::string path;                  // "Macros/VBA/dir"; empty for the root
  bool is_stream() const noexcept { return type == EntryType::stream; }
  bool is_storage() const noexcept { return type == EntryType::storage || type == EntryType::root; }
};

struct Header {
  std::uint16_t minor_version = 0, major_version = 0;
  std::uint16_t byte_order = 0;
  std::uint16_t sector_shift = 0, mini_sector_shift = 0;
  std::uint32_t num_dir_sectors = 0, num_fat_sectors = 0;
  std::uint32_t first_dir_sector = 0;
  std::uint32_t mini_stream_cutoff = 0;
  std::uint32_t first_minifat_sector = 0, num_minifat_sectors = 0;
  std::uint32_t first_difat_sector = 0, num_difat_sectors = 0;
};

/// SummaryInformation ("\x05SummaryInformation") property set fields; absent ones stay empty / 0.
struct SummaryInfo {
  bool present = false;
  std::uint16_t code_page = 0;
  std::string title, subject, author, keywords, comments, template_name, last_author, revision, app_name;
  std::uint64_t created = 0, last_saved = 0, last_printed = 0;  // FILETIME
  std::uint64_t edit_time = 0;                                  // FILETIME used as a duration
  std::uint32_t page_count = 0, word_count = 0, char_count = 0, security = 0;
};

/// What read_stream() returns: the bytes it could follow, and whether they are the whole stream.
struct StreamData {
  std::vector<std::uint8_t> bytes;
  bool complete = true;  // false: the chain broke or looped, or the size was capped
};

struct File {
  Header header;
  std::uint32_t sector_size = 512, mini_sector_size = 64;
  std::vector<std::uint32_t> fat;      // next-sector table
  std::vector<std::uint32_t> minifat;  // next-mini-sector table
  std::vector<std::uint8_t> mini_stream;  // the root entry's stream, owned
  std::vector<DirEntry> entries;       // in directory order; entry 0 is the root when valid
  SummaryInfo summary;
  std::uint32_t orphan_count = 0;
  std::uint64_t file_size = 0;
  ByteView bytes;                      // the parsed bytes (borrowed)

  std::vector<AnomalyRecord> anomalies;
  std::uint64_t anomaly_bits = 0;
  bool has(Anomaly a) const noexcept { return (anomaly_bits >> static_cast<unsigned>(a)) & 1u; }

  /// Reachable entry at `path` ("Macros/VBA/dir", case-insensitive ASCII; a leading '/' is ignored), or nullptr.
  const DirEntry* find(std::string_view path) const noexcept;
  /// Indices of the reachable entries directly inside the storage at `storage_index`, in directory order.
  std::vector<std::uint32_t> children(std::uint32_t storage_index) const;
  /// The stream's bytes, following its FAT or miniFAT chain, stopping at a loop, a bad sector, the stream size
  /// or limits::max_stream_size. Anomalies about the chain were recorded at parse time.
  StreamData read_stream(const DirEntry& e) const;
  /// Convenience: read_stream(find(path)); nullopt when there is no such stream.
  std::optional<StreamData> read_stream(std::string_view path) const;
};

/// True when the bytes start with the compound file signature.
bool sniff(ByteView bytes) noexcept;

/// Parses a compound file. Errors: not_this_format (no signature), truncated (header cut off).
Result<File> parse(ByteView bytes);

/// Parses a property set stream ([MS-OLEPS]) as SummaryInformation. False when the bytes are not a property set.
bool parse_summary_information(ByteView stream, SummaryInfo& out);

/// Case-insensitive (ASCII) path comparison used by find().
bool path_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace mamori::ole2
