#include "common/result.hpp"

#include <string>

namespace mamori {

const char* error_code_name(ErrorCode c) noexcept {
  switch (c) {
    case ErrorCode::not_this_format: return "not_this_format";
    case ErrorCode::truncated: return "truncated";
    case ErrorCode::limit_exceeded: return "limit_exceeded";
    case ErrorCode::io: return "io";
    case ErrorCode::incompatible: return "incompatible";
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::internal: return "internal";
  }
  return "unknown";
}

std::string Error::to_string() const {
  return std::string(error_code_name(code)) + ": " + message;
}

}  // namespace mamori
