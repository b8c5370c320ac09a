// Adapter: the official `openai` npm package behind the harness's adapter
// protocol (docs/adapter-protocol.md).
//
// One POST /chat from the harness becomes one `chat.completions.create`
// call with the SDK's defaults (2 retries, exponential backoff from 0.5 s
// with up to 25% jitter, Retry-After / retry-after-ms honoured, 10-minute
// timeout). The answer goes back as the completion JSON, re-streamed SSE
// chunks, or an error body saying how the SDK gave up.
//
// Environment: PORT (loopback), OPENAI_BASE_URL (the fake server, e.g.
// http://127.0.0.1:8080/v1; for the real API https://api.deepseek.com),
// OPENAI_API_KEY, optionally OPENAI_MAX_RETRIES and OPENAI_TIMEOUT (seconds).
import http from 'node:http';
import OpenAI from 'openai';
import { VERSION as sdkVersion } from 'openai/version';

const options = {};
if (process.env.OPENAI_MAX_RETRIES) options.maxRetries = Number(process.env.OPENAI_MAX_RETRIES);
if (process.env.OPENAI_TIMEOUT) options.timeout = Number(process.env.OPENAI_TIMEOUT) * 1000;
if (!process.env.OPENAI_BASE_URL) {
  // No default: a test must never reach the real API by accident.
  console.error('OPENAI_BASE_URL is not set (the fake server, e.g. http://127.0.0.1:8080/v1)');
  process.exit(1);
}
const client = new OpenAI(options);
const FORWARD = ['traceparent', 'x-harness-call'];

function classify(e) {
  if (e instanceof OpenAI.APIConnectionTimeoutError) return ['timeout', null];
  if (e instanceof OpenAI.APIConnectionError) return ['connection', null];
  if (e instanceof OpenAI.APIError && e.status) return ['status', e.status];
  return ['other', null];
}

function fail(res, code, kind, status, message) {
  const body = JSON.stringify({ error: { kind, status, message } });
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function chat(req, res) {
  let body;
  try {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    return fail(res, 400, 'other', null, `bad request body: ${e.message}`);
  }
  const headers = {};
  for (const h of FORWARD) if (req.headers[h]) headers[h] = req.headers[h];
  let result;
  try {
    // Unknown fields (DeepSeek's `thinking`, ...) pass through in the body.
    result = await client.chat.completions.create(body, { headers });
  } catch (e) {
    const [kind, status] = classify(e);
    return fail(res, 502, kind, status, String(e.message ?? e));
  }
  if (!body.stream) {
    const out = JSON.stringify(result);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    return res.end(out);
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  try {
    for await (const chunk of result) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    res.write('data: [DONE]\n\n');
  } catch (e) {
    let [kind, status] = classify(e);
    if (kind === 'other') kind = 'stream';
    res.write(`event: error\ndata: ${JSON.stringify({ error: { kind, status, message: String(e.message ?? e) } })}\n\n`);
  }
  res.end();
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') return res.end('ok');
  if (req.method === 'POST' && req.url === '/chat') return void chat(req, res);
  fail(res, 404, 'other', null, 'not found');
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`openai-node adapter (openai ${sdkVersion}) on 127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
