#pragma once

#include <string>

#include "common/bytes.hpp"

namespace mamori {

/// Lower-case hex SHA-256 of the bytes.
std::string sha256_hex(ByteView b);

}  // namespace mamori
