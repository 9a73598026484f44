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
"""
import subprocess
import sys
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


if __name__ == "__main__":
    for tag, capture in DNS.items():
        dns(tag, capture)
    for tag, capture in HTTP.items():
        http(tag, capture)
