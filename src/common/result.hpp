// Errors as values. A parser returns Result<T>: either a value or an Error that says what could not be read and
// where. Malformed-but-readable input is *not* an error; parsers record it as anomalies on the value instead.
#pragma once

#include <cstdint>
#include <source_location>
#include <string>
#include <utility>
#include <variant>

namespace mamori {

enum class ErrorCode : std::uint8_t {
  /// The bytes are not this format at all (bad magic). Recoverable: the caller tries another parser.
  not_this_format,
  /// The format's mandatory headers are cut off; nothing useful can be read.
  truncated,
  /// A size or count exceeds a hard limit from limits.hpp.
  limit_exceeded,
  /// Reading the file from disk failed.
  io,
  /// A model or schema file is incompatible with this build.
  incompatible,
  /// Input given by the user (flags, manifests) is invalid.
  invalid_argument,
  /// Anything else that stops an operation (library failure).
  internal,
};

const char* error_code_name(ErrorCode c) noexcept;

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;
  std::source_location where = std::source_location::current();

  std::string to_string() const;
};

inline Error make_error(ErrorCode c, std::string msg,
                        std::source_location loc = std::source_location::current()) {
  return Error{c, std::move(msg), loc};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::move(v)) {}            // NOLINT: implicit by design, like StatusOr
  Result(Error e) : v_(std::move(e)) {}        // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

  void ignore() const noexcept {}

 private:
  std::variant<T, Error> v_;
};

/// Result<void>.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : err_(std::move(e)), failed_(true) {}  // NOLINT
  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const { return err_; }
  void ignore() const noexcept {}

 private:
  Error err_{};
  bool failed_ = false;
};

}  // namespace mamori

// The one macro that returns: propagate an error from a Result/Status expression.
#define MAMORI_TRY(expr)                               \
  do {                                                 \
    auto&& mamori_try_r_ = (expr);                     \
    if (!mamori_try_r_.ok()) return mamori_try_r_.error(); \
  } while (0)
