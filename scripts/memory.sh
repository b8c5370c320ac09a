#!/usr/bin/env bash
# Peak memory of a long open-model run (issue 4 bar: a 10-minute run at
# 2,000 requests/s keeps peak RSS under 200 MB). The fake server runs
# in-process with instant answers, so the figure covers the whole harness:
# generator, client, recorder, fake server and the report written at the end.
#
#   scripts/memory.sh                          # 10 min at 2000/s (~11 min)
#   DURATION=60s RATE=2000 scripts/memory.sh   # shorter
#   LIMIT_MB=200 SAMPLE=10 scripts/memory.sh   # bar and sampling period (s)
#
# Prints RSS samples (VmRSS / VmHWM from /proc every SAMPLE seconds) so growth
# over time is visible, then the peak from `/usr/bin/time -v` and PASS/FAIL.
# Exit 0 on PASS, 1 on FAIL or error.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10m}
RATE=${RATE:-2000}
LIMIT_MB=${LIMIT_MB:-200}
SAMPLE=${SAMPLE:-10}

if [ ! -x /usr/bin/time ]; then
  echo "/usr/bin/time not found; installing it with apt-get" >&2
  apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
fi
command -v python3 >/dev/null || { echo "python3 is needed to read summary.json" >&2; exit 1; }

cargo build --release -q -p harness --bin harness
BIN=target/release/harness
tmp=$(mktemp -d)
tpid=""
cleanup() { [ -n "$tpid" ] && kill "$tpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

cat > "$tmp/memory.yaml" <<YAML
# Instant fake server, resilient client with default settings but a
# bulkhead wide enough that a noisy neighbour's CPU burst does not shed.
name: memory
seed: 1
duration: $DURATION
server:
  generation: { ttft: 0ms, tokens_per_second: unlimited, output_tokens: { constant: 5 } }
load:
  rate: $RATE/s
client:
  bulkhead: { max_concurrent: 256, max_queue: 4096 }
YAML

echo "machine: $(nproc) cores, $(uptime | sed 's/.*load average/load average/')"
echo "run: open model, $RATE/s for $DURATION, in-process instant fake server"
/usr/bin/time -v -o "$tmp/time.txt" "$BIN" run "$tmp/memory.yaml" -q --out "$tmp/out" \
  > "$tmp/run.out" 2>&1 &
tpid=$!
# The harness is the child of /usr/bin/time.
hpid=""
for _ in $(seq 100); do
  hpid=$(pgrep -P "$tpid" || true)
  [ -n "$hpid" ] && break
  sleep 0.1
done
start=$(date +%s)
printf "%8s %10s %10s\n" "t (s)" "RSS MB" "HWM MB"
while kill -0 "$tpid" 2>/dev/null; do
  if [ -n "$hpid" ] && [ -r "/proc/$hpid/status" ]; then
    awk -v t=$(( $(date +%s) - start )) '/^VmRSS/ {r=$2} /^VmHWM/ {h=$2}
      END { if (r) printf "%8d %10.1f %10.1f\n", t, r/1024, h/1024 }' "/proc/$hpid/status" 2>/dev/null || true
  fi
  sleep "$SAMPLE"
done
rc=0
wait "$tpid" || rc=$?
tpid=""
# 4 = the generator fell behind (reported below); the report is complete.
if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then echo "harness run failed (exit $rc):"; cat "$tmp/run.out"; exit 1; fi

peak_kb=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$tmp/time.txt")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/time.txt")
cpu=$(awk -F': ' '/Percent of CPU/ {print $2}' "$tmp/time.txt")
python3 - "$tmp"/out/*/summary.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
l, g = s["load"], s["generator"]
a = s["arms"]["resilient"]
print(f"generator problems: {g['problems']}" if g["problems"] else "generator: healthy")
print(f"requests {l['requests']} of {l['schedule_len']} scheduled, asked {l['asked_rps']:.1f}/s, "
      f"achieved {l['achieved_rps']:.1f}/s, success {100*a['success_rate']:.2f}%, "
      f"lag p99 {g['lag']['p99_ms']:.2f} ms, healthy {g['healthy']}")
PY
peak_mb=$(awk -v k="$peak_kb" 'BEGIN{printf "%.1f", k/1024}')
echo "wall $wall, CPU $cpu"
if awk -v p="$peak_mb" -v l="$LIMIT_MB" 'BEGIN{exit !(p < l)}'; then
  echo "PASS memory: peak RSS $peak_mb MB < $LIMIT_MB MB ($RATE/s for $DURATION)"
else
  echo "FAIL memory: peak RSS $peak_mb MB >= $LIMIT_MB MB ($RATE/s for $DURATION)"
  exit 1
fi
