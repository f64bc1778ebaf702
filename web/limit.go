package web

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter keeps a token bucket per client address, forgetting idle ones:
// "find my application" guesses at passport details are slowed to a trickle.
type limiter struct {
	mu       sync.Mutex
	perMin   int
	clients  map[string]*rate.Limiter
	lastSeen map[string]time.Time
}

func newLimiter(perMinute int) *limiter {
	return &limiter{perMin: perMinute, clients: map[string]*rate.Limiter{}, lastSeen: map[string]time.Time{}}
}

func (l *limiter) allow(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, t := range l.lastSeen {
		if now.Sub(t) > 10*time.Minute {
			delete(l.clients, k)
			delete(l.lastSeen, k)
		}
	}
	b, ok := l.clients[host]
	if !ok {
		b = rate.NewLimiter(rate.Limit(float64(l.perMin)/60), l.perMin)
		l.clients[host] = b
	}
	l.lastSeen[host] = now
	return b.AllowN(now, 1)
}
