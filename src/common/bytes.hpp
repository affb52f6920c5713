// Bounds-checked, zero-copy reads over a borrowed byte span.
//
// Lifetime: a ByteView borrows; it never owns. Whoever owns the bytes (a MappedFile, a std::vector) must outlive
// every ByteView, sub-view and std::string_view handed out by parsers built on it.
//
// Every read checks `n <= size && off <= size - n` (no `off + n` that could wrap), copies the bytes out with memcpy
// and converts from little endian, so no pointer into the file is ever cast to a struct.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

namespace mamori {

using Bytes = std::span<const std::uint8_t>;

class ByteView {
 public:
  constexpr ByteView() = default;
  constexpr explicit ByteView(Bytes b) : b_(b) {}
  ByteView(const void* p, std::size_t n) : b_(static_cast<const std::uint8_t*>(p), n) {}

  constexpr std::uint64_t size() const noexcept { return b_.size(); }
  constexpr bool empty() const noexcept { return b_.empty(); }
  constexpr const std::uint8_t* data() const noexcept { return b_.data(); }
  constexpr Bytes span() const noexcept { return b_; }

  constexpr bool fits(std::uint64_t off, std::uint64_t n) const noexcept {
    return n <= b_.size() && off <= b_.size() - n;
  }

  /// Sub-view [off, off+n); nullopt when it does not fit.
  std::optional<ByteView> sub(std::uint64_t off, std::uint64_t n) const noexcept {
    if (!fits(off, n)) return std::nullopt;
    return ByteView(b_.subspan(static_cast<std::size_t>(off), static_cast<std::size_t>(n)));
  }
  /// Sub-view [off, off+n) clamped to the end; empty when off is past the end.
  ByteView clamp(std::uint64_t off, std::uint64_t n) const noexcept {
    if (off >= b_.size()) return {};
    const std::uint64_t avail = b_.size() - off;
    return ByteView(b_.subspan(static_cast<std::size_t>(off), static_cast<std::size_t>(std::min(avail, n))));
  }
  ByteView from(std::uint64_t off) const noexcept { return clamp(off, UINT64_MAX); }

  template <class T>
  std::optional<T> le(std::uint64_t off) const noexcept {
    if (!fits(off, sizeof(T))) return std::nullopt;
    std::uint8_t tmp[sizeof(T)];
    std::memcpy(tmp, b_.data() + off, sizeof(T));
    T v = 0;
    for (std::size_t i = sizeof(T); i-- > 0;) v = static_cast<T>((v << 8) | static_cast<T>(tmp[i]));
    return v;
  }
  std::optional<std::uint8_t> u8(std::uint64_t off) const noexcept { return le<std::uint8_t>(off); }
  std::optional<std::uint16_t> u16(std::uint64_t off) const noexcept { return le<std::uint16_t>(off); }
  std::optional<std::uint32_t> u32(std::uint64_t off) const noexcept { return le<std::uint32_t>(off); }
  std::optional<std::uint64_t> u64(std::uint64_t off) const noexcept { return le<std::uint64_t>(off); }

  /// Reads `T` or returns `def`: for optional fields whose absence is already recorded as an anomaly elsewhere.
  template <class T>
  T le_or(std::uint64_t off, T def) const noexcept {
    return le<T>(off).value_or(def);
  }

  /// NUL-terminated ASCII string starting at `off`, at most `max_len` bytes. nullopt when no terminator is found
  /// within bounds (a truncated name is a malformed name, not a shorter one).
  std::optional<std::string_view> cstr(std::uint64_t off, std::size_t max_len) const noexcept {
    if (off >= b_.size()) return std::nullopt;
    const std::uint64_t avail = std::min<std::uint64_t>(b_.size() - off, max_len);
    const auto* p = b_.data() + off;
    const void* z = std::memchr(p, 0, static_cast<std::size_t>(avail));
    if (z == nullptr) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(p),
                            static_cast<std::size_t>(static_cast<const std::uint8_t*>(z) - p));
  }

  /// Fixed-width field, trimmed at the first NUL (section names).
  std::string_view fixed_str(std::uint64_t off, std::size_t n) const noexcept {
    auto v = clamp(off, n);
    const auto* p = reinterpret_cast<const char*>(v.data());
    std::size_t len = 0;
    while (len < v.size() && p[len] != 0) ++len;
    return {p, len};
  }

  bool starts_with(std::string_view magic, std::uint64_t off = 0) const noexcept {
    return fits(off, magic.size()) && std::memcmp(b_.data() + off, magic.data(), magic.size()) == 0;
  }

 private:
  Bytes b_{};
};

}  // namespace mamori
