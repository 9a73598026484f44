#!/usr/bin/env bash
# bench.sh: benchmark packetpivot against the file floor, cp, cat and tshark, in one run.
#
# Usage: scripts/bench.sh [--quick] [--runs N] [--out DIR] [--inputs DIR] [--shared DIR]
#                         [--gen PATH] [--write] [--md FILE] [--keep]
#
#   --quick        small inputs (a: 50M/5k flows, b: 20M/60k, c: twin of a, d: 5M/100): smoke test
#   --runs N       runs per command (default 3); the table shows minimum and median
#   --out DIR      where outputs are written (default /dev/shm); a private subdirectory is made
#                  there and removed at the end, so give a disk filesystem to measure a disk
#   --inputs DIR   cache of generated captures (default /dev/shm/packetpivot-bench); an input is
#                  regenerated only when its gen_pcap.py arguments or gen_pcap.py itself change
#   --shared DIR   the shared directory holding bench/gen_pcap.py and bench/floor.c
#                  (default: ../shared next to the repository root)
#   --gen PATH     gen_pcap.py to use (default SHARED/bench/gen_pcap.py)
#   --write        also write the results into BENCHMARKS.md at the repository root
#   --md FILE      also write the results into FILE
#   --keep         keep the output directory of the last run of every command
#   --no-tshark    skip the two tshark baselines (they do not depend on --out)
#   --no-extra     skip the server case and the 2 and 4 GiB memory-growth splits
#
# Cases (full size; the issue's definitions):
#   a  split, ~1 GiB, 100k sessions       gen: --flows 100k --size 1G --seed 1
#   b  split, ~330 MiB, 1M short sessions gen: --flows 1M --size 320M --seed 2 --mix tcp=0.1,dns=0.85,icmp=0.05
#   c  split, pcapng nanosecond twin of a gen: a + --pcapng --nanosecond
#   d  split, 20 MiB, 200 sessions        gen: --flows 200 --size 20M --seed 3
#   sessions --format csv (no files written) and info (hashes) on a
#   e  server, ~100 MiB, 10k sessions     gen: --flows 10k --size 100M --seed 4: `packetpivot serve`
#      on 127.0.0.1, one request splits it, then repeated capture-to-sessions requests at soft
#      limits 12, 256 and 10000 are timed (median of 20)
#   peak RSS of one split of 1, 2 and 4 GiB captures (--flows 100k --seed 1, sizes 1G/2G/4G)
# Everything runs under ulimit -n 1024 (lowered if higher), the limit case b is measured at.
# Baselines, same run, same files: cat > /dev/null (read floor), cp into the output filesystem,
# the file floor (floor.c gather: the same records into as many files as split writes),
# one tshark pass over a printing tcp.stream/udp.stream, and sniffMyPackets' per-stream tshark
# split on d (one `tshark -Y "tcp.stream eq N" -w` per TCP stream; over 300 streams, the first
# 50 are timed and the rest extrapolated).
#
# Needs: bash, python3 (stdlib only), cargo, cc. tshark is optional: without it (apt-get install
# tshark) only the two tshark baselines are skipped.
set -euo pipefail

die() { printf 'bench.sh: %s\n' "$*" >&2; exit 2; }
note() { printf 'bench.sh: %s\n' "$*" >&2; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$script_dir/.." && pwd)

quick=0
runs=3
out_base=/dev/shm
inputs=/dev/shm/packetpivot-bench
shared=""
gen=""
md=""
keep=0
no_tshark=0
no_extra=0

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --runs) [ $# -ge 2 ] || die "--runs needs a number"; runs=$2; shift ;;
        --runs=*) runs=${1#*=} ;;
        --out) [ $# -ge 2 ] || die "--out needs a directory"; out_base=$2; shift ;;
        --out=*) out_base=${1#*=} ;;
        --inputs) [ $# -ge 2 ] || die "--inputs needs a directory"; inputs=$2; shift ;;
        --inputs=*) inputs=${1#*=} ;;
        --shared) [ $# -ge 2 ] || die "--shared needs a directory"; shared=$2; shift ;;
        --shared=*) shared=${1#*=} ;;
        --gen) [ $# -ge 2 ] || die "--gen needs a path"; gen=$2; shift ;;
        --gen=*) gen=${1#*=} ;;
        --write) md="$root/BENCHMARKS.md" ;;
        --md) [ $# -ge 2 ] || die "--md needs a file"; md=$2; shift ;;
        --md=*) md=${1#*=} ;;
        --keep) keep=1 ;;
        --no-tshark) no_tshark=1 ;;
        --no-extra) no_extra=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done

case "$runs" in
    ''|*[!0-9]*) die "--runs must be a positive integer, not '$runs'" ;;
esac
[ "$runs" -ge 1 ] || die "--runs must be at least 1"
[ "$runs" -ge 3 ] || note "warning: --runs $runs: fewer than 3 runs, the median is not meaningful"

# --- tools --------------------------------------------------------------------------------
for tool in python3 cargo cc; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is required but not found in PATH"
done
tshark_bin=""
if [ "$no_tshark" -eq 1 ]; then
    note "--no-tshark: skipping the tshark baselines"
elif command -v tshark >/dev/null 2>&1; then
    tshark_bin=$(command -v tshark)
else
    note "tshark not found (apt-get install tshark): skipping the tshark baselines only"
fi

if [ -z "$shared" ]; then
    shared="$root/../shared"
fi
[ -n "$gen" ] || gen="$shared/bench/gen_pcap.py"
floor_src="$shared/bench/floor.c"
[ -f "$gen" ] || die "gen_pcap.py not found at $gen (use --shared DIR or --gen PATH)"
[ -f "$floor_src" ] || die "floor.c not found at $floor_src (use --shared DIR)"
gen=$(cd "$(dirname "$gen")" && pwd)/$(basename "$gen")

# --- scratch and output directories -------------------------------------------------------
mkdir -p "$out_base" || die "cannot create output base $out_base"
out_dir=$(mktemp -d "$out_base/packetpivot-bench-out.XXXXXX") || die "cannot create a directory in $out_base"
tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/packetpivot-bench-tools.XXXXXX")
cleanup() {
    rm -rf "$tmp_dir"
    if [ "$keep" -eq 1 ]; then
        note "outputs kept in $out_dir"
    else
        rm -rf "$out_dir"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- builds -------------------------------------------------------------------------------
note "building packetpivot (cargo build --release)"
(cd "$root" && cargo build --release --quiet) || die "cargo build --release failed"
pp="${CARGO_TARGET_DIR:-$root/target}/release/packetpivot"
case "$pp" in /*) ;; *) pp="$root/$pp" ;; esac
[ -x "$pp" ] || die "built binary not found at $pp"

cp "$floor_src" "$tmp_dir/floor.c"
cc -O2 -o "$tmp_dir/floor" "$tmp_dir/floor.c" || die "cc -O2 floor.c failed"
floor_bin="$tmp_dir/floor"

# runstat: forks and execs one command from a small process (so ru_maxrss is the command's own,
# not inherited from python), and writes "pid N" at once, then wall/CPU/RSS/status, to fd FD.
cat >"$tmp_dir/runstat.c" <<'EOF_C'
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: runstat FD CMD [ARG...]\n"); return 125; }
    int fd = atoi(argv[1]);
    FILE *o = fdopen(fd, "w");
    if (!o) { perror("runstat: fdopen"); return 125; }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t p = fork();
    if (p < 0) { perror("runstat: fork"); return 125; }
    if (p == 0) { close(fd); execvp(argv[2], argv + 2); perror(argv[2]); _exit(127); }
    fprintf(o, "pid %d\n", (int)p);
    fflush(o);
    int st; struct rusage ru;
    if (wait4(p, &st, 0, &ru) < 0) { perror("runstat: wait4"); return 125; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    fprintf(o, "wall %.9f\nutime %ld.%06ld\nstime %ld.%06ld\nmaxrss_kib %ld\nstatus %d\n",
            (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
            (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
            (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_maxrss, code);
    fclose(o);
    return code;
}
EOF_C
cc -O2 -o "$tmp_dir/runstat" "$tmp_dir/runstat.c" || die "cc -O2 runstat.c failed"

# --- inputs (cached by arguments and generator hash) --------------------------------------
mkdir -p "$inputs" || die "cannot create input cache $inputs"
gen_hash=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest()[:12])' "$gen")

# gen_input NAME EXT ARGS... : prints the path of the cached capture, generating it if needed
gen_input() {
    local name=$1 ext=$2
    shift 2
    local key file
    key=$(printf '%s\n' "$gen_hash" "$@" | python3 -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])')
    file="$inputs/$name-$key.$ext"
    if [ -s "$file" ]; then
        note "input $name: cached $file"
    else
        note "input $name: generating (gen_pcap.py $*)"
        python3 "$gen" -q -o "$file.tmp.$$" "$@" || { rm -f "$file.tmp.$$"; die "gen_pcap.py failed for $name"; }
        mv "$file.tmp.$$" "$file"
        printf '%s\n' "gen_pcap.py (sha256 $gen_hash) $*" >"$file.args"
    fi
    printf '%s\n' "$file"
}

if [ "$quick" -eq 1 ]; then
    args_a=(--flows 5k --size 50M --seed 1)
    args_b=(--flows 60k --size 20M --seed 2 --mix "tcp=0.1,dns=0.85,icmp=0.05")
    args_d=(--flows 100 --size 5M --seed 3)
    args_e=(--flows 1k --size 10M --seed 4)
    scale_sizes=()
else
    args_a=(--flows 100k --size 1G --seed 1)
    args_b=(--flows 1M --size 320M --seed 2 --mix "tcp=0.1,dns=0.85,icmp=0.05")
    args_d=(--flows 200 --size 20M --seed 3)
    args_e=(--flows 10k --size 100M --seed 4)
    scale_sizes=(2G 4G)
fi
in_a=$(gen_input a pcap "${args_a[@]}")
in_b=$(gen_input b pcap "${args_b[@]}")
in_c=$(gen_input c pcapng "${args_a[@]}" --pcapng --nanosecond)
in_d=$(gen_input d pcap "${args_d[@]}")
extra_args=()
if [ "$no_extra" -eq 0 ]; then
    in_e=$(gen_input e pcap "${args_e[@]}")
    extra_args=(--input "e=$in_e" --scale "a=$in_a")
    for size in "${scale_sizes[@]}"; do
        f=$(gen_input "scale-$size" pcap --flows 100k --size "$size" --seed 1)
        extra_args+=(--scale "$size=$f")
    done
fi

# The issue's limit for case b: a million files under the default descriptor limit.
if [ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -gt 1024 ]; then
    ulimit -n 1024
fi
note "open file limit (ulimit -n): $(ulimit -n)"

# --- measure ------------------------------------------------------------------------------
py_args=(
    --pp "$pp" --floor "$floor_bin" --runstat "$tmp_dir/runstat" --out "$out_dir" --runs "$runs" --root "$root"
    --input "a=$in_a" --input "b=$in_b" --input "c=$in_c" --input "d=$in_d"
    --gen-args "a=${args_a[*]}" --gen-args "b=${args_b[*]}"
    --gen-args "c=${args_a[*]} --pcapng --nanosecond" --gen-args "d=${args_d[*]}"
    --inputs-dir "$inputs" "${extra_args[@]}"
)
if [ -n "$tshark_bin" ]; then py_args+=(--tshark "$tshark_bin"); fi
if [ "$quick" -eq 1 ]; then py_args+=(--quick); fi
if [ -n "$md" ]; then py_args+=(--md "$md"); fi
if [ "$keep" -eq 1 ]; then py_args+=(--keep); fi

python3 "$script_dir/bench_run.py" "${py_args[@]}"
