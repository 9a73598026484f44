#!/usr/bin/env python3
"""bench_run.py: the measuring half of scripts/bench.sh (run that, not this).

Runs every command --runs times, interleaved (round r runs every command once, so a load
change on a shared machine hits all commands alike), and prints Markdown tables: the
packetpivot cases with their ratios to the baselines of the same run, the baselines, the
inputs and the machine.

Per run, measured by runstat (a tiny C fork/exec/wait4 wrapper that bench.sh compiles, so
ru_maxrss is the command's own and not the Python parent's, which a child inherits across
exec): wall time (CLOCK_MONOTONIC, fork .. wait4), CPU time (user + system) and peak RSS
(ru_maxrss) of the command; peak open files (the entries of /proc/<pid>/fd, sampled every 2 ms
from a thread; stdin/stdout/stderr included).
Output directories are emptied (and os.sync() called) before and after every run, outside the
timing. Stdlib only.
"""
import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SAMPLE_INTERVAL = 0.002
SNIFF_MAX_STREAMS = 300  # above this many TCP streams, time only the first SNIFF_SAMPLE
SNIFF_SAMPLE = 50


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Failed(Exception):
    pass


def count_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


RUNSTAT = None  # path of the runstat helper that bench.sh compiles


def measure(argv, stdout=os.devnull, env=None, logdir=None, name="cmd"):
    """Run argv once under runstat; return dict(wall, cpu, rss_kib, fds)."""
    errpath = os.path.join(logdir, re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".stderr")
    r, w = os.pipe()
    with open(stdout, "wb") as out, open(errpath, "wb") as err:
        proc = subprocess.Popen([RUNSTAT, str(w)] + list(argv), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err, env=env, pass_fds=(w,))
        os.close(w)
        with os.fdopen(r) as report:
            first = report.readline().split()
            peak = [0]
            done = threading.Event()
            if len(first) == 2 and first[0] == "pid":
                pid = int(first[1])

                def sample():
                    while not done.is_set():
                        n = count_fds(pid)
                        if n is not None and n > peak[0]:
                            peak[0] = n
                        done.wait(SAMPLE_INTERVAL)

                th = threading.Thread(target=sample, daemon=True)
                th.start()
            else:
                th = None
            rest = report.read()
        proc.wait()
        done.set()
        if th:
            th.join()
    vals = dict(line.split(None, 1) for line in rest.splitlines() if " " in line)
    if proc.returncode != 0 or "status" not in vals:
        with open(errpath, "rb") as f:
            tail = f.read()[-2000:].decode("utf-8", "replace")
        raise Failed(f"{name}: exit status {proc.returncode}: {' '.join(argv)}\n{tail}")
    return {"wall": float(vals["wall"]), "cpu": float(vals["utime"]) + float(vals["stime"]),
            "rss_kib": int(vals["maxrss_kib"]), "fds": peak[0]}


TRASH = None  # where outputs go until the end of the run, on file systems other than tmpfs


def clean_dir(path):
    """Empties path. On tmpfs the old content is deleted at once. Elsewhere it is moved into
    TRASH and deleted after the last measurement: ext4 skips inodes freed in the last minute
    when it allocates new ones (recently_deleted() in fs/ext4/ialloc.c), so creating 100k files
    right after deleting 100k took 4x longer, and whichever command ran after a big deletion
    paid for it (the file floor of b took 327 s after split b's million files were deleted)."""
    if os.path.lexists(path):
        if TRASH:
            os.makedirs(TRASH, exist_ok=True)
            os.rename(path, tempfile.mkdtemp(dir=TRASH))  # replaces the empty directory made
        else:
            shutil.rmtree(path)
    os.makedirs(path)
    os.sync()


def count_files(path, skip=("index.json",)):
    n = 0
    for _, _, files in os.walk(path):
        n += sum(1 for f in files if f not in skip)
    return n


# --------------------------------------------------------------------------------------------
# Commands


class Cmd:
    """One benchmarked command. run(r) returns the measurement of run r."""

    def __init__(self, key, label, input_key, kind, note=""):
        self.key, self.label, self.input_key, self.kind, self.note = key, label, input_key, kind, note
        self.results = []

    def summary(self):
        walls = [r["wall"] for r in self.results]
        cpus = [r["cpu"] for r in self.results]
        return {
            "wall_min": min(walls), "wall_med": statistics.median(walls),
            "cpu_min": min(cpus), "cpu_med": statistics.median(cpus),
            "rss_kib": max(r["rss_kib"] for r in self.results),
            "fds": max(r["fds"] for r in self.results),
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pp", required=True)
    ap.add_argument("--floor", required=True)
    ap.add_argument("--runstat", required=True)
    ap.add_argument("--tshark")
    ap.add_argument("--out", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--root", required=True)
    ap.add_argument("--input", action="append", default=[], help="KEY=PATH")
    ap.add_argument("--gen-args", action="append", default=[], help="KEY=ARGS")
    ap.add_argument("--inputs-dir", default="")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--md")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--scale", action="append", default=[],
                    help="SIZE=PATH: a capture split once to show peak RSS as the capture grows")
    ap.add_argument("--server-requests", type=int, default=20)
    a = ap.parse_args()
    global RUNSTAT, TRASH
    RUNSTAT = a.runstat
    if sh(["stat", "-f", "-c", "%T", a.out]) != "tmpfs":
        TRASH = os.path.join(a.out, ".trash")

    inputs = dict(s.split("=", 1) for s in a.input)
    gen_args = dict(s.split("=", 1) for s in a.gen_args)
    sizes = {k: os.path.getsize(p) for k, p in inputs.items()}
    logdir = tempfile.mkdtemp(prefix="packetpivot-bench-logs.")
    out = a.out
    # tshark with no user preferences or plugins' configuration
    tshark_env = dict(os.environ, WIRESHARK_CONFIG_DIR=tempfile.mkdtemp(prefix="packetpivot-bench-ws."))
    nfiles = {}  # files written by split, per input: the N given to the file floor
    machine_before = machine_info(out, a.inputs_dir, a.tshark)

    cmds = []

    def add(c):
        cmds.append(c)
        return c

    # per-command run functions ------------------------------------------------------------
    def run_simple(cmd, argv, stdout=os.devnull, outdir=None, env=None, post=None):
        def run(r):
            if outdir:
                clean_dir(outdir)
            m = measure(argv(), stdout=stdout, env=env, logdir=logdir, name=f"{cmd.key}.{r}")
            if post:
                post(m)
            if outdir and not (a.keep and r == a.runs - 1):
                clean_dir(outdir)
            return m
        return run

    for k in ("a", "b", "c", "d"):
        p = inputs[k]
        c = add(Cmd(f"cat:{k}", f"cat {k} > /dev/null", k, "baseline", "read floor"))
        c.run = run_simple(c, lambda p=p: ["cat", p])
        c = add(Cmd(f"cp:{k}", f"cp {k} into the output fs", k, "baseline"))
        d = os.path.join(out, "cp")
        c.run = run_simple(c, lambda p=p, d=d: ["cp", p, os.path.join(d, "copy" + os.path.splitext(p)[1])], outdir=d)
        c = add(Cmd(f"split:{k}", f"split {k}", k, "case"))
        d = os.path.join(out, "split")

        def post(m, k=k, d=d):
            n = count_files(d)
            if k in nfiles and nfiles[k] != n:
                raise Failed(f"split {k}: {n} files this run, {nfiles[k]} before")
            nfiles[k] = n
            m["files"] = n
        c.run = run_simple(c, lambda p=p, d=d: [a.pp, "split", p, "-o", d], outdir=d, post=post)
        if k != "c":  # floor.c reads classic pcap only; c has the same packets as a
            c = add(Cmd(f"floor:{k}", f"file floor {k} (floor gather)", k, "baseline",
                        "same records into as many files as split writes"))
            d = os.path.join(out, "floor")
            c.run = run_simple(c, lambda p=p, d=d, k=k: [a.floor, "gather", p, d, str(nfiles[k])], outdir=d)

    pa = inputs["a"]
    c = add(Cmd("sessions:a", "sessions a --format csv", "a", "case", "no files written"))
    c.run = run_simple(c, lambda: [a.pp, "sessions", pa, "--format", "csv"])
    c = add(Cmd("info:a", "info a", "a", "case", "MD5, SHA-1, SHA-256"))
    c.run = run_simple(c, lambda: [a.pp, "info", pa])

    sniff_note = {}
    if a.tshark:
        c = add(Cmd("tshark:a", "tshark pass over a (tcp.stream, udp.stream)", "a", "baseline",
                    "tshark -n -T fields -e tcp.stream -e udp.stream"))
        c.run = run_simple(c, lambda: [a.tshark, "-r", pa, "-n", "-T", "fields", "-e", "tcp.stream",
                                       "-e", "udp.stream"], env=tshark_env)
        pd = inputs["d"]
        c = add(Cmd("sniff:d", "sniffMyPackets per-stream tshark split d", "d", "baseline"))
        d = os.path.join(out, "sniff")

        def run_sniff(r, c=c, d=d):
            clean_dir(d)
            listing = os.path.join(logdir, "streams.txt")
            m = measure([a.tshark, "-r", pd, "-n", "-T", "fields", "-e", "tcp.stream"], stdout=listing,
                        env=tshark_env, logdir=logdir, name=f"sniff-list.{r}")
            with open(listing) as f:
                streams = sorted({int(x) for x in f.read().split()})
            todo = streams if len(streams) <= SNIFF_MAX_STREAMS else streams[:SNIFF_SAMPLE]
            wall = cpu = 0.0
            for s in todo:
                mm = measure([a.tshark, "-r", pd, "-n", "-Y", f"tcp.stream eq {s}", "-w",
                              os.path.join(d, f"{s}.pcap")], env=tshark_env, logdir=logdir,
                             name=f"sniff-{s}.{r}")
                wall += mm["wall"]
                cpu += mm["cpu"]
                m["rss_kib"] = max(m["rss_kib"], mm["rss_kib"])
                m["fds"] = max(m["fds"], mm["fds"])
            scale = len(streams) / len(todo) if todo else 1.0
            m["wall"] += wall * scale
            m["cpu"] += cpu * scale
            if len(todo) < len(streams):
                sniff_note["text"] = (f"{len(streams)} TCP streams: first {len(todo)} timed, "
                                      f"extrapolated ×{scale:.1f}")
            else:
                sniff_note["text"] = f"{len(streams)} TCP streams, one tshark run each, plus the listing pass"
            if not (a.keep and r == a.runs - 1):
                clean_dir(d)
            return m
        c.run = run_sniff

    # warm the page cache (matters only when --inputs is on a disk) ---------------------------
    for p in inputs.values():
        with open(p, "rb") as f:
            while f.read(1 << 22):
                pass

    try:
        for r in range(a.runs):
            for c in cmds:
                m = c.run(r)
                c.results.append(m)
                log(f"run {r + 1}/{a.runs}  {c.label:<46} {m['wall']:8.3f} s wall {m['cpu']:8.3f} s cpu "
                    f"{m['rss_kib'] / 1024:8.1f} MiB {m['fds']:5d} fds")
    except Failed as e:
        log(f"bench_run.py: {e}")
        return 1
    finally:
        shutil.rmtree(tshark_env["WIRESHARK_CONFIG_DIR"], ignore_errors=True)
    if "sniff:d" in (c.key for c in cmds):
        next(c for c in cmds if c.key == "sniff:d").note = sniff_note.get("text", "")

    try:
        server = measure_server(a, inputs["e"], out, logdir) if "e" in inputs else None
        scale = measure_scale(a, out, logdir)
    except Failed as e:
        log(f"bench_run.py: {e}")
        return 1

    shutil.rmtree(logdir, ignore_errors=True)
    machine_after = machine_info(out, a.inputs_dir, a.tshark)
    if TRASH:
        log(f"removing the outputs kept in {TRASH}")
        subprocess.run(["rm", "-rf", TRASH], check=False)  # several times faster than rmtree
    text = render(a, cmds, inputs, sizes, gen_args, nfiles, machine_before, machine_after)
    text += "\n" + render_extra(server, scale)
    print(text)
    if a.md:
        with open(a.md, "w") as f:
            f.write(markdown_file(a, text))
        log(f"wrote {a.md}")
    return 0


# --------------------------------------------------------------------------------------------
# Reporting


def fmt_s(x):
    return f"{x:.3f}" if x < 10 else f"{x:.2f}" if x < 100 else f"{x:.1f}"


def fmt_ratio(x):
    return f"{x:.3f}" if x < 0.1 else f"{x:.2f}" if x < 10 else f"{x:.1f}"


def mbps(size, wall):
    x = size / 1e6 / wall if wall > 0 else float("inf")
    return f"{x:.2f}" if x < 10 else f"{x:.0f}"


def ratio_cell(s, b, what=""):
    """'min / med ×' of this summary over baseline summary b."""
    if b is None:
        return "n/a"
    cell = f"{fmt_ratio(s['wall_min'] / b['wall_min'])} / {fmt_ratio(s['wall_med'] / b['wall_med'])}×"
    return f"{cell} {what}".strip()


def render(a, cmds, inputs, sizes, gen_args, nfiles, mb, ma):
    S = {c.key: c.summary() for c in cmds}
    by = {c.key: c for c in cmds}
    L = []
    mode = "quick (smoke-test sizes)" if a.quick else "full"
    L.append(f"### packetpivot benchmark: {mode}, {a.runs} run(s) per command, interleaved")
    L.append("")
    L.append(machine_line(mb, ma))
    L.append("")
    L.append("Ratios are wall time of the case over wall time of the baseline, from the same run: "
             "minimum over minimum / median over median (lower is better; below 1 is faster than "
             "the baseline). MB/s is input bytes (10^6) per second of wall time, best / median.")
    L.append("")
    L.append("| case | wall s min / med | CPU s min / med | MB/s best / med | peak RSS MiB | peak open files "
             "| vs file floor | vs cp | vs cat | vs tshark |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for c in cmds:
        if c.kind != "case":
            continue
        s = S[c.key]
        k = c.input_key
        floor = S.get(f"floor:{'a' if k == 'c' else k}")
        cells = ["", "", "", ""]
        if c.key.startswith("split:"):
            cells[0] = ratio_cell(s, floor, "(floor of a)" if k == "c" else "")
            cells[1] = ratio_cell(s, S.get(f"cp:{k}"))
            cells[2] = ratio_cell(s, S.get(f"cat:{k}"))
            if k == "a":
                cells[3] = ratio_cell(s, S.get("tshark:a"), "(1 pass)")
            elif k == "d":
                cells[3] = ratio_cell(s, S.get("sniff:d"), "(sniffMyPackets)")
        else:
            cells[2] = ratio_cell(s, S.get(f"cat:{k}"))
            if c.key == "sessions:a":
                cells[3] = ratio_cell(s, S.get("tshark:a"), "(1 pass)")
        label = c.label + (f" ({c.note})" if c.note else "")
        L.append(f"| {label} | {fmt_s(s['wall_min'])} / {fmt_s(s['wall_med'])} "
                 f"| {fmt_s(s['cpu_min'])} / {fmt_s(s['cpu_med'])} "
                 f"| {mbps(sizes[k], s['wall_min'])} / {mbps(sizes[k], s['wall_med'])} "
                 f"| {s['rss_kib'] / 1024:.1f} | {s['fds']} | " + " | ".join(x or "" for x in cells) + " |")
    L.append("")
    L.append("Baselines (same run, same files):")
    L.append("")
    L.append("| baseline | wall s min / med | CPU s min / med | MB/s best / med | peak RSS MiB | peak open files | notes |")
    L.append("|---|---|---|---|---|---|---|")
    for c in cmds:
        if c.kind != "baseline":
            continue
        s = S[c.key]
        k = c.input_key
        note = c.note
        if c.key.startswith("floor:"):
            note = f"{nfiles.get(k, '?')} files; " + note
        L.append(f"| {c.label} | {fmt_s(s['wall_min'])} / {fmt_s(s['wall_med'])} "
                 f"| {fmt_s(s['cpu_min'])} / {fmt_s(s['cpu_med'])} "
                 f"| {mbps(sizes[k], s['wall_min'])} / {mbps(sizes[k], s['wall_med'])} "
                 f"| {s['rss_kib'] / 1024:.1f} | {s['fds']} | {note} |")
    if not a.tshark:
        L.append("")
        L.append("tshark was not run (not installed: apt-get install tshark; or --no-tshark): the tshark pass and the sniffMyPackets "
                 "baseline were skipped.")
    L.append("")
    L.append("Inputs (generated by gen_pcap.py, cached by arguments):")
    L.append("")
    L.append("| input | gen_pcap.py arguments | size | files written by split |")
    L.append("|---|---|---|---|")
    for k in ("a", "b", "c", "d"):
        L.append(f"| {k} | `{gen_args.get(k, '')}` | {sizes[k] / 2**20:.1f} MiB | {nfiles.get(k, '?')} |")
    L.append("")
    L.append("Wall time is fork to wait4, CPU time user + system and peak RSS ru_maxrss of the command, "
             "measured by a small C helper (runstat, built by bench.sh) that forks it, so the RSS is not "
             "inherited from Python; peak open files counts /proc/PID/fd (stdio included) sampled every "
             f"{SAMPLE_INTERVAL * 1000:.0f} ms. Output directories are emptied before and after every run "
             "(untimed, then sync; on a file system other than tmpfs they are moved aside and deleted after the "
             "last measurement, because ext4 slows down file creation for a minute after a large deletion). "
             "The file floor is `floor gather` (floor.c), which reads classic pcap only, "
             "so c is compared with the floor of a (same packets, c's file is about 3% larger). "
             "sniffMyPackets ran `tshark -r d -Y \"tcp.stream eq N\" -w N.pcap` once per TCP stream, "
             "after one tshark pass listing the streams; its row is the sum.")
    if "sniff:d" in by:
        L.append("")
        L.append(f"sniffMyPackets baseline: {by['sniff:d'].note}.")
    return "\n".join(L)


def sh(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info(out, inputs_dir, tshark):
    info = {}
    info["nproc"] = os.cpu_count()
    try:
        info["nproc_avail"] = len(os.sched_getaffinity(0))
    except AttributeError:
        info["nproc_avail"] = info["nproc"]
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["cpu"] = model or platform.processor() or platform.machine()
    mem = ""
    free = ""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                elif line.startswith("MemFree:"):
                    free = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    info["mem"] = mem
    # Free memory, not counting the page cache. On a fresh ext4 file system (a loop device)
    # the file floor took 4.5 s right after the caches were dropped (14 GiB free), then
    # 8.7 and 9.1 s as earlier runs' output filled the cache (1.3 GiB free after them),
    # while split, at 200 MiB, stayed at 5.8-6.7 s: the floor holds the whole capture, 1 GiB
    # that must first be reclaimed from the cache. Runs to compare should start alike.
    info["free"] = free
    info["kernel"] = platform.release()
    info["out_fs"] = sh(["stat", "-f", "-c", "%T", out])
    info["in_fs"] = sh(["stat", "-f", "-c", "%T", inputs_dir]) if inputs_dir else ""
    try:
        info["load"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        info["load"] = ""
    info["tshark"] = (sh([tshark, "--version"]).splitlines() or [""])[0] if tshark else "not installed"
    info["rustc"] = sh(["rustc", "--version"])
    info["date"] = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return info


def machine_line(mb, ma):
    return (f"Machine: {mb['nproc']} CPUs ({mb['nproc_avail']} usable), {mb['cpu']}, {mb['mem']} RAM, "
            f"Linux {mb['kernel']}; output fs {mb['out_fs']}, inputs fs {mb['in_fs']}; "
            f"load average {mb['load']} before, {ma['load']} after; "
            f"free memory {mb['free']} before, {ma['free']} after; {mb['rustc']}; "
            f"tshark {tshark_version(mb['tshark'])}; {mb['date']}.")


def tshark_version(line):
    m = re.search(r"\d+\.\d+\.\d+", line)
    return m.group(0) if m else line


def markdown_file(a, text):
    commit = sh(["git", "-C", a.root, "rev-parse", "--short", "HEAD"])
    dirty = sh(["git", "-C", a.root, "status", "--porcelain", "--untracked-files=no"])
    rev = f"{commit}{' (with uncommitted changes)' if dirty else ''}" if commit else "unknown"
    return ("# Benchmarks\n\n"
            "Produced by `scripts/bench.sh --write` (see the header of that script for the options), "
            f"at commit {rev}. Rerun it on your machine: the figures that carry over are the ratios "
            "to the baselines of the same run, not the absolute times.\n\n" + text + "\n")


# --------------------------------------------------------------------------------------------
# The server and memory as the capture grows


SERVER_LIMITS = (12, 256, 10000)


def request_xml(name, soft_limit):
    return ('<MaltegoMessage><MaltegoTransformRequestMessage><Entities>'
            '<Entity Type="packetpivot.Pcap"><AdditionalFields>'
            f'<Field Name="pcap.path" DisplayName="Capture path">{name}</Field>'
            f'</AdditionalFields><Value>{name}</Value><Weight>100</Weight></Entity></Entities>'
            f'<Limits SoftLimit="{soft_limit}" HardLimit="10000"/>'
            '</MaltegoTransformRequestMessage></MaltegoMessage>').encode()


def post(url, body):
    import urllib.request
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "text/xml"})
    t0 = time.monotonic()
    with urllib.request.urlopen(req, timeout=600) as resp:
        data = resp.read()
    return time.monotonic() - t0, data


def measure_server(a, capture, out, logdir):
    """Starts `packetpivot serve` on 127.0.0.1, splits capture e with one request, then times
    repeated capture-to-sessions requests (answered from the finished index) at several
    soft limits. The server is stopped at the end whatever happens."""
    import socket
    root = os.path.join(out, "server-root")
    data = os.path.join(out, "server-data")
    clean_dir(root)
    clean_dir(data)
    name = os.path.basename(capture)
    shutil.copyfile(capture, os.path.join(root, name))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    err = open(os.path.join(logdir, "server.stderr"), "wb")
    proc = subprocess.Popen([a.pp, "serve", "--capture-root", root, "--data-dir", data, "--bind",
                             f"127.0.0.1:{port}"], stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    url = f"http://127.0.0.1:{port}/run/capture-to-sessions"
    try:
        for _ in range(500):  # up to 5 s for the server to listen
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                    break
            except OSError:
                time.sleep(0.01)
        else:
            raise Failed("server did not start listening within 5 s")
        first, body = post(url, request_xml(name, 12))
        if b"<Exception" in body:
            raise Failed(f"server: {body[:500]!r}")
        sessions = re.search(rb"returned \d+ of (\d+) sessions", body)
        res = {"first": first, "sessions": int(sessions.group(1)) if sessions else None, "limits": {}}
        for limit in SERVER_LIMITS:
            times = []
            size = 0
            for _ in range(a.server_requests):
                t, body = post(url, request_xml(name, limit))
                times.append(t)
                size = len(body)
            # The first request at a limit is answered from the index; the server keeps the
            # rendered answer, so the repeats are answered from memory.
            rest = times[1:] or times
            res["limits"][limit] = {"first": times[0], "min": min(rest), "med": statistics.median(rest),
                                    "bytes": size, "entities": body.count(b"<Entity ")}
            log(f"server soft limit {limit}: first {times[0] * 1000:.1f} ms, repeated median "
                f"{statistics.median(rest) * 1000:.1f} ms ({size / 1e6:.1f} MB response)")
        return res
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        err.close()
        clean_dir(root)
        clean_dir(data)


def measure_scale(a, out, logdir):
    rows = []
    d = os.path.join(out, "scale")
    for spec in a.scale:
        size, path = spec.split("=", 1)
        clean_dir(d)
        m = measure([a.pp, "split", path, "-o", d], logdir=logdir, name=f"scale-{size}")
        files = count_files(d)
        clean_dir(d)
        rows.append((size, os.path.getsize(path), files, m))
        log(f"scale {size}: {m['wall']:.2f} s wall, {m['rss_kib'] / 1024:.1f} MiB peak RSS, {files} files")
    return rows


def render_extra(server, scale):
    L = []
    if server:
        L.append("")
        L.append(f"Server (`packetpivot serve` on 127.0.0.1, capture e: {server['sessions']} sessions): the "
                 f"first capture-to-sessions request splits it in {fmt_s(server['first'])} s; then each soft "
                 "limit is requested repeatedly. The first request at a limit is answered from the finished "
                 "index; the server keeps the rendered answer, so the repeats are answered from memory "
                 "(client-side time with Python's urllib, request sent to response read):")
        L.append("")
        L.append("| soft limit | entities returned | response size | first ms (from the index) "
                 "| repeated min ms | repeated median ms |")
        L.append("|---|---|---|---|---|---|")
        for limit, r in server["limits"].items():
            L.append(f"| {limit} | {r['entities']} | {r['bytes'] / 1e6:.2f} MB | {r['first'] * 1000:.1f} "
                     f"| {r['min'] * 1000:.1f} | {r['med'] * 1000:.1f} |")
    if scale:
        L.append("")
        L.append("Peak RSS as the capture grows (the generator settings of a, only --size changed; one split each):")
        L.append("")
        L.append("| capture | size | files | wall s | peak RSS MiB |")
        L.append("|---|---|---|---|---|")
        for size, nbytes, files, m in scale:
            L.append(f"| {size} | {nbytes / 2**20:.0f} MiB | {files} | {fmt_s(m['wall'])} | "
                     f"{m['rss_kib'] / 1024:.1f} |")
    return "\n".join(L)


if __name__ == "__main__":
    sys.exit(main())
