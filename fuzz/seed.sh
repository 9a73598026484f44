#!/usr/bin/env bash
# Recreates the fuzz corpora (fuzz/corpus is gitignored) from the captures in tests/data.
#
#   corpus/reader/, corpus/split/  every capture under 200 KB, copied whole
#   corpus/decode/                 the first 50 frames of each such capture, each prefixed
#                                  with its link type as a u16 little-endian
#
# Seeds are named after their origin. Usage: fuzz/seed.sh (from anywhere). Needs python3.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data="$here/../tests/data"
corpus="$here/corpus"
max_bytes=$((200 * 1024))
frames_per_capture=50

mkdir -p "$corpus/reader" "$corpus/split" "$corpus/decode"

small=()
for f in "$data"/*; do
    [ -f "$f" ] || continue
    case "$(basename "$f")" in MANIFEST.tsv) continue ;; esac
    size=$(stat -c %s "$f")
    [ "$size" -lt "$max_bytes" ] || continue
    small+=("$f")
    cp -f "$f" "$corpus/reader/$(basename "$f")"
    cp -f "$f" "$corpus/split/$(basename "$f")"
done

python3 - "$corpus/decode" "$frames_per_capture" "${small[@]}" <<'PY'
import gzip, hashlib, os, struct, sys

out_dir, per_capture, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def frames(buf):
    """Yields (link_type, frame) from a pcap or pcapng byte string, stopping at damage."""
    magic = buf[:4]
    pcap = {b"\xd4\xc3\xb2\xa1": ("<", 16), b"\x4d\x3c\xb2\xa1": ("<", 16),
            b"\x34\xcd\xb2\xa1": ("<", 24), b"\xa1\xb2\xc3\xd4": (">", 16),
            b"\xa1\xb2\x3c\x4d": (">", 16), b"\xa1\xb2\xcd\x34": (">", 24)}
    if magic in pcap:
        e, rec_hdr = pcap[magic]
        if len(buf) < 24:
            return
        lt = struct.unpack(e + "I", buf[20:24])[0] & 0xFFFF
        pos = 24
        while pos + rec_hdr <= len(buf):
            incl = struct.unpack(e + "I", buf[pos + 8:pos + 12])[0]
            start = pos + rec_hdr
            if start + incl > len(buf):
                return
            yield lt, buf[start:start + incl]
            pos = start + incl
        return
    if magic != b"\x0a\x0d\x0d\x0a":
        return
    pos, e, links = 0, "<", []
    while pos + 12 <= len(buf):
        if buf[pos:pos + 4] == b"\x0a\x0d\x0d\x0a":
            e = "<" if buf[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        btype, blen = struct.unpack(e + "II", buf[pos:pos + 8])
        if blen < 12 or blen % 4 or pos + blen > len(buf):
            return
        body = buf[pos + 8:pos + blen - 4]
        if btype == 1 and len(body) >= 2:                       # IDB
            links.append(struct.unpack(e + "H", body[:2])[0])
        elif btype in (6, 2) and len(body) >= 20:               # EPB, obsolete PB
            if btype == 6:
                iface = struct.unpack(e + "I", body[:4])[0]
            else:
                iface = struct.unpack(e + "H", body[:2])[0]
            cap = struct.unpack(e + "I", body[12:16])[0]
            if iface < len(links) and 20 + cap <= len(body):
                yield links[iface], body[20:20 + cap]
        elif btype == 3 and len(body) >= 4 and links:           # SPB
            yield links[0], body[4:]
        pos += blen

seen = set()
written = 0
for path in paths:
    buf = open(path, "rb").read()
    if buf[:2] == b"\x1f\x8b":
        try:
            buf = gzip.decompress(buf)
        except Exception:
            continue
    name = os.path.basename(path)
    for n, (lt, frame) in enumerate(frames(buf)):
        if n >= per_capture:
            break
        seed = struct.pack("<H", lt) + frame
        digest = hashlib.sha1(seed).digest()
        if digest in seen:
            continue
        seen.add(digest)
        with open(os.path.join(out_dir, f"{name}__lt{lt}__frame{n:03d}"), "wb") as f:
            f.write(seed)
        written += 1
print(f"decode: {written} seeds from {len(paths)} captures")
PY

echo "reader: $(ls "$corpus/reader" | wc -l) seeds, split: $(ls "$corpus/split" | wc -l) seeds"
