"""A user's own load: N chat calls through the official `openai` Python SDK
with its defaults, K at a time, against OPENAI_BASE_URL. Used to show
`harness mock --journal` + `harness judge` on a client the harness does not
drive (README: "Judge your own client").

Each call has its own prompt, so the fake server tells calls apart by the
body fingerprint even though the SDK sends no trace header.

usage: python3 calls.py [N=200] [K=8]
"""

import collections
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import openai


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    if not os.environ.get("OPENAI_BASE_URL"):
        # No default: a test must never reach the real API by accident.
        sys.exit("OPENAI_BASE_URL is not set (the fake server, e.g. http://127.0.0.1:8080/v1)")
    client = openai.OpenAI(api_key=os.environ.get("OPENAI_API_KEY", "sk-local"))

    def one(i):
        try:
            client.chat.completions.create(
                model="deepseek-v4-flash",
                messages=[{"role": "user", "content": f"Question {i}: say hello."}],
                max_tokens=16,
            )
            return "ok"
        except openai.APIStatusError as e:
            return f"http_{e.status_code}"
        except openai.APITimeoutError:
            return "timeout"
        except openai.APIConnectionError:
            return "connection"

    with ThreadPoolExecutor(k) as pool:
        results = collections.Counter(pool.map(one, range(n)))
    print(f"openai {openai.__version__}: {n} calls:", dict(sorted(results.items())))


if __name__ == "__main__":
    main()
