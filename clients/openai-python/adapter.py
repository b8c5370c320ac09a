"""Adapter: the official `openai` Python SDK behind the harness's adapter
protocol (docs/adapter-protocol.md).

One POST /chat from the harness becomes one `chat.completions.create` call
with the SDK's defaults (2 retries, exponential backoff from 0.5 s with up to
25% jitter, Retry-After / retry-after-ms honoured up to 2 minutes, 10-minute
timeout). The answer goes back as the completion JSON, re-streamed SSE
chunks, or an error body saying how the SDK gave up.

Environment: PORT (where to listen, loopback), OPENAI_BASE_URL (the fake
server, e.g. http://127.0.0.1:8080/v1; for the real API
https://api.deepseek.com), OPENAI_API_KEY, and optionally OPENAI_MAX_RETRIES
and OPENAI_TIMEOUT (seconds) to change the SDK's defaults.
"""

import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai

# Parameters `create` takes by name; anything else (DeepSeek's `thinking`,
# `reasoning_effort`, ...) travels in `extra_body`.
KNOWN = {
    "model", "messages", "stream", "max_tokens", "temperature", "top_p",
    "stop", "presence_penalty", "frequency_penalty", "logprobs",
    "top_logprobs", "response_format", "tools", "tool_choice",
    "stream_options", "n", "seed", "user",
}
FORWARD = ("traceparent", "x-harness-call")


def make_client():
    kwargs = {}
    if "OPENAI_MAX_RETRIES" in os.environ:
        kwargs["max_retries"] = int(os.environ["OPENAI_MAX_RETRIES"])
    if "OPENAI_TIMEOUT" in os.environ:
        kwargs["timeout"] = float(os.environ["OPENAI_TIMEOUT"])
    return openai.OpenAI(**kwargs)


def classify(e):
    """How the SDK gave up, in the protocol's words."""
    if isinstance(e, openai.APITimeoutError):
        return "timeout", None
    if isinstance(e, openai.APIConnectionError):
        return "connection", None
    if isinstance(e, openai.APIStatusError):
        return "status", e.status_code
    return "other", None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    client = None

    def log_message(self, *args):
        pass  # one line per request would drown sut.log

    def do_GET(self):
        if self.path == "/healthz":
            self.reply(200, b"ok", "text/plain")
        else:
            self.reply(404, b'{"error":"not found"}')

    def do_POST(self):
        if self.path != "/chat":
            return self.reply(404, b'{"error":"not found"}')
        try:
            n = int(self.headers.get("content-length", "0"))
            body = json.loads(self.rfile.read(n))
            args = {k: v for k, v in body.items() if k in KNOWN}
            extra = {k: v for k, v in body.items() if k not in KNOWN}
            headers = {h: self.headers[h] for h in FORWARD if self.headers.get(h)}
        except (ValueError, AttributeError) as e:
            return self.fail(400, "other", None, f"bad request body: {e}")
        stream = bool(args.get("stream"))
        try:
            result = self.client.chat.completions.create(
                **args, extra_body=extra or None, extra_headers=headers
            )
        except Exception as e:  # every way the SDK can give up
            kind, status = classify(e)
            return self.fail(502, kind, status, str(e))
        if not stream:
            return self.reply(200, result.model_dump_json(exclude_unset=True).encode())
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        try:
            for chunk in result:
                self.chunk(b"data: " + chunk.model_dump_json(exclude_unset=True).encode() + b"\n\n")
            self.chunk(b"data: [DONE]\n\n")
        except Exception as e:
            kind, status = classify(e)
            if kind == "other":
                kind = "stream"
            err = {"error": {"kind": kind, "status": status, "message": str(e)}}
            self.chunk(b"event: error\ndata: " + json.dumps(err).encode() + b"\n\n")
        finally:
            result.close()
        self.wfile.write(b"0\r\n\r\n")

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def fail(self, code, kind, status, message):
        err = {"error": {"kind": kind, "status": status, "message": message}}
        self.reply(code, json.dumps(err).encode())

    def reply(self, code, data, ctype="application/json"):
        self.send_response(code)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    if not os.environ.get("OPENAI_BASE_URL"):
        # No default: a test must never reach the real API by accident.
        sys.exit("OPENAI_BASE_URL is not set (the fake server, e.g. http://127.0.0.1:8080/v1)")
    port = int(os.environ.get("PORT", "0"))
    Handler.client = make_client()
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 1024
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    # SIGTERM from the harness: stop serving and exit 0.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"openai-python adapter (openai {openai.__version__}) on 127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
