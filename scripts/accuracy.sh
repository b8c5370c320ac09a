#!/usr/bin/env bash
# Accuracy bars of the load generator (issue 4), each a short `harness run`
# of a generated scenario against the embedded fake server (loopback only):
#
#  (a) rate: the open model holds 1000, 2000 and 5000 requests/s within 1%
#      for 10 s each, the fake server answering instantly. Checked three ways:
#      requests counted == schedule length, load.achieved_rps vs asked, and
#      the actual send rate (per-second `sent` in timeseries.csv is bucketed by
#      the real send instant; requests / (window + max send lag) bounds the
#      real send rate from below). Generator lag p99 and health are printed.
#  (b) latency: with a fixed injected latency L on every request (instant
#      generation), corrected and uncorrected p50 are within 1 ms of L.
#  (c) stall: a 1 s phase in which every request takes 1 s, with
#      load.max_in_flight bounded (wrk2's connection count), shows in the
#      corrected p99 as wrk2 would report it; the uncorrected p99 is printed
#      beside it to show what coordinated omission hides.
#
#   scripts/accuracy.sh                              # all three, ~1.5 min
#   RATES="1000 5000" RUN=5s scripts/accuracy.sh     # other rates / run length
#   ONLY=b LATENCY_MS=20 scripts/accuracy.sh         # one part (a, b or c)
#
# Prints PASS/FAIL per bar with its figures and the machine load; exits 1 if a
# bar fails.
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=${RATES:-"1000 2000 5000"}
RUN=${RUN:-10s}
LATENCY_MS=${LATENCY_MS:-50}
LAT_RATE=${LAT_RATE:-200}
STALL_RATE=${STALL_RATE:-1000}
STALL_CONNS=${STALL_CONNS:-50}
ONLY=${ONLY:-abc}

command -v python3 >/dev/null || { echo "python3 is needed to read summary.json" >&2; exit 1; }
cargo build --release -q -p harness --bin harness
BIN=$PWD/target/release/harness
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(uptime | sed 's/.*load average/load average/'), $(date -u +%FT%TZ)"

INSTANT='generation: { ttft: 0ms, tokens_per_second: unlimited, output_tokens: { constant: 5 } }'

# run NAME: runs $tmp/NAME.yaml, prints the summary.json path. Exit 4 (the
# generator could not keep the load) still wrote a report: the checks decide.
run() {
  local rc=0
  timeout 120 "$BIN" run "$tmp/$1.yaml" -q --out "$tmp/out-$1" > "$tmp/$1.log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ]; then
    echo "harness run $1 failed (exit $rc):" >&2; cat "$tmp/$1.log" >&2; return 1
  fi
  ls "$tmp/out-$1"/*/summary.json
}

check() { python3 - "$@" <<'PY'
import csv, json, os, sys
mode, path = sys.argv[1], sys.argv[2]
s = json.load(open(path))
l, g = s["load"], s["generator"]
a = s["arms"]["resilient"]
lat = a["latency"]
def verdict(ok): return "PASS" if ok else "FAIL"
health = (f"lag p50 {g['lag']['p50_ms']:.2f} ms, p99 {g['lag']['p99_ms']:.2f} ms, "
          f"max {g['lag']['max_ms']:.1f} ms, healthy {str(g['healthy']).lower()}")
if mode == "rate":
    asked, ach = l["asked_rps"], l["achieved_rps"]
    window = s["scenario"]["duration_s"]
    counted_ok = l["requests"] == l["schedule_len"]
    err = abs(ach - asked) / asked
    # Real send instants: rows are bucketed by when each request left.
    rows = list(csv.DictReader(open(os.path.join(os.path.dirname(path), "timeseries.csv"))))
    full = [int(r["sent"]) for r in rows if r["arm"] == "resilient" and float(r["t_s"]) + 1 <= window]
    worst = max(abs(x - asked) / asked for x in full) if full else 1.0
    floor = l["requests"] / (window + g["lag"]["max_ms"] / 1000)
    floor_err = (asked - floor) / asked
    ok = counted_ok and err <= 0.01 and floor_err <= 0.01
    print(f"{verdict(ok)} (a) rate {asked:.0f}/s: achieved {ach:.1f}/s ({100*err:.2f}% off), "
          f"requests {l['requests']}/{l['schedule_len']} scheduled, send rate >= {floor:.1f}/s "
          f"({100*floor_err:.2f}% under), per-second sends {min(full)}..{max(full)} "
          f"(worst {100*worst:.2f}% off), success {100*a['success_rate']:.2f}%")
    print(f"     generator: {health}")
elif mode == "latency":
    target = float(sys.argv[3])
    c, u = lat["corrected"]["p50_ms"], lat["uncorrected"]["p50_ms"]
    ok = abs(c - target) <= 1.0 and abs(u - target) <= 1.0
    print(f"{verdict(ok)} (b) injected latency {target:.0f} ms: p50 corrected {c:.3f} ms "
          f"({c - target:+.3f}), uncorrected {u:.3f} ms ({u - target:+.3f}); "
          f"p99 corrected {lat['corrected']['p99_ms']:.2f} ms, uncorrected {lat['uncorrected']['p99_ms']:.2f} ms")
    print(f"     generator: {health}")
elif mode == "stall":
    stall_ms, dur_s = float(sys.argv[3]), s["scenario"]["duration_s"]
    c, u = lat["corrected"], lat["uncorrected"]
    # wrk2's view: a share f = stall/duration of intended instants fall in
    # the stall, and their corrected latencies spread over [0, stall], so
    # p99 ~= stall * (1 - 0.01 / f).
    f = stall_ms / 1000 / dur_s
    expect = stall_ms * (1 - 0.01 / f) if f > 0.01 else 0.0
    ok = c["p99_ms"] >= 0.5 * stall_ms
    print(f"{verdict(ok)} (c) {stall_ms:.0f} ms stall: corrected p99 {c['p99_ms']:.0f} ms "
          f"(wrk2 model ~{expect:.0f} ms, bar >= {0.5*stall_ms:.0f} ms), uncorrected p99 {u['p99_ms']:.1f} ms, "
          f"p99.9 corrected {c['p999_ms']:.0f} / uncorrected {u['p999_ms']:.0f} ms, "
          f"max_in_flight hits {g['max_in_flight_hits']}")
    print(f"     generator: {health} (unhealthy is expected here: sends waited for a free connection)")
sys.exit(0 if ok else 1)
PY
}

fails=0
if [[ $ONLY == *a* ]]; then
  for r in $RATES; do
    cat > "$tmp/rate$r.yaml" <<YAML
name: accuracy-rate-$r
seed: 1
duration: $RUN
server:
  $INSTANT
load:
  rate: $r/s
YAML
    sum=$(run "rate$r") && check rate "$sum" || fails=$((fails + 1))
  done
fi

if [[ $ONLY == *b* ]]; then
  cat > "$tmp/latency.yaml" <<YAML
name: accuracy-latency
seed: 1
duration: $RUN
server:
  $INSTANT
  faults:
    - latency: { delay: ${LATENCY_MS}ms }
load:
  rate: $LAT_RATE/s
YAML
  sum=$(run latency) && check latency "$sum" "$LATENCY_MS" || fails=$((fails + 1))
  # Independent check: the same fault on a standalone fake server, measured
  # by oha at the same rate. If oha sees the same p50, the excess over L is
  # the server's (its delay), not the harness's measurement.
  if command -v oha >/dev/null 2>&1 || [ -x "$HOME/.cargo/bin/oha" ]; then
    OHA=$(command -v oha || echo "$HOME/.cargo/bin/oha")
    cargo build --release -q -p mock-server --bin mock-server
    printf 'server:\n  %s\n  faults:\n    - latency: { delay: %sms }\n' "$INSTANT" "$LATENCY_MS" > "$tmp/lat-server.yaml"
    target/release/mock-server "$tmp/lat-server.yaml" > "$tmp/lat-server.out" 2>&1 &
    mpid=$!
    url=""
    for _ in $(seq 50); do
      url=$(grep -o 'http://[0-9.:]*' "$tmp/lat-server.out" | head -1 || true)
      [ -n "$url" ] && break
      sleep 0.1
    done
    if [ -n "$url" ]; then
      timeout 120 "$OHA" --no-tui --output-format json -q "$LAT_RATE" -c 50 -z "$RUN" -m POST \
        -H 'Authorization: Bearer sk-x' -H 'content-type: application/json' \
        -d '{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"hi"}],"max_tokens":64}' \
        "$url/chat/completions" > "$tmp/oha-lat.json" 2>/dev/null || true
      python3 - "$tmp/oha-lat.json" "$sum" "$LATENCY_MS" <<'PY' || true
import json, sys
o = json.load(open(sys.argv[1]))
h = json.load(open(sys.argv[2]))["arms"]["resilient"]["latency"]["uncorrected"]["p50_ms"]
p50 = o["latencyPercentiles"]["p50"] * 1000
L = float(sys.argv[3])
print(f"     cross-check: oha p50 on the same fault (standalone server, {o['summary']['requestsPerSec']:.0f}/s) "
      f"{p50:.3f} ms ({p50 - L:+.3f}); harness uncorrected - oha = {h - p50:+.3f} ms")
PY
    fi
    kill "$mpid" 2>/dev/null || true
  else
    echo "     cross-check skipped: oha not installed (scripts/peers.sh installs it)"
  fi
fi

if [[ $ONLY == *c* ]]; then
  # Resilience off so the 1 s answers are neither timed out nor retried.
  cat > "$tmp/stall.yaml" <<YAML
name: accuracy-stall
seed: 1
duration: 10s
server:
  $INSTANT
  phases:
    - name: stall
      at: 5s
      for: 1s
      faults:
        - latency: { delay: 1s }
load:
  rate: $STALL_RATE/s
  max_in_flight: $STALL_CONNS
client:
  retry: { max_attempts: 1 }
  timeouts: { first_byte: 5s, total: 10s }
  breaker: { enabled: false }
  bulkhead: { enabled: false }
YAML
  sum=$(run stall) && check stall "$sum" 1000 || fails=$((fails + 1))
fi

echo "machine after: $(uptime | sed 's/.*load average/load average/')"
if [ "$fails" -gt 0 ]; then echo "accuracy: $fails bar(s) FAILED"; exit 1; fi
echo "accuracy: all bars passed"
