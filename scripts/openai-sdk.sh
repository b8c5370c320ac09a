#!/usr/bin/env bash
# Checks that the official OpenAI Python SDK works unchanged against the fake
# server: plain and streamed completions (reasoning before content, usage in
# the last chunk), /v1/models, and DeepSeek's error for an unknown model.
# Installs the SDK with pip if missing; loopback only; ends by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import openai' 2>/dev/null || python3 -m pip install -q openai
cargo build --release -q
log=$(mktemp)
timeout 60 ./target/release/harness mock scenarios/baseline.yaml --port 0 > "$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 50); do grep -q '^node 0:' "$log" && break; sleep 0.1; done
base=$(sed -n 's/^node 0: //p' "$log")
BASE="$base" python3 - <<'PY'
import os, openai
from openai import OpenAI
base = os.environ["BASE"]
c = OpenAI(base_url=base, api_key="sk-local")
r = c.chat.completions.create(model="deepseek-v4-flash", messages=[{"role": "user", "content": "hi"}], max_tokens=20)
assert r.object == "chat.completion" and r.choices[0].message.content, r
assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
print("json ok:", r.choices[0].finish_reason, r.usage.total_tokens, "tokens")
s = c.chat.completions.create(model="deepseek-v4-pro", messages=[{"role": "user", "content": "hi"}],
                              max_tokens=40, stream=True, stream_options={"include_usage": True})
order, last = [], None
for ch in s:
    last = ch
    if ch.choices:
        d = ch.choices[0].delta
        if (d.model_extra or {}).get("reasoning_content"):
            order.append("r")
        if d.content:
            order.append("c")
assert order and "".join(order) == "".join(sorted(order, key=lambda x: x != "r")), "reasoning before content"
assert last.usage is not None, "usage in the last chunk"
print("stream ok:", order.count("r"), "reasoning and", order.count("c"), "content chunks, usage", last.usage.total_tokens)
ids = [m.id for m in OpenAI(base_url=base + "/v1", api_key="sk-local").models.list()]
assert "deepseek-v4-flash" in ids, ids
print("models ok:", ids)
try:
    c.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    raise SystemExit("unknown model accepted")
except openai.BadRequestError as e:
    print("unknown model ok:", e.status_code, e.message)
print("openai", openai.__version__, "works against the fake server")
PY
