// Writes a feature vector and, from the same code path, its schema. Extraction code calls `add` in a fixed order
// whatever the input, so running it once in schema mode on an empty input yields every name and group doc in
// vector order. Missing values are NaN, XGBoost's "missing".
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace mamori::features {

inline constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();

struct FeatureInfo {
  std::string name;
  std::string group;
};

struct GroupInfo {
  std::string name;
  std::string doc;
  std::size_t first = 0, count = 0;
};

class Emitter {
 public:
  /// Value mode: writes into `out` (resized by the caller to the schema size or grown as needed).
  explicit Emitter(std::vector<float>& out) : out_(&out) {}
  /// Schema mode: records names and group docs.
  Emitter(std::vector<FeatureInfo>& names, std::vector<GroupInfo>& groups) : names_(&names), groups_(&groups) {}

  void group(std::string_view name, std::string_view doc) {
    if (!groups_) return;  // value mode does not need names, and must not allocate for them
    group_ = std::string(name);
    groups_->push_back({group_, std::string(doc), index_, 0});
  }
  void add(std::string_view name, double v) {
    if (out_) {
      if (index_ < out_->size()) (*out_)[index_] = static_cast<float>(v);
      else out_->push_back(static_cast<float>(v));
    }
    if (names_) {
      names_->push_back({group_ + "." + std::string(name), group_});
      ++groups_->back().count;
    }
    ++index_;
  }
  /// A block of `n` values named name[0..n).
  template <class F>
  void add_array(std::string_view name, std::size_t n, F&& value_at) {
    for (std::size_t i = 0; i < n; ++i) {
      if (names_) add(std::string(name) + "[" + std::to_string(i) + "]", out_ ? value_at(i) : 0.0);
      else add({}, value_at(i));
    }
  }
  bool schema_mode() const noexcept { return names_ != nullptr; }
  std::size_t size() const noexcept { return index_; }

 private:
  std::vector<float>* out_ = nullptr;
  std::vector<FeatureInfo>* names_ = nullptr;
  std::vector<GroupInfo>* groups_ = nullptr;
  std::string group_;
  std::size_t index_ = 0;
};

/// A feature layout: names and group docs in vector order, and the key models are stored under.
struct Schema {
  int version = 0;
  std::vector<FeatureInfo> features;
  std::vector<GroupInfo> groups;
  std::string hash;  // hex FNV-1a of version and names: what models are keyed on
};

/// How names enter the schema hash. The PE hash folds ASCII case, as its import hashing does; documents hash names
/// as written. Either way a changed rule changes every hash and orphans the trained models.
enum class NameCase { exact, folded };

/// Hex FNV-1a over "<tag>-v<version>" and then each name behind a "|".
std::string schema_hash(std::string_view tag, const Schema& s, NameCase names);

/// Runs `emit(Emitter&)` once in schema mode and keys the result with schema_hash.
template <class Emit>
Schema make_schema(std::string_view tag, int version, NameCase names, Emit&& emit) {
  Schema s;
  s.version = version;
  Emitter e(s.features, s.groups);
  emit(e);
  s.hash = schema_hash(tag, s, names);
  return s;
}

/// The generated schema document: "# <title> v<version> (hash, count)", `intro`, then the group and feature tables.
std::string schema_markdown(const Schema& s, std::string_view title, std::string_view intro);

/// log2(1 + x): keeps sizes and counts on a scale trees split well, and identical across platforms.
inline double log_size(double x) { return x <= 0 ? 0.0 : std::log2(1.0 + x); }

}  // namespace mamori::features
