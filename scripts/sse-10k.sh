#!/usr/bin/env bash
# Holds 10,000 concurrent SSE streams open against the fake server and checks
# each one completes (status 200, every chunk, `data: [DONE]`, final chunk).
# Streams last ~8s each (40 tokens at 5 tokens/s) so they are all open at once;
# the peak of open connections is read from /_mock/counters.
#   scripts/sse-10k.sh            # 10,000 streams
#   N=2000 scripts/sse-10k.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
# Each side needs one descriptor per stream; the server runs in its own process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "open-file limit: $(ulimit -n)"
cargo build --release -q -p mock-server --bin mock-server --example sse_10k
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
cat > "$tmp/sse.yaml" <<YAML
server:
  generation: { ttft: 200ms, tokens_per_second: 5, output_tokens: 40 }
YAML
target/release/mock-server "$tmp/sse.yaml" > "$tmp/mock.out" 2>&1 & pid=$!
for _ in $(seq 50); do url=$(grep -o 'http://[0-9.:]*' "$tmp/mock.out" | head -1 || true); [ -n "$url" ] && break; sleep 0.1; done
target/release/examples/sse_10k "$url" "$N"
echo "server counters after the run:"
curl -s "$url/_mock/counters"; echo
