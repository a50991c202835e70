package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"credprops/store"
)

func TestServe_OpsEndpoints(t *testing.T) {
	p := startServe(t)
	cases := []struct {
		path string
		want string
	}{
		{"/healthz", `{"status":"ok"}`},
		{"/readyz", `{"database":"ok","status":"ok"}`},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			status, body := call(t, http.MethodGet, "http://"+p.addr+c.path, "", "")

			if status != http.StatusOK || strings.TrimSpace(body) != c.want {
				t.Errorf("GET %s = %d %s, want 200 %s", c.path, status, body, c.want)
			}
		})
	}
}

// TestServe_OpenAPIIsRepositoryFile shows that the binary serves the
// openapi.yaml of the repository, byte for byte.
func TestServe_OpenAPIIsRepositoryFile(t *testing.T) {
	p := startServe(t)
	want, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}

	status, body := call(t, http.MethodGet, "http://"+p.addr+"/openapi.yaml", "", "")

	if status != http.StatusOK {
		t.Fatalf("GET /openapi.yaml status = %d, want 200", status)
	}
	if body != string(want) {
		t.Errorf("GET /openapi.yaml returned %d bytes that differ from the %d bytes of openapi.yaml", len(body), len(want))
	}
}

// TestServe_SlowHeaderCutOff sends a request whose headers trickle in one
// line every 100ms and never end. The server must close the connection once
// --read-header-timeout has passed.
func TestServe_SlowHeaderCutOff(t *testing.T) {
	const timeout = 500 * time.Millisecond
	p := startServe(t, "--read-header-timeout", timeout.String())
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	start := time.Now()
	go func() {
		if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: credprops\r\n"); err != nil {
			return
		}
		for i := 0; time.Since(start) < 10*time.Second; i++ {
			time.Sleep(100 * time.Millisecond)
			if _, err := io.WriteString(conn, "X-Slow-"+strconv.Itoa(i)+": x\r\n"); err != nil {
				return
			}
		}
	}()
	conn.SetReadDeadline(start.Add(10 * time.Second))
	answer, err := io.ReadAll(conn)
	elapsed := time.Since(start)

	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Fatalf("the server kept the connection open for 10s, want it closed after %s", timeout)
	}
	if elapsed < timeout || elapsed > timeout+3*time.Second {
		t.Errorf("the server closed the connection after %s, want about %s", elapsed, timeout)
	}
	if len(answer) > 0 {
		t.Errorf("the server answered %q, want no response to unfinished headers", answer)
	}

	status, _ := call(t, http.MethodGet, "http://"+p.addr+"/healthz", "", "")
	if status != http.StatusOK {
		t.Errorf("GET /healthz after the cut-off = %d, want 200", status)
	}
}

func TestServe_MaxHeaderBytes(t *testing.T) {
	p := startServe(t, "--max-header-bytes", "4096")
	cases := []struct {
		desc   string
		size   int
		status int
	}{
		{"within the limit", 2 << 10, http.StatusOK},
		// net/http reads 4 KiB past the limit before it rejects headers.
		{"over the limit", 16 << 10, http.StatusRequestHeaderFieldsTooLarge},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "http://"+p.addr+"/healthz", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Padding", strings.Repeat("x", c.size))

			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()

			if res.StatusCode != c.status {
				t.Errorf("GET /healthz with %d bytes of headers = %d, want %d", c.size, res.StatusCode, c.status)
			}
		})
	}
}

// TestServe_GracefulShutdown sends SIGTERM while a PATCH waits for SQLite's
// write lock, which the test holds from another connection. The server must
// stop accepting connections, finish the PATCH once the lock is free, and
// exit with status 0 within --shutdown-timeout.
func TestServe_GracefulShutdown(t *testing.T) {
	const shutdownTimeout = 10 * time.Second
	p := startServe(t, "--shutdown-timeout", shutdownTimeout.String())
	demo := waitFor(t, p.logs, "demo data: try it")
	token, url := demo["token"].(string), demo["url"].(string)

	// BEGIN IMMEDIATE takes the write lock. The server's PATCH then waits
	// in its own BEGIN IMMEDIATE for up to busy_timeout, 5 seconds.
	lock := holdWriteLock(t, p.db)
	type result struct {
		status int
		body   string
		err    error
	}
	patched := make(chan result, 1)
	go func() {
		status, body, err := send(http.MethodPatch, url, token, `{"employee_id":"4711"}`)
		patched <- result{status, body, err}
	}()
	waitInFlight(t, p.addr, 1)

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signaled := time.Now()
	waitFor(t, p.logs, "shutting down")

	waitRefused(t, p.addr)
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-p.exited:
		t.Fatalf("credprops exited (%v) while the PATCH was waiting, want it to wait", err)
	case r := <-patched:
		t.Fatalf("the PATCH ended (%d %s %v) while the test held the write lock", r.status, r.body, r.err)
	default:
	}
	if err := lock.Commit(); err != nil {
		t.Fatal(err)
	}

	r := <-patched
	if r.err != nil {
		t.Fatalf("PATCH failed: %v", r.err)
	}
	if r.status != http.StatusOK || !strings.Contains(r.body, `"employee_id":"4711"`) {
		t.Errorf("PATCH = %d %s, want 200 with employee_id 4711", r.status, r.body)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("credprops exited with %v, want status 0", err)
		}
	case <-time.After(shutdownTimeout - time.Since(signaled)):
		t.Fatalf("credprops did not exit within the shutdown timeout of %s", shutdownTimeout)
	}
}

// waitRefused waits up to 2 seconds for addr to refuse connections. The
// server logs "shutting down" just before it closes its listener.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		conn.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s still accepted connections 2s after SIGTERM, want them refused", addr)
}

// holdWriteLock opens the SQLite database at path on a connection of its own
// and begins an immediate transaction, which holds the write lock until the
// test commits it.
func holdWriteLock(t *testing.T, path string) *sql.Tx {
	t.Helper()
	db, err := sql.Open("sqlite3", store.SQLiteDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	// store.SQLiteDSN sets _txlock=immediate, so Begin runs BEGIN IMMEDIATE.
	tx, err := db.Begin()
	if err != nil {
		t.Fatalf("take the write lock: %v", err)
	}
	t.Cleanup(func() { tx.Rollback() })
	return tx
}

// waitInFlight polls GET /metrics until n requests besides that GET are in
// flight.
func waitInFlight(t *testing.T, addr string, n int) {
	t.Helper()
	want := "credprops_http_requests_in_flight " + strconv.Itoa(n+1)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		_, body := call(t, http.MethodGet, "http://"+addr+"/metrics", "", "")
		scanner := bufio.NewScanner(bytes.NewReader([]byte(body)))
		for scanner.Scan() {
			if scanner.Text() == want {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("GET /metrics did not show %d requests in flight within 5s", n)
}
