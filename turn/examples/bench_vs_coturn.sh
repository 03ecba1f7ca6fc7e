#!/usr/bin/env bash
# Relayed round trips per second and per server CPU-second: sansrtc turn-server vs coturn,
# same load generator (examples/turn_load.rs), same machine, same run. Run from the repo
# root, ideally inside a loopback-only namespace:
#   interop/netns.sh bash turn/examples/bench_vs_coturn.sh [ALLOCATIONS] [SECONDS] [RATES]
# RATES: comma-separated open-loop rates in round trips/s (default 20000,40000; coturn
# saturates near 45000 on the 2-core reference machine). Needs coturn (turnserver); builds
# the release `sansrtc` binary and the turn_load example if they are missing. SANSRTC_BIN
# overrides the server binary (A/B runs against an older build). Prints a summary table and
# the ratio of round trips per server CPU-second; exits 0 unless something failed to run.
set -euo pipefail
allocs="${1:-10}"; secs="${2:-5}"; rates="${3:-20000,40000}"
target="${CARGO_TARGET_DIR:-target}"
sansrtc="${SANSRTC_BIN:-$target/release/sansrtc}"
load="$target/release/examples/turn_load"
if [ ! -x "$sansrtc" ] || [ ! -x "$load" ]; then
    cargo build --release -p sansrtc-cli >&2
    cargo build --release -p sansrtc-turn --example turn_load >&2
fi
command -v turnserver >/dev/null || { echo "bench_vs_coturn: coturn (turnserver) is not installed" >&2; exit 1; }
tmp="$(mktemp -d)"
pids=()
trap 'for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
# Kernel receive-queue drops (/proc/net/udp, this namespace) on the server's sockets (its
# listening port and relay range: first port, last port) and on all other sockets (the load
# generator's clients and echo peer): "server other".
udp_drops() { # lo, hi, listen port
    awk -v lo="$1" -v hi="$2" -v lp="$3" 'function hex(h,   i, v) {
            v = 0; for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789ABCDEF", substr(h, i, 1)) - 1
            return v }
        NR > 1 { split($2, a, ":"); p = hex(a[2]);
        if (p == lp || (p >= lo && p <= hi)) s += $NF; else o += $NF }
        END { printf "%d %d\n", s, o }' /proc/net/udp
}
# One turn_load run; prints its line and appends
# "label|mode|rt/s|rt per CPU-s|loss %|drops at server sockets|drops elsewhere".
run_one() { # label, pid, port, mode, extra args...
    local label="$1" pid="$2" port="$3" mode="$4"; shift 4
    local out lo hi d0 d1
    if [ "$label" = sansrtc ]; then lo=49160; hi=49260; else lo=49300; hi=49400; fi
    d0="$(udp_drops "$lo" "$hi" "$port")"
    out="$("$load" --server "127.0.0.1:$port" --allocations "$allocs" --seconds "$secs" --server-pid "$pid" "$@" | tail -1)"
    d1="$(udp_drops "$lo" "$hi" "$port")"
    echo "   $out"
    local ds do_
    ds=$(( ${d1% *} - ${d0% *} )); do_=$(( ${d1#* } - ${d0#* } ))
    local rts cps loss
    rts="$(echo "$out" | sed -n 's/.*: \([0-9]*\) round trips\/s.*/\1/p')"
    cps="$(echo "$out" | sed -n 's/.*= \([0-9]*\) round trips per server CPU-second.*/\1/p')"
    loss="$(echo "$out" | sed -n 's/.*lost [0-9]* (\([0-9.]*\)%).*/\1/p')"
    echo "$label|$mode|${rts:-?}|${cps:-?}|${loss:-?}|$ds|$do_" >>"$tmp/results"
}
run_load() { # label, pid, port
    echo "== $1: closed loop, window 16 per allocation"
    run_one "$1" "$2" "$3" "closed loop (window 16)" --window 16
    local r
    for r in ${rates//,/ }; do
        echo "== $1: open loop, $r round trips/s offered"
        run_one "$1" "$2" "$3" "open loop $r/s" --rate "$r"
    done
}
load0="$(cut -d' ' -f1-3 /proc/loadavg)"
"$sansrtc" turn-server --listen 127.0.0.1:3478 --realm bench --user webrtc:webrtc-pass \
    --relay-ports 49160-49260 --allow-peer 127.0.0.0/8 --max-allocations-per-user 1000 \
    >"$tmp/sansrtc.log" 2>&1 &
pids+=($!); s=$!
sleep 0.5
run_load "sansrtc" "$s" 3478
kill "$s"; sleep 0.5
grep "shutting down" "$tmp/sansrtc.log" | sed 's/^/   /' || true
turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port=3479 \
    --min-port=49300 --max-port=49400 --realm=bench --lt-cred-mech --user=webrtc:webrtc-pass \
    --allow-loopback-peers --allowed-peer-ip=127.0.0.1-127.255.255.255 --no-tls --no-dtls \
    --no-cli --log-file="$tmp/coturn.log" --userdb="$tmp/db.sqlite" --pidfile="$tmp/c.pid" \
    --simple-log >/dev/null 2>&1 &
pids+=($!); c=$!
sleep 1
coturn_version="$(turnserver --version 2>/dev/null | head -1 || true)"
run_load "coturn" "$c" 3479
load1="$(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "== summary: $allocs allocations, 100-byte ChannelData via an echo peer, ${secs} s per run; coturn ${coturn_version:-?}; $(nproc) CPUs; load average before $load0, after $load1"
printf '%-8s %-24s %9s %20s %8s %14s %14s\n' server mode "rt/s" "rt per server CPU-s" "lost %" "server drops" "other drops"
while IFS='|' read -r who mode rts cps loss ds do_; do
    printf '%-8s %-24s %9s %20s %8s %14s %14s\n' "$who" "$mode" "$rts" "$cps" "$loss" "$ds" "$do_"
done <"$tmp/results"
echo "(drops: datagrams the kernel dropped on full receive queues, on the server's sockets and on the load generator's)"
echo
while IFS='|' read -r who mode rts cps loss _; do
    [ "$who" = sansrtc ] || continue
    theirs="$(awk -F'|' -v m="$mode" '$1=="coturn" && $2==m {print $4}' "$tmp/results")"
    if [[ "$cps" =~ ^[0-9]+$ ]] && [[ "$theirs" =~ ^[0-9]+$ ]] && [ "$theirs" -gt 0 ]; then
        echo "ratio sansrtc/coturn, round trips per server CPU-second, $mode: $(awk -v a="$cps" -v b="$theirs" 'BEGIN{printf "%.2f", a/b}')x"
    fi
done <"$tmp/results"
