// Machine code and executables hidden in a document's bytes: the exploit documents of the 2000s and the RTF/Equation
// droppers after them carry shellcode and an executable, the executable often XOR-encoded so that scanners looking
// for "MZ" miss it. Office never needs x86 code in a document, so these traces mean a payload whatever the format.
//
// One pass over the bytes, no allocation. What it looks for:
// - a DOS stub sentence ("This program cannot be run in DOS mode" / "...must be run under Win32") in clear, or XORed
//   with a one-byte or a four-byte key (the key is recovered, so the executable can be decoded and scanned);
// - an MZ header whose e_lfanew points at "PE\0\0" (not at offset 0: a document is not an executable);
// - shellcode idioms: reading the PEB through fs:[0x30] / gs:[0x60] (how shellcode finds kernel32), GetPC sequences
//   (call $+5 / pop, call $+4 / inc, fnstenv [esp-0xc]), and the ROR-13 hashes of the API names shellcode resolves,
//   where it pushes them as an immediate (push imm32);
// - NOP sleds (runs of 0x90).
// An executable embedded in clear carries these idioms too (about 4% of benign PE files read fs:[0x30]), so a caller
// that wants "shellcode" should discount documents that hold a clear executable.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"

namespace mamori::features {

namespace payload_limits {
// Bytes scanned per buffer: exploit payloads sit within the first megabytes. A bigger buffer is cut
// (PayloadStats::truncated; the document features report the anomaly payload_scan_truncated_by_limit).
inline constexpr std::uint64_t max_scan_bytes = 64ull << 20;
// Encoded executables whose offset and key are kept for decoding.
inline constexpr std::size_t max_encoded = 4;
// Clear PE headers whose offset is kept, for callers that ask which structure holds them.
inline constexpr std::size_t max_clear_pe = 64;
}  // namespace payload_limits

struct EncodedExecutable {
  std::uint64_t mz_offset = 0;     // where the encoded MZ header starts in the scanned bytes
  std::array<std::uint8_t, 4> key{};  // key[(p - mz_offset) % 4] decodes byte p; a one-byte key repeats
  std::uint8_t key_len = 0;        // 1 or 4
};

struct PayloadStats {
  std::uint32_t dos_stubs = 0;    // clear DOS stub sentences (a clear stub at offset 0x4e of the buffer not counted)
  std::uint32_t pe_headers = 0;   // MZ at offset > 0 with e_lfanew -> "PE\0\0"
  std::uint32_t xor1_stubs = 0;   // DOS stub sentence XORed with one byte (not 0)
  std::uint32_t xor4_stubs = 0;   // DOS stub sentence XORed with four bytes that are not all equal
  std::uint32_t peb_access = 0;   // mov r32, fs:[0x30] / mov r32, fs:[r32+0x30] / mov r64, gs:[0x60]
  std::uint32_t get_pc = 0;       // call $+5 + pop r32, call $+4 + inc/dec, fnstenv [esp-0xc]
  std::uint32_t api_hashes = 0;   // distinct ROR-13 API hashes pushed as immediates
  std::uint32_t nop_sleds = 0;    // runs of >= 32 bytes 0x90
  bool truncated = false;         // the buffer was longer than payload_limits::max_scan_bytes
  std::array<EncodedExecutable, payload_limits::max_encoded> encoded{};
  std::size_t n_encoded = 0;
  std::array<std::uint64_t, payload_limits::max_clear_pe> clear_pe{};  // MZ offsets of the first pe_headers
  std::size_t n_clear_pe = 0;
};

/// Adds what `b` holds to `s` (call it once per buffer: the document, each inflated part, each decoded object).
void scan_payload(ByteView b, PayloadStats& s) noexcept;

/// Decodes the executable `e` found, from its MZ header to the end of `b` or `max_bytes` (the PE reader takes what
/// follows the image as overlay). Only stubs whose decoded header 0x4e or 0x50 bytes earlier reads "MZ" are kept.
std::vector<std::uint8_t> decode_executable(ByteView b, const EncodedExecutable& e, std::size_t max_bytes);

}  // namespace mamori::features
