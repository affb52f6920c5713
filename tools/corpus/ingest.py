#!/usr/bin/env python3
"""ingest.py - add the files under ROOT(s) to the v2 corpus (stdlib only; never executes anything).

Usage:
  ingest.py --out DIR --label benign|malicious --group GROUP [--family F | --family-from-path]
            [--password P]... [--archive NAME] [--kinds pe,doc] [--max-per-group N]
            [--max-size BYTES] [--exclude REGEX] ROOT...

Walks every ROOT (files or folders; symlinks are not followed).  Archives met on the way
(zip/jar/whl/nupkg/vsix, tar*, 7z, rar, cab, gz/xz/bz2, and zip/7z/rar with the passwords given,
"infected" always tried) are opened in memory or with `7z x` into a scratch folder, never run.
Files are classified by content:
  pe      : MZ + PE\\0\\0  -> subkind  PE32-exe / PE32+-dll [,dotnet][,installer:X][,driver][,efi][,signed][,arch]
  office/rtf/pdf/lnk/onenote (only when 'doc' is in --kinds); with --kinds pdf only PDF files are kept
Every kept file is copied to DIR/<label>/<kind>/<sha256> (mode 0444), one row is appended to
DIR/manifest.tsv (sha256 label kind subkind family size group archive name path).  Everything
not kept gets a row in DIR/skipped.tsv (group archive name size reason).
Dedupe: by sha256 against DIR/manifest.tsv and every --seen manifest (default
/tmp/mamori-corpus/manifest.tsv and ../shared/corpus/manifest.tsv when present).
"""
import argparse, bz2, gzip, hashlib, io, lzma, os, re, shutil, struct, subprocess, sys, tarfile, tempfile, zipfile

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_MEMBER = 512 * 1024 * 1024
ARCH_EXT = re.compile(r"\.(zip|jar|whl|nupkg|vsix|apk|xpi|egg|7z|rar|cab|tar|tgz|tbz2?|txz|gz|xz|bz2|zst|001|zipx|iso|deb)$", re.I)
ARCH_MAGIC = [(b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"7z\xbc\xaf\x27\x1c", "7z"),
              (b"Rar!\x1a\x07", "rar"), (b"MSCF\0\0\0\0", "cab"), (b"\x1f\x8b", "gz"),
              (b"\xfd7zXZ\0", "xz"), (b"BZh", "bz2"), (b"!<arch>\ndebian", "deb")]
# runtime / library files that malware source dumps carry next to their own builds (benign, or not theirs)
LIBS = re.compile(r"(?i)^(system\.|microsoft\.|newtonsoft|mono\.|fody|costura|dnlib|naudio|xerces|xalan|zlib|unicodedata|"
                  r"ssleay|libeay|libssl|libcrypto|sqlite|pcre|libxml|libcurl|iconv|libiconv|bz2|_ssl|_socket|pyexpat|python[23]|"
                  r"winsound|wininst|w9xpopen|vcredist|select\.pyd|msvc|vcruntime|ucrtbase|api-ms-|_testcapi|_sqlite3|_multiprocessing|"
                  r"_msi|_hashlib|_elementtree|_ctypes|_bsddb|wpcap|packet\.dll|npptools|icu|xml4|handle_|nc\.exe|nc64|rar\.exe|"
                  r"verpatch|dumpel|compress\.exe|reg\.exe|dxghlp16|sqlite_jni|libegl|libglesv2|d3dcompiler|vulkan-1|vk_swiftshader|"
                  r"ffmpeg|obfuscar|dbgview|reshacker|notifu|toast\.exe|elevate\.exe|binkw32|metroset|guna|bunifu|"
                  r"interop\.|axinterop\.|protobuf|google\.|bouncycastle|ionic|sharpziplib|icsharpcode|dotnetzip|websocket|nlog|log4net|"
                  r"watsontcp|vestris|dynamitey|smdiagnostics|penet|iconlib|iconextractor|ip2region|fastcoloredtextbox|dotnetmagic|ssapi|"
                  r"mysql\.|npgsql|entityframework|devexpress|telerik|syncfusion|csharp\.|7z\.|7-zip|upx|ilmerge)")
OOXML_HINT = (b"[Content_Types].xml", b"word/", b"xl/", b"ppt/")


def clean(s):
    return str(s).replace("\t", " ").replace("\n", " ").replace("\r", " ")


# ------------------------------------------------------------------ PE parsing
def pe_subkind(data):
    """Return subkind string for a PE, or None (with reason) if not a PE."""
    if len(data) < 0x40 or data[:2] != b"MZ":
        return None, "not-mz"
    lf = struct.unpack_from("<I", data, 0x3C)[0]
    if lf < 0x40 - 0x40 or lf + 24 > len(data):
        return None, "mz-no-pe"
    sig = data[lf:lf + 4]
    if sig != b"PE\0\0":
        if sig[:2] == b"NE":
            return None, "ne16"
        if sig[:2] in (b"LE", b"LX"):
            return None, "le-lx"
        return None, "mz-no-pe"
    machine, nsec, _, _, _, optsz, chars = struct.unpack_from("<HHIIIHH", data, lf + 4)
    opt = lf + 24
    if opt + 2 > len(data):
        return None, "pe-truncated"
    magic = struct.unpack_from("<H", data, opt)[0]
    base = {0x10B: "PE32", 0x20B: "PE32+"}.get(magic)
    if base is None:
        return None, "pe-bad-magic"
    tags = []
    isdll = bool(chars & 0x2000)
    subsys = struct.unpack_from("<H", data, opt + 68)[0] if opt + 70 <= len(data) else 0
    dd = opt + (96 if magic == 0x10B else 112)
    def ddir(i):
        o = dd + i * 8
        return struct.unpack_from("<II", data, o) if o + 8 <= len(data) and o + 8 <= opt + optsz else (0, 0)
    clr = ddir(14)
    sec = ddir(4)
    if clr[0] and clr[1]:
        tags.append("dotnet")
    if subsys == 1:
        tags.append("driver")
    elif subsys in (10, 11, 12, 13):
        tags.append("efi")
    inst = installer_kind(data, lf, nsec, optsz)
    if inst:
        tags.append("installer:" + inst)
    if sec[0] and sec[1]:
        tags.append("signed")
    arch = {0x14C: None, 0x8664: None, 0xAA64: "arm64", 0x1C0: "arm", 0x1C4: "arm",
            0x200: "ia64", 0xEBC: "ebc", 0x5064: "riscv64"}.get(machine, "mach-%x" % machine)
    if arch:
        tags.append(arch)
    return base + ("-dll" if isdll else "-exe") + "".join("," + t for t in tags), None


def section_names(data, lf, nsec, optsz):
    st = lf + 24 + optsz
    out = []
    for i in range(min(nsec, 96)):
        o = st + 40 * i
        if o + 40 > len(data):
            break
        out.append(data[o:o + 8].rstrip(b"\0"))
    return out


def overlay_start(data, lf, nsec, optsz):
    st = lf + 24 + optsz
    end = 0
    for i in range(min(nsec, 96)):
        o = st + 40 * i
        if o + 40 > len(data):
            break
        rsz, rptr = struct.unpack_from("<II", data, o + 16)
        end = max(end, rptr + rsz)
    return end


def installer_kind(data, lf, nsec, optsz):
    secs = section_names(data, lf, nsec, optsz)
    if b".wixburn" in secs:
        return "wix-burn"
    ov = overlay_start(data, lf, nsec, optsz)
    tail = data[ov:ov + 4 * 1024 * 1024] if 0 < ov < len(data) else b""
    head = data[:ov] if ov else data[:4 * 1024 * 1024]
    if b"\xef\xbe\xad\xdeNullsoftInst" in tail or b"\xef\xbe\xad\xdeNullsoftInst" in data[:8 * 1024 * 1024]:
        return "nsis"
    if b"Inno Setup Setup Data" in data[:16 * 1024 * 1024] or tail.startswith(b"zlb\x1a") or b"Inno Setup Messages" in data[:16 * 1024 * 1024]:
        return "inno"
    if b"Inno Setup" in head and b"InnoSetupLdrWindow" in head:
        return "inno"
    if b"InstallShield" in head[:8 * 1024 * 1024] and tail:
        return "installshield"
    if tail[:8] == OLE:
        return "msi-sfx"
    if b"7z\xbc\xaf\x27\x1c" in tail[:65536]:
        return "7z-sfx"
    if tail[:6] == b"Rar!\x1a\x07":
        return "rar-sfx"
    if tail[:4] == b"PK\x03\x04" or (tail and b"PK\x05\x06" in data[-65536:]):
        return "zip-sfx"
    if b"Squirrel" in head and b"SquirrelSetup" in data:
        return "squirrel"
    if b"MSCF\0\0\0\0" in tail[:4096]:
        return "cab-sfx"
    return None


# ------------------------------------------------------------------ documents
def doc_kind(data, name, encrypted=False):
    """(kind, subkind) of a document, or (None, why). With encrypted, a compound file that only carries an encrypted
    OOXML package (EncryptedPackage stream: a password-protected docx/xlsx/pptx) is kept as office/ole_encrypted; the
    builders before corpus 10 did not keep those, so the option stays off unless a source line asks for it."""
    low = name.lower()
    if data[:8] == OLE:
        names = data[:2 * 1024 * 1024]
        vba = (b"V\0B\0A\0" in names) or (b"_\0V\0B\0A\0_\0P\0R\0O\0J\0E\0C\0T" in names) or (b"M\0a\0c\0r\0o\0s" in names)
        if b"W\0o\0r\0d\0D\0o\0c\0u\0m\0e\0n\0t" in names:
            app = "word"
        elif b"W\0o\0r\0k\0b\0o\0o\0k" in names or b"B\0o\0o\0k\0" in names:
            app = "excel"
        elif b"P\0o\0w\0e\0r\0P\0o\0i\0n\0t" in names:
            app = "ppt"
        elif encrypted and b"E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e" in names:
            return ("office", "ole_encrypted"), None
        else:
            return None, "ole-other"
        return ("office", "ole_%s%s" % (app, "_vba" if vba else "")), None
    if data[:4] == b"PK\x03\x04":
        try:
            z = zipfile.ZipFile(io.BytesIO(data))
            nl = z.namelist()
        except Exception:
            return None, "zip-bad"
        if "[Content_Types].xml" not in nl:
            return None, "zip-not-ooxml"
        app = "word" if any(n.startswith("word/") for n in nl) else "excel" if any(n.startswith("xl/") for n in nl) else "ppt" if any(n.startswith("ppt/") for n in nl) else "other"
        vba = any(n.lower().endswith("vbaproject.bin") for n in nl)
        xlm = any(n.startswith("xl/macrosheets/") for n in nl)
        tmpl = False
        for n in nl:
            if n.endswith(".rels") and n.startswith(("word/_rels/settings", "word/_rels/document")):
                try:
                    r = z.read(n)
                    if b"attachedTemplate" in r and b'TargetMode="External"' in r:
                        tmpl = True
                except Exception:
                    pass
        sub = "ooxml_%s%s%s%s" % (app, "_vba" if vba else "", "_xlm" if xlm else "", "_remote_template" if tmpl else "")
        return ("office", sub), None
    if data[:5] == b"{\\rtf" or data[:4] == b"{\\rt":
        return ("rtf", "rtf"), None
    if data[:5] == b"%PDF-":
        return ("pdf", "pdf"), None
    if data[:4] == b"\x4c\0\0\0" and data[4:20] == b"\x01\x14\x02\0\0\0\0\0\xc0\0\0\0\0\0\0\x46":
        return ("lnk", "lnk"), None
    if data[:16] == bytes.fromhex("e4525c7b8cd8a74daeb15378d02996d3"):
        return ("onenote", "onenote"), None
    return None, "not-doc"


# ------------------------------------------------------------------ archives
def arch_type(data, name):
    for m, t in ARCH_MAGIC:
        if data.startswith(m):
            if t == "zip":
                # an OOXML document is a document, not a container
                head = data[:4096]
                if any(h in head for h in OOXML_HINT) and not name.lower().endswith((".zip", ".jar", ".whl", ".nupkg", ".vsix")):
                    return None
            return t
    if data[:8] == OLE and name.lower().endswith((".msi", ".msm", ".msp")):
        return "msi"   # Windows Installer package: 7z lists its streams (embedded cabinets, Binary table)
    if len(data) > 262 and data[257:262] == b"ustar":
        return "tar"
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return "zst"
    return None


class Ingest:
    def __init__(self, a):
        self.a = a
        self.out = a.out
        os.makedirs(self.out, exist_ok=True)
        self.seen = set()
        self.man_path = os.path.join(self.out, "manifest.tsv")
        self.skip_path = os.path.join(self.out, "skipped.tsv")
        if not os.path.exists(self.man_path):
            with open(self.man_path, "w") as f:
                f.write("sha256\tlabel\tkind\tsubkind\tfamily\tsize\tgroup\tarchive\tname\tpath\n")
        if not os.path.exists(self.skip_path):
            with open(self.skip_path, "w") as f:
                f.write("group\tarchive\tname\tsize\treason\n")
        self.group_count = 0
        for p in [self.man_path] + (a.seen or []):
            if p and os.path.exists(p):
                with open(p, errors="replace") as f:
                    for line in f:
                        h = line.split("\t", 1)[0]
                        if len(h) == 64:
                            self.seen.add(h)
                        if p == self.man_path and line.split("\t")[6:7] == [a.group]:
                            self.group_count += 1
        self.own = set()
        with open(self.man_path) as f:
            for line in f:
                self.own.add(line.split("\t", 1)[0])
        self.man = open(self.man_path, "a")
        self.skip = open(self.skip_path, "a")
        self.passwords = list(dict.fromkeys((a.password or []) + ["infected", "Infected", "INFECTED", "malware", "virus", "infect3d"]))
        self.kinds = set(a.kinds.split(","))
        self.excl = re.compile("|".join(("(?i:%s)" % x[4:]) if x.startswith("(?i)") else "(?:%s)" % x
                                        for x in a.exclude)) if a.exclude else None
        self.incl = re.compile(a.include) if a.include else None
        # test suites that keep live samples XOR-encoded (so that scanners leave the checkout alone): KEY:REGEX
        self.xor = None
        if a.xor_decode:
            key, _, rx = a.xor_decode.partition(":")
            self.xor = (int(key, 0) & 0xFF, re.compile(rx))
        self.new = 0
        self.tmp = tempfile.mkdtemp(prefix="ingest.", dir=a.tmp)

    def skipped(self, archive, name, size, reason):
        self.skip.write("%s\t%s\t%s\t%s\t%s\n" % (clean(self.a.group), clean(archive), clean(name), size, reason))

    def family(self, name):
        if self.a.family:
            return self.a.family
        if self.a.family_from_path:
            parts = [p for p in re.split(r"[\\/!]", name) if p]
            if len(parts) >= 2:
                fam = parts[self.a.family_from_path - 1] if len(parts) > self.a.family_from_path - 1 else parts[0]
                fam = re.sub(r"\.(zip|7z|rar|exe|bin|dll)$", "", fam, flags=re.I)
                return clean(fam)[:60] or "-"
        return "-"

    def handle(self, data, archive, name, depth=0):
        size = len(data)
        if self.xor and self.xor[1].search(name):
            k = self.xor[0]
            data = bytes(b ^ k for b in data)
        if self.incl and depth == 0 and not self.incl.search(name):
            self.skipped(archive, name, size, "not-included-by-pattern")
            return
        if self.excl and self.excl.search(name):
            self.skipped(archive, name, size, "excluded-by-pattern")
            return
        at = arch_type(data, name)
        if at and depth < 4:
            self.open_archive(data, at, archive, name, depth)
            return
        if data[:2] == b"MZ":
            if "pe" not in self.kinds:
                self.skipped(archive, name, size, "pe-not-wanted")
                return
            sub, why = pe_subkind(data)
            if sub is None:
                self.skipped(archive, name, size, why)
                return
            if self.a.exclude_libs and (",signed" in sub or LIBS.search(name.rsplit("/", 1)[-1].rsplit("!", 1)[-1])):
                self.skipped(archive, name, size, "third-party-component")
                return
            self.keep(data, "pe", sub, archive, name)
            return
        if "pdf" in self.kinds and "doc" not in self.kinds:
            # PDF-only pass: viewers accept the header anywhere in the first KiB, so the corpus does too
            if b"%PDF-" in data[:1024]:
                self.keep(data, "pdf", "pdf", archive, name)
            else:
                self.skipped(archive, name, size, "not-pdf" if at is None else "archive-too-deep")
            return
        if "doc" in self.kinds:
            dk, why = doc_kind(data, name, "encrypted" in self.kinds)
            if dk:
                self.keep(data, dk[0], dk[1], archive, name)
                return
            self.skipped(archive, name, size, why if at is None else "archive-too-deep")
            return
        self.skipped(archive, name, size, "not-pe" if at is None else "archive-too-deep")

    def keep(self, data, kind, sub, archive, name):
        size = len(data)
        if size > self.a.max_size:
            self.skipped(archive, name, size, "too-large")
            return
        if size < 256:
            self.skipped(archive, name, size, "too-small")
            return
        h = hashlib.sha256(data).hexdigest()
        if h in self.seen:
            self.skipped(archive, name, size, "duplicate:" + h + (":v2" if h in self.own else ":v1"))
            return
        if self.a.max_per_group and self.group_count >= self.a.max_per_group:
            self.skipped(archive, name, size, "group-cap")
            return
        self.seen.add(h)
        self.own.add(h)
        d = os.path.join(self.out, self.a.label, kind)
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, h)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, 0o444)
        self.man.write("\t".join(clean(x) for x in (h, self.a.label, kind, sub, self.family(name), size, self.a.group,
                                                      archive, name, os.path.abspath(p))) + "\n")
        self.group_count += 1
        self.new += 1

    def open_archive(self, data, at, archive, name, depth):
        try:
            if at == "zip" and not self._zip_needs_7z(data):
                z = zipfile.ZipFile(io.BytesIO(data))
                for zi in z.infolist():
                    if zi.is_dir():
                        continue
                    if zi.file_size > MAX_MEMBER:
                        self.skipped(archive, name + "!" + zi.filename, zi.file_size, "member-too-large")
                        continue
                    blob = None
                    if zi.flag_bits & 1:
                        for pw in self.passwords:
                            try:
                                blob = z.read(zi, pwd=pw.encode())
                                break
                            except Exception:
                                continue
                        if blob is None:
                            self.skipped(archive, name + "!" + zi.filename, zi.file_size, "zip-password-unknown")
                            continue
                    else:
                        blob = z.read(zi)
                    self.handle(blob, archive, name + "!" + zi.filename, depth + 1)
                return
            if at == "tar":
                with tarfile.open(fileobj=io.BytesIO(data)) as t:
                    for m in t:
                        if m.isfile():
                            if m.size > MAX_MEMBER:
                                self.skipped(archive, name + "!" + m.name, m.size, "member-too-large")
                                continue
                            self.handle(t.extractfile(m).read(), archive, name + "!" + m.name, depth + 1)
                return
            if at in ("gz", "xz", "bz2"):
                mod = {"gz": gzip, "xz": lzma, "bz2": bz2}[at]
                blob = mod.decompress(data)
                inner = re.sub(r"\.(gz|xz|bz2|tgz|txz|tbz2?)$", "", name) or name + ".raw"
                self.handle(blob, archive, inner, depth + 1)
                return
            self._7z(data, at, archive, name, depth)
        except Exception as e:
            self.skipped(archive, name, len(data), "archive-error:%s:%s" % (at, clean(str(e))[:80]))

    def _zip_needs_7z(self, data):
        try:
            z = zipfile.ZipFile(io.BytesIO(data))
            for zi in z.infolist():
                if zi.compress_type not in (0, 8, 12, 14):
                    return True
            return False
        except Exception:
            return True

    def _7z(self, data, at, archive, name, depth):
        if at == "deb":
            self.skipped(archive, name, len(data), "nested-deb")
            return
        d = tempfile.mkdtemp(dir=self.tmp)
        src = os.path.join(d, "in.bin")
        with open(src, "wb") as f:
            f.write(data)
        ok = False
        for pw in [""] + self.passwords:
            dst = os.path.join(d, "x")
            shutil.rmtree(dst, ignore_errors=True)
            r = subprocess.run(["7z", "x", "-y", "-bd", "-p" + pw, "-o" + dst, src], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=600)
            if r.returncode == 0:
                ok = True
                break
            if b"Wrong password" not in r.stderr and b"password" not in r.stderr.lower():
                break
        if not ok:
            self.skipped(archive, name, len(data), "7z-failed:%s" % clean(r.stderr.decode(errors="replace"))[-80:])
        else:
            os.unlink(src)
            self.walk(dst, archive, name + "!", depth + 1)
        shutil.rmtree(d, ignore_errors=True)

    def walk(self, root, archive, prefix, depth):
        for dp, dns, fns in os.walk(root):
            dns.sort()
            for fn in sorted(fns):
                p = os.path.join(dp, fn)
                rel = os.path.relpath(p, root)
                if os.path.islink(p) or not os.path.isfile(p):
                    continue
                sz = os.path.getsize(p)
                if sz > MAX_MEMBER:
                    self.skipped(archive, prefix + rel, sz, "member-too-large")
                    continue
                with open(p, "rb") as f:
                    data = f.read()
                self.handle(data, archive, prefix + rel, depth)

    def run_git(self, gitdir, commit):
        """Read every blob of COMMIT straight from a bare git dir (no checkout, nothing written)."""
        ents = []
        if self.a.history:
            # every blob version in the history whose path matches --history (older builds of the same binaries)
            rx = re.compile(self.a.history)
            ro = subprocess.run(["git", "--git-dir", gitdir, "rev-list", "--objects", "--missing=allow-any"] + (["--all"] if self.a.all_refs else [commit]),
                                stdout=subprocess.PIPE, check=True).stdout.decode("utf-8", "replace")
            seenb = set()
            for line in ro.splitlines():
                parts = line.split(" ", 1)
                if len(parts) == 2 and rx.search(parts[1]) and parts[0] not in seenb:
                    seenb.add(parts[0])
                    ents.append((parts[0], parts[1] + "@" + parts[0][:10], "?"))
            ls = b""
        else:
            ls = subprocess.run(["git", "--git-dir", gitdir, "ls-tree", "-r", "-z", "-l", commit],
                                stdout=subprocess.PIPE, check=True).stdout
        for e in ls.split(b"\0"):
            if not e:
                continue
            meta, path = e.split(b"\t", 1)
            mode, typ, sha, size = meta.split()
            if typ != b"blob" or mode == b"120000":
                continue
            ents.append((sha.decode(), path.decode("utf-8", "replace"), size.decode()))
        cat = subprocess.Popen(["git", "--git-dir", gitdir, "cat-file", "--batch"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE)
        arch = self.a.archive or gitdir
        for sha, path, size in ents:
            cat.stdin.write(sha.encode() + b"\n")
            cat.stdin.flush()
            hdr = cat.stdout.readline().split()
            if len(hdr) < 3:
                self.skipped(arch, path, size, "blob-missing-in-snapshot")
                continue
            n = int(hdr[2])
            data = cat.stdout.read(n)
            cat.stdout.read(1)
            if hdr[1] != b"blob":
                continue
            self.handle(data, arch, path, 0)
        cat.stdin.close()
        cat.wait()

    def run(self, roots):
        if self.a.git_dir:
            self.run_git(self.a.git_dir, roots[0])
            roots = []
        for r in roots:
            if os.path.isdir(r):
                self.walk(r, self.a.archive or os.path.basename(r.rstrip("/")), "", 0)
            else:
                with open(r, "rb") as f:
                    self.handle(f.read(), self.a.archive or os.path.basename(r), os.path.basename(r), 0)
        self.man.close()
        self.skip.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        print("ingest %s: %d new files" % (self.a.group, self.new), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--label", required=True, choices=["benign", "malicious"])
    ap.add_argument("--group", required=True)
    ap.add_argument("--family")
    ap.add_argument("--family-from-path", type=int, default=0, help="use path component N (1-based) as family")
    ap.add_argument("--password", action="append")
    ap.add_argument("--archive")
    ap.add_argument("--kinds", default="pe")
    ap.add_argument("--max-per-group", type=int, default=0)
    ap.add_argument("--max-size", type=int, default=64 * 1024 * 1024)
    ap.add_argument("--exclude", action="append", help="skip paths matching this regex (repeatable: any of them)")
    ap.add_argument("--include", help="keep only top-level paths matching this regex")
    ap.add_argument("--xor-decode", metavar="KEY:REGEX",
                    help="XOR every byte of files whose path matches REGEX with KEY (e.g. 0x42) before typing them")
    ap.add_argument("--seen", action="append",
                    default=["/tmp/mamori-corpus/manifest.tsv",
                             os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/corpus/manifest.tsv")])
    ap.add_argument("--tmp", default=os.environ.get("TMPDIR", "/tmp"))
    ap.add_argument("--git-dir", help="read the tree of the commit given as the only ROOT from this bare git dir")
    ap.add_argument("--exclude-libs", action="store_true",
                    help="skip signed PE files and well-known library/runtime names (for malware source dumps)")
    ap.add_argument("--all-refs", action="store_true", help="with --history: walk every branch and tag, not just the commit")
    ap.add_argument("--history", help="with --git-dir: every version in the history of paths matching this regex")
    ap.add_argument("roots", nargs="+")
    a = ap.parse_args()
    Ingest(a).run(a.roots)


if __name__ == "__main__":
    main()
