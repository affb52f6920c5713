// Collected-evidence backend: path resolution inside the root, hives through HiveFile, the exported process list,
// and the volume serial from `vol` output or the NTFS boot sector copy ($Boot) when the collection holds one.
#include "emocheck/offline_evidence.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "common/mapped_file.hpp"

namespace mamori::emocheck {

namespace {

std::optional<std::string> real_path(const std::string& p) {
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf) == nullptr) return std::nullopt;
  return std::string(buf);
}

// Windows path -> components below C:\. Only C: exists in the evidence; other drives resolve to nothing.
std::optional<std::vector<std::string>> components(std::string_view win) {
  std::vector<std::string> out;
  if (win.size() >= 2 && win[1] == ':') {
    if (win[0] != 'C' && win[0] != 'c') return std::nullopt;
    win.remove_prefix(2);
  }
  std::size_t start = 0;
  while (start <= win.size()) {
    std::size_t end = win.find_first_of("\\/", start);
    if (end == std::string_view::npos) end = win.size();
    const std::string_view c = win.substr(start, end - start);
    if (c == "..") return std::nullopt;  // no climbing out, even inside the root
    if (!c.empty() && c != ".") out.emplace_back(c);
    if (out.size() > offline_limits::max_components) return std::nullopt;
    start = end + 1;
  }
  return out;
}

FileKind kind_of(mode_t m) {
  if (S_ISREG(m)) return FileKind::file;
  if (S_ISDIR(m)) return FileKind::dir;
  if (S_ISLNK(m)) return FileKind::symlink;
  return FileKind::other;
}

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

bool is_user_profile(std::string_view name) {
  for (std::string_view skip : {"Default", "Default User", "Public", "All Users", "defaultuser0"})
    if (iequals(name, skip)) return false;
  return true;
}

// "XXXX-XXXX" as printed by `vol` and `dir` after "Volume Serial Number is" (or a localized phrase ending in a
// space); returns the first one found in the text.
std::optional<std::uint32_t> find_vol_serial(std::string_view text) {
  for (std::string_view marker : {"Serial Number is ", "\xe3\x82\xb7\xe3\x83\xaa\xe3\x82\xa2\xe3\x83\xab\xe7\x95\xaa"
                                                       "\xe5\x8f\xb7\xe3\x81\xaf ",  // "シリアル番号は "
                                  "Seriennummer: ", "de série du volume est "}) {
    const std::size_t at = text.find(marker);
    if (at == std::string_view::npos) continue;
    const std::string_view s = text.substr(at + marker.size());
    if (s.size() < 9 || s[4] != '-') continue;
    std::uint32_t v = 0;
    bool ok = true;
    for (std::size_t i = 0; i < 9 && ok; ++i) {
      if (i == 4) continue;
      const char c = s[i];
      int d = -1;
      if (c >= '0' && c <= '9') d = c - '0';
      if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      if (d < 0) ok = false;
      v = v << 4 | static_cast<std::uint32_t>(d < 0 ? 0 : d);
    }
    if (ok) return v;
  }
  return std::nullopt;
}

}  // namespace

Result<std::unique_ptr<OfflineEvidence>> OfflineEvidence::open(const std::string& root, const std::string& plist) {
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error(ErrorCode::invalid_argument, "evidence folder " + root + " is not a folder");
  auto real = real_path(root);
  if (!real) return make_error(ErrorCode::io, "cannot resolve " + root + ": " + std::strerror(errno));
  std::unique_ptr<OfflineEvidence> ev(new OfflineEvidence());
  ev->root_ = root;
  while (ev->root_.size() > 1 && ev->root_.back() == '/') ev->root_.pop_back();
  ev->root_real_ = *real;
  if (!plist.empty()) {
    auto mf = MappedFile::open(plist, process_list_limits::max_input_bytes + 1);
    if (!mf) return make_error(ErrorCode::io, "process list " + plist + ": " + mf.error().message);
    auto parsed = parse_process_list(mf->view());
    if (!parsed) return make_error(parsed.error().code, "process list " + plist + ": " + parsed.error().message);
    ev->plist_ = std::move(*parsed);
  }
  return ev;
}

bool OfflineEvidence::inside_root(const std::string& real) const {
  if (root_real_ == "/") return true;
  return real == root_real_ || (real.size() > root_real_.size() && real.compare(0, root_real_.size(), root_real_) == 0 &&
                                real[root_real_.size()] == '/');
}

std::optional<std::string> OfflineEvidence::resolve(std::string_view win_path) const {
  auto comps = components(win_path);
  if (!comps) return std::nullopt;
  std::string cur = root_;
  for (const std::string& c : *comps) {
    std::string next = cur + "/" + c;
    struct stat st {};
    if (::lstat(next.c_str(), &st) != 0) {
      // Not under that exact spelling: look for a case-insensitive match in the folder.
      DIR* d = ::opendir(cur.c_str());
      if (d == nullptr) return std::nullopt;
      std::optional<std::string> found;
      std::size_t seen = 0;
      while (dirent* e = ::readdir(d)) {
        if (++seen > offline_limits::max_dir_entries) break;
        if (iequals(e->d_name, c)) {
          found = e->d_name;
          break;
        }
      }
      ::closedir(d);
      if (!found) return std::nullopt;
      next = cur + "/" + *found;
      if (::lstat(next.c_str(), &st) != 0) return std::nullopt;
    }
    if (S_ISLNK(st.st_mode)) {
      auto r = real_path(next);
      if (!r || !inside_root(*r)) return std::nullopt;
      // Continue from the link's own spelling: the kernel follows it, and its target is inside the root.
    }
    cur = std::move(next);
  }
  return cur;
}

std::vector<std::string> OfflineEvidence::users() const {
  std::vector<std::string> out;
  auto entries = list_dir("C:\\Users", offline_limits::max_dir_entries);
  if (!entries) return out;
  for (const FileInfo& e : *entries)
    if (e.kind == FileKind::dir && is_user_profile(e.name)) out.push_back(e.name);
  return out;
}

const HiveFile* OfflineEvidence::hive(const RegRoot& root) const {
  std::string win;
  switch (root.hive) {
    case Hive::system: win = "C:\\Windows\\System32\\config\\SYSTEM"; break;
    case Hive::software: win = "C:\\Windows\\System32\\config\\SOFTWARE"; break;
    case Hive::user: win = "C:\\Users\\" + root.user + "\\NTUSER.DAT"; break;
  }
  if (root.hive == Hive::user && (root.user.empty() || root.user.find_first_of("\\/") != std::string::npos))
    return nullptr;
  auto host = resolve(win);
  if (!host) return nullptr;
  std::lock_guard lk(mu_);
  auto it = hives_.find(*host);
  if (it == hives_.end()) {
    auto h = HiveFile::open(*host);
    if (!h) problems_.push_back(h.error().message);
    it = hives_.emplace(*host, h ? std::optional<HiveFile>(std::move(*h)) : std::nullopt).first;
  }
  return it->second ? &*it->second : nullptr;
}

bool OfflineEvidence::has_hive(const RegRoot& root) const { return hive(root) != nullptr; }

std::optional<RegKey> OfflineEvidence::reg_key(const RegRoot& root, std::string_view path) const {
  const HiveFile* h = hive(root);
  if (h == nullptr) return std::nullopt;
  std::lock_guard lk(mu_);  // a hivex handle is not safe for concurrent use
  return h->key(path);
}

std::optional<FileInfo> OfflineEvidence::stat(std::string_view win_path) const {
  auto host = resolve(win_path);
  if (!host) return std::nullopt;
  struct stat st {};
  if (::stat(host->c_str(), &st) != 0) return std::nullopt;  // resolve() vetted any symlink in the path
  FileInfo fi;
  fi.name = std::string(win_basename(*host));
  fi.kind = kind_of(st.st_mode);
  fi.size = static_cast<std::uint64_t>(st.st_size);
  fi.mtime_ns = mtime_ns(st);
  return fi;
}

std::optional<std::vector<FileInfo>> OfflineEvidence::list_dir(std::string_view win_path, std::size_t max_entries) const {
  auto host = resolve(win_path);
  if (!host) return std::nullopt;
  DIR* d = ::opendir(host->c_str());
  if (d == nullptr) return std::nullopt;
  std::vector<FileInfo> out;
  const std::size_t cap = std::min(max_entries, offline_limits::max_dir_entries);
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    if (out.size() >= cap) break;
    struct stat st {};
    const std::string p = *host + "/" + e->d_name;
    if (::lstat(p.c_str(), &st) != 0) continue;
    FileInfo fi;
    fi.name = e->d_name;
    fi.kind = kind_of(st.st_mode);
    fi.size = static_cast<std::uint64_t>(st.st_size);
    fi.mtime_ns = mtime_ns(st);
    out.push_back(std::move(fi));
  }
  ::closedir(d);
  return out;
}

std::vector<std::uint8_t> OfflineEvidence::read_head(std::string_view win_path, std::size_t n) const {
  std::vector<std::uint8_t> out;
  auto host = resolve(win_path);
  if (!host) return out;
  // O_NONBLOCK: a FIFO planted in the evidence must not block the check; fstat then refuses anything irregular.
  const int fd = ::open(host->c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    out.resize(n);
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::read(fd, out.data() + got, n - got);
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    out.resize(got);
  }
  ::close(fd);
  return out;
}

std::optional<std::string> OfflineEvidence::local_path(std::string_view win_path) const {
  auto host = resolve(win_path);
  if (!host) return std::nullopt;
  struct stat st {};
  if (::stat(host->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return host;
}

const std::vector<ProcessInfo>* OfflineEvidence::processes() const { return plist_ ? &plist_->processes : nullptr; }

std::optional<VolumeSerial> OfflineEvidence::volume_serial() const {
  // `vol C:` (or `dir`) output saved at the top of the collection.
  if (auto entries = list_dir("C:\\", offline_limits::max_dir_entries)) {
    std::size_t tried = 0;
    for (const FileInfo& e : *entries) {
      if (e.kind != FileKind::file || e.name.size() < 5) continue;
      const std::string lname = lower_ascii(e.name);
      if (lname.compare(lname.size() - 4, 4, ".txt") != 0) continue;
      if (++tried > offline_limits::max_vol_files) break;
      auto head = read_head(e.name, offline_limits::max_vol_bytes);
      const std::string text = decode_text(ByteView(head.data(), head.size()), nullptr, nullptr, nullptr);
      if (auto v = find_vol_serial(text)) return VolumeSerial{*v, "vol output " + e.name};
    }
  }
  // The NTFS boot sector, which KAPE-style collections copy as $Boot: the volume serial is the low 32 bits of the
  // 64-bit serial at offset 0x48, after the "NTFS    " OEM id at offset 3.
  auto boot = read_head("C:\\$Boot", 512);
  if (boot.size() >= 0x50 && std::memcmp(boot.data() + 3, "NTFS    ", 8) == 0) {
    const ByteView b(boot.data(), boot.size());
    return VolumeSerial{b.le_or<std::uint32_t>(0x48, 0), "$Boot (NTFS boot sector)"};
  }
  return std::nullopt;
}

std::vector<std::string> OfflineEvidence::problems() const {
  std::lock_guard lk(mu_);
  return problems_;
}

}  // namespace mamori::emocheck
