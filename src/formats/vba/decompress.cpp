// [MS-OVBA] 2.4.1: the run-length/LZ77 compression of the dir stream and the module sources. A CompressedContainer
// is a 0x01 signature byte and a sequence of chunks; each chunk has a 2-byte header (size - 3 in bits 0-11,
// signature 0b011 in bits 12-14, which Office ignores, "compressed" in bit 15) and decompresses to at most 4096 bytes. A compressed
// chunk is a sequence of flag bytes, each followed by up to 8 tokens: a literal byte (flag bit 0) or a 16-bit copy
// token (flag bit 1) whose offset/length split depends on how far into the chunk the output is.
#include <algorithm>
#include <bit>
#include <cstring>

#include "formats/vba/vba.hpp"

namespace mamori::vba {

const char* decompress_status_name(DecompressStatus s) noexcept {
  switch (s) {
    case DecompressStatus::ok: return "ok";
    case DecompressStatus::empty: return "empty";
    case DecompressStatus::bad_signature: return "bad_signature";
    case DecompressStatus::bad_chunk_signature: return "bad_chunk_signature";
    case DecompressStatus::truncated: return "truncated";
    case DecompressStatus::bad_copy_offset: return "bad_copy_offset";
    case DecompressStatus::chunk_overflow: return "chunk_overflow";
    case DecompressStatus::output_capped: return "output_capped";
  }
  return "unknown";
}

namespace {

constexpr std::uint64_t kChunkOut = 4096;

// Number of offset bits in a copy token when `produced` bytes of the chunk are already out: the smallest n >= 4
// with 2^n >= produced ([MS-OVBA] 2.4.1.3.19.1 CopyToken Help).
unsigned offset_bits(std::uint64_t produced) {
  // bit_width(produced - 1) is that smallest n for produced >= 1; a chunk holds at most 4096 bytes, so n <= 12.
  const unsigned n = produced <= 1 ? 0 : static_cast<unsigned>(std::bit_width(produced - 1));
  return std::clamp(n, 4u, 12u);
}

}  // namespace

Decompressed decompress(ByteView in, std::uint64_t max_out) {
  Decompressed d;
  auto& out = d.bytes;
  if (in.empty()) {
    d.status = DecompressStatus::empty;
    return d;
  }
  if (in.le_or<std::uint8_t>(0, 0) != 0x01) {
    d.status = DecompressStatus::bad_signature;
    return d;
  }
  // Source text compresses to about a third: room for that up front instead of growing byte by byte.
  out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(max_out, std::min<std::uint64_t>(in.size(), 1u << 24) * 3)));
  std::uint64_t pos = 1;
  bool bad_chunk_signature = false;
  while (pos < in.size()) {
    const auto header = in.u16(pos);
    if (!header) {
      d.status = DecompressStatus::truncated;
      return d;
    }
    // Office does not check the signature bits, and Emotet's 2020 documents set them wrong so that tools which do
    // read no macro at all: the chunk is decoded as if they were right, and the status says they were not.
    if (((*header >> 12) & 0x7) != 0x3) bad_chunk_signature = true;
    ++d.chunks;
    const std::uint64_t chunk_start = pos;
    const std::uint64_t chunk_size = (*header & 0x0FFFu) + 3u;
    const bool compressed = (*header & 0x8000u) != 0;
    const std::uint64_t out_start = out.size();
    pos += 2;
    if (!compressed) {
      // A raw chunk carries 4096 literal bytes.
      const ByteView raw = in.clamp(pos, kChunkOut);
      const std::uint64_t n = std::min<std::uint64_t>(raw.size(), max_out - out.size());
      out.insert(out.end(), raw.data(), raw.data() + n);
      pos += kChunkOut;
      if (n < raw.size()) {
        d.status = DecompressStatus::output_capped;
        return d;
      }
      if (raw.size() < kChunkOut) {
        d.status = DecompressStatus::truncated;
        return d;
      }
      continue;
    }
    const bool cut = chunk_size > in.size() - chunk_start;
    const std::uint64_t end = cut ? in.size() : chunk_start + chunk_size;
    // The chunk is decoded into a buffer of its own (a chunk holds at most kChunkOut bytes: the chunk_overflow
    // check) and appended once, instead of growing `out` byte by byte; the caps are checked against what `out`
    // would hold, so where a stream stops, and with which status, is as before. pos < end <= in.size() wherever a
    // byte is read, so the reads need no further bounds.
    const std::uint8_t* src = in.data();
    std::uint8_t chunk[kChunkOut];
    std::uint64_t produced = 0;
    const std::uint64_t out_room = max_out - out_start;  // out.size() <= max_out between chunks
    DecompressStatus stop = DecompressStatus::ok;
    while (pos < end && stop == DecompressStatus::ok) {
      const std::uint8_t flags = src[pos];
      ++pos;
      for (unsigned bit = 0; bit < 8 && pos < end; ++bit) {
        if (produced >= out_room) {
          stop = DecompressStatus::output_capped;
          break;
        }
        if (produced >= kChunkOut) {
          stop = DecompressStatus::chunk_overflow;
          break;
        }
        if (((flags >> bit) & 1u) == 0) {
          chunk[produced++] = src[pos];
          ++pos;
          continue;
        }
        if (end - pos < 2) {
          stop = DecompressStatus::truncated;
          break;
        }
        const auto token = static_cast<std::uint16_t>(src[pos] | (src[pos + 1] << 8));
        pos += 2;
        const unsigned bits = offset_bits(produced);
        const std::uint16_t length_mask = static_cast<std::uint16_t>(0xFFFFu >> bits);
        const std::uint64_t length = (token & length_mask) + 3u;
        const std::uint64_t offset = (static_cast<std::uint32_t>(token) >> (16 - bits)) + 1u;
        if (offset > produced) {
          stop = DecompressStatus::bad_copy_offset;
          break;
        }
        // The bytes that fit under both caps are copied; past them, the cap reached first (the output's, then the
        // chunk's, as a byte-by-byte copy checks them) ends the stream.
        const std::uint64_t room = std::min(out_room - produced, kChunkOut - produced);
        const std::uint64_t n = std::min(length, room);
        const std::size_t from = static_cast<std::size_t>(produced - offset);
        if (offset >= n) {
          std::memcpy(chunk + produced, chunk + from, static_cast<std::size_t>(n));
        } else {
          // The source overlaps the bytes being written (a run): byte by byte.
          for (std::uint64_t i = 0; i < n; ++i) chunk[produced + i] = chunk[from + static_cast<std::size_t>(i)];
        }
        produced += n;
        if (n < length) {
          stop = produced >= out_room ? DecompressStatus::output_capped : DecompressStatus::chunk_overflow;
          break;
        }
      }
    }
    out.insert(out.end(), chunk, chunk + produced);
    if (stop != DecompressStatus::ok) {
      d.status = stop;
      return d;
    }
    if (cut) {
      d.status = DecompressStatus::truncated;
      return d;
    }
  }
  if (bad_chunk_signature) d.status = DecompressStatus::bad_chunk_signature;
  return d;
}

}  // namespace mamori::vba
