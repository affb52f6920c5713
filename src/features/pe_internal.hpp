// Shared between the PE feature groups. Not part of the public interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "features/emitter.hpp"
#include "formats/pe/pe.hpp"

namespace mamori::features::detail {

/// FNV-1a over ASCII-lower-cased bytes, continuing from `h`: import and reference names hash case-insensitively.
std::uint32_t fnv_lower(std::string_view s, std::uint32_t h = 2166136261u);

/// The behavioural API groups of the native import table (injection, network, ...), by index.
std::size_t api_group_count();
const char* api_group_name(std::size_t g);
bool api_group_matches(std::size_t g, std::string_view function);

/// The "dotnet" group: what the CLI metadata says a .NET assembly references, imports and carries.
void emit_dotnet(Emitter& e, const pe::PeFile& pe);

}  // namespace mamori::features::detail
