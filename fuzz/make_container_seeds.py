#!/usr/bin/env python3
"""Writes small synthetic seeds for fuzz_archive and fuzz_mime (no bytes from real samples).

    python3 fuzz/make_container_seeds.py fuzz/seeds/archive fuzz/seeds/mime
"""
import bz2, gzip, io, lzma, os, sys, tarfile, zipfile


def write(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def archives(d):
    os.makedirs(d, exist_ok=True)
    for method, tag in ((zipfile.ZIP_STORED, "stored"), (zipfile.ZIP_DEFLATED, "deflate"), (zipfile.ZIP_BZIP2, "bzip2")):
        b = io.BytesIO()
        with zipfile.ZipFile(b, "w", method) as z:
            z.writestr("a.txt", "hello " * 20)
            z.writestr("dir/b.bin", bytes(range(64)))
            z.writestr("[Content_Types].xml", "<Types/>")
        write(d, f"zip-{tag}.zip", b.getvalue())
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w") as t:
        data = b"tar member " * 10
        ti = tarfile.TarInfo("m.txt")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    tar = b.getvalue()
    write(d, "plain.tar", tar)
    write(d, "tar.gz", gzip.compress(tar))
    write(d, "raw.gz", gzip.compress(b"just a stream " * 8))
    write(d, "raw.bz2", bz2.compress(b"just a stream " * 8))
    write(d, "raw.xz", lzma.compress(b"just a stream " * 8))
    write(d, "padded.gz", gzip.compress(b"head" + bytes(200000) + b"tail"))


def mails(d):
    os.makedirs(d, exist_ok=True)
    write(d, "plain.eml", b"From: a@example.com\r\nTo: b@example.org\r\nSubject: RE: hello\r\nDate: Tue, 14 Nov 2023 09:30:00 +0900\r\n"
          b"Message-ID: <x@y>\r\n\r\nPassword: abc123\r\n> quoted\r\nOn Mon, Bob wrote:\r\n")
    write(d, "multipart.eml", b"From: a@example.com\r\nSubject: =?UTF-8?B?6KuL5rGC5pu4?=\r\nMIME-Version: 1.0\r\n"
          b"Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
          b"\xe3\x83\x91\xe3\x82\xb9\xe3\x83\xaf\xe3\x83\xbc\xe3\x83\x89\xe3\x81\xaf k9 \xe3\x81\xa7\xe3\x81\x99\r\n"
          b"begin 644 c.txt\r\n#0V%T\r\n`\r\nend\r\n--B\r\nContent-Type: application/zip\r\n"
          b"Content-Disposition: attachment; filename*=UTF-8''%E8%AB%8B.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
          b"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\r\n--B\r\nContent-Type: message/rfc822\r\n\r\nFrom: c@d\r\nSubject: inner\r\n\r\nbody\r\n--B--\r\n")
    write(d, "mbox", b"From a@x Tue Nov 14 09:30:00 2023\nSubject: one\n\nbody1\n\nFrom b@x Tue Nov 14 09:31:00 2023\nSubject: two\n\nbody2\n")


if __name__ == "__main__":
    archives(sys.argv[1])
    mails(sys.argv[2])
