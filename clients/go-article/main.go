// A DeepSeek client written the way the common "call the DeepSeek API
// reliably from Go" articles write it, standard library only, so the
// harness can judge it:
//
//   - http.Client{Timeout: 10 * time.Second}; a Transport with
//     MaxIdleConns 100, MaxConnsPerHost 50, IdleConnTimeout 30 s,
//     DisableCompression;
//   - a retry loop of maxRetries (3) attempts that retries timeouts and 5xx
//     ("service busy") only, sleeping time.Duration(1<<uint(i)) * time.Second
//     after each failure (1 s, 2 s, 4 s: no jitter, Retry-After ignored,
//     and a sleep after the last attempt too), then "failed after N retries".
//
// Two modes:
//
//	go run . -serve            adapter for `harness run` (docs/adapter-protocol.md), on $PORT
//	go run . -calls 200 -c 8   a user's own load: N calls, K at a time
//
// Environment: DEEPSEEK_API_KEY (required, as in the articles),
// DEEPSEEK_BASE_URL (required, no default; for the real API https://api.deepseek.com; the fake server is
// e.g. http://127.0.0.1:8080), PORT for -serve, MAX_RETRIES (default 3).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Client is the article's client: one http.Client, a key, a base URL.
type Client struct {
	apiKey     string
	baseURL    string
	maxRetries int
	http       *http.Client
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string { return fmt.Sprintf("status %d: %s", e.Status, e.Body) }

func NewClient() *Client {
	key := os.Getenv("DEEPSEEK_API_KEY")
	if key == "" {
		fmt.Fprintln(os.Stderr, "DEEPSEEK_API_KEY is not set")
		os.Exit(1)
	}
	base := os.Getenv("DEEPSEEK_BASE_URL")
	if base == "" {
		// No default: a test must never reach the real API by accident.
		fmt.Fprintln(os.Stderr, "DEEPSEEK_BASE_URL is not set (the fake server, e.g. http://127.0.0.1:8080; the real API is https://api.deepseek.com)")
		os.Exit(1)
	}
	retries := 3
	if v, err := strconv.Atoi(os.Getenv("MAX_RETRIES")); err == nil && v > 0 {
		retries = v
	}
	transport := &http.Transport{
		MaxIdleConns:       100,
		MaxConnsPerHost:    50,
		IdleConnTimeout:    30 * time.Second,
		DisableCompression: true,
	}
	return &Client{
		apiKey:     key,
		baseURL:    base,
		maxRetries: retries,
		http:       &http.Client{Timeout: 10 * time.Second, Transport: transport},
	}
}

// isRetryable: timeouts and "service busy" (5xx), as the articles teach.
func isRetryable(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var se *StatusError
	return errors.As(err, &se) && se.Status >= 500
}

// ChatCompletion posts body and returns the open 200 response (the caller
// reads and closes it), retrying as the articles do.
func (c *Client) ChatCompletion(ctx context.Context, body []byte, header http.Header) (*http.Response, error) {
	var lastErr error
	for i := 0; i < c.maxRetries; i++ {
		resp, err := c.do(ctx, body, header)
		if err == nil {
			return resp, nil
		}
		lastErr = err
		if !isRetryable(err) {
			return nil, err
		}
		time.Sleep(time.Duration(1<<uint(i)) * time.Second)
	}
	return nil, fmt.Errorf("failed after %d retries: %w", c.maxRetries, lastErr)
}

func (c *Client) do(ctx context.Context, body []byte, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.baseURL+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, &StatusError{Status: resp.StatusCode, Body: string(b)}
	}
	return resp, nil
}

// protocolError is the adapter protocol's error body.
func protocolError(err error) (int, []byte) {
	kind, status := "other", 0
	var se *StatusError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		kind, status = "status", se.Status
	case errors.As(err, &ne) && ne.Timeout():
		kind = "timeout"
	case errors.As(err, &ne):
		kind = "connection"
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"kind": kind, "status": status, "message": err.Error()}})
	return http.StatusBadGateway, b
}

func serve(c *Client) {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("/chat", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var probe struct{ Stream bool }
		if err == nil {
			err = json.Unmarshal(body, &probe)
		}
		if err != nil {
			http.Error(w, `{"error":{"kind":"other","message":"bad request body"}}`, http.StatusBadRequest)
			return
		}
		fwd := http.Header{}
		for _, h := range []string{"Traceparent", "X-Harness-Call"} {
			if v := r.Header.Get(h); v != "" {
				fwd.Set(h, v)
			}
		}
		resp, err := c.ChatCompletion(r.Context(), body, fwd)
		if err != nil {
			code, b := protocolError(err)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			w.Write(b)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		if !probe.Stream {
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				code, eb := protocolError(err)
				w.WriteHeader(code)
				w.Write(eb)
				return
			}
			w.Write(b)
			return
		}
		// Re-stream the SSE lines as they come; a broken upstream stream
		// becomes an `event: error` so the harness sees it.
		flusher, _ := w.(http.Flusher)
		lines := bufio.NewScanner(resp.Body)
		lines.Buffer(make([]byte, 64*1024), 1<<20)
		for lines.Scan() {
			w.Write(append(lines.Bytes(), '\n'))
			if len(lines.Bytes()) == 0 && flusher != nil {
				flusher.Flush()
			}
		}
		if err := lines.Err(); err != nil {
			b, _ := json.Marshal(map[string]any{"error": map[string]any{"kind": "stream", "message": err.Error()}})
			fmt.Fprintf(w, "event: error\ndata: %s\n\n", b)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: mux}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		srv.Close()
	}()
	fmt.Printf("go-article adapter on %s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func calls(c *Client, n, k int) {
	var mu sync.Mutex
	results := map[string]int{}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < k; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				body, _ := json.Marshal(map[string]any{
					"model":      "deepseek-v4-flash",
					"messages":   []map[string]string{{"role": "user", "content": fmt.Sprintf("Question %d: say hello.", i)}},
					"max_tokens": 16,
				})
				outcome := "ok"
				resp, err := c.ChatCompletion(context.Background(), body, nil)
				if err != nil {
					code, _ := protocolError(err)
					var se *StatusError
					if errors.As(err, &se) {
						code = se.Status
					}
					outcome = fmt.Sprintf("error_%d", code)
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mu.Lock()
				results[outcome]++
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	fmt.Printf("go-article: %d calls: %v\n", n, results)
}

func main() {
	serveMode := flag.Bool("serve", false, "run as the harness adapter on $PORT")
	n := flag.Int("calls", 0, "make N calls and print the outcomes")
	k := flag.Int("c", 8, "calls at a time with -calls")
	flag.Parse()
	c := NewClient()
	switch {
	case *serveMode:
		serve(c)
	case *n > 0:
		calls(c, *n, *k)
	default:
		flag.Usage()
		os.Exit(2)
	}
}
