#include "features/payload_scan.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/mapped_file.hpp"

namespace mamori::features {

namespace {

// The two DOS stub sentences linkers write (Microsoft's and Borland's), and how far before them the MZ header sits
// in the standard stubs. 24 bytes are enough to tell a stub from chance and short enough to survive a stub edit.
struct Stub {
  std::string_view text;
  std::uint32_t from_mz;
};
constexpr Stub kStubs[] = {{"This program cannot be run in DOS mode", 0x4e},
                           {"This program must be run under Win32", 0x50}};
constexpr std::size_t kStubMatch = 24;

// ROR-13 hashes: shellcode finds its APIs by hashing export names instead of carrying the strings. Two styles:
// the name alone, and (Metasploit-style block_api) the module name's UTF-16 upper case with its NUL plus the name
// with its NUL. Computed here from the names, so the table is the names.
constexpr std::uint32_t ror13(std::uint32_t h) { return (h >> 13) | (h << 19); }
constexpr std::uint32_t hash_name(std::string_view s, bool with_nul) {
  std::uint32_t h = 0;
  for (char c : s) h = ror13(h) + static_cast<std::uint8_t>(c);
  if (with_nul) h = ror13(h);
  return h;
}
constexpr std::uint32_t hash_module(std::string_view s) {
  std::uint32_t h = 0;
  auto add = [&](std::uint8_t c) {
    h = ror13(h) + c;
    h = ror13(h);  // the high byte of each UTF-16 unit (0)
  };
  for (char c : s) add(static_cast<std::uint8_t>(c >= 'a' && c <= 'z' ? c - 32 : c));
  add(0);
  return h;
}

constexpr std::string_view kApis[] = {
    "LoadLibraryA", "LoadLibraryW", "LoadLibraryExA", "GetProcAddress", "GetModuleHandleA", "WinExec",
    "ExitProcess", "ExitThread", "VirtualAlloc", "VirtualProtect", "CreateProcessA", "CreateThread",
    "GetTempPathA", "GetSystemDirectoryA", "CreateFileA", "WriteFile", "ReadFile", "GetFileSize",
    "SetFilePointer", "CloseHandle", "GlobalAlloc", "URLDownloadToFileA", "URLDownloadToFileW", "ShellExecuteA",
    "WSAStartup", "WSASocketA", "connect", "recv", "InternetOpenA", "InternetOpenUrlA", "InternetReadFile"};
constexpr std::string_view kModules[] = {"kernel32.dll", "urlmon.dll", "ws2_32.dll", "wininet.dll", "shell32.dll",
                                         "ntdll.dll"};
constexpr std::size_t kApiCount = std::size(kApis);
constexpr std::size_t kHashCount = kApiCount * (1 + std::size(kModules));

struct HashTable {
  std::array<std::uint32_t, kHashCount> sorted{};
  std::array<std::uint64_t, 1024> low16{};  // bit per low 16 bits of a hash: the cheap first test
};

constexpr HashTable make_hashes() {
  HashTable t{};
  std::size_t n = 0;
  for (auto api : kApis) t.sorted[n++] = hash_name(api, false);
  for (auto mod : kModules)
    for (auto api : kApis) t.sorted[n++] = hash_module(mod) + hash_name(api, true);
  std::sort(t.sorted.begin(), t.sorted.end());
  for (auto h : t.sorted) t.low16[(h & 0xffff) >> 6] |= std::uint64_t{1} << (h & 63);
  return t;
}
constexpr HashTable kHashes = make_hashes();
static_assert(kHashCount <= 256, "the distinct-hash set below is 256 bits");

std::uint32_t u32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}

// Which first bytes start a fixed pattern, so the common byte costs one table load.
enum : std::uint8_t { k_none, k_t, k_m, k_fs, k_gs, k_fpu, k_call, k_nop, k_imm32 };
constexpr std::array<std::uint8_t, 256> make_first() {
  std::array<std::uint8_t, 256> f{};
  f['T'] = k_t;
  f['M'] = k_m;
  f[0x64] = k_fs;
  f[0x65] = k_gs;
  f[0xd9] = k_fpu;
  f[0xe8] = k_call;
  f[0x90] = k_nop;
  f[0x68] = k_imm32;  // push imm32
  return f;
}
constexpr auto kFirst = make_first();

bool stub_at(const std::uint8_t* p, std::size_t avail, const std::array<std::uint8_t, 4>& key, std::size_t key_len,
             const Stub& st) {
  if (avail < kStubMatch) return false;
  for (std::size_t j = 0; j < kStubMatch; ++j)
    if ((p[j] ^ key[j % key_len]) != static_cast<std::uint8_t>(st.text[j])) return false;
  return true;
}

void keep_encoded(const std::uint8_t* base, std::uint64_t stub_off, const std::array<std::uint8_t, 4>& key_at_stub,
                  std::size_t key_len, const Stub& st, PayloadStats& s) {
  if (stub_off < st.from_mz || s.n_encoded >= s.encoded.size()) return;
  const std::uint64_t mz = stub_off - st.from_mz;
  EncodedExecutable e;
  e.mz_offset = mz;
  e.key_len = static_cast<std::uint8_t>(key_len);
  // Re-phase the key so that key[0] applies at the MZ header.
  for (std::size_t j = 0; j < 4; ++j) e.key[j] = key_at_stub[(j + 4 - st.from_mz % 4) % 4 % key_len];
  if ((base[mz] ^ e.key[0]) != 'M' || (base[mz + 1] ^ e.key[1]) != 'Z') return;
  s.encoded[s.n_encoded++] = e;
}

constexpr std::uint8_t t_h = 'T' ^ 'h', t_sp = 'T' ^ ' ', h_p = 'h' ^ 'p';

struct Scan {
  const std::uint8_t* p;
  std::size_t n;
  bool is_exe;
  PayloadStats& s;
  std::array<std::uint64_t, 4> seen_hashes{};
  std::size_t nop_run_end = 0;

  // The rare positions: a byte that starts a fixed pattern, or a pair that matches a XORed stub's first difference.
  [[gnu::noinline]] void slow(std::size_t i) noexcept {
    const std::size_t avail = n - i;
    const std::uint8_t c = p[i];
    switch (kFirst[c]) {
      case k_none: break;
      case k_t:
        for (const auto& st : kStubs)
          if (avail >= st.text.size() && std::memcmp(p + i, st.text.data(), st.text.size()) == 0 &&
              !(is_exe && i < 0x80))  // the buffer's own stub
            ++s.dos_stubs;
        break;
      case k_m:
        if (i > 0 && avail >= 0x40 && p[i + 1] == 'Z') {
          const std::uint32_t lfanew = u32(p + i + 0x3c);
          if (lfanew >= 0x40 && lfanew < 1024 && lfanew + 4 <= avail && std::memcmp(p + i + lfanew, "PE\0\0", 4) == 0) {
            ++s.pe_headers;
            if (s.n_clear_pe < s.clear_pe.size()) s.clear_pe[s.n_clear_pe++] = i;
          }
        }
        break;
      case k_fs:  // mov eax, fs:[0x30] / mov r32, fs:[disp32 0x30] / mov eax, fs:[r32+0x30]
        if (avail >= 6 && p[i + 1] == 0xa1 && u32(p + i + 2) == 0x30) ++s.peb_access;
        else if (avail >= 7 && p[i + 1] == 0x8b && (p[i + 2] & 0xc7) == 0x05 && u32(p + i + 3) == 0x30) ++s.peb_access;
        else if (avail >= 4 && p[i + 1] == 0x8b && (p[i + 2] & 0xf8) == 0x40 && p[i + 3] == 0x30) ++s.peb_access;
        break;
      case k_gs:  // mov r64, gs:[0x60]
        if (avail >= 9 && p[i + 1] == 0x48 && p[i + 2] == 0x8b && (p[i + 3] & 0xc7) == 0x04 && p[i + 4] == 0x25 &&
            u32(p + i + 5) == 0x60)
          ++s.peb_access;
        break;
      case k_fpu:  // fnstenv [esp-0xc]: the FPU's last instruction pointer is the code's own address
        if (avail >= 4 && p[i + 1] == 0x74 && p[i + 2] == 0x24 && p[i + 3] == 0xf4) ++s.get_pc;
        break;
      case k_call:
        if (avail >= 6) {
          const std::uint32_t rel = u32(p + i + 1);
          if (rel == 0 && p[i + 5] >= 0x58 && p[i + 5] <= 0x5f) ++s.get_pc;                   // call $+5; pop r32
          else if (rel == 0xffffffffu && p[i + 5] >= 0xc0 && p[i + 5] <= 0xc7) ++s.get_pc;    // call $+4; inc/dec
        }
        break;
      case k_imm32:  // a hash is pushed as an immediate operand, as shellcode does before its resolver call
        if (avail >= 5) {
          const std::uint32_t v = u32(p + i + 1);
          if (kHashes.low16[(v & 0xffff) >> 6] & (std::uint64_t{1} << (v & 63))) {
            const auto it = std::lower_bound(kHashes.sorted.begin(), kHashes.sorted.end(), v);
            if (it != kHashes.sorted.end() && *it == v) {
              const auto idx = static_cast<std::size_t>(it - kHashes.sorted.begin());
              const std::uint64_t bit = std::uint64_t{1} << (idx & 63);
              if (!(seen_hashes[idx >> 6] & bit)) {
                seen_hashes[idx >> 6] |= bit;
                ++s.api_hashes;
              }
            }
          }
        }
        break;
      case k_nop:
        if (i >= nop_run_end) {  // measure each run once, from its first byte
          std::size_t j = i;
          while (j < n && p[j] == 0x90) ++j;
          if (j - i >= 32) ++s.nop_sleds;
          nop_run_end = j;
        }
        break;
    }
    if (avail >= kStubMatch) {
      // XORed stubs: XOR with a key cancels between two bytes the key covers alike, so the difference between
      // neighbouring (one-byte key) or 4-apart (four-byte key) bytes matches the clear sentence's whatever the key.
      if ((c ^ p[i + 1]) == t_h && c != 'T') {
        const std::uint8_t k = c ^ 'T';
        const std::array<std::uint8_t, 4> key{k, k, k, k};
        for (const auto& st : kStubs)
          if (stub_at(p + i, avail, key, 1, st)) {
            ++s.xor1_stubs;
            keep_encoded(p, i, key, 1, st, s);
          }
      }
      if ((c ^ p[i + 4]) == t_sp && (p[i + 1] ^ p[i + 5]) == h_p) {
        const std::array<std::uint8_t, 4> key{static_cast<std::uint8_t>(c ^ 'T'), static_cast<std::uint8_t>(p[i + 1] ^ 'h'),
                                              static_cast<std::uint8_t>(p[i + 2] ^ 'i'), static_cast<std::uint8_t>(p[i + 3] ^ 's')};
        if (!(key[0] == key[1] && key[1] == key[2] && key[2] == key[3]))
          for (const auto& st : kStubs)
            if (stub_at(p + i, avail, key, 4, st)) {
              ++s.xor4_stubs;
              keep_encoded(p, i, key, 4, st, s);
            }
      }
    }
  }
};

}  // namespace

void scan_payload(ByteView b, PayloadStats& s) noexcept {
  std::size_t n = b.size();
  if (n > payload_limits::max_scan_bytes) {
    n = payload_limits::max_scan_bytes;
    s.truncated = true;
  }
  const std::uint8_t* p = b.data();
  Scan sc{p, n, n >= 2 && p[0] == 'M' && p[1] == 'Z', s};
  // One test per byte on the common path: is this byte a pattern start, or do its neighbours 1 and 4 bytes on
  // differ as a XORed stub's first bytes do? Branch-free, so that random and compressed bytes run straight.
  std::size_t i = 0;
  const std::size_t body_end = n > kStubMatch ? n - kStubMatch : 0;
  // A padded document is mapped, not read: the pages behind the cursor go back to the page cache as it moves on,
  // so that scanning a padded file's first 64 MiB does not make the scanner 64 MiB larger.
  ForwardRelease release(p);
#if defined(__SSE2__)
  // 16 bytes at a time, with a stricter test: each pattern's first two bytes (a XORed stub's first two
  // differences), so that random and compressed bytes almost never leave the vector loop.
  const auto eq = [](__m128i v, int c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(c))); };
  const auto both = [](__m128i x, __m128i y) { return _mm_and_si128(x, y); };
  for (; i + 16 <= body_end; i += 16) {
    const auto at = [&](std::size_t k) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + k)); };
    const __m128i v0 = at(0), v1 = at(1), v2 = at(2), v4 = at(4), v5 = at(5);
    __m128i m = both(eq(v0, 'T'), eq(v1, 'h'));
    m = _mm_or_si128(m, both(eq(v0, 'M'), eq(v1, 'Z')));
    m = _mm_or_si128(m, both(eq(v0, 0x64), _mm_or_si128(eq(v1, 0xa1), eq(v1, 0x8b))));
    m = _mm_or_si128(m, both(eq(v0, 0x65), eq(v1, 0x48)));
    m = _mm_or_si128(m, both(eq(v0, 0xd9), eq(v1, 0x74)));
    m = _mm_or_si128(m, both(eq(v0, 0xe8), _mm_or_si128(eq(v1, 0x00), eq(v1, 0xff))));
    m = _mm_or_si128(m, both(eq(v0, 0x90), eq(v1, 0x90)));
    m = _mm_or_si128(m, eq(v0, 0x68));
    m = _mm_or_si128(m, both(eq(_mm_xor_si128(v0, v1), t_h), eq(_mm_xor_si128(v1, v2), 'h' ^ 'i')));
    m = _mm_or_si128(m, both(eq(_mm_xor_si128(v0, v4), t_sp), eq(_mm_xor_si128(v1, v5), h_p)));
    for (unsigned bits = static_cast<unsigned>(_mm_movemask_epi8(m)); bits != 0; bits &= bits - 1)
      sc.slow(i + static_cast<std::size_t>(__builtin_ctz(bits)));
    if ((i & 0xffff) == 0) release.behind(i);
  }
#endif
  for (; i < body_end; ++i) {
    const std::uint8_t c = p[i];
    const bool hit = (kFirst[c] != k_none) | ((c ^ p[i + 1]) == t_h) | ((c ^ p[i + 4]) == t_sp);
    if (hit) [[unlikely]] sc.slow(i);
    if ((i & 0xffff) == 0) release.behind(i);
  }
  for (; i < n; ++i) sc.slow(i);
}

std::vector<std::uint8_t> decode_executable(ByteView b, const EncodedExecutable& e, std::size_t max_bytes) {
  std::vector<std::uint8_t> out;
  if (e.key_len == 0 || e.mz_offset + 2 > b.size()) return out;
  const std::size_t n = std::min<std::size_t>(b.size() - e.mz_offset, max_bytes);
  out.resize(n);
  const std::uint8_t* p = b.data() + e.mz_offset;
  for (std::size_t j = 0; j < n; ++j) out[j] = p[j] ^ e.key[j & 3];
  if (out.size() < 2 || out[0] != 'M' || out[1] != 'Z') out.clear();
  return out;
}

}  // namespace mamori::features
