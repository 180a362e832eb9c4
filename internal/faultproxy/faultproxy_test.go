package faultproxy

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); _ = c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func newProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := New(target, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, msg string) (string, error) {
	t.Helper()
	if _, err := c.Write([]byte(msg + "\n")); err != nil {
		return "", err
	}
	return r.ReadString('\n')
}

func TestForwardsWithLatency(t *testing.T) {
	p := newProxy(t, echoServer(t))
	p.Set(Faults{Latency: 100 * time.Millisecond})
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	start := time.Now()
	got, err := roundTrip(t, c, bufio.NewReader(c), "hello")
	if err != nil || got != "hello\n" {
		t.Fatalf("echo through the proxy: %q, %v", got, err)
	}
	// Both directions are delayed: a lower bound, which cannot flake.
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("round trip took %s, want at least 200ms of injected latency", d)
	}
}

func TestCutsAndRefuses(t *testing.T) {
	p := newProxy(t, echoServer(t))
	p.Set(Faults{CutAfterMin: 50 * time.Millisecond, CutAfterMax: 60 * time.Millisecond})
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	r := bufio.NewReader(c)
	if _, err := roundTrip(t, c, r, "before"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := roundTrip(t, c, r, "after"); err == nil {
		t.Error("the connection outlived its lifetime")
	}
	if p.Stats().Cut != 1 {
		t.Errorf("stats %+v, want one cut", p.Stats())
	}

	p.Set(Faults{Refuse: true})
	c2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c2.Close() }()
	if _, err := roundTrip(t, c2, bufio.NewReader(c2), "x"); err == nil {
		t.Error("a refused connection carried data")
	}
}

func TestBounded(t *testing.T) {
	if _, err := New("10.0.0.1:443", 0); err == nil {
		t.Error("a non-loopback target was accepted")
	}
	p := newProxy(t, echoServer(t)) // at most 2 connections
	var conns []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		conns = append(conns, c)
		if _, err := roundTrip(t, c, bufio.NewReader(c), "x"); len(conns) <= 2 && err != nil {
			t.Fatal(err)
		}
	}
	if s := p.Stats(); s.Accepted != 2 || s.Refused != 1 {
		t.Errorf("stats %+v, want 2 accepted and the third refused", s)
	}
	p.Set(Faults{Latency: time.Hour})
	if p.current().Latency != MaxLatency {
		t.Errorf("latency not bounded: %s", p.current().Latency)
	}
}
