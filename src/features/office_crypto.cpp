// Encrypted OOXML packages ([MS-OFFCRYPTO] 2.3.4): the EncryptionInfo stream says Standard (AES, SHA-1, 50000 spins),
// Agile (XML descriptor, usually SHA-512 + AES-CBC in 4096-byte segments) or Extensible encryption. Documents
// encrypted with Excel's built-in default password "VelvetSweatshop" open without asking; malware uses that to hide
// its macros from scanners, so both Standard and Agile are tried with it, then with the caller's passwords (those
// quoted in the enclosing e-mail: Emotet and others mailed encrypted documents with the password in the body).
// Key derivation and AES via OpenSSL.
// The spin loop calls the digests' own functions, which OpenSSL 3 marks deprecated (see spin below).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MAMORI_SPIN_X8 1
#endif

#include "common/codepage.hpp"
#include "features/office_internal.hpp"

namespace mamori::features::office {

namespace {

constexpr std::string_view kDefaultPassword = "VelvetSweatshop";
// Spin counts beyond this are not tried: a hostile descriptor could ask for billions of hash rounds.
constexpr std::uint32_t kMaxSpinCount = 1000000;

std::vector<std::uint8_t> digest(const EVP_MD* md, std::initializer_list<std::pair<const std::uint8_t*, std::size_t>> parts) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(EVP_MD_size(md)));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, md, nullptr);
  for (const auto& [p, n] : parts) EVP_DigestUpdate(ctx, p, n);
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  EVP_MD_CTX_free(ctx);
  return out;
}

// `spins` rounds of H(iterator + H) over buf = 4 bytes of iterator followed by the n-byte hash, in place. A round
// hashes one block; through EVP each also paid a provider dispatch and a cleanse of the context, a quarter of the
// time for SHA-512 and half for SHA-1, and an encrypted document that no password opens costs one derivation per
// password tried (up to office_limits::max_passwords), so the loop calls the digest's own functions.
template <class Ctx, int (*Init)(Ctx*), int (*Update)(Ctx*, const void*, std::size_t),
          int (*Final)(unsigned char*, Ctx*)>
void spin(std::uint8_t* buf, std::size_t n, std::uint32_t spins) {
  Ctx c;
  for (std::uint32_t i = 0; i < spins; ++i) {
    buf[0] = static_cast<std::uint8_t>(i);
    buf[1] = static_cast<std::uint8_t>(i >> 8);
    buf[2] = static_cast<std::uint8_t>(i >> 16);
    buf[3] = static_cast<std::uint8_t>(i >> 24);
    Init(&c);
    Update(&c, buf, 4 + n);
    Final(buf + 4, &c);
  }
  OPENSSL_cleanse(&c, sizeof c);
}

// H0 = H(salt + password); Hn = H(iterator + Hn-1), iterator a 32-bit little-endian counter from 0.
std::vector<std::uint8_t> spun_hash(const EVP_MD* md, const std::vector<std::uint8_t>& salt, std::uint32_t spins,
                                    std::string_view password) {
  const auto pw = utf16le_bytes(utf8_to_utf16(password));
  auto h = digest(md, {{salt.data(), salt.size()}, {pw.data(), pw.size()}});
  std::uint8_t buf[4 + EVP_MAX_MD_SIZE];
  if (h.size() > EVP_MAX_MD_SIZE) return h;
  std::memcpy(buf + 4, h.data(), h.size());
  switch (EVP_MD_get_type(md)) {
    case NID_sha1: spin<SHA_CTX, SHA1_Init, SHA1_Update, SHA1_Final>(buf, h.size(), spins); break;
    case NID_sha256: spin<SHA256_CTX, SHA256_Init, SHA256_Update, SHA256_Final>(buf, h.size(), spins); break;
    case NID_sha384: spin<SHA512_CTX, SHA384_Init, SHA384_Update, SHA384_Final>(buf, h.size(), spins); break;
    case NID_sha512: spin<SHA512_CTX, SHA512_Init, SHA512_Update, SHA512_Final>(buf, h.size(), spins); break;
    default: {
      EVP_MD_CTX* ctx = EVP_MD_CTX_new();
      unsigned len = 0;
      for (std::uint32_t i = 0; i < spins; ++i) {
        const std::uint8_t it[4] = {static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8),
                                    static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 24)};
        EVP_DigestInit_ex(ctx, md, nullptr);
        EVP_DigestUpdate(ctx, it, 4);
        EVP_DigestUpdate(ctx, buf + 4, h.size());
        EVP_DigestFinal_ex(ctx, buf + 4, &len);
      }
      EVP_MD_CTX_free(ctx);
    }
  }
  std::memcpy(h.data(), buf + 4, h.size());
  OPENSSL_cleanse(buf, sizeof buf);
  return h;
}

#ifdef MAMORI_SPIN_X8
// SHA-512 ([FIPS 180-4] 4.2.3, 5.3.5) round constants and initial hash value.
constexpr std::uint64_t kSha512K[80] = {
    0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc, 0x3956c25bf348b538,
    0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242, 0x12835b0145706fbe,
    0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2, 0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235,
    0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
    0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5, 0x983e5152ee66dfab,
    0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
    0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed,
    0x53380d139d95b3df, 0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
    0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218,
    0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8, 0x19a4c116b8d2d0c8, 0x1e376c085141ab53,
    0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373,
    0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
    0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b, 0xca273eceea26619c,
    0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba, 0x0a637dc5a2c898a6,
    0x113f9804bef90dae, 0x1b710b35131c471b, 0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc,
    0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
};
constexpr std::uint64_t kSha512Iv[8] = {0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b,
                                        0xa54ff53a5f1d36f1, 0x510e527fade682d1, 0x9b05688c2b3e6c1f,
                                        0x1f83d9abfb41bd6b, 0x5be0cd19137e2179};

// The SHA-512 spin loop of eight passwords at once, one per 64-bit lane of AVX-512 registers. Every password of a
// document shares the salt and the spin count, so the lanes differ only in their starting hash; an encrypted
// document no password opens tried seven derivations one after another, now about the cost of one or two. A round
// hashes the 68 bytes iterator + H, one padded block whose words are made from the previous state directly:
// W0 = byteswapped iterator : high half of H0, W1..W7 = low half of Hk-1 : high half of Hk, W8 = low half of H7 :
// the 0x80 pad byte, W15 = 544, the message length in bits. s[k] holds word k of every lane, in and out.
__attribute__((target("avx512f"))) void spin_sha512_x8(std::uint64_t (&s)[8][8], std::uint32_t spins) {
  __m512i h[8];
  for (int k = 0; k < 8; ++k) h[k] = _mm512_loadu_si512(s[k]);
  const __m512i pad = _mm512_set1_epi64(0x80000000LL), len = _mm512_set1_epi64(544);
  for (std::uint32_t i = 0; i < spins; ++i) {
    __m512i w[16];
    w[0] = _mm512_or_si512(_mm512_set1_epi64(static_cast<long long>(std::uint64_t{__builtin_bswap32(i)} << 32)),
                           _mm512_srli_epi64(h[0], 32));
    for (int k = 1; k < 8; ++k) w[k] = _mm512_or_si512(_mm512_slli_epi64(h[k - 1], 32), _mm512_srli_epi64(h[k], 32));
    w[8] = _mm512_or_si512(_mm512_slli_epi64(h[7], 32), pad);
    for (int k = 9; k < 15; ++k) w[k] = _mm512_setzero_si512();
    w[15] = len;
    __m512i a = _mm512_set1_epi64(static_cast<long long>(kSha512Iv[0]));
    __m512i b = _mm512_set1_epi64(static_cast<long long>(kSha512Iv[1]));
    __m512i c = _mm512_set1_epi64(static_cast<long long>(kSha512Iv[2]));
    __m512i d = _mm512_set1_epi64(static_cast<long long>(kSha512Iv[3]));
    __m512i e = _mm512_set1_epi64(static_cast<long long>(kSha512Iv[4]));
    __m512i f = _mm512_set1_epi64(static_cast<long long>(kSha512Iv[5]));
    __m512i g = _mm512_set1_epi64(static_cast<long long>(kSha512Iv[6]));
    __m512i hh = _mm512_set1_epi64(static_cast<long long>(kSha512Iv[7]));
    for (int t = 0; t < 80; ++t) {
      __m512i wt;
      if (t < 16) {
        wt = w[t];
      } else {
        const __m512i w2 = w[(t - 2) & 15], w15 = w[(t - 15) & 15];
        const __m512i s1 = _mm512_ternarylogic_epi64(_mm512_ror_epi64(w2, 19), _mm512_ror_epi64(w2, 61),
                                                     _mm512_srli_epi64(w2, 6), 0x96);
        const __m512i s0 = _mm512_ternarylogic_epi64(_mm512_ror_epi64(w15, 1), _mm512_ror_epi64(w15, 8),
                                                     _mm512_srli_epi64(w15, 7), 0x96);
        wt = _mm512_add_epi64(_mm512_add_epi64(s1, w[(t - 7) & 15]), _mm512_add_epi64(s0, w[t & 15]));
        w[t & 15] = wt;
      }
      const __m512i big_s1 = _mm512_ternarylogic_epi64(_mm512_ror_epi64(e, 14), _mm512_ror_epi64(e, 18),
                                                       _mm512_ror_epi64(e, 41), 0x96);
      const __m512i ch = _mm512_ternarylogic_epi64(e, f, g, 0xCA);
      const __m512i t1 = _mm512_add_epi64(
          _mm512_add_epi64(_mm512_add_epi64(hh, big_s1), _mm512_add_epi64(ch, wt)),
          _mm512_set1_epi64(static_cast<long long>(kSha512K[t])));
      const __m512i big_s0 = _mm512_ternarylogic_epi64(_mm512_ror_epi64(a, 28), _mm512_ror_epi64(a, 34),
                                                       _mm512_ror_epi64(a, 39), 0x96);
      const __m512i maj = _mm512_ternarylogic_epi64(a, b, c, 0xE8);
      const __m512i t2 = _mm512_add_epi64(big_s0, maj);
      hh = g;
      g = f;
      f = e;
      e = _mm512_add_epi64(d, t1);
      d = c;
      c = b;
      b = a;
      a = _mm512_add_epi64(t1, t2);
    }
    const __m512i out[8] = {a, b, c, d, e, f, g, hh};
    for (int k = 0; k < 8; ++k) h[k] = _mm512_add_epi64(out[k], _mm512_set1_epi64(static_cast<long long>(kSha512Iv[k])));
  }
  for (int k = 0; k < 8; ++k) _mm512_storeu_si512(s[k], h[k]);
}

bool have_spin_x8() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}
#endif

}  // namespace

bool spin_lanes_available() {
#ifdef MAMORI_SPIN_X8
  return have_spin_x8();
#else
  return false;
#endif
}

// The SHA-512 spun hashes of several passwords over one salt, in their order: eight at a time through
// spin_sha512_x8 where the processor has AVX-512, else one after another as spun_hash does. Exposed (office_internal)
// so that tests compare the two paths.
std::vector<std::vector<std::uint8_t>> spun_sha512_hashes(const std::vector<std::uint8_t>& salt, std::uint32_t spins,
                                                          const std::vector<std::string_view>& passwords,
                                                          bool allow_lanes) {
  std::vector<std::vector<std::uint8_t>> out;
  out.reserve(passwords.size());
#ifdef MAMORI_SPIN_X8
  if (allow_lanes && have_spin_x8() && passwords.size() > 1) {
    for (std::size_t first = 0; first < passwords.size(); first += 8) {
      const std::size_t n = std::min<std::size_t>(8, passwords.size() - first);
      std::uint64_t st[8][8] = {};
      for (std::size_t l = 0; l < n; ++l) {
        const auto pw = utf16le_bytes(utf8_to_utf16(passwords[first + l]));
        const auto h0 = digest(EVP_sha512(), {{salt.data(), salt.size()}, {pw.data(), pw.size()}});
        for (int k = 0; k < 8; ++k) {
          std::uint64_t v = 0;
          for (int b = 0; b < 8; ++b) v = v << 8 | h0[static_cast<std::size_t>(8 * k + b)];
          st[k][l] = v;
        }
      }
      spin_sha512_x8(st, spins);
      for (std::size_t l = 0; l < n; ++l) {
        std::vector<std::uint8_t> h(64);
        for (int k = 0; k < 8; ++k)
          for (int b = 0; b < 8; ++b) h[static_cast<std::size_t>(8 * k + b)] = static_cast<std::uint8_t>(st[k][l] >> (56 - 8 * b));
        out.push_back(std::move(h));
      }
      OPENSSL_cleanse(st, sizeof st);
    }
    return out;
  }
#endif
  (void)allow_lanes;
  for (const auto pw : passwords) out.push_back(spun_hash(EVP_sha512(), salt, spins, pw));
  return out;
}

namespace {

const EVP_CIPHER* aes(std::size_t key_bytes, bool cbc) {
  switch (key_bytes) {
    case 16: return cbc ? EVP_aes_128_cbc() : EVP_aes_128_ecb();
    case 24: return cbc ? EVP_aes_192_cbc() : EVP_aes_192_ecb();
    case 32: return cbc ? EVP_aes_256_cbc() : EVP_aes_256_ecb();
    default: return nullptr;
  }
}

// Raw AES decryption (no padding); `in` is a whole number of blocks.
bool aes_decrypt(const std::vector<std::uint8_t>& key, const std::uint8_t* iv, ByteView in, std::uint8_t* out) {
  const EVP_CIPHER* c = aes(key.size(), iv != nullptr);
  if (!c || in.size() % 16 != 0) return false;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int n1 = 0, n2 = 0;
  bool ok = EVP_DecryptInit_ex(ctx, c, nullptr, key.data(), iv) == 1 && EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
            EVP_DecryptUpdate(ctx, out, &n1, in.data(), static_cast<int>(in.size())) == 1 &&
            EVP_DecryptFinal_ex(ctx, out + n1, &n2) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

bool standard(ByteView info, ByteView pkg, Acc& a, std::vector<std::uint8_t>& out, std::string_view password) {
  const std::uint32_t header_size = info.le_or<std::uint32_t>(8, 0);
  const ByteView hdr = info.clamp(12, header_size);
  const std::uint32_t alg = hdr.le_or<std::uint32_t>(8, 0);
  const std::uint32_t key_bits = hdr.le_or<std::uint32_t>(16, 0);
  const std::uint64_t ver = 12ull + header_size;
  const std::uint32_t salt_size = info.le_or<std::uint32_t>(ver, 0);
  // AES-128/192/256 (0x660E/F/10) only: RC4 CryptoAPI is not a Standard-AES package.
  if (alg < 0x660E || alg > 0x6610 || salt_size != 16 || !info.fits(ver + 4, 16 + 16 + 4 + 32)) return false;
  const std::vector<std::uint8_t> salt(info.data() + ver + 4, info.data() + ver + 20);
  const ByteView enc_verifier = *info.sub(ver + 20, 16);
  const ByteView enc_hash = *info.sub(ver + 40, 32);
  const EVP_MD* sha1 = EVP_sha1();
  auto h = spun_hash(sha1, salt, 50000, password);
  const std::uint8_t block0[4] = {0, 0, 0, 0};
  const auto hfinal = digest(sha1, {{h.data(), h.size()}, {block0, 4}});
  std::uint8_t b1[64], b2[64];
  std::memset(b1, 0x36, 64);
  std::memset(b2, 0x5C, 64);
  for (std::size_t i = 0; i < hfinal.size(); ++i) b1[i] ^= hfinal[i], b2[i] ^= hfinal[i];
  auto x1 = digest(sha1, {{b1, 64}});
  const auto x2 = digest(sha1, {{b2, 64}});
  x1.insert(x1.end(), x2.begin(), x2.end());
  const std::size_t key_bytes = key_bits / 8;
  if (key_bytes != 16 && key_bytes != 24 && key_bytes != 32) return false;
  const std::vector<std::uint8_t> key(x1.begin(), x1.begin() + static_cast<std::ptrdiff_t>(key_bytes));
  std::uint8_t verifier[16], vhash[32];
  if (!aes_decrypt(key, nullptr, enc_verifier, verifier) || !aes_decrypt(key, nullptr, enc_hash, vhash)) return false;
  const auto check = digest(sha1, {{verifier, 16}});
  if (std::memcmp(check.data(), vhash, 20) != 0) return false;  // not this password
  const std::uint64_t size = pkg.le_or<std::uint64_t>(0, 0);
  ByteView body = pkg.from(8);
  body = body.clamp(0, body.size() - body.size() % 16);
  if (size > body.size() || size > office_limits::max_package_bytes) {
    a.anomaly("encrypted_package_size_invalid");
    return false;
  }
  out.resize(body.size());
  if (!aes_decrypt(key, nullptr, body, out.data())) return false;
  out.resize(static_cast<std::size_t>(size));
  return true;
}

std::string_view xml_attr(std::string_view tag, std::string_view name) {
  const std::string pat = " " + std::string(name) + "=\"";
  const std::size_t p = tag.find(pat);
  if (p == std::string_view::npos) return {};
  const std::size_t q = tag.find('"', p + pat.size());
  if (q == std::string_view::npos) return {};
  return tag.substr(p + pat.size(), q - p - pat.size());
}

std::vector<std::uint8_t> b64(std::string_view s) {
  std::vector<std::uint8_t> out(s.size() / 4 * 3 + 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) return {};
  out.resize(static_cast<std::size_t>(n));
  std::size_t pad = 0;
  for (std::size_t i = s.size(); i > 0 && s[i - 1] == '='; --i) ++pad;
  out.resize(out.size() - std::min(pad, out.size()));
  return out;
}

const EVP_MD* md_named(std::string_view n) {
  if (n == "SHA1") return EVP_sha1();
  if (n == "SHA256") return EVP_sha256();
  if (n == "SHA384") return EVP_sha384();
  if (n == "SHA512") return EVP_sha512();
  return nullptr;
}

// Hash with a block key, truncated or padded with 0x36 to `n` bytes ([MS-OFFCRYPTO] 2.3.4.11-13).
std::vector<std::uint8_t> fit(std::vector<std::uint8_t> v, std::size_t n) {
  v.resize(n, 0x36);
  return v;
}

bool agile(ByteView info, ByteView pkg, Acc& a, std::vector<std::uint8_t>& out, std::string_view password,
           const std::vector<std::uint8_t>* spun = nullptr) {
  const std::string_view xml(reinterpret_cast<const char*>(info.data()) + 8, info.size() > 8 ? info.size() - 8 : 0);
  const std::size_t kd = xml.find("<keyData");
  const std::size_t ek = xml.find("encryptedKey ");
  if (kd == std::string_view::npos || ek == std::string_view::npos) return false;
  const std::string_view kdt = xml.substr(kd, xml.find('>', kd) - kd);
  const std::string_view ekt = xml.substr(ek, xml.find('>', ek) - ek);
  const EVP_MD* kd_md = md_named(xml_attr(kdt, "hashAlgorithm"));
  const EVP_MD* ek_md = md_named(xml_attr(ekt, "hashAlgorithm"));
  const auto kd_salt = b64(xml_attr(kdt, "saltValue"));
  const auto ek_salt = b64(xml_attr(ekt, "saltValue"));
  const auto enc_key = b64(xml_attr(ekt, "encryptedKeyValue"));
  const std::size_t kd_bits = static_cast<std::size_t>(std::atoi(std::string(xml_attr(kdt, "keyBits")).c_str()));
  const std::size_t ek_bits = static_cast<std::size_t>(std::atoi(std::string(xml_attr(ekt, "keyBits")).c_str()));
  const long spins = std::atol(std::string(xml_attr(ekt, "spinCount")).c_str());
  if (!kd_md || !ek_md || kd_salt.size() < 16 || ek_salt.size() < 16 || enc_key.empty() || enc_key.size() % 16) return false;
  if (spins < 0 || spins > static_cast<long>(kMaxSpinCount)) {
    a.anomaly("encryption_spin_count_above_limit");
    return false;
  }
  auto h = spun != nullptr ? *spun : spun_hash(ek_md, ek_salt, static_cast<std::uint32_t>(spins), password);
  static constexpr std::uint8_t kKeyBlock[8] = {0x14, 0x6e, 0x0b, 0xe7, 0xab, 0xac, 0xd0, 0xd6};
  const auto kek = fit(digest(ek_md, {{h.data(), h.size()}, {kKeyBlock, 8}}), ek_bits / 8);
  std::vector<std::uint8_t> secret(enc_key.size());
  if (!aes_decrypt(kek, ek_salt.data(), ByteView(enc_key.data(), enc_key.size()), secret.data())) return false;
  secret.resize(kd_bits / 8);
  if (!aes(secret.size(), true)) return false;
  const std::uint64_t size = pkg.le_or<std::uint64_t>(0, 0);
  const ByteView body = pkg.from(8);
  if (size > body.size() || size > office_limits::max_package_bytes) {
    a.anomaly("encrypted_package_size_invalid");
    return false;
  }
  out.resize(body.size() + 16);
  std::uint64_t done = 0;
  for (std::uint32_t seg = 0; done < body.size(); ++seg) {
    ByteView chunk = body.clamp(done, 4096);
    chunk = chunk.clamp(0, chunk.size() - chunk.size() % 16);
    if (chunk.empty()) break;
    const std::uint8_t idx[4] = {static_cast<std::uint8_t>(seg), static_cast<std::uint8_t>(seg >> 8),
                                 static_cast<std::uint8_t>(seg >> 16), static_cast<std::uint8_t>(seg >> 24)};
    const auto iv = fit(digest(kd_md, {{kd_salt.data(), kd_salt.size()}, {idx, 4}}), 16);
    if (!aes_decrypt(secret, iv.data(), chunk, out.data() + done)) return false;
    // A wrong password yields noise; a right one a zip. Checked on the first segment, so a wrong password costs
    // one segment, not the package.
    if (seg == 0 && (chunk.size() < 4 || std::memcmp(out.data(), "PK\x03\x04", 4) != 0)) return false;
    done += chunk.size();
  }
  out.resize(static_cast<std::size_t>(std::min<std::uint64_t>(size, done)));
  // A wrong password yields noise; a right one a zip.
  return out.size() >= 4 && std::memcmp(out.data(), "PK\x03\x04", 4) == 0;
}

struct SpinParams {
  std::vector<std::uint8_t> salt;
  std::uint32_t spins = 0;
};

// The key encryptor's salt and spin count when agile() would derive a SHA-512 key from them: it reads the same
// attributes and passes the same checks first (a package it refuses costs no derivation either way).
std::optional<SpinParams> agile_spin_params(ByteView info) {
  const std::string_view xml(reinterpret_cast<const char*>(info.data()) + 8, info.size() > 8 ? info.size() - 8 : 0);
  const std::size_t kd = xml.find("<keyData");
  const std::size_t ek = xml.find("encryptedKey ");
  if (kd == std::string_view::npos || ek == std::string_view::npos) return std::nullopt;
  const std::string_view kdt = xml.substr(kd, xml.find('>', kd) - kd);
  const std::string_view ekt = xml.substr(ek, xml.find('>', ek) - ek);
  const EVP_MD* kd_md = md_named(xml_attr(kdt, "hashAlgorithm"));
  const EVP_MD* ek_md = md_named(xml_attr(ekt, "hashAlgorithm"));
  const auto kd_salt = b64(xml_attr(kdt, "saltValue"));
  auto ek_salt = b64(xml_attr(ekt, "saltValue"));
  const auto enc_key = b64(xml_attr(ekt, "encryptedKeyValue"));
  const long spins = std::atol(std::string(xml_attr(ekt, "spinCount")).c_str());
  if (!kd_md || !ek_md || kd_salt.size() < 16 || ek_salt.size() < 16 || enc_key.empty() || enc_key.size() % 16)
    return std::nullopt;
  if (spins < 0 || spins > static_cast<long>(kMaxSpinCount)) return std::nullopt;
  if (EVP_MD_get_type(ek_md) != NID_sha512) return std::nullopt;
  return SpinParams{std::move(ek_salt), static_cast<std::uint32_t>(spins)};
}

}  // namespace

bool decrypt_encrypted_package(ByteView info, ByteView pkg, Acc& a, std::vector<std::uint8_t>& out) {
  const std::uint16_t major = info.le_or<std::uint16_t>(0, 0);
  const std::uint16_t minor = info.le_or<std::uint16_t>(2, 0);
  std::string kind;
  bool ok = false;
  // The default password first, then the caller's, at most office_limits::max_passwords of them: each costs a
  // key derivation of 50,000 (Standard) to 100,000+ (Agile) hash rounds.
  std::vector<std::string_view> tries = {kDefaultPassword};
  for (const auto& p : a.opt->passwords)
    if (tries.size() < office_limits::max_passwords && p != kDefaultPassword && !p.empty()) tries.push_back(p);
  auto attempt = [&](auto&& method) {
    if (!a.opt->decrypt) return false;
    for (const auto pw : tries) {
      if (method(info, pkg, a, out, pw)) {
        if (a.depth == 0) a.out->password = std::string(pw);
        return true;
      }
    }
    return false;
  };
  if (major == 4 && minor == 4) {
    kind = "ooxml-agile";
    a.enc.ooxml_agile = 1;
    // The default password first, alone: it opens most packages that open at all. Then, for SHA-512 packages
    // (nearly all), the other passwords' keys are derived at once (spun_sha512_hashes) when agile() would reach the
    // derivation: the same parameters it reads and checks before deriving, the same hashes, tried in the same order.
    ok = a.opt->decrypt && agile(info, pkg, a, out, tries[0]);
    if (ok) {
      if (a.depth == 0) a.out->password = std::string(tries[0]);
    } else if (a.opt->decrypt && tries.size() > 1) {
      const std::vector<std::string_view> rest(tries.begin() + 1, tries.end());
      std::vector<std::vector<std::uint8_t>> spun;
      if (rest.size() > 1 && spin_lanes_available())
        if (const auto p = agile_spin_params(info)) spun = spun_sha512_hashes(p->salt, p->spins, rest, true);
      for (std::size_t k = 0; k < rest.size() && !ok; ++k) {
        if (agile(info, pkg, a, out, rest[k], spun.size() == rest.size() ? &spun[k] : nullptr)) {
          if (a.depth == 0) a.out->password = std::string(rest[k]);
          ok = true;
        }
      }
    }
  } else if ((major == 2 || major == 3 || major == 4) && minor == 2) {
    kind = "ooxml-standard";
    a.enc.ooxml_standard = 1;
    ok = attempt(standard);
  } else {
    kind = "ooxml-other";
    a.enc.ooxml_other = 1;
  }
  if (a.out->encryption.empty()) a.out->encryption = kind;
  if (!ok) out.clear();
  return ok;
}

}  // namespace mamori::features::office
