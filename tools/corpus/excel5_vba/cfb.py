# Minimal compound-file reader used only by find.py (our own, for the study of Excel 5/95 VBA; no validation beyond what the study needed).
# minimal CFB reader for study (read-only)
import struct, sys
class CFB:
    def __init__(s, data):
        s.d = data
        assert data[:8] == bytes.fromhex('d0cf11e0a1b11ae1')
        s.ss = 1 << struct.unpack_from('<H', data, 30)[0]
        s.mss = 1 << struct.unpack_from('<H', data, 32)[0]
        ndifat_first = 0
        dir_start = struct.unpack_from('<I', data, 48)[0]
        s.cutoff = struct.unpack_from('<I', data, 56)[0]
        mini_fat_start = struct.unpack_from('<I', data, 60)[0]
        difat_start = struct.unpack_from('<I', data, 68)[0]
        ndifat = struct.unpack_from('<I', data, 72)[0]
        difat = list(struct.unpack_from('<109I', data, 76))
        sec = difat_start; n=0
        while sec < 0xFFFFFFFA and n < 1000:
            off = (sec+1)*s.ss
            vals = struct.unpack_from('<%dI' % (s.ss//4), data, off)
            difat += vals[:-1]; sec = vals[-1]; n+=1
        s.fat = []
        for sct in difat:
            if sct >= 0xFFFFFFFA: continue
            off=(sct+1)*s.ss
            if off+s.ss > len(data): continue
            s.fat += struct.unpack_from('<%dI' % (s.ss//4), data, off)
        dirb = s.chain(dir_start)
        s.entries = []
        for i in range(len(dirb)//128):
            e = dirb[i*128:(i+1)*128]
            nl = struct.unpack_from('<H', e, 64)[0]
            name = e[:max(0,nl-2)].decode('utf-16le','replace')
            typ = e[66]
            l,r,c = struct.unpack_from('<III', e, 68)
            start, size = struct.unpack_from('<IQ', e, 116)
            if s.ss == 512: size &= 0xffffffff
            s.entries.append(dict(name=name,type=typ,left=l,right=r,child=c,start=start,size=size))
        root = s.entries[0]
        s.ministream = s.chain(root['start'])[:root['size']]
        s.minifat = []
        mf = s.chain(mini_fat_start) if mini_fat_start < 0xFFFFFFFA else b''
        s.minifat = list(struct.unpack_from('<%dI' % (len(mf)//4), mf, 0))
        s.paths = {}
        s.walk(0, '')
    def chain(s, start):
        out = bytearray(); sec = start; n=0
        while sec < len(s.fat) and n < 1000000:
            out += s.d[(sec+1)*s.ss:(sec+2)*s.ss]; sec = s.fat[sec]; n+=1
        return bytes(out)
    def minichain(s, start):
        out = bytearray(); sec = start; n=0
        while sec < len(s.minifat) and n < 1000000:
            out += s.ministream[sec*s.mss:(sec+1)*s.mss]; sec = s.minifat[sec]; n+=1
        return bytes(out)
    def walk(s, idx, prefix, seen=None):
        seen = seen if seen is not None else set()
        e = s.entries[idx]
        stack = [e['child']] if True else []
        while stack:
            i = stack.pop()
            if i >= len(s.entries) or i in seen: continue
            seen.add(i)
            c = s.entries[i]
            stack += [c['left'], c['right']]
            p = (prefix + '/' if prefix else '') + c['name']
            s.paths[p] = i
            if c['type'] in (1,5): s.walk(i, p, seen)
    def read(s, path):
        e = s.entries[s.paths[path]]
        if e['size'] < s.cutoff: return s.minichain(e['start'])[:e['size']]
        return s.chain(e['start'])[:e['size']]
