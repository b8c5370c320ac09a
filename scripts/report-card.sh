#!/usr/bin/env bash
# The report card: every shipped client adapter whose toolchain is here,
# side by side in one `harness run scenarios/report-card.yaml` (same
# schedule, seed and faults, a fake server each), then one table: per
# client, success rate, p99, retry amplification (attempts the fake server
# saw per call) and every verdict count.
#
#   scripts/report-card.sh                  # all available adapters
#   ONLY="openai-python go-article" scripts/report-card.sh
#   DURATION=20s scripts/report-card.sh     # shorter (phases past it are cut)
#
# Installs nothing system-wide: the Python SDK with pip (user site) when
# missing, the Node SDK with `npm ci` in clients/openai-node, the Go client
# with `go build` when Go is installed; an adapter whose toolchain is
# missing is skipped with the reason. Loopback only; ends by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
ONLY=${ONLY:-"resilient-rust openai-python openai-node go-article"}
OUT=${OUT:-reports}
cargo build --release -q -p harness -p resilient-adapter

arms=()
want() { [[ " $ONLY " == *" $1 "* ]]; }
if want resilient-rust; then arms+=(clients/resilient-rust/under_test.yaml); fi
if want openai-python; then
  if command -v python3 >/dev/null && { python3 -c 'import openai' 2>/dev/null || python3 -m pip install -q -r clients/openai-python/requirements.txt; }; then
    arms+=(clients/openai-python/under_test.yaml)
  else echo "skipped openai-python: python3 with pip is not available" >&2; fi
fi
if want openai-node; then
  if command -v npm >/dev/null && (cd clients/openai-node && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
    arms+=(clients/openai-node/under_test.yaml)
  else echo "skipped openai-node: node/npm is not available or npm ci failed" >&2; fi
fi
if want go-article; then
  if command -v go >/dev/null && (cd clients/go-article && go build -o ../../target/go-article .); then
    arms+=(clients/go-article/under_test.yaml)
  else echo "skipped go-article: the Go toolchain is not installed (apt-get install golang-go)" >&2; fi
fi
if [ ${#arms[@]} -eq 0 ]; then echo "no adapter can run here" >&2; exit 1; fi

flags=(--under-test "${arms[0]}")
for a in "${arms[@]:1}"; do flags+=(--compare "$a"); done
[ -n "${DURATION:-}" ] && flags+=(--duration "$DURATION")
set +e
./target/release/harness run scenarios/report-card.yaml "${flags[@]}" --out "$OUT" -q | tee /tmp/report-card.$$.txt
code=${PIPESTATUS[0]}
set -e
dir=$(sed -n 's/^report: //p' /tmp/report-card.$$.txt | tail -1)
rm -f /tmp/report-card.$$.txt
[ -n "$dir" ] || exit "$code"
python3 - "$dir/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
arms = [s["primary"]] + sorted(k for k in s["arms"] if k != s["primary"])
names = list(next(iter(s["arms"].values()))["verdicts"]["counts"].keys())
head = ["client", "success", "p99", "attempts/call"] + names
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for a in arms:
    x = s["arms"][a]
    v = x["verdicts"]
    fired = {f.split(" ")[0]: f.split(" ")[1].strip("()") for f in v["fired"]}
    cells = [a, f'{100 * x["success_rate"]:.1f}%', f'{x["latency"]["corrected"]["p99_ms"] / 1000:.2f}s',
             f'{x["retry_amplification"]:.2f}']
    for n in names:
        c = v["counts"][n]
        cells.append(f"**{c}** ({fired[n]})" if n in fired and fired[n] != "info" else str(c))
    print("| " + " | ".join(cells) + " |")
print(f'\nreport: {sys.argv[1].rsplit("/", 1)[0]}')
PY
exit "$code"
