// Shared between the PE parse passes. Not part of the public interface.
#pragma once

#include "common/anomalies.hpp"
#include "formats/pe/pe.hpp"

namespace mamori::pe::detail {

inline void flag(PeFile& pe, Anomaly a, std::uint64_t detail = 0) { flag_first(pe, a, detail); }

/// The directory's bytes in the file, clamped to the end of the file; empty when the RVA is not backed by file data.
ByteView directory_view(const PeFile& pe, ByteView file, DirectoryIndex d);

/// Bytes at an RVA up to the end of the section's raw data (or of the headers), zero-copy; empty when unmapped.
ByteView at_rva(const PeFile& pe, ByteView file, std::uint32_t rva);

// Each pass is best-effort: it reads what it can and records anomalies for the rest.
void parse_imports(PeFile& pe, ByteView file);
void parse_delay_imports(PeFile& pe, ByteView file);
void parse_exports(PeFile& pe, ByteView file);
void parse_resources(PeFile& pe, ByteView file);
void parse_tls(PeFile& pe, ByteView file);
void parse_relocations(PeFile& pe, ByteView file);
void parse_debug(PeFile& pe, ByteView file);
void parse_clr(PeFile& pe, ByteView file);
void parse_certificate(PeFile& pe, ByteView file);
void parse_version_info(PeFile& pe, ByteView data);

}  // namespace mamori::pe::detail
