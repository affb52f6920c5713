// BIFF8 RC4 encryption ([MS-XLS] 2.2.10, [MS-OFFCRYPTO] 2.3.6 "RC4 encryption" and 2.3.5 "RC4 CryptoAPI").
//
// Both methods derive one RC4 key per 1024-byte block of the Workbook stream from the password, the FILEPASS
// salt and the block number, and run the keystream in step with the stream offset. Record headers and a few
// records stay in the clear but still use up keystream, so the position in the keystream is always the stream
// offset. RC4 is small enough to write here (OpenSSL 3 keeps it in the legacy provider); MD5 and SHA-1 come
// from OpenSSL's EVP digests.
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <optional>
#include <cstring>
#include <span>
#include <vector>

#include "common/codepage.hpp"
#include "formats/xls/xls.hpp"

namespace mamori::xls {
namespace {

class Rc4 {
 public:
  explicit Rc4(std::span<const std::uint8_t> key) {
    for (int k = 0; k < 256; ++k) s_[k] = static_cast<std::uint8_t>(k);
    std::uint8_t j = 0;
    for (int k = 0; k < 256; ++k) {
      j = static_cast<std::uint8_t>(j + s_[k] + key[static_cast<std::size_t>(k) % key.size()]);
      std::swap(s_[k], s_[j]);
    }
  }
  std::uint8_t next() {
    i_ = static_cast<std::uint8_t>(i_ + 1);
    j_ = static_cast<std::uint8_t>(j_ + s_[i_]);
    std::swap(s_[i_], s_[j_]);
    return s_[static_cast<std::uint8_t>(s_[i_] + s_[j_])];
  }
  void skip(std::uint64_t n) {
    for (std::uint64_t k = 0; k < n; ++k) next();
  }
  void apply(std::span<std::uint8_t> b) {
    for (auto& x : b) x ^= next();
  }

 private:
  std::array<std::uint8_t, 256> s_{};
  std::uint8_t i_ = 0, j_ = 0;
};

std::vector<std::uint8_t> digest(const EVP_MD* md, std::span<const std::uint8_t> a,
                                 std::span<const std::uint8_t> b = {}) {
  std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return {};
  bool ok = EVP_DigestInit_ex(ctx, md, nullptr) == 1 && EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 &&
            (b.empty() || EVP_DigestUpdate(ctx, b.data(), b.size()) == 1) &&
            EVP_DigestFinal_ex(ctx, out.data(), &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return {};
  out.resize(len);
  return out;
}

std::array<std::uint8_t, 4> le32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 24)};
}

// The part of the key derivation that does not depend on the block number.
struct KeyBase {
  Encryption method = Encryption::none;
  std::vector<std::uint8_t> base;  // RC4: 5-byte truncated H1; CryptoAPI: H0
  std::uint32_t key_bits = 128;

  KeyBase(const FilePass& fp, std::u16string_view password) : method(fp.method), key_bits(fp.key_bits) {
    const auto pw = utf16le_bytes(password);
    if (method == Encryption::rc4) {
      auto h0 = digest(EVP_md5(), pw);
      h0.resize(5);
      std::vector<std::uint8_t> buf;
      for (int k = 0; k < 16; ++k) {
        buf.insert(buf.end(), h0.begin(), h0.end());
        buf.insert(buf.end(), fp.salt.begin(), fp.salt.end());
      }
      base = digest(EVP_md5(), buf);
      base.resize(5);
    } else {
      base = digest(EVP_sha1(), fp.salt, pw);
    }
  }

  std::vector<std::uint8_t> block_key(std::uint32_t block) const {
    const auto b = le32(block);
    if (method == Encryption::rc4) return digest(EVP_md5(), base, b);  // 128-bit key
    auto h = digest(EVP_sha1(), base, b);
    const std::uint32_t bits = key_bits == 0 ? 40 : key_bits;
    std::size_t n = std::min<std::size_t>(bits / 8, h.size());
    if (n == 0) n = 5;
    h.resize(n);
    if (bits == 40) h.resize(16, 0);  // 40-bit keys are padded with zeros to 128 bits
    return h;
  }
};

constexpr std::uint64_t kBlock = 1024;

// Keystream positioned by stream offset; only moves forward.
class Keystream {
 public:
  explicit Keystream(const KeyBase& kb) : kb_(kb) {}
  void apply(std::span<std::uint8_t> data, std::uint64_t offset) {
    for (std::size_t k = 0; k < data.size();) {
      const std::uint64_t off = offset + k;
      const std::uint64_t block = off / kBlock, in_block = off % kBlock;
      if (!rc4_ || block != block_ || in_block < pos_) {
        const auto key = kb_.block_key(static_cast<std::uint32_t>(block));
        rc4_.emplace(key);
        block_ = block;
        pos_ = 0;
      }
      rc4_->skip(in_block - pos_);
      pos_ = in_block;
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kBlock - in_block, data.size() - k));
      rc4_->apply(data.subspan(k, n));
      pos_ += n;
      k += n;
    }
  }

 private:
  const KeyBase& kb_;
  std::optional<Rc4> rc4_;
  std::uint64_t block_ = 0, pos_ = 0;
};

bool record_in_clear(std::uint16_t type) {
  switch (type) {
    case 0x0809:  // BOF
    case 0x002F:  // FILEPASS
    case 0x0194:  // UsrExcl
    case 0x0195:  // FileLock
    case 0x00E1:  // InterfaceHdr
    case 0x0196:  // RRDInfo
    case 0x0138:  // RRDHead
      return true;
    default:
      return false;
  }
}

}  // namespace

std::optional<FilePass> parse_filepass(ByteView body) {
  FilePass fp;
  const auto type = body.u16(0);
  if (!type) return std::nullopt;
  if (*type == 0) {
    fp.method = Encryption::xor_obfuscation;
    return fp;
  }
  if (*type != 1) {
    fp.method = Encryption::unknown;
    return fp;
  }
  const auto major = body.u16(2), minor = body.u16(4);
  if (!major || !minor) return std::nullopt;
  fp.major = *major;
  fp.minor = *minor;
  if (fp.major == 1 && fp.minor == 1) {
    fp.method = Encryption::rc4;
    if (!body.fits(6, 48)) return std::nullopt;
    std::memcpy(fp.salt.data(), body.data() + 6, 16);
    std::memcpy(fp.verifier.data(), body.data() + 22, 16);
    fp.verifier_hash.assign(body.data() + 38, body.data() + 54);
    fp.key_bits = 128;
    return fp;
  }
  if ((fp.major == 2 || fp.major == 3 || fp.major == 4) && fp.minor == 2) {
    fp.method = Encryption::rc4_cryptoapi;
    // EncryptionHeaderFlags (4), EncryptionHeader size (4), EncryptionHeader, EncryptionVerifier.
    const auto hsize = body.u32(10);
    if (!hsize || *hsize < 32 || *hsize > 4096) return std::nullopt;
    const auto key_bits = body.u32(14 + 16);  // Flags, SizeExtra, AlgID, AlgIDHash, KeySize
    fp.key_bits = key_bits.value_or(0) == 0 ? 40 : *key_bits;
    const std::uint64_t v = 14 + std::uint64_t{*hsize};
    const auto salt_size = body.u32(v);
    if (!salt_size || *salt_size != 16 || !body.fits(v + 4, 16 + 16 + 4)) return std::nullopt;
    std::memcpy(fp.salt.data(), body.data() + v + 4, 16);
    std::memcpy(fp.verifier.data(), body.data() + v + 20, 16);
    const std::uint32_t hash_size = body.le_or<std::uint32_t>(v + 36, 0);
    if (hash_size != 20 || !body.fits(v + 40, 20)) return std::nullopt;
    fp.verifier_hash.assign(body.data() + v + 40, body.data() + v + 60);
    return fp;
  }
  fp.method = Encryption::unknown;
  return fp;
}

std::vector<std::uint8_t> write_filepass(const FilePass& fp) {
  std::vector<std::uint8_t> b;
  auto u16 = [&](std::uint16_t v) {
    b.push_back(static_cast<std::uint8_t>(v));
    b.push_back(static_cast<std::uint8_t>(v >> 8));
  };
  auto u32 = [&](std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v));
    u16(static_cast<std::uint16_t>(v >> 16));
  };
  if (fp.method == Encryption::xor_obfuscation) {
    u16(0);
    u16(0x1234);
    u16(0x5678);
    return b;
  }
  u16(1);
  if (fp.method == Encryption::rc4) {
    u16(1);
    u16(1);
    b.insert(b.end(), fp.salt.begin(), fp.salt.end());
    b.insert(b.end(), fp.verifier.begin(), fp.verifier.end());
    b.insert(b.end(), fp.verifier_hash.begin(), fp.verifier_hash.end());
    return b;
  }
  u16(fp.major ? fp.major : 2);
  u16(2);
  u32(0x04);                      // EncryptionHeaderFlags: fCryptoAPI
  const std::u16string csp = u"Microsoft Base Cryptographic Provider v1.0";
  const std::uint32_t hsize = 32 + static_cast<std::uint32_t>((csp.size() + 1) * 2);
  u32(hsize);
  u32(0x04);                      // Flags
  u32(0);                         // SizeExtra
  u32(0x6801);                    // AlgID: RC4
  u32(0x8004);                    // AlgIDHash: SHA-1
  u32(fp.key_bits);
  u32(1);                         // ProviderType: PROV_RSA_FULL
  u32(0);
  u32(0);
  for (char16_t c : csp) u16(static_cast<std::uint16_t>(c));
  u16(0);
  u32(16);
  b.insert(b.end(), fp.salt.begin(), fp.salt.end());
  b.insert(b.end(), fp.verifier.begin(), fp.verifier.end());
  u32(20);
  b.insert(b.end(), fp.verifier_hash.begin(), fp.verifier_hash.end());
  return b;
}

void make_verifier(FilePass& fp, std::u16string_view password, const std::array<std::uint8_t, 16>& verifier_plain) {
  const KeyBase kb(fp, password);
  const auto key = kb.block_key(0);
  Rc4 rc4(key);
  fp.verifier = verifier_plain;
  rc4.apply(fp.verifier);
  fp.verifier_hash = fp.method == Encryption::rc4 ? digest(EVP_md5(), verifier_plain)
                                                  : digest(EVP_sha1(), verifier_plain);
  rc4.apply(fp.verifier_hash);
}

bool check_password(const FilePass& fp, std::u16string_view password) {
  if (fp.method != Encryption::rc4 && fp.method != Encryption::rc4_cryptoapi) return false;
  const KeyBase kb(fp, password);
  const auto key = kb.block_key(0);
  if (key.empty()) return false;
  Rc4 rc4(key);
  auto v = fp.verifier;
  rc4.apply(v);
  auto h = fp.verifier_hash;
  rc4.apply(h);
  const auto expect = fp.method == Encryption::rc4 ? digest(EVP_md5(), v) : digest(EVP_sha1(), v);
  return !expect.empty() && expect.size() == h.size() && std::memcmp(expect.data(), h.data(), h.size()) == 0;
}

void rc4_crypt_stream(std::span<std::uint8_t> stream, std::uint64_t filepass_end, const FilePass& fp,
                      std::u16string_view password) {
  const KeyBase kb(fp, password);
  Keystream ks(kb);
  const ByteView v(stream.data(), stream.size());
  std::uint64_t pos = filepass_end;
  for (std::uint32_t n = 0; n < limits::max_records && v.fits(pos, 4); ++n) {
    const std::uint16_t type = v.le_or<std::uint16_t>(pos, 0);
    const std::uint16_t size = v.le_or<std::uint16_t>(pos + 2, 0);
    const std::uint64_t body = pos + 4;
    const std::uint64_t len = std::min<std::uint64_t>(size, stream.size() - body);
    if (!record_in_clear(type)) {
      std::uint64_t skip = type == 0x0085 ? 4 : 0;  // BoundSheet8.lbPlyPos stays in the clear
      if (skip < len) ks.apply(stream.subspan(static_cast<std::size_t>(body + skip), static_cast<std::size_t>(len - skip)),
                               body + skip);
    }
    pos = body + size;
  }
}

std::vector<EncryptedStream> decrypt_encryption_stream(ByteView enc, const FilePass& fp, std::u16string_view password) {
  std::vector<EncryptedStream> out;
  if (fp.method != Encryption::rc4_cryptoapi || enc.size() < 8) return out;
  const KeyBase kb(fp, password);
  auto crypt = [&](std::uint32_t block, std::uint64_t at, std::uint64_t n) {
    std::vector<std::uint8_t> b(enc.data() + at, enc.data() + at + n);
    const auto key = kb.block_key(block);
    if (key.empty()) return std::vector<std::uint8_t>{};
    Rc4 rc4(key);
    rc4.apply(b);
    return b;
  };
  const auto head = crypt(0, 0, 8);
  if (head.size() != 8) return out;
  const ByteView h(head.data(), head.size());
  const std::uint64_t array_at = h.le_or<std::uint32_t>(0, 0), array_size = h.le_or<std::uint32_t>(4, 0);
  if (array_at < 8 || array_at > enc.size() || array_size > enc.size() - array_at || array_size < 4) return out;
  const auto arr = crypt(0, array_at, array_size);
  const ByteView a(arr.data(), arr.size());
  const std::uint32_t count = a.le_or<std::uint32_t>(0, 0);
  if (count > 256) return out;
  std::uint64_t pos = 4;
  for (std::uint32_t k = 0; k < count; ++k) {
    // StreamOffset, StreamSize, Block, NameSize (characters), flags, Reserved2, the UTF-16 name and its NUL.
    if (!a.fits(pos, 16)) return {};
    const std::uint64_t at = a.le_or<std::uint32_t>(pos, 0), size = a.le_or<std::uint32_t>(pos + 4, 0);
    const std::uint16_t block = a.le_or<std::uint16_t>(pos + 8, 0);
    const std::uint8_t chars = a.data()[pos + 10];
    pos += 16;
    if (!a.fits(pos, 2ull * chars + 2)) return {};
    EncryptedStream s;
    for (std::uint8_t c = 0; c < chars; ++c) {
      const std::uint16_t u = a.le_or<std::uint16_t>(pos + 2ull * c, 0);
      s.name += u < 0x100 ? static_cast<char>(u) : '?';
    }
    pos += 2ull * chars + 2;
    if (at > enc.size() || size > enc.size() - at) continue;
    s.bytes = crypt(block, at, size);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::uint8_t> write_encryption_stream(const std::vector<EncryptedStream>& streams, const FilePass& fp,
                                                  std::u16string_view password) {
  const KeyBase kb(fp, password);
  auto crypt = [&](std::uint32_t block, std::span<std::uint8_t> b) {
    Rc4 rc4(kb.block_key(block));
    rc4.apply(b);
  };
  auto u32 = [](std::vector<std::uint8_t>& b, std::uint32_t v) {
    for (int k = 0; k < 4; ++k) b.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
  };
  std::vector<std::uint8_t> out(8, 0), arr;
  u32(arr, static_cast<std::uint32_t>(streams.size()));
  for (std::size_t k = 0; k < streams.size(); ++k) {
    const auto& st = streams[k];
    const auto at = static_cast<std::uint32_t>(out.size());
    std::vector<std::uint8_t> body(st.bytes);
    crypt(static_cast<std::uint32_t>(k), body);
    out.insert(out.end(), body.begin(), body.end());
    u32(arr, at);
    u32(arr, static_cast<std::uint32_t>(body.size()));
    arr.push_back(static_cast<std::uint8_t>(k));
    arr.push_back(static_cast<std::uint8_t>(k >> 8));
    arr.push_back(static_cast<std::uint8_t>(st.name.size()));
    arr.push_back(1);  // fStream
    u32(arr, 0);
    for (char c : st.name) {
      arr.push_back(static_cast<std::uint8_t>(c));
      arr.push_back(0);
    }
    arr.push_back(0);
    arr.push_back(0);
  }
  std::vector<std::uint8_t> head;
  u32(head, static_cast<std::uint32_t>(out.size()));
  u32(head, static_cast<std::uint32_t>(arr.size()));
  crypt(0, head);
  std::copy(head.begin(), head.end(), out.begin());
  crypt(0, arr);
  out.insert(out.end(), arr.begin(), arr.end());
  return out;
}

}  // namespace mamori::xls
