package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// apiClient talks to the API processes the way a real client behind a load
// balancer would: each attempt goes to the next API, and connection errors,
// 429 and 5xx are retried with the same Idempotency-Key and a capped backoff.
type apiClient struct {
	bases    []string
	http     *http.Client
	next     atomic.Uint64
	attempts atomic.Int64 // every HTTP attempt
	retries  atomic.Int64 // attempts after a retryable failure

	mu        sync.Mutex
	attempted []attempt // every attempt, for judging failures against the disruptions
}

// log returns every attempt so far.
func (c *apiClient) log() []attempt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]attempt(nil), c.attempted...)
}

type request struct {
	method, path, contentType, token, idemKey string
	what                                      string // submit, batch, decide, read, ready: for the summary
	body                                      []byte
	maxAttempts                               int           // default 30
	maxTime                                   time.Duration // default 4 minutes
	startAt                                   int           // which API to try first (-1: round robin)
}

type response struct {
	status int
	body   []byte
	err    error // the last error when no HTTP answer was final
	tries  int
}

func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

func (c *apiClient) do(ctx context.Context, r request) response {
	if r.maxAttempts == 0 {
		r.maxAttempts = 30
	}
	if r.maxTime == 0 {
		r.maxTime = 4 * time.Minute
	}
	deadline := time.Now().Add(r.maxTime)
	first := r.startAt
	if first < 0 {
		first = int(c.next.Add(1))
	}
	backoff := 200 * time.Millisecond
	var last response
	for try := 0; try < r.maxAttempts && time.Now().Before(deadline); try++ {
		if try > 0 {
			c.retries.Add(1)
			select {
			case <-ctx.Done():
				last.err = ctx.Err()
				return last
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
		}
		c.attempts.Add(1)
		base := c.bases[(first+try)%len(c.bases)]
		at := time.Now()
		status, body, err := c.once(ctx, base, r)
		last = response{status: status, body: body, err: err, tries: try + 1}
		if ctx.Err() == nil { // an attempt cut short by the end of the run is not the server's failure
			c.mu.Lock()
			c.attempted = append(c.attempted, attempt{start: at, at: time.Now(), what: r.what, status: status,
				fail: err != nil || retryable(status), retry: try > 0})
			c.mu.Unlock()
		}
		if err == nil && !retryable(status) {
			return last
		}
		if ctx.Err() != nil {
			return last
		}
	}
	if last.err == nil {
		last.err = fmt.Errorf("gave up after %d tries: HTTP %d %s", last.tries, last.status, truncate(string(last.body), 200))
	}
	return last
}

func (c *apiClient) once(ctx context.Context, base string, r request) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, base+r.path, body)
	if err != nil {
		return 0, nil, err
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.idemKey != "" {
		req.Header.Set("Idempotency-Key", r.idemKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

func (c *apiClient) getJSON(ctx context.Context, path, token string, out any) error {
	res := c.do(
		ctx,
		request{method: http.MethodGet, path: path, token: token, startAt: -1, maxAttempts: 5, maxTime: time.Minute,
			what: "read"},
	)
	if res.err != nil {
		return res.err
	}
	if res.status != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d %s", path, res.status, truncate(string(res.body), 200))
	}
	return json.Unmarshal(res.body, out)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
