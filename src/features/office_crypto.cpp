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
#include <string>

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

bool agile(ByteView info, ByteView pkg, Acc& a, std::vector<std::uint8_t>& out, std::string_view password) {
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
  auto h = spun_hash(ek_md, ek_salt, static_cast<std::uint32_t>(spins), password);
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
    ok = attempt(agile);
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
