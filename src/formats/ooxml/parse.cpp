#include "formats/ooxml/ooxml.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <unordered_set>

namespace mamori::ooxml {

const char* anomaly_name(Anomaly a) noexcept {
  switch (a) {
    case Anomaly::header_fatal: return "zip_fatal_error";
    case Anomaly::header_warning: return "zip_header_warning";
    case Anomaly::data_error: return "zip_data_error";
    case Anomaly::entries_truncated_by_limit: return "entries_truncated_by_limit";
    case Anomaly::part_truncated_by_limit: return "part_truncated_by_limit";
    case Anomaly::duplicate_name: return "duplicate_part_names";
    case Anomaly::path_traversal: return "path_traversal";
    case Anomaly::absolute_path: return "absolute_path";
    case Anomaly::encrypted_entry: return "encrypted_entry";
    case Anomaly::kCount: break;
  }
  return "unknown";
}

namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

void note(Summary& s, Anomaly a) { s.anomaly_bits |= std::uint64_t{1} << static_cast<unsigned>(a); }

}  // namespace

Result<Summary> for_each_part(ByteView bytes, const Options& opt, const Want& want, const Visitor& visit) {
  std::unique_ptr<archive, ArchiveDeleter> ar(archive_read_new());
  if (!ar) return make_error(ErrorCode::internal, "libarchive: cannot allocate a reader");
  archive_read_support_format_zip(ar.get());
  if (archive_read_open_memory(ar.get(), bytes.data(), static_cast<std::size_t>(bytes.size())) != ARCHIVE_OK) {
    const char* m = archive_error_string(ar.get());
    return make_error(ErrorCode::not_this_format, std::string("not a zip libarchive can read: ") + (m ? m : "unrecognised"));
  }
  Summary s;
  std::unordered_set<std::string> seen;
  std::vector<std::uint8_t> buf;
  archive_entry* ent = nullptr;
  for (std::uint64_t index = 0;; ++index) {
    const int rc = archive_read_next_header(ar.get(), &ent);
    if (rc == ARCHIVE_EOF) break;
    if (rc == ARCHIVE_FATAL) {
      ++s.zip_errors;
      note(s, Anomaly::header_fatal);
      break;
    }
    if (rc != ARCHIVE_OK) {
      ++s.zip_errors;
      note(s, Anomaly::header_warning);
    }
    if (s.entries >= opt.max_entries) {
      note(s, Anomaly::entries_truncated_by_limit);
      break;
    }
    ++s.entries;
    Part p;
    p.index = index;
    const char* pn = archive_entry_pathname(ent);
    p.name = pn ? pn : "";
    p.lower = p.name;
    for (auto& c : p.lower)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    p.declared_size = archive_entry_size_is_set(ent) ? archive_entry_size(ent) : -1;
    if (p.declared_size > 0) s.declared_bytes += static_cast<double>(p.declared_size);
    if (!seen.insert(p.name).second) {
      ++s.duplicate_names;
      note(s, Anomaly::duplicate_name);
    }
    if (p.name.find("..") != std::string::npos) {
      ++s.dotdot_paths;
      note(s, Anomaly::path_traversal);
    }
    if (!p.name.empty() && (p.name[0] == '/' || p.name[0] == '\\')) {
      ++s.absolute_paths;
      note(s, Anomaly::absolute_path);
    }
    p.encrypted = archive_entry_is_encrypted(ent) != 0;
    if (p.encrypted) {
      ++s.encrypted_entries;
      note(s, Anomaly::encrypted_entry);
      continue;
    }
    if (!want(p)) continue;
    // Inflate the part within the per-part and per-package caps; what was read before a cap is kept.
    buf.clear();
    if (p.declared_size > 0)
      buf.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(static_cast<std::uint64_t>(p.declared_size), opt.max_part_bytes)));
    bool capped = false;
    for (;;) {
      const void* block = nullptr;
      std::size_t size = 0;
      la_int64_t offset = 0;
      const int drc = archive_read_data_block(ar.get(), &block, &size, &offset);
      if (drc == ARCHIVE_EOF) break;
      if (drc < ARCHIVE_WARN) {
        ++s.zip_errors;
        note(s, Anomaly::data_error);
        break;
      }
      if (buf.size() + size > opt.max_part_bytes || s.inflated_bytes + size > opt.max_package_bytes) {
        capped = true;
        break;
      }
      const auto* b = static_cast<const std::uint8_t*>(block);
      buf.insert(buf.end(), b, b + size);
      s.inflated_bytes += size;
    }
    if (capped) {
      ++s.truncated_parts;
      note(s, Anomaly::part_truncated_by_limit);
    }
    if (!visit(p, ByteView(buf.data(), buf.size()), capped)) break;
  }
  return s;
}

}  // namespace mamori::ooxml
