package e2e_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otai-dev/otai/ticketsystem/otobo/otobofake"
)

// faultKind is one way the fake help desk fails a request.
type faultKind int

const (
	fault429       faultKind = iota // 429 with a (scaled-down) Retry-After
	fault500                        // the GI's operation failure: HTTP 500, text/plain JSON faultstring
	fault503                        // 503 from a proxy in front of the GI
	faultTimeout                    // no answer until the client gives up
	faultTruncated                  // the body cut short: framed as complete, or the connection dropped mid-body
	faultMalformed                  // HTTP 200 with a body that is not valid JSON (or an HTML proxy page)
	faultReset                      // the connection closed with a TCP RST, no answer
	nFaultKinds
)

var faultNames = [nFaultKinds]string{"429 Retry-After", "500 GI fault", "503", "timeout", "truncated JSON", "malformed JSON", "connection reset"}

func (k faultKind) String() string { return faultNames[k] }

// injector fails a share of the fake's requests, drawn from a seeded RNG
// (the draw order follows the arrival order of concurrent requests, so
// two runs with one seed inject the same mix, not the same sequence).
// Faults on writes (TicketUpdate, TicketCreate) come in half the cases
// after the fake applied the effect: the update or the note is stored and
// the client sees a failure. 429 always comes before the effect (a
// rate-limited request is not processed).
type injector struct {
	rate    float64
	timeout time.Duration // the adapter's; a timeout fault hangs longer

	mu  sync.Mutex
	rng *rand.Rand

	requests atomic.Int64
	before   [nFaultKinds]atomic.Int64
	after    [nFaultKinds]atomic.Int64
	off      atomic.Bool
}

func newInjector(seed uint64, rate float64, timeout time.Duration) *injector {
	return &injector{rate: rate, timeout: timeout, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (in *injector) install(srv *otobofake.Server) {
	srv.Use(in.pre)
	srv.UseAfter(in.post)
}

type afterEffect struct{ kind faultKind }

func isWrite(op string) bool { return op == "TicketUpdate" || op == "TicketCreate" }

func (in *injector) pre(r *otobofake.Request) *otobofake.Reply {
	if in.off.Load() {
		return nil
	}
	in.requests.Add(1)
	in.mu.Lock()
	hit := in.rng.Float64() < in.rate
	k := faultKind(in.rng.IntN(int(nFaultKinds)))
	later := in.rng.IntN(2) == 0
	seed := in.rng.Uint64()
	in.mu.Unlock()
	if !hit {
		return nil
	}
	if later && isWrite(r.Operation) && k != fault429 {
		r.Tag = afterEffect{k}
		return nil
	}
	in.before[k].Add(1)
	return in.reply(k, r, nil, seed)
}

func (in *injector) post(r *otobofake.Request, rep *otobofake.Reply) *otobofake.Reply {
	a, ok := r.Tag.(afterEffect)
	if !ok {
		return nil
	}
	in.after[a.kind].Add(1)
	return in.reply(a.kind, r, rep, uint64(len(rep.Body)))
}

// reply builds the fault. done is the reply of the operation that took
// effect, nil when the fault comes before the operation.
func (in *injector) reply(k faultKind, r *otobofake.Request, done *otobofake.Reply, seed uint64) *otobofake.Reply {
	rng := rand.New(rand.NewPCG(seed, 7))
	// Before the effect a truncated or malformed 200 is the GI's business
	// error (HTTP 200 with an Error object) mangled on the way; after it,
	// the operation's real reply mangled.
	body := otobofake.GIError(r.Operation+".InvalidParameter", r.Operation+": Ticket->QueueID or Ticket->Queue parameter is invalid!")
	if done != nil {
		body = done
	}
	switch k {
	case fault429:
		ra := []string{"0.01", "0.02", "0.05"}[rng.IntN(3)]
		return &otobofake.Reply{Status: http.StatusTooManyRequests, ContentType: "text/html",
			Header: http.Header{"Retry-After": {ra}}, Body: "<html><body><h1>429 Too Many Requests</h1></body></html>"}
	case fault500:
		return otobofake.Fault(r.Operation + ": DBI connect('database=otobo;host=db','otobo',...) failed: Lost connection to MySQL server at 'reading initial communication packet'")
	case fault503:
		return &otobofake.Reply{Status: http.StatusServiceUnavailable, ContentType: "text/html",
			Body: "<html><body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>"}
	case faultTimeout:
		rep := *body
		rep.Hang = 10 * in.timeout
		return &rep
	case faultTruncated:
		rep := *body
		cut := 1 + rng.IntN(max(1, len(rep.Body)-2))
		if rng.IntN(2) == 0 {
			rep.CutAt = cut // announced in full, connection dropped mid-body
		} else {
			rep.Body = rep.Body[:cut] // framed as complete
		}
		return &rep
	case faultMalformed:
		rep := *body
		switch rng.IntN(3) {
		case 0: // a trailing comma
			rep.Body = strings.TrimSuffix(rep.Body, "}") + ",}"
		case 1: // a comma lost between members
			if i := strings.Index(rep.Body, `","`); i >= 0 {
				rep.Body = rep.Body[:i+1] + " " + rep.Body[i+2:]
			} else {
				rep.Body = strings.Replace(rep.Body, ":", " ", 1)
			}
		default: // a proxy's error page, with status 200
			rep.Status, rep.ContentType = http.StatusOK, "text/html"
			rep.Body = "<html><head><title>Bad Gateway</title></head><body>upstream sent an invalid response</body></html>"
		}
		return &rep
	case faultReset:
		return &otobofake.Reply{Reset: true}
	}
	panic(fmt.Sprintf("unknown fault %d", k))
}

func (in *injector) total() (before, after int64) {
	for k := range nFaultKinds {
		before += in.before[k].Load()
		after += in.after[k].Load()
	}
	return before, after
}
