// libhivex wrapper. hivex allocates the arrays and strings it returns; each is freed here right after copying.
#include "emocheck/hive.hpp"

#include <hivex.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace mamori::emocheck {

namespace {

hive_h* H(void* p) { return static_cast<hive_h*>(p); }

struct Freer {
  void operator()(void* p) const noexcept { std::free(p); }
};

}  // namespace

void HiveFile::Closer::operator()(void* h) const noexcept {
  if (h) hivex_close(H(h));
}

Result<HiveFile> HiveFile::open(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return make_error(ErrorCode::io, path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return make_error(ErrorCode::io, path + ": not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > hive_limits::max_hive_bytes)
    return make_error(ErrorCode::limit_exceeded, path + ": hive larger than 2 GiB");
  hive_h* h = hivex_open(path.c_str(), 0);
  if (h == nullptr)
    return make_error(ErrorCode::not_this_format, path + ": not a readable registry hive (" + std::strerror(errno) + ")");
  HiveFile f;
  f.h_.reset(h);
  f.path_ = path;
  return f;
}

std::optional<RegKey> HiveFile::key(std::string_view path) const {
  hive_h* h = H(h_.get());
  hive_node_h node = hivex_root(h);
  if (node == 0) return std::nullopt;
  std::size_t depth = 0;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('\\', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string comp(path.substr(start, end - start));
    start = end + 1;
    if (comp.empty()) {
      if (end == path.size()) break;
      continue;
    }
    if (++depth > hive_limits::max_path_depth) return std::nullopt;
    node = hivex_node_get_child(h, node, comp.c_str());
    if (node == 0) return std::nullopt;
    if (end == path.size()) break;
  }

  RegKey k;
  std::unique_ptr<hive_value_h, Freer> values(hivex_node_values(h, node));
  if (values) {
    for (std::size_t i = 0; values.get()[i] != 0; ++i) {
      if (i >= hive_limits::max_values_per_key) {
        k.truncated = true;
        break;
      }
      const hive_value_h v = values.get()[i];
      RegValue rv;
      std::unique_ptr<char, Freer> name(hivex_value_key(h, v));
      if (name) rv.name = name.get();
      hive_type t{};
      std::size_t len = 0;
      if (hivex_value_type(h, v, &t, &len) != 0) continue;
      rv.type = static_cast<std::uint32_t>(t);
      if (len <= hive_limits::max_value_bytes) {
        std::unique_ptr<char, Freer> data(hivex_value_value(h, v, &t, &len));
        if (data && len <= hive_limits::max_value_bytes)
          rv.data.assign(reinterpret_cast<const std::uint8_t*>(data.get()),
                         reinterpret_cast<const std::uint8_t*>(data.get()) + len);
      } else {
        k.truncated = true;
      }
      k.values.push_back(std::move(rv));
    }
  }
  std::unique_ptr<hive_node_h, Freer> children(hivex_node_children(h, node));
  if (children) {
    for (std::size_t i = 0; children.get()[i] != 0; ++i) {
      if (i >= hive_limits::max_subkeys_per_key) {
        k.truncated = true;
        break;
      }
      std::unique_ptr<char, Freer> name(hivex_node_name(h, children.get()[i]));
      if (name) k.subkeys.emplace_back(name.get());
    }
  }
  return k;
}

}  // namespace mamori::emocheck
