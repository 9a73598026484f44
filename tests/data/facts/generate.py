#!/usr/bin/env python3
"""Regenerates the expected values that src/facts/{dns,http}.rs compare against.

Run from the repository root: python3 tests/data/facts/generate.py (needs tshark; these
files were made with TShark 4.0.17). Every value comes from tshark, none from packetpivot.

dns_<capture>.tsv, one message per `msg` row followed by its rows:
  <frame> msg <udp.payload hex> <dns.id> <response> <opcode> <rcode> <truncated>
  <frame> q   <dns.qry.name> <dns.qry.type> <dns.qry.class>
  <frame> an  <dns.resp.name> <dns.resp.type> <dns.resp.ttl> <data...>
where data is dns.a / dns.aaaa / dns.cname / dns.ns / dns.ptr.domain_name, MX as
<preference> <exchange>, TXT as one column per dns.txt, anything else as len=<dns.resp.len>.
Only the Answers section is listed (packetpivot keeps no authority/additional records).

http_<capture>.tsv, one row per frame tshark (with TCP reassembly off, so the fields sit on
the segment that holds the header) calls an HTTP request or response:
  <frame> req  <tcp.payload hex> <method> <uri> <version> <host> <user_agent>
  <frame> resp <tcp.payload hex> <version> <code> <phrase> <server> <content_type>
An absent header is written as `-`. Frames of a capture not listed are not HTTP starts.

tshark_pivots.tsv, what the pivot transforms are compared with (tests/tshark_facts.rs), for
every capture of MANIFEST.tsv, read with tshark's defaults (reassembly and defragmentation
on) and an empty configuration directory (no user preference or Decode-As counts):
  <capture> unread <rc> <first line tshark wrote on stderr>   tshark could not read it all
  <capture> mac  <link address> <IP address or ->   each distinct pair: eth.src with ip.src
        (ipv6.src) and eth.dst with ip.dst of the IP header right after that Ethernet
        header (none for ARP and other non-IP frames); likewise wlan.sa/wlan.da of 802.11
        data frames and sll.src.eth of Linux cooked captures
  <capture> dnsq <frame> <src> <dns.qry.name>   a question of a DNS, mDNS or LLMNR query
  <capture> dnsa <frame> <dns.qry.name> <A|AAAA> <dns.resp.ttl> <address> <dns.resp.name>
        an A or AAAA record of the Answers tree of a response, once per question. Only the
        Answers tree: tshark's dns.a also holds Authority and Additional (glue) records,
        which answer no question (see tests/tshark_facts.rs)
  <capture> http <frame> <src> <http.host> <http.request.uri> <http.user_agent>   a request
  <capture> tls  <frame> <src> <tls.handshake.extensions_server_name> <tls.handshake.ja3>
        a ClientHello (the frame that completes its reassembly)
  <capture> ja3s <frame> <src> <tls.handshake.ja3s>   a ServerHello
<src> is ip.src or ipv6.src of the IP header nearest before the message (the inner one of
a tunnel). An absent value is written as `-`. Rows are in frame order, mac rows sorted.
"""
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

DATA = "tests/data"
OUT = "tests/data/facts"

DNS = {
    "wikipedia": "zeek__wikipedia.pcap",
    "dns-icmp": "wireshark__dns+icmp.pcapng.gz",
    "ipv6-fragmented-dns": "zeek__ipv6-fragmented-dns.pcap",
    "communityid": "wireshark__communityid.pcap",
}
HTTP = {
    "wikipedia": "zeek__wikipedia.pcap",
    "nflog-http": "zeek__nflog-http.pcap",
    "ipv6-http-atomic-frag": "zeek__ipv6-http-atomic-frag.pcap",
}


def tshark(*args):
    return subprocess.run(["tshark", *args], check=True, capture_output=True, text=True).stdout


def fields(elem):
    """name -> [show] of the direct and nested named fields of elem, in order."""
    out = {}
    for f in elem.iter("field"):
        if f.get("name"):
            out.setdefault(f.get("name"), []).append(f.get("show"))
    return out


def section(proto, title):
    for f in proto.findall("field"):
        if f.get("name") == "" and f.get("show") == title:
            return f.findall("field")
    return []


def dns(tag, capture):
    path = f"{DATA}/{capture}"
    hexes = {}
    for line in tshark("-r", path, "-Y", "dns", "-T", "fields", "-e", "frame.number",
                       "-e", "udp.payload").splitlines():
        frame, hx = line.split("\t")
        hexes[frame] = hx
    root = ET.fromstring(tshark("-r", path, "-Y", "dns", "-T", "pdml"))
    rows = []
    for packet in root.iter("packet"):
        frame = next(f.get("show") for f in packet.iter("field") if f.get("name") == "frame.number")
        proto = next(p for p in packet.findall("proto") if p.get("name") == "dns")
        top = fields(proto)
        # tshark shows no rcode field on a query: take it from the flags word then.
        rcode = top.get("dns.flags.rcode", [str(int(top["dns.flags"][0], 16) & 0xF)])[0]
        rows.append([frame, "msg", hexes[frame], str(int(top["dns.id"][0], 16)),
                     top["dns.flags.response"][0], top["dns.flags.opcode"][0], rcode,
                     top["dns.flags.truncated"][0]])
        for q in section(proto, "Queries"):
            f = fields(q)
            rows.append([frame, "q", f["dns.qry.name"][0], f["dns.qry.type"][0],
                         str(int(f["dns.qry.class"][0], 16))])
        for a in section(proto, "Answers"):
            f = fields(a)
            rtype = int(f["dns.resp.type"][0])
            data = {1: f.get("dns.a"), 28: f.get("dns.aaaa"), 5: f.get("dns.cname"),
                    2: f.get("dns.ns"), 12: f.get("dns.ptr.domain_name"),
                    16: f.get("dns.txt")}.get(rtype)
            if rtype == 15:
                data = [f["dns.mx.preference"][0], f["dns.mx.mail_exchange"][0]]
            if data is None:
                data = ["len=" + f["dns.resp.len"][0]]
            rows.append([frame, "an", f["dns.resp.name"][0], str(rtype),
                         f["dns.resp.ttl"][0], *data])
    write(f"{OUT}/dns_{tag}.tsv", capture, rows)


def http(tag, capture):
    path = f"{DATA}/{capture}"
    names = ["frame.number", "tcp.payload", "http.request.method", "http.request.uri",
             "http.request.version", "http.host", "http.user_agent", "http.response.version",
             "http.response.code", "http.response.phrase", "http.server", "http.content_type"]
    cmd = ["-r", path, "-o", "tcp.desegment_tcp_streams:FALSE", "-Y",
           "http.request or http.response", "-T", "fields", "-E", "occurrence=f"]
    for n in names:
        cmd += ["-e", n]
    rows = []
    for line in tshark(*cmd).splitlines():
        v = [x if x else "-" for x in line.split("\t")]
        frame, hx, method, uri, ver, host, ua, rver, code, phrase, server, ctype = v
        if method != "-":
            rows.append([frame, "req", hx, method, uri, ver, host, ua])
        else:
            rows.append([frame, "resp", hx, rver, code, phrase, server, ctype])
    write(f"{OUT}/http_{tag}.tsv", capture, rows)


def write(out, capture, rows):
    with open(out, "w") as f:
        f.write(f"# {capture}: expected values from tshark, see generate.py\n")
        for r in rows:
            assert not any("\t" in c or "\n" in c for c in r), r
            f.write("\t".join(r) + "\n")
    print(out, len(rows), "rows", file=sys.stderr)


# Link-layer protocols whose source and destination addresses the mac rows take.
LINK_ADDRESSES = {"eth": ("eth.src", "eth.dst"), "wlan": ("wlan.sa", "wlan.da"),
                  "sll": ("sll.src.eth", None)}
# The DNS dissector's names for the three protocols packetpivot reads as DNS.
DNS_PROTOS = {"dns", "mdns", "llmnr"}


def captures():
    """The capture file names of MANIFEST.tsv, in its order."""
    with open(f"{DATA}/MANIFEST.tsv") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if not line.startswith("#")]
    return [r[0] for r in rows[1:] if r and r[0]]


def first(elem, name):
    """show of the first field called name directly below elem, else None."""
    for f in elem.findall("field"):
        if f.get("name") == name:
            return f.get("show")
    return None


def all_named(elem, name):
    return [f for f in elem.iter("field") if f.get("name") == name]


def dash(v):
    return v if v not in (None, "") else "-"


def pivot_rows(capture, config_dir):
    """The rows of tshark_pivots.tsv for one capture."""
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=config_dir)
    proc = subprocess.Popen(["tshark", "-n", "-r", f"{DATA}/{capture}", "-T", "pdml"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    rows, pairs = [], set()
    try:
        for _, packet in ET.iterparse(proc.stdout):
            if packet.tag != "packet":
                continue
            rows += packet_rows(capture, packet, pairs)
            packet.clear()
    except ET.ParseError:
        pass  # tshark stopped mid-document (a damaged capture): keep what it wrote
    err = proc.stderr.read().decode(errors="replace").strip()
    rc = proc.wait()
    head = []
    if rc != 0:
        head.append([capture, "unread", str(rc), dash(err.splitlines()[0] if err else "")])
    macs = [[capture, "mac", m, ip] for m, ip in sorted(pairs)]
    return head + macs + rows


def packet_rows(capture, packet, pairs):
    frame = next(f.get("show") for f in packet.iter("field") if f.get("name") == "frame.number")
    rows = []
    link = None  # (src, dst) of the last link header not yet paired with an IP header
    src = None  # source address of the nearest IP header so far
    for proto in packet.iter("proto"):
        name = proto.get("name")
        if name in LINK_ADDRESSES:
            s_name, d_name = LINK_ADDRESSES[name]
            link = (first(proto, s_name), first(proto, d_name) if d_name else None)
            for mac in link:
                if mac:
                    pairs.add((mac, "-"))
        elif name in ("ip", "ipv6"):
            src, dst = first(proto, f"{name}.src"), first(proto, f"{name}.dst")
            if link:
                for mac, ip in zip(link, (src, dst)):
                    if mac and ip:
                        pairs.add((mac, ip))
                link = None
        elif name in DNS_PROTOS:
            rows += dns_rows(capture, frame, src, proto)
        elif name == "http":
            # The first of each field (the request line is an unnamed field holding method,
            # URI and version, so they are not direct children).
            top = {}
            for f in proto.iter("field"):
                top.setdefault(f.get("name"), f.get("show"))
            if "http.request.method" not in top:
                continue
            rows.append([capture, "http", frame, dash(src), dash(top.get("http.host")),
                         dash(top.get("http.request.uri")), dash(top.get("http.user_agent"))])
        elif name == "tls":
            for hs in all_named(proto, "tls.handshake"):
                kind = first(hs, "tls.handshake.type")
                if kind == "1":
                    sni = [f.get("show") for f in all_named(hs, "tls.handshake.extensions_server_name")]
                    rows.append([capture, "tls", frame, dash(src), dash(sni[0] if sni else None),
                                 dash(first(hs, "tls.handshake.ja3"))])
                elif kind == "2":
                    rows.append([capture, "ja3s", frame, dash(src),
                                 dash(first(hs, "tls.handshake.ja3s"))])
    # One row for what a frame repeats (tls-fragmented-handshakes sends ClientHellos in
    # several records of one segment).
    unique = []
    for r in rows:
        if r not in unique:
            unique.append(r)
    return unique


def dns_rows(capture, frame, src, proto):
    questions = [first(q, "dns.qry.name") for q in section(proto, "Queries")]
    if first(proto, "dns.flags") is None:
        return []
    flags = next(f for f in proto.findall("field") if f.get("name") == "dns.flags")
    if first(flags, "dns.flags.response") == "0":
        return [[capture, "dnsq", frame, dash(src), q] for q in questions]
    rows = []
    for a in section(proto, "Answers"):
        kind = {"1": "A", "28": "AAAA"}.get(first(a, "dns.resp.type"))
        if kind is None:
            continue
        address = first(a, "dns.a" if kind == "A" else "dns.aaaa")
        for q in questions:
            rows.append([capture, "dnsa", frame, q, kind, first(a, "dns.resp.ttl"), address,
                         first(a, "dns.resp.name")])
    return rows


def pivots():
    out = f"{OUT}/tshark_pivots.tsv"
    version = tshark("-v").splitlines()[0]
    with tempfile.TemporaryDirectory() as config_dir, open(out, "w") as f:
        f.write(f"# made by tests/data/facts/generate.py with {version}; see its docstring\n")
        total = 0
        for capture in captures():
            rows = pivot_rows(capture, config_dir)
            for r in rows:
                assert not any("\t" in c or "\n" in c for c in r), r
                f.write("\t".join(r) + "\n")
            total += len(rows)
    print(out, total, "rows", file=sys.stderr)


if __name__ == "__main__":
    for tag, capture in DNS.items():
        dns(tag, capture)
    for tag, capture in HTTP.items():
        http(tag, capture)
    pivots()
