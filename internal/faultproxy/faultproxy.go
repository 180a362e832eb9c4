// Package faultproxy is a TCP proxy for tests that makes a network slow and
// unreliable on purpose: it sits between a client (the controller) and a
// server (kube-apiserver), delays every chunk of bytes in both directions,
// cuts connections after a random lifetime, and can refuse or cut every
// connection at once (a partition). It never touches the bytes, so TLS
// passes through unchanged.
//
// It is bounded so that a test cannot turn it into a load of its own: it
// listens on loopback only, forwards to a loopback address only, holds at
// most MaxConns connections and a fixed number of buffered chunks per
// direction, and delays by at most MaxLatency.
package faultproxy

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Limits every proxy enforces.
const (
	MaxLatency      = 5 * time.Second
	DefaultMaxConns = 256
	chunkSize       = 32 << 10
	chunksInFlight  = 64 // per direction: at most 2 MiB held per connection and direction
)

// Faults is what the proxy does to the traffic; the zero value forwards it
// untouched. It can be changed while the proxy runs ([Proxy.Set]).
type Faults struct {
	// Latency is added to every chunk in each direction, plus a uniform
	// random Jitter.
	Latency, Jitter time.Duration
	// CutAfterMin and CutAfterMax, when CutAfterMax > 0, give each new
	// connection a uniform random lifetime in [CutAfterMin, CutAfterMax],
	// after which it is closed in both directions: a dropped connection.
	CutAfterMin, CutAfterMax time.Duration
	// Refuse closes every new connection at once: a partition.
	Refuse bool
}

// Stats count what the proxy did.
type Stats struct {
	Accepted, Refused, Cut int64
}

// Proxy is a running proxy.
type Proxy struct {
	ln       net.Listener
	target   string
	maxConns int

	mu     sync.Mutex
	faults Faults
	conns  map[*link]struct{}
	closed bool

	accepted, refused, cut atomic.Int64
	wg                     sync.WaitGroup
}

type link struct{ client, server net.Conn }

func (l *link) close() { _ = l.client.Close(); _ = l.server.Close() }

// New starts a proxy on a free loopback port forwarding to target, which
// must be a loopback host:port. maxConns <= 0 means DefaultMaxConns.
func New(target string, maxConns int) (*Proxy, error) {
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return nil, fmt.Errorf("faultproxy target %q: %w", target, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("faultproxy target %q: only loopback addresses are allowed", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	p := &Proxy{ln: ln, target: target, maxConns: maxConns, conns: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Set changes the faults for the traffic from now on; connections keep the
// lifetime they were given.
func (p *Proxy) Set(f Faults) {
	f.Latency, f.Jitter = min(f.Latency, MaxLatency), min(f.Jitter, MaxLatency)
	p.mu.Lock()
	p.faults = f
	p.mu.Unlock()
}

// CutAll closes every open connection now.
func (p *Proxy) CutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.conns {
		l.close()
		delete(p.conns, l)
		p.cut.Add(1)
	}
}

// Stats returns the counts so far.
func (p *Proxy) Stats() Stats {
	return Stats{Accepted: p.accepted.Load(), Refused: p.refused.Load(), Cut: p.cut.Load()}
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.CutAll()
	p.wg.Wait()
	return err
}

func (p *Proxy) current() Faults {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		f := p.current()
		p.mu.Lock()
		full := len(p.conns) >= p.maxConns
		p.mu.Unlock()
		if f.Refuse || full {
			p.refused.Add(1)
			_ = c.Close()
			continue
		}
		s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			p.refused.Add(1)
			_ = c.Close()
			continue
		}
		l := &link{client: c, server: s}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			l.close()
			return
		}
		p.conns[l] = struct{}{}
		p.mu.Unlock()
		p.accepted.Add(1)
		p.wg.Add(1)
		go p.run(l, f)
	}
}

// run forwards one connection until either side closes or its lifetime
// ends.
func (p *Proxy) run(l *link, f Faults) {
	defer p.wg.Done()
	done := make(chan struct{}, 2)
	go func() { p.pipe(l.server, l.client); done <- struct{}{} }()
	go func() { p.pipe(l.client, l.server); done <- struct{}{} }()
	var lifetime <-chan time.Time
	if f.CutAfterMax > 0 {
		d := f.CutAfterMin
		if f.CutAfterMax > f.CutAfterMin {
			d += rand.N(f.CutAfterMax - f.CutAfterMin)
		}
		t := time.NewTimer(d)
		defer t.Stop()
		lifetime = t.C
	}
	select {
	case <-done:
	case <-lifetime:
		p.cut.Add(1)
	}
	l.close()
	<-done
	p.mu.Lock()
	delete(p.conns, l)
	p.mu.Unlock()
}

type chunk struct {
	b   []byte
	due time.Time
}

// pipe copies src to dst, each chunk held until its due time: latency
// without a cap on throughput.
func (p *Proxy) pipe(dst, src net.Conn) {
	ch := make(chan chunk, chunksInFlight)
	go func() {
		defer close(ch)
		for {
			b := make([]byte, chunkSize)
			n, err := src.Read(b)
			if n > 0 {
				f := p.current()
				d := f.Latency
				if f.Jitter > 0 {
					d += rand.N(f.Jitter)
				}
				ch <- chunk{b: b[:n], due: time.Now().Add(d)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d)
		}
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	// run closes both connections once either direction ends, which
	// ends the reader above; drain what it still sends.
	for range ch { //nolint:revive // draining
	}
}

var _ io.Closer = (*Proxy)(nil)
