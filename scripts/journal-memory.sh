#!/usr/bin/env bash
# Bounded memory of the fake server's attempt journal (issue 10): the
# standalone server with the default ring (100,000 records) and a file sink,
# first filled at full speed (so the ring is full from the start), then held
# at ~RATE attempts/s for DURATION while its RSS is sampled every SAMPLE s.
# The bar: RSS flat once the ring is full (last sample within 10% of the
# first sample taken with the ring full).
#
#   scripts/journal-memory.sh                       # fill 15 s, then 10 min at ~1000/s
#   DURATION=2m scripts/journal-memory.sh           # shorter
#   RATE=1000 FILL=15s SAMPLE=10 scripts/journal-memory.sh
#
# Needs wrk (installed with apt-get when missing). Exit 0 on PASS.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10m}
RATE=${RATE:-1000}
FILL=${FILL:-15s}
SAMPLE=${SAMPLE:-10}
CONNS=10

if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk not found; installing it with apt-get" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y wrk >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; }
fi

cargo build --release -q -p mock-server --bin mock-server
BIN=target/release
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

cat > "$tmp/s.yaml" <<YAML
server:
  generation: { ttft: 0ms, tokens_per_second: unlimited, output_tokens: 60 }
YAML
body='{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"Say hello to the benchmark."}]}'
cat > "$tmp/fast.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
LUA
# Each of CONNS connections waits CONNS/RATE s between requests: ~RATE/s.
delay_ms=$(awk -v c="$CONNS" -v r="$RATE" 'BEGIN{printf "%d", 1000*c/r}')
cat "$tmp/fast.lua" > "$tmp/slow.lua"
cat >> "$tmp/slow.lua" <<LUA
-- Distinct call per request (the header rule), as a real client's calls are.
counter = 0
request = function()
  counter = counter + 1
  wrk.headers["x-harness-call"] = "mem-" .. tostring(math.random(1, 1e9)) .. "-" .. counter
  return wrk.format()
end
delay = function() return $delay_ms end
LUA

"$BIN/mock-server" "$tmp/s.yaml" --journal "$tmp/j.jsonl" > "$tmp/out" 2>&1 & pids+=($!)
pid=${pids[0]}
for _ in $(seq 50); do url=$(grep -o 'http://[0-9.:]*' "$tmp/out" | head -1 || true); [ -n "$url" ] && break; sleep 0.1; done
[ -n "$url" ] || { echo "no address"; exit 1; }
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$pid/status"; }
records() { curl -s "$url/_mock/journal?since=0&limit=1" | python3 -c 'import json,sys; v=json.load(sys.stdin); print(v["oldest"], v["dropped"])'; }

echo "$(date -u +%H:%M:%S) start: RSS $(rss) MB, load: $(uptime | sed 's/.*load average: //')"
wrk -t2 -c64 -d"$FILL" -s "$tmp/fast.lua" "$url/chat/completions" | grep -E "requests in|Requests/sec"
read -r oldest dropped < <(records)
echo "$(date -u +%H:%M:%S) after the fill: RSS $(rss) MB, oldest seq in the ring $oldest (ring full when > 1), dropped $dropped"

wrk -t2 -c"$CONNS" -d"$DURATION" -s "$tmp/slow.lua" "$url/chat/completions" > "$tmp/wrk.out" 2>&1 & pids+=($!)
wpid=${pids[1]}
first=""; last=""
printf "%8s %10s %12s\n" elapsed "RSS MB" "file MB"
t=0
while kill -0 "$wpid" 2>/dev/null; do
  sleep "$SAMPLE"; t=$((t + SAMPLE))
  kill -0 "$wpid" 2>/dev/null || break
  r=$(rss); [ -z "$first" ] && first=$r; last=$r
  printf "%7ss %10s %12s\n" "$t" "$r" "$(du -m "$tmp/j.jsonl" | cut -f1)"
done
grep -E "requests in|Requests/sec" "$tmp/wrk.out"
read -r oldest dropped < <(records)
echo "$(date -u +%H:%M:%S) end: RSS $last MB (first sample $first MB), oldest seq $oldest, dropped $dropped, load: $(uptime | sed 's/.*load average: //')"
awk -v a="$first" -v b="$last" 'BEGIN{exit !(b <= a * 1.10)}' && echo "PASS (RSS flat within 10%)" || { echo "FAIL (RSS grew more than 10%)"; exit 1; }
