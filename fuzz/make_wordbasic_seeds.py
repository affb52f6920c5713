#!/usr/bin/env python3
"""Writes synthetic Word 6/95 WordDocument streams for fuzz_wordbasic into fuzz/seeds/wordbasic (stdlib only).

    python3 fuzz/make_wordbasic_seeds.py [OUT_DIR]

A 0x200-byte FIB (wIdent 0xA5DC, nFib 104, fcCmds/lcbCmds at 0x118/0x11C), token bodies (one XOR-keyed) and a
command table with every record kind the reader knows (see src/formats/vba/wordbasic.hpp). Nothing from real files.
"""
import os, struct, sys

def text(tok, s):
    return bytes([tok, len(s)]) + s.encode()

def body():
    b = b"\x01\x00" + b"\x1b" + text(0x69, "MAIN") + b"\x64"
    b += text(0x69, "a$") + b"\x0c" + b"\x67\x25\x80\x05\x06\x64"
    b += b"\x67\xc2\x80" + text(0x69, "a$") + b"\x07" + text(0x6a, ":AutoOpen") + b"\x12" + text(0x6a, "Global:X") + b"\x64"
    b += b"\x23" + text(0x69, "i") + b"\x0c\x6c\x01\x00\x24\x6c\x03\x00\x64\x26" + text(0x69, "i") + b"\x64"
    b += text(0x6b, "note") + b"\x64" + b"\x68" + struct.pack("<d", 2.5) + b"\x6e\x02" + text(0x65, "L") + b"\x19\x64"
    return b + b"\x1a\x1b"

def document(keys):
    w = bytearray(0x200)
    struct.pack_into("<HH", w, 0, 0xA5DC, 104)
    names = ["AutoOpen", "FileSaveAs", "Payload"][: len(keys)]
    offs = []
    for k in keys:
        offs.append(len(w))
        w += bytes(c ^ k for c in body())
    t = bytearray(b"\xff\x01") + struct.pack("<H", len(keys))
    for i, k in enumerate(keys):
        t += struct.pack("<BBHHHIIII", 0x55, k, i, 0, 0xFFFF, 0, len(body()), 4, offs[i])
    t += b"\x02" + struct.pack("<HI", 1, 0x10002) + b"\x03" + struct.pack("<H", 1) + bytes(14)
    t += b"\x05" + struct.pack("<H", 1) + bytes(12)
    sttb = b"".join(bytes([len(n)]) + n.encode() + b"\x01\x00" for n in names)
    t += b"\x10" + struct.pack("<H", len(sttb) + 2) + sttb
    t += b"\x11" + struct.pack("<H", len(names)) + b"".join(struct.pack("<HB", i, len(n)) + n.encode() + b"\0" for i, n in enumerate(names))
    t += b"\x12\x00\x00\x40"
    struct.pack_into("<II", w, 0x118, len(w), len(t))
    return bytes(w + t)

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "seeds", "wordbasic")
os.makedirs(out, exist_ok=True)
for name, data in {"one-plain": document([0]), "three-keyed": document([0, 0xEF, 0x5A]), "body-only": body()}.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
