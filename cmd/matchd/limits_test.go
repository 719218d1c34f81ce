package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestSlowClientIsCut checks the header timeout: a client that never
// finishes its request headers is disconnected by the server instead of
// holding a connection open (the ReadHeaderTimeout of the HTTP server).
func TestSlowClientIsCut(t *testing.T) {
	t.Setenv("MONGODB_URI", "")
	m, _ := startMain(t, t.TempDir(), "--demo=false")
	defer m.Close()
	conn, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: 1"); err != nil {
		t.Fatal(err)
	}
	// Wait well past the 5 s header timeout; the server must have given up
	// on us by then (a wait bound, not a speed assertion).
	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = bufio.NewReader(conn).ReadString('\n')
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept a half-sent request open for %s", time.Since(start).Round(time.Second))
	}
	t.Logf("connection ended after %s (%v)", time.Since(start).Round(100*time.Millisecond), err)
}
