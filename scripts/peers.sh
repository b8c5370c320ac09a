#!/usr/bin/env bash
# The harness against its peers, side by side in one run (issue 4/5 bars):
#
#  (i)  generator speed: a closed-model, non-streaming, no-resilience run
#       (`load.via: direct`: plain HTTP/1.1 connections, no client under
#       test) with USERS virtual users, vs `oha -c USERS` for the same time,
#       both against the same standalone fake server answering instantly.
#       Rounds alternate which tool goes first. Bar: the median of the
#       per-round ratios harness/oha >= 1.00 (a median of paired rounds, as
#       one disturbed round on a shared machine moves a sum by 20%). For
#       reference, each round also runs the same load through the resilient
#       client with every policy off (`via: client`): the speed of the client
#       under test, which has no bar.
#  (ii) the fake server vs a minimal hyper server under wrk: runs
#       scripts/bench-mock.sh (owned by the mock-server) when it exists.
#
#   scripts/peers.sh                               # 50 users, 10 s, 5 rounds (~4 min)
#   USERS=16 DURATION=5 ROUNDS=1 scripts/peers.sh  # shorter (DURATION in seconds)
#   SKIP_MOCK=1 scripts/peers.sh                   # only (i)
#
# Installs wrk (apt) and oha (cargo install --locked, a few minutes) when
# missing. Loopback only. Exits 1 when the generator bar fails.
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${USERS:-50}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-5}
BODY='{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"Say hello to the benchmark."}],"max_tokens":64}'

if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk not found; installing it with apt-get" >&2
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v oha >/dev/null 2>&1; then
  echo "oha not found; installing it with cargo install --locked (a few minutes)" >&2
  cargo install oha --locked -q
fi
command -v python3 >/dev/null || { echo "python3 is needed to read summary.json" >&2; exit 1; }
if [ ! -x /usr/bin/time ]; then
  apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
fi

cargo build --release -q -p harness --bin harness
cargo build --release -q -p mock-server --bin mock-server
tmp=$(mktemp -d)
spid=""
cleanup() { [ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

cat > "$tmp/server.yaml" <<'YAML'
server:
  generation: { ttft: 0ms, tokens_per_second: unlimited, output_tokens: { constant: 5 } }
YAML
target/release/mock-server "$tmp/server.yaml" > "$tmp/server.out" 2>&1 &
spid=$!
URL=""
for _ in $(seq 50); do
  URL=$(grep -o 'http://[0-9.:]*' "$tmp/server.out" | head -1 || true)
  [ -n "$URL" ] && break
  sleep 0.1
done
[ -n "$URL" ] || { echo "fake server did not start:"; cat "$tmp/server.out"; exit 1; }

for via in direct client; do
cat > "$tmp/closed-$via.yaml" <<YAML
name: peers-closed-$via
seed: 1
duration: ${DURATION}s
target: { url: $URL }
load:
  model: closed
  users: $USERS
  via: $via
  requests:
    - $BODY
client:
  retry: { max_attempts: 1, budget: { enabled: false } }
  breaker: { enabled: false }
  bulkhead: { enabled: false }
  balancer: { ejection: { enabled: false } }
YAML
done

# harness_rps direct|client -> "req/s cpu_us_per_request"
harness_rps() {
  rm -rf "$tmp/out"
  timeout $((DURATION + 60)) /usr/bin/time -f "%U %S" -o "$tmp/cpu" target/release/harness run "$tmp/closed-$1.yaml" -q --out "$tmp/out" > "$tmp/harness.log" 2>&1 || {
    echo "harness run failed:" >&2; cat "$tmp/harness.log" >&2; exit 1; }
  python3 - "$tmp"/out/*/summary.json "$tmp/cpu" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
a = s["arms"]["resilient"]
if a["success_rate"] < 0.999:
    sys.stderr.write(f"harness: success rate {a['success_rate']:.4f}\n")
u, k = map(float, open(sys.argv[2]).read().split())
print(f"{s['load']['achieved_rps']:.0f} {(u + k) / a['requests'] * 1e6:.1f}")
PY
}
oha_rps() {
  timeout $((DURATION + 60)) /usr/bin/time -f "%U %S" -o "$tmp/cpu" oha --no-tui --output-format json -c "$USERS" -z "${DURATION}s" -m POST \
    -H 'Authorization: Bearer sk-x' -H 'content-type: application/json' -d "$BODY" \
    "$URL/chat/completions" > "$tmp/oha.json" 2>"$tmp/oha.err" || { cat "$tmp/oha.err" >&2; exit 1; }
  python3 - "$tmp/oha.json" "$tmp/cpu" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
s = o["summary"]
if s["successRate"] < 0.999:
    sys.stderr.write(f"oha: success rate {s['successRate']:.4f}\n")
n = sum(o["statusCodeDistribution"].values())
u, k = map(float, open(sys.argv[2]).read().split())
print(f"{s['requestsPerSec']:.0f} {(u + k) / n * 1e6:.1f}")
PY
}

echo "machine: $(nproc) cores, $(uptime | sed 's/.*load average/load average/'), $(date -u +%FT%TZ)"
echo "(i) closed model, $USERS users/connections, ${DURATION}s per run, non-streaming, instant fake server at $URL"
echo "(cpu = the tool's own user+system CPU per request, from /usr/bin/time; the server is a separate process)"
printf "%-6s %14s %14s %8s %16s %16s   %s\n" round "harness req/s" "oha req/s" ratio "harness cpu us/r" "oha cpu us/r" "via client: req/s (vs oha), cpu us/r"
th=0; to=0; tc=0; ratios=""; cpus=""
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then read -r h hc < <(harness_rps direct); read -r o oc < <(oha_rps)
  else read -r o oc < <(oha_rps); read -r h hc < <(harness_rps direct); fi
  read -r c cc < <(harness_rps client)
  printf "%-6s %14s %14s %8.2f %16s %16s   %s (%.2f), %s\n" "$r" "$h" "$o" "$(awk -v h="$h" -v o="$o" 'BEGIN{print h/o}')" "$hc" "$oc" \
    "$c" "$(awk -v c="$c" -v o="$o" 'BEGIN{print c/o}')" "$cc"
  th=$((th + h)); to=$((to + o)); tc=$((tc + c))
  ratios="$ratios $(awk -v h="$h" -v o="$o" 'BEGIN{printf "%.4f", h/o}')"
  cpus="$cpus $(awk -v h="$hc" -v o="$oc" 'BEGIN{printf "%.4f", h/o}')"
done
# median of the words on stdin, 4 decimals (the bar is judged unrounded)
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{v[NR]=$1} END {if (NR%2) printf "%.4f", v[(NR+1)/2]; else printf "%.4f", (v[NR/2]+v[NR/2+1])/2}'; }
ratio=$(echo "$ratios" | median)
echo "median per-round harness/oha: req/s $ratio, own CPU per request $(echo "$cpus" | median); sums: $th vs $to req/s ($(awk -v h="$th" -v o="$to" 'BEGIN{printf "%.3f", h/o}'))"
echo "via client (the resilient client, every policy off) / oha = $(awk -v c="$tc" -v o="$to" 'BEGIN{printf "%.2f", c/o}') (reference, no bar)"
echo "machine after: $(uptime | sed 's/.*load average/load average/')"
fail=0
if awk -v r="$ratio" 'BEGIN{exit !(r >= 1.0)}'; then
  echo "PASS generator vs oha: harness/oha = $ratio (median of $ROUNDS paired rounds)"
else
  echo "FAIL generator vs oha: harness/oha = $ratio (median of $ROUNDS paired rounds)"
  fail=1
fi
kill "$spid" 2>/dev/null || true
spid=""

if [ -z "${SKIP_MOCK:-}" ]; then
  if [ -x scripts/bench-mock.sh ]; then
    echo "(ii) fake server vs minimal hyper server (scripts/bench-mock.sh)"
    scripts/bench-mock.sh || echo "scripts/bench-mock.sh reported a failure"
  else
    echo "(ii) skipped: scripts/bench-mock.sh not found"
  fi
fi
exit "$fail"
