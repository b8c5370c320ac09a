#!/usr/bin/env bash
# Throughput of the fake DeepSeek server vs a minimal hyper server returning
# the same bytes (mock-server/examples/minimal_hyper.rs), side by side with wrk.
# Non-streaming completions, no faults, zero generation delay.
# Pass criterion (issue 2): fake >= 80% of minimal.
# Then (issue 10) the attempt journal's cost: the same binary with
# --no-journal vs --journal FILE (ring + file sink), side by side, alternating.
# Pass criterion: with journal >= 90% of without (summed req/s over the
# rounds, which alternate which server goes first). The server CPU time per
# request is printed too: on a shared machine it is the steadier figure.
#   scripts/bench-mock.sh                 # -t2 -c64 -d10s, 3 alternating rounds each
#   DURATION=5s CONNS=32 ROUNDS=1 scripts/bench-mock.sh
#   ONLY=journal scripts/bench-mock.sh    # only the journal comparison
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
ROUNDS=${ROUNDS:-3}
ONLY=${ONLY:-}
TOKENS=${TOKENS:-60}

if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk not found; installing it with apt-get" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y wrk >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; }
fi

cargo build --release -q -p mock-server --bin mock-server --example minimal_hyper
BIN=target/release
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

cat > "$tmp/bench.yaml" <<YAML
# No faults, no generation delay, fixed answer length.
server:
  generation: { ttft: 0ms, tokens_per_second: unlimited, output_tokens: $TOKENS }
YAML
cat > "$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"Say hello to the benchmark."}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
LUA

url_of() { for _ in $(seq 50); do u=$(grep -o 'http://[0-9.:]*' "$1" | head -1 || true); [ -n "$u" ] && { echo "$u"; return; }; sleep 0.1; done; echo "no address in $1" >&2; exit 1; }

# Requests/s from wrk, plus the server's own CPU time per request (from
# /proc, utime+stime): the latter barely moves when other processes share
# the machine, the former does.
TCK=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
run() { # url pid -> "rps cpu_us_per_request"
  local a b out
  a=$(cpu "$2")
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s "${LUA_FILE:-$tmp/post.lua}" "$1/chat/completions")
  b=$(cpu "$2")
  echo "$out" >> "$tmp/wrk.log"
  echo "$out" | awk -v a="$a" -v b="$b" -v t="$TCK" '/requests in/ {n=$1} /Requests\/sec/ {r=$2} END {printf "%s %.2f\n", r, (b-a)/t*1e6/n}'
}

status=0
if [ "$ONLY" != "journal" ]; then
"$BIN/mock-server" "$tmp/bench.yaml" > "$tmp/mock.out" 2>&1 & pids+=($!)
"$BIN/examples/minimal_hyper" 127.0.0.1:0 "$TOKENS" > "$tmp/min.out" 2>&1 & pids+=($!)
MOCK=$(url_of "$tmp/mock.out")
MIN=$(url_of "$tmp/min.out")
# Same bytes? Compare body sizes once.
mock_len=$(curl -s -X POST -H 'Authorization: Bearer sk' -d @<(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$tmp/post.lua") "$MOCK/chat/completions" | wc -c)
min_len=$(curl -s -X POST -d '{}' "$MIN/chat/completions" | wc -c)
echo "body bytes: fake=$mock_len minimal=$min_len"

printf "%-6s %12s %12s %8s %14s %14s\n" round "fake req/s" "min req/s" ratio "fake cpu us/r" "min cpu us/r"
tf=0; tm=0
for r in $(seq "$ROUNDS"); do
  read -r m mc < <(run "$MIN" "${pids[1]}")
  read -r f fc < <(run "$MOCK" "${pids[0]}")
  printf "%-6s %12s %12s %7.1f%% %14s %14s\n" "$r" "$f" "$m" "$(awk -v f="$f" -v m="$m" 'BEGIN{print 100*f/m}')" "$fc" "$mc"
  tf=$(awk -v a="$tf" -v b="$f" 'BEGIN{print a+b}'); tm=$(awk -v a="$tm" -v b="$m" 'BEGIN{print a+b}')
done
ratio=$(awk -v f="$tf" -v m="$tm" 'BEGIN{printf "%.1f", 100*f/m}')
echo "overall: fake/minimal = ${ratio}% (wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS rounds)"
if grep -q "Non-2xx" "$tmp/wrk.log"; then echo "WARNING: wrk saw non-2xx responses"; grep "Non-2xx" "$tmp/wrk.log"; fi
awk -v r="$ratio" 'BEGIN{exit !(r >= 80)}' && echo "PASS (>= 80%)" || { echo "FAIL (< 80%)"; status=1; }
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; pids=()
fi

if [ "$ONLY" != "minimal" ]; then
echo
echo "journal cost: --no-journal vs --journal FILE (same binary)"
"$BIN/mock-server" "$tmp/bench.yaml" --no-journal > "$tmp/off.out" 2>&1 & pids+=($!)
"$BIN/mock-server" "$tmp/bench.yaml" --journal "$tmp/journal.jsonl" > "$tmp/on.out" 2>&1 & pids+=($!)
OFF=$(url_of "$tmp/off.out")
ON=$(url_of "$tmp/on.out")
# Two request mixes: the same body every time (as above; a retry resends
# the same bytes, so the writer's body-key cache hits), and a distinct body
# per request (every fingerprint computed: the writer's worst case).
cat "$tmp/post.lua" > "$tmp/distinct.lua"
cat >> "$tmp/distinct.lua" <<'LUA'
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("tid", threads) end
counter = 0
request = function()
  counter = counter + 1
  local body = '{"model":"deepseek-v4-flash","messages":[{"role":"user","content":"Say hello to the benchmark, request ' .. counter .. ' of thread ' .. tostring(tid) .. '."}]}'
  return wrk.format(nil, nil, nil, body)
end
LUA
LUA_FILE="$tmp/post.lua"
tj=0; tn=0
for mix in same distinct; do
  [ "$mix" = distinct ] && LUA_FILE="$tmp/distinct.lua"
  echo "bodies: $mix"
  printf "%-6s %12s %12s %8s %14s %14s\n" round "journal r/s" "none r/s" ratio "journal cpu us" "none cpu us"
  mj=0; mn=0
  for r in $(seq "$ROUNDS"); do
    # Alternate which goes first: the machine's load drifts within a round.
    if [ $((r % 2)) -eq 1 ]; then
      read -r n nc < <(run "$OFF" "${pids[0]}")
      read -r j jc < <(run "$ON" "${pids[1]}")
    else
      read -r j jc < <(run "$ON" "${pids[1]}")
      read -r n nc < <(run "$OFF" "${pids[0]}")
    fi
    printf "%-6s %12s %12s %7.1f%% %14s %14s\n" "$r" "$j" "$n" "$(awk -v a="$j" -v b="$n" 'BEGIN{print 100*a/b}')" "$jc" "$nc"
    mj=$(awk -v a="$mj" -v b="$j" 'BEGIN{print a+b}'); mn=$(awk -v a="$mn" -v b="$n" 'BEGIN{print a+b}')
    cj=$(awk -v a="${cj:-0}" -v b="$jc" 'BEGIN{print a+b}'); cn=$(awk -v a="${cn:-0}" -v b="$nc" 'BEGIN{print a+b}')
  done
  echo "  $mix bodies: journal/none = $(awk -v a="$mj" -v b="$mn" 'BEGIN{printf "%.1f", 100*a/b}')% req/s; CPU per request $(awk -v a="$cj" -v b="$cn" -v r="$ROUNDS" 'BEGIN{printf "%.2f vs %.2f us (%.2fx)", a/r, b/r, a/b}')"
  cj=0; cn=0
  tj=$(awk -v a="$tj" -v b="$mj" 'BEGIN{print a+b}'); tn=$(awk -v a="$tn" -v b="$mn" 'BEGIN{print a+b}')
done
# Every request answered must be in the file (or counted in a gap line).
kill -INT "${pids[1]}"; wait "${pids[1]}" 2>/dev/null || true
lines=$(grep -c '"seq"' "$tmp/journal.jsonl" || true)
gaps=$({ grep -o '"dropped":[0-9]*' "$tmp/journal.jsonl" || true; } | awk -F: '{s+=$2} END {print s+0}')
echo "journal file: $lines records, $gaps dropped, $(du -h "$tmp/journal.jsonl" | cut -f1)"
ratio=$(awk -v a="$tj" -v b="$tn" 'BEGIN{printf "%.1f", 100*a/b}')
echo "overall: journal/none = ${ratio}% (wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS rounds per mix)"
awk -v r="$ratio" 'BEGIN{exit !(r >= 90)}' && echo "PASS (>= 90%)" || { echo "FAIL (< 90%)"; status=1; }
fi
exit $status

