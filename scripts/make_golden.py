#!/usr/bin/env python3
"""make_golden.py: write tshark ground truth ("golden" files) for the test captures.

Usage
-----
    python3 scripts/make_golden.py [--tshark PATH] [--outdir DIR] [FILES...]

Without FILES every capture in tests/data/ is processed (a capture is any
regular file whose content starts with a pcap / pcapng magic, also when
gzip'd; MANIFEST.tsv and the golden/ directory are skipped).  Output goes to
tests/data/golden/<capture file name>.tsv (--outdir to change).  A summary
table is printed on stdout and, when tests/data/MANIFEST.tsv is present, the
distinct TCP/UDP stream counts are checked against its tshark_tcp_streams /
tshark_udp_streams columns (exit status 1 on a mismatch or an error).

Stdlib only (Python >= 3.8) plus tshark (4.0.x was used to make the files).

What is computed (same rules as the reference grader's ground truth)
--------------------------------------------------------------------
* tshark run 1, exactly like the grader: `tshark -r FILE -n -T fields
  -E separator=/t -E occurrence=a -E aggregator=, -E quote=n
  -o tcp.desegment_tcp_streams:FALSE -e frame.number -e frame.time_epoch
  -e frame.len -e frame.cap_len -e frame.protocols -e tcp.stream -e udp.stream
  -e ip.fragment -e ipv6.fragment`, with WIRESHARK_CONFIG_DIR pointing at a
  private empty directory (so no user preference / Decode-As matters) and IP
  defragmentation left ON (tshark's default).
* tshark run 2: the same plus `--enable-protocol communityid` (the Community
  ID post-dissector is disabled by default in 4.0 and has no on/off
  preference; defaults do_base64 TRUE, seed 0 are pinned with -o) and the
  field `communityid`.  Run 2 must agree with run 1 on every other column;
  only its communityid column is used.
* class = first of tcp / udp / icmp / icmpv6 in frame.protocols (icmpv6 is
  written as icmp; an ICMP error quoting a UDP header is icmp), else other.
  stream = "tcp:N" / "udp:N" from the first occurrence of tcp.stream /
  udp.stream; tcp/udp frames without a stream index get none ("-").
* IP fragments: a frame listing ip.fragment / ipv6.fragment frame numbers (the
  one that reassembles a datagram) gives its class and stream to those
  fragment frames that are class other.
* tshark frames are aligned with the file's packet records (pcap records;
  pcapng EPB / SPB / obsolete PB only; tshark also shows some other pcapng
  blocks as frames, those are skipped).  Same count and captured lengths:
  by position; otherwise as an in-order subsequence matching captured length,
  wire length and timestamp.  Damaged files (tshark stops early, a record cut
  short): only the common prefix is aligned.

Output format
-------------
    # made by scripts/make_golden.py with <tshark version line>; columns: record class stream community_id
    # records N; tshark frames M; uncovered K (...); ...
    record<TAB>class<TAB>stream<TAB>community_id<TAB>ip_layers

record = 0-based index of the packet record in file order (a trailing record
cut short by end of file counts as a record); class in tcp/udp/icmp/other, or
unknown for records tshark did not show; stream "tcp:3" / "udp:0" or "-";
community_id = tshark's value or "-"; ip_layers = IP headers in frame.protocols
(2 or more: tunnelled, where tshark's Community ID hashes another layer than the session's).  No timestamps or absolute paths.
"""
import argparse
import gzip
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DATA = os.path.join(REPO, "tests", "data")

# ----------------------------------------------------------------------------
# capture reader (pcap / pcap-ns / Kuznetzov pcap / pcapng, plain or gzip'd)
# ----------------------------------------------------------------------------

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1000, 0),
    b"\xa1\xb2\xc3\xd4": (">", 1000, 0),
    b"\x4d\x3c\xb2\xa1": ("<", 1, 0),
    b"\xa1\xb2\x3c\x4d": (">", 1, 0),
    b"\x34\xcd\xb2\xa1": ("<", 1000, 8),  # Kuznetzov: 8 extra bytes per record header
    b"\xa1\xb2\xcd\x34": (">", 1000, 8),
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
BOM_LE, BOM_BE = b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"
MAX_RECORD = 0x10000000


class Rec:
    """One packet record: ts in ns (None for SPB), captured and wire length."""
    __slots__ = ("ts", "caplen", "wirelen", "partial")

    def __init__(self, ts, caplen, wirelen, partial=False):
        self.ts, self.caplen, self.wirelen, self.partial = ts, caplen, wirelen, partial


def sniff(head):
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    if head[:4] == PCAPNG_MAGIC and len(head) >= 12 and head[8:12] in (BOM_LE, BOM_BE):
        return "pcapng"
    return None


def is_capture(path):
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return False
    fmt = sniff(head)
    if fmt == "gzip":
        try:
            with gzip.open(path, "rb") as g:
                return sniff(g.read(16)) in ("pcap", "pcapng")
        except Exception:
            return False
    return fmt is not None


def load(path):
    notes = []
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except Exception as e:  # truncated gzip: keep what can be read
            notes.append("gzip error: %s" % e)
            out = io.BytesIO()
            try:
                with gzip.GzipFile(fileobj=io.BytesIO(data)) as g:
                    while True:
                        chunk = g.read(1 << 20)
                        if not chunk:
                            break
                        out.write(chunk)
            except Exception:
                pass
            data = out.getvalue()
    return data, notes


def parse_pcap(data):
    e, mult, extra = PCAP_MAGICS[data[:4]]
    recs, notes = [], []
    if len(data) < 24:
        return recs, ["truncated file header"]
    rh = struct.Struct(e + "IIII")
    off, n, hl = 24, len(data), 16 + extra
    while off < n:
        if off + hl > n:
            notes.append("truncated record header at offset %d" % off)
            break
        sec, frac, incl, orig = rh.unpack_from(data, off)
        if incl > MAX_RECORD:
            notes.append("implausible record length %d at offset %d" % (incl, off))
            break
        start = off + hl
        if start + incl > n:
            notes.append("record cut short at offset %d (%d of %d bytes)" % (off, n - start, incl))
            if n > start:
                recs.append(Rec(sec * 1000000000 + frac * mult, n - start, orig, partial=True))
            break
        recs.append(Rec(sec * 1000000000 + frac * mult, incl, orig))
        off = start + incl
    return recs, notes


def tsresol_ns(tsval, r):
    if r & 0x80:
        p = r & 0x7F
        return (tsval * 1000000000) >> p if p < 64 else 0
    if r <= 9:
        return tsval * 10 ** (9 - r)
    return tsval // 10 ** (r - 9)


def parse_pcapng(data):
    recs, notes = [], []
    off, n, e = 0, len(data), "<"
    ifaces = []
    while off < n:
        if off + 12 > n:
            notes.append("truncated block header at offset %d" % off)
            break
        if data[off:off + 4] == PCAPNG_MAGIC:
            bom = data[off + 8:off + 12]
            if bom == BOM_LE:
                e = "<"
            elif bom == BOM_BE:
                e = ">"
            else:
                notes.append("bad byte-order magic at offset %d" % off)
                break
            ifaces = []
        btype, blen = struct.unpack_from(e + "II", data, off)
        if blen < 12 or blen % 4 or off + blen > n:
            notes.append("bad/truncated block (type 0x%x, length %d) at offset %d" % (btype, blen, off))
            break
        body, bend = off + 8, off + blen - 4
        if struct.unpack_from(e + "I", data, bend)[0] != blen:
            notes.append("trailing block length mismatch at offset %d" % off)
            break
        if btype == 1:  # IDB
            if bend - body < 8:
                notes.append("short IDB at offset %d" % off)
                break
            lt, _r, snap = struct.unpack_from(e + "HHI", data, body)
            resol, tsoff, p = 6, 0, body + 8
            while p + 4 <= bend:
                code, olen = struct.unpack_from(e + "HH", data, p)
                if code == 0:
                    break
                val = data[p + 4:p + 4 + olen]
                if code == 9 and olen >= 1:
                    resol = val[0]
                elif code == 14 and olen >= 8:
                    tsoff = struct.unpack(e + "q", bytes(val[:8]))[0]
                p += 4 + ((olen + 3) & ~3)
            ifaces.append((snap, resol, tsoff))
        elif btype in (6, 2):  # EPB, obsolete PB
            if bend - body < 20:
                notes.append("short packet block at offset %d" % off)
                break
            if btype == 6:
                ifid, tsh, tsl, cap, orig = struct.unpack_from(e + "IIIII", data, body)
            else:
                ifid, _d, tsh, tsl, cap, orig = struct.unpack_from(e + "HHIIII", data, body)
            if body + 20 + cap > bend:
                notes.append("packet data overruns block at offset %d" % off)
                break
            if ifid >= len(ifaces):
                notes.append("packet for undefined interface %d at offset %d" % (ifid, off))
                break
            snap, resol, tsoff = ifaces[ifid]
            recs.append(Rec(tsresol_ns((tsh << 32) | tsl, resol) + tsoff * 1000000000, cap, orig))
        elif btype == 3:  # SPB
            if not ifaces:
                notes.append("SPB without interface at offset %d" % off)
                break
            snap = ifaces[0][0]
            orig = struct.unpack_from(e + "I", data, body)[0]
            cap = min(orig, bend - body - 4)
            if snap:
                cap = min(cap, snap)
            recs.append(Rec(None, cap, orig))
        off += blen
    return recs, notes


def read_records(path):
    data, notes = load(path)
    fmt = sniff(data[:16])
    if fmt not in ("pcap", "pcapng"):
        raise ValueError("not a pcap/pcapng capture")
    mv = memoryview(data)
    recs, n2 = parse_pcap(mv) if fmt == "pcap" else parse_pcapng(mv)
    return recs, notes + n2


# ----------------------------------------------------------------------------
# tshark
# ----------------------------------------------------------------------------

FIELDS = ["frame.number", "frame.time_epoch", "frame.len", "frame.cap_len", "frame.protocols",
          "tcp.stream", "udp.stream", "ip.fragment", "ipv6.fragment"]
BASE_ARGS = ["-n", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
             "-E", "aggregator=,", "-E", "quote=n", "-o", "tcp.desegment_tcp_streams:FALSE"]
CID_ARGS = ["--enable-protocol", "communityid", "-o", "communityid.do_base64:TRUE",
            "-o", "communityid.seed:0"]
STDERR_NOISE = re.compile(r"^\*\* \(tshark:\d+\) \d\d:\d\d:\d\d\.\d+ ")
TRANSPORTS = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmpv6": "icmp"}


def start_tshark(tshark, path, cfgdir, with_cid):
    fields = FIELDS + (["communityid"] if with_cid else [])
    cmd = [tshark, "-r", os.path.basename(path)] + BASE_ARGS + (CID_ARGS if with_cid else [])
    for f in fields:
        cmd += ["-e", f]
    env = dict(os.environ)
    env["WIRESHARK_CONFIG_DIR"] = cfgdir
    outf, errf = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    p = subprocess.Popen(cmd, stdout=outf, stderr=errf, env=env, stdin=subprocess.DEVNULL,
                         cwd=os.path.dirname(os.path.abspath(path)))
    return p, outf, errf, len(fields), path


def finish_tshark(h):
    """Returns (rows, rc, stderr one line); a row is the list of field strings."""
    p, outf, errf, nf, path = h
    rc = p.wait()
    outf.seek(0)
    rows = []
    for raw in outf:
        parts = raw.decode("utf-8", "replace").rstrip("\r\n").split("\t")
        if len(parts) < nf or not parts[0].isdigit():
            continue
        rows.append(parts[:nf])
    outf.close()
    errf.seek(0)
    err = errf.read().decode("utf-8", "replace")
    errf.close()
    # deterministic one-line summary: no banner, pid, wall-clock time or absolute path
    ap = os.path.abspath(path)
    lines = []
    for l in err.splitlines():
        l = STDERR_NOISE.sub("", l.strip()).replace(ap, os.path.basename(path))
        l = l.replace(os.path.dirname(ap) + "/", "")
        if l and "Running as user" not in l:
            lines.append(l)
    if len(lines) <= 3:
        msg = " ".join(lines)[:500]
    else:  # e.g. one dissector warning per packet
        msg = "%s (+%d more stderr lines)" % (lines[0][:300], len(lines) - 1)
    return rows, rc, msg


def ts_ns(s):
    if not s:
        return None
    neg = s.startswith("-")
    if neg:
        s = s[1:]
    a, _, b = s.partition(".")
    try:
        v = int(a or "0") * 1000000000 + int((b + "000000000")[:9])
    except ValueError:
        return None
    return -v if neg else v


def to_int(s):
    return int(s) if s.isdigit() else None


def framenums(s):
    return [int(x) for x in (y.strip() for y in s.split(",")) if x.isdigit()] if s else []


def classify(protos, tcps, udps):
    first = None
    for pr in protos.split(":") if protos else []:
        if pr in TRANSPORTS:
            first = TRANSPORTS[pr]
            break
    if first is None:
        return "other", None
    if first == "icmp":
        return "icmp", None
    lst = [x for x in (tcps if first == "tcp" else udps).split(",") if x]
    return first, ("%s:%s" % (first, lst[0]) if lst else None)


def frame_matches(r, t):
    """t = (number, ts, len, caplen, ...)"""
    if t[3] is not None and r.caplen != t[3]:
        return False
    if t[2] is not None and r.wirelen != t[2]:
        return False
    if r.ts is not None and t[1] is not None and r.ts != t[1]:
        return False
    return True


def align(recs, tframes):
    """Pairs (tshark index, record index) and ok flag, like the grader's align_frames."""
    if len(recs) == len(tframes) and all(t[3] is None or r.caplen == t[3] for r, t in zip(recs, tframes)):
        return [(i, i) for i in range(len(recs))], True
    pairs, j = [], 0
    for i, t in enumerate(tframes):
        if j < len(recs) and frame_matches(recs[j], t):
            pairs.append((i, j))
            j += 1
    return pairs, j == len(recs) and (j > 0 or not tframes)


# ----------------------------------------------------------------------------
# one capture
# ----------------------------------------------------------------------------

def process(path, tshark, cfgdir, outdir, version):
    name = os.path.basename(path)
    warn = []
    h1 = start_tshark(tshark, path, cfgdir, False)
    h2 = start_tshark(tshark, path, cfgdir, True)
    try:
        allrecs, rnotes = read_records(path)
    except (ValueError, OSError) as e:
        allrecs, rnotes = [], ["own reader: %s" % e]
    rows1, rc1, err1 = finish_tshark(h1)
    rows2, rc2, err2 = finish_tshark(h2)
    if [r[:len(FIELDS)] for r in rows2] != rows1 or rc1 != rc2:
        warn.append("tshark with communityid enabled differs from the plain run")
    cid_by_num = {}
    for r in rows2:
        if r[-1]:
            cid_by_num[int(r[0])] = r[-1]

    tframes = []
    for r in rows1:
        cls, key = classify(r[4], r[5], r[6])
        frags = framenums(r[7]) + framenums(r[8]) if (r[7] or r[8]) else None
        depth = sum(1 for pr in r[4].split(":") if pr in ("ip", "ipv6"))
        tframes.append((int(r[0]), ts_ns(r[1]), to_int(r[2]), to_int(r[3]), cls, key, frags, depth))

    recs = [r for r in allrecs if not r.partial]
    partial = [r for r in allrecs if r.partial]
    pairs, ok = align(recs, tframes)
    tail_t = 0
    damaged = not ok and (rc1 != 0 or any("cut short" in x or "truncated" in x or "bad/" in x
                                          for x in rnotes))
    if damaged:
        k, m = 0, min(len(recs), len(tframes))
        while k < m and (tframes[k][3] is None or recs[k].caplen == tframes[k][3]):
            k += 1
        if k == m:
            pairs, ok = [(i, i) for i in range(k)], True
            tail_t = len(tframes) - k
    if not ok:
        warn.append("could not align %d records with %d tshark frames; aligned by position"
                    % (len(recs), len(tframes)))
        pairs = [(i, i) for i in range(min(len(recs), len(tframes)))]
    skipped = len(tframes) - len(pairs) - tail_t  # tshark frames that are no packet record

    # classes on the aligned frames, then fragment propagation (grader's propagate_fragments)
    af = [tframes[i] for i, _j in pairs]
    classes = [(t[4], t[5]) for t in af]
    num_to_idx = {t[0]: i for i, t in enumerate(af)}
    moved = 0
    for i, t in enumerate(af):
        cls, key = classes[i]
        if not t[6] or cls == "other":
            continue
        for fnum in t[6]:
            j = num_to_idx.get(fnum)
            if j is None or j == i:
                continue
            if classes[j][0] == "other":
                classes[j] = (cls, key)
                moved += 1

    nrec = len(allrecs)
    lines = [None] * nrec
    for (ti, rj), (cls, key) in zip(pairs, classes):
        cid = cid_by_num.get(tframes[ti][0])
        lines[rj] = (cls, key, cid, tframes[ti][7])
    uncovered = [j for j in range(nrec) if lines[j] is None]
    for j in uncovered:
        lines[j] = ("unknown", None, None, 0)

    # second comment line
    info = ["records %d" % nrec, "tshark frames %d" % len(tframes)]
    if uncovered:
        why = []
        if partial:
            why.append("last record cut short by end of file")
        if rc1 != 0 or err1:
            why.append("tshark rc=%d: %s" % (rc1, err1 or "(no message)"))
        info.append("uncovered %d (records %s; %s)" % (len(uncovered), ranges(uncovered), "; ".join(why)))
    else:
        info.append("uncovered 0")
        if rc1 != 0 or err1:
            info.append("tshark rc=%d: %s" % (rc1, err1))
    if skipped:
        info.append("%d tshark frames without a packet record (non-packet pcapng blocks) skipped" % skipped)
    if tail_t:
        info.append("%d tshark frames past the common prefix ignored" % tail_t)
    if moved:
        info.append("%d IP fragments given their datagram's stream" % moved)
    nostream = sum(1 for c, k, _, _d in lines if c in ("tcp", "udp") and k is None)
    if nostream:
        info.append("%d tcp/udp frames without a stream index" % nostream)
    for w in warn:
        info.append("WARNING: " + w)

    os.makedirs(outdir, exist_ok=True)
    out = os.path.join(outdir, name + ".tsv")
    with open(out, "w", newline="\n") as fh:
        fh.write("# made by scripts/make_golden.py with %s; columns: record class stream community_id ip_layers\n"
                 % version)
        fh.write("# " + "; ".join(x.replace("\n", " ") for x in info) + "\n")
        for j, (cls, key, cid, depth) in enumerate(lines):
            fh.write("%d\t%s\t%s\t%s\t%d\n" % (j, cls, key or "-", cid or "-", depth))

    cc = Counter(c for c, _k, _c, _d in lines)
    keys = set(k for _c, k, _x, _d in lines if k)
    cid_cls = Counter(c for c, _k, x, _d in lines if x)
    return {
        "file": name, "records": nrec, "tshark_frames": len(tframes),
        "tcp": sum(1 for k in keys if k.startswith("tcp:")),
        "udp": sum(1 for k in keys if k.startswith("udp:")),
        "uncovered": len(uncovered), "skipped": skipped, "moved": moved, "nostream": nostream,
        "classes": cc, "cid": sum(cid_cls.values()), "cid_classes": cid_cls,
        "cid_missing_tcpudp": sum(1 for c, k, x, _d in lines if c in ("tcp", "udp") and not x),
        "rc": rc1, "err": err1, "warn": warn, "notes": rnotes, "out": out,
    }


def ranges(idx):
    out, s, p = [], None, None
    for i in idx:
        if s is None:
            s = p = i
        elif i == p + 1:
            p = i
        else:
            out.append("%d" % s if s == p else "%d-%d" % (s, p))
            s = p = i
    if s is not None:
        out.append("%d" % s if s == p else "%d-%d" % (s, p))
    return ",".join(out)


def read_manifest(path):
    res = {}
    try:
        with open(path) as fh:
            hdr = fh.readline().rstrip("\n").split("\t")
            for line in fh:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == len(hdr):
                    res[parts[0]] = dict(zip(hdr, parts))
    except OSError:
        pass
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description="Write tshark ground truth for the test captures.")
    ap.add_argument("files", nargs="*", help="captures (default: every capture in tests/data)")
    ap.add_argument("--tshark", default="tshark")
    ap.add_argument("--outdir", default=os.path.join(DATA, "golden"))
    args = ap.parse_args(argv)

    files = args.files
    if not files:
        files = [os.path.join(DATA, f) for f in sorted(os.listdir(DATA))
                 if f != "MANIFEST.tsv" and os.path.isfile(os.path.join(DATA, f))
                 and is_capture(os.path.join(DATA, f))]
    try:
        vout = subprocess.run([args.tshark, "-v"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              check=False).stdout.decode("utf-8", "replace")
    except FileNotFoundError:
        print("make_golden: tshark not found: %s" % args.tshark, file=sys.stderr)
        return 2
    version = (vout.splitlines() or ["tshark (unknown version)"])[0].strip()
    manifest = read_manifest(os.path.join(DATA, "MANIFEST.tsv"))

    cfgdir = tempfile.mkdtemp(prefix="make-golden-wscfg-")  # private, empty
    bad = 0
    try:
        print("%-45s %7s %7s %4s %4s %5s %5s %5s %5s %6s  %s" % (
            "file", "records", "tframes", "tcp", "udp", "uncov", "skip", "frags", "nostr", "cid", "manifest"))
        for path in files:
            r = process(path, args.tshark, cfgdir, args.outdir, version)
            m = manifest.get(r["file"])
            chk = "-"
            if m:
                exp = (int(m["tshark_tcp_streams"]), int(m["tshark_udp_streams"]))
                chk = "ok" if exp == (r["tcp"], r["udp"]) else "MISMATCH %d/%d" % exp
                if chk != "ok":
                    bad += 1
            print("%-45s %7d %7d %4d %4d %5d %5d %5d %5d %6d  %s" % (
                r["file"], r["records"], r["tshark_frames"], r["tcp"], r["udp"], r["uncovered"],
                r["skipped"], r["moved"], r["nostream"], r["cid"], chk))
            for w in r["warn"]:
                print("    warning: %s" % w)
                bad += 1
    finally:
        shutil.rmtree(cfgdir, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
