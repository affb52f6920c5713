// Force-included into the fuzz build only (see fuzz/CMakeLists.txt). clang 14 cannot use libstdc++ 12's
// <source_location>: it needs __builtin_source_location, which clang gained in version 15, so the header defines
// nothing and common/result.hpp does not compile. This supplies the same interface from the older builtins
// (constexpr, not consteval: clang 14 rejects a consteval call in a default argument).
#pragma once

#include <version>

#if !defined(__cpp_lib_source_location)
#include <cstdint>

namespace std {
struct source_location {
  static constexpr source_location current(const char* file = __builtin_FILE(),
                                           const char* function = __builtin_FUNCTION(),
                                           std::uint_least32_t line = __builtin_LINE()) noexcept {
    source_location s;
    s.file_ = file;
    s.function_ = function;
    s.line_ = line;
    return s;
  }
  constexpr std::uint_least32_t line() const noexcept { return line_; }
  constexpr std::uint_least32_t column() const noexcept { return 0; }
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr const char* function_name() const noexcept { return function_; }

 private:
  const char* file_ = "";
  const char* function_ = "";
  std::uint_least32_t line_ = 0;
};
}  // namespace std
#endif
