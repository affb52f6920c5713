// libFuzzer target for xls::decrypt_encryption_stream, the "encryption" stream of an RC4 CryptoAPI workbook
// ([MS-OFFCRYPTO] 2.3.5.4: a header, a descriptor array, the streams). The input is read two ways:
//   1. as the stream itself (ciphertext: what a hostile file hands the parser);
//   2. as its plaintext, encrypted here with the same keys the parser derives (the 8-byte header and the descriptor
//      array at the offset the plaintext header names, with block 0's key), so that the fuzzer steers the layout
//      (offsets, sizes, counts, name lengths) rather than bytes that decrypt to noise.
// Checks: at most 256 streams; each stream's bytes come from inside the input; names are at most 255 characters.
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "check.hpp"
#include "formats/xls/xls.hpp"

namespace {

namespace xls = mamori::xls;

xls::FilePass make_filepass() {
  xls::FilePass fp;
  fp.method = xls::Encryption::rc4_cryptoapi;
  fp.major = 2;
  fp.minor = 2;
  fp.key_bits = 128;
  for (std::size_t k = 0; k < fp.salt.size(); ++k) fp.salt[k] = static_cast<std::uint8_t>(0x5A ^ (k * 29));
  std::array<std::uint8_t, 16> plain{};
  for (std::size_t k = 0; k < plain.size(); ++k) plain[k] = static_cast<std::uint8_t>(k * 7 + 1);
  xls::make_verifier(fp, xls::kDefaultPassword, plain);
  return fp;
}

std::vector<std::uint8_t> sha1(const std::vector<std::uint8_t>& in) {
  std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EVP_Digest(in.data(), in.size(), out.data(), &len, EVP_sha1(), nullptr);
  out.resize(len);
  return out;
}

// The block key as [MS-OFFCRYPTO] 2.3.5.2 derives it (128-bit), and RC4 over `b` from the key's start.
void rc4_block(const xls::FilePass& fp, std::uint32_t block, std::uint8_t* b, std::size_t n) {
  std::vector<std::uint8_t> h0(fp.salt.begin(), fp.salt.end());
  for (char16_t c : xls::kDefaultPassword) {
    h0.push_back(static_cast<std::uint8_t>(c));
    h0.push_back(static_cast<std::uint8_t>(c >> 8));
  }
  std::vector<std::uint8_t> kb = sha1(h0);
  for (int k = 0; k < 4; ++k) kb.push_back(static_cast<std::uint8_t>(block >> (8 * k)));
  std::vector<std::uint8_t> key = sha1(kb);
  key.resize(16);
  std::array<std::uint8_t, 256> s{};
  for (int k = 0; k < 256; ++k) s[k] = static_cast<std::uint8_t>(k);
  std::uint8_t j = 0;
  for (int k = 0; k < 256; ++k) {
    j = static_cast<std::uint8_t>(j + s[k] + key[k % 16]);
    std::swap(s[k], s[j]);
  }
  std::uint8_t i = 0;
  j = 0;
  for (std::size_t k = 0; k < n; ++k) {
    i = static_cast<std::uint8_t>(i + 1);
    j = static_cast<std::uint8_t>(j + s[i]);
    std::swap(s[i], s[j]);
    b[k] ^= s[static_cast<std::uint8_t>(s[i] + s[j])];
  }
}

void check_streams(const std::vector<xls::EncryptedStream>& out, std::size_t size) {
  check(out.size() <= 256);
  for (const auto& s : out) {
    check(s.bytes.size() <= size);
    check(s.name.size() <= 255);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const xls::FilePass fp = make_filepass();
  const mamori::ByteView in(data, size);
  check_streams(xls::decrypt_encryption_stream(in, fp, xls::kDefaultPassword), size);
  if (size < 8) return 0;
  std::vector<std::uint8_t> enc(data, data + size);
  const std::uint64_t at = in.le_or<std::uint32_t>(0, 0), n = in.le_or<std::uint32_t>(4, 0);
  rc4_block(fp, 0, enc.data(), 8);
  if (at >= 8 && at <= size && n <= size - at) rc4_block(fp, 0, enc.data() + at, static_cast<std::size_t>(n));
  check_streams(xls::decrypt_encryption_stream(mamori::ByteView(enc.data(), enc.size()), fp, xls::kDefaultPassword), size);
  // The wrong password opens nothing sensible but must stay bounded too.
  check_streams(xls::decrypt_encryption_stream(mamori::ByteView(enc.data(), enc.size()), fp, u"secret"), size);
  return 0;
}
