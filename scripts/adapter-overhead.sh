#!/usr/bin/env bash
# What the adapter path adds to latency: the same client (resilient-client
# with clients/resilient-rust/client.yaml), in one run, side by side on the
# same schedule and seed against identical fake servers:
#   resilient       in process (the harness calls it directly)
#   resilient-rust  behind the adapter protocol (harness -> HTTP -> adapter -> client)
# No faults, non-streaming, RATE req/s for DURATION. Prints both arms'
# latency percentiles and the difference at p50/p99 (loopback).
#
#   scripts/adapter-overhead.sh               # 500/s for 20 s
#   RATE=200/s DURATION=10s scripts/adapter-overhead.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-500/s}
DURATION=${DURATION:-20s}
cargo build --release -q -p harness -p resilient-adapter
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  cat <<YAML
name: adapter-overhead
seed: 7
duration: $DURATION
server:
  nodes: 1
  generation: { ttft: 5ms, tokens_per_second: unlimited, output_tokens: 16 }
load:
  rate: $RATE
YAML
  cat clients/resilient-rust/client.yaml
} > "$tmp/scenario.yaml"
echo "load: $(uptime)"
set +e
./target/release/harness run "$tmp/scenario.yaml" \
  --compare clients/resilient-rust/under_test.yaml --out "$tmp/reports" -q > "$tmp/out.txt"
code=$?
set -e
cat "$tmp/out.txt"
python3 - "$tmp"/reports/*/summary.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
a, b = s["arms"]["resilient"], s["arms"]["resilient-rust"]
print(f'\n{"":14}{"in process":>12}{"adapter":>12}{"added":>10}')
for k in ("p50_ms", "p90_ms", "p99_ms", "p999_ms"):
    x, y = a["latency"]["corrected"][k], b["latency"]["corrected"][k]
    print(f'corrected {k[:-3]:4}{x:10.2f}ms{y:10.2f}ms{y - x:8.2f}ms')
print(f'success        {100 * a["success_rate"]:10.2f}% {100 * b["success_rate"]:10.2f}%')
print(f'generator healthy: {s["generator"]["healthy"]} (achieved {s["load"]["achieved_rps"]:.1f}/s)')
PY
exit "$code"
