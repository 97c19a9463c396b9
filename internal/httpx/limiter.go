package httpx

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
)

// headroom is the share of a learned X-RateLimit-Total the client uses, so
// that clock skew and in-flight requests do not cross the server's limit.
const headroom = 0.95

// limiter is a token bucket for one host, plus a pause (Retry-After, or
// X-RateLimit-Remaining: 0) that holds every request to the host.
//
// A token is one credit of the server's budget. Most requests cost one;
// a server that charges more for some (Freshdesk: include=...) says so in
// X-RateLimit-Used-CurrentRequest, and the response takes the extra
// tokens (the bucket goes into debt, which delays the next requests). The
// cost is known only from the response, so requests in flight can hold
// up to their extra cost more than the bucket has counted.
type limiter struct {
	mu     sync.Mutex
	rate   float64 // tokens per second; 0: unlimited
	burst  float64
	tokens float64
	last   time.Time
	paused time.Time // no request before this
	// learned is the rate derived from X-RateLimit-Total, 0 if none.
	learned float64
}

func (c *Client) limiter(host string) *limiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.hosts[host]
	if l == nil {
		l = &limiter{burst: float64(c.opts.Burst), tokens: float64(c.opts.Burst)}
		if c.opts.RatePerMinute > 0 {
			l.rate = c.opts.RatePerMinute / c.opts.RateWindow.Seconds()
		}
		c.hosts[host] = l
	}
	return l
}

// reserve takes a token and returns how long the caller must wait before
// sending.
func (l *limiter) reserve(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := now
	if l.paused.After(start) {
		start = l.paused
	}
	if l.rate <= 0 {
		return start.Sub(now)
	}
	if l.last.IsZero() {
		l.last = start
	}
	if start.After(l.last) {
		l.tokens = min(l.burst, l.tokens+start.Sub(l.last).Seconds()*l.rate)
		l.last = start
	}
	l.tokens--
	wait := start.Sub(now)
	if l.tokens < 0 {
		wait += time.Duration(-l.tokens / l.rate * float64(time.Second))
	}
	return wait
}

func (l *limiter) pausedUntil() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.paused
}

// pause holds the host until t (never shortens an existing pause).
func (l *limiter) pause(t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.After(l.paused) {
		l.paused = t
	}
}

// wait blocks until the host's limiter lets a request through.
func (c *Client) wait(ctx context.Context, l *limiter) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	start := c.now()
	d := l.reserve(start)
	for d > 0 {
		if err := c.sleep(ctx, d); err != nil {
			return c.now().Sub(start), err
		}
		// A 429 seen by another request while we slept pauses us too.
		d = l.pausedUntil().Sub(c.now())
	}
	return c.now().Sub(start), nil
}

// learn reads X-RateLimit-Total, X-RateLimit-Remaining and
// X-RateLimit-Used-CurrentRequest.
func (c *Client) learn(l *limiter, r *Response) {
	total, okT := headerInt(r.Header, "X-RateLimit-Total")
	if !okT {
		total, okT = headerInt(r.Header, "X-RateLimit-Limit")
	}
	remaining, okR := headerInt(r.Header, "X-RateLimit-Remaining")
	used, okU := headerInt(r.Header, "X-RateLimit-Used-CurrentRequest")
	window := c.opts.RateWindow.Seconds()
	l.mu.Lock()
	if c.opts.LearnRateLimit && okT && total > 0 {
		learned := float64(total) * headroom / window
		l.learned = learned
		l.rate = learned
		if cfg := c.opts.RatePerMinute / window; cfg > 0 && cfg < learned {
			l.rate = cfg
		}
	}
	if okU && used > 1 && l.rate > 0 {
		// The request took one token; take the rest of what it cost. At
		// most one window's budget: a bogus header must not hold the
		// host for longer than that.
		l.tokens -= min(float64(used-1), max(l.rate*window, l.burst))
	}
	l.mu.Unlock()
	if okR && remaining <= 0 && r.Status < 400 {
		// The server's budget is spent: hold the host for one token's
		// worth of the window, so the next request is unlikely to be
		// refused (a 429 would pause it properly, with Retry-After).
		per := c.opts.RateWindow
		if okT && total > 0 {
			per = c.opts.RateWindow / time.Duration(total)
		}
		l.pause(c.now().Add(per))
	}
}

func headerInt(h map[string][]string, name string) (int, bool) {
	vs := h[name]
	if len(vs) == 0 {
		// http.Header keys are canonical; accept what tests may set by hand.
		for k, v := range h {
			if strings.EqualFold(k, name) {
				vs = v
				break
			}
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(vs[0]))
	return n, err == nil
}
