package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestServeEndToEnd builds the binary, serves the demo data on a fresh
// database, reads and updates properties over HTTP, and stops the server
// with SIGTERM.
func TestServeEndToEnd(t *testing.T) {
	p := startServe(t)

	demo := waitFor(t, p.logs, "demo data: try it")
	token, url := demo["token"].(string), demo["url"].(string)
	if !strings.HasPrefix(url, "http://"+p.addr+"/") {
		t.Fatalf("demo url = %q, want one on %s", url, p.addr)
	}

	status, body := call(t, http.MethodGet, url, token, "")
	if status != http.StatusOK {
		t.Fatalf("GET status = %d, want 200; body: %s", status, body)
	}
	status, body = call(t, http.MethodPatch, url, token, `{"employee_id":"4711"}`)
	if status != http.StatusOK || !strings.Contains(body, `"employee_id":"4711"`) {
		t.Fatalf("PATCH status = %d, want 200 with employee_id 4711; body: %s", status, body)
	}
	status, body = call(t, http.MethodGet, url, "", "")
	if status != http.StatusUnauthorized {
		t.Fatalf("GET without token status = %d, want 401; body: %s", status, body)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("credprops exited with %v, want 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("credprops did not exit within 20s of SIGTERM")
	}
}

// binaryDir holds the credprops binary that credpropsBinary builds once for
// all tests; TestMain removes it.
var (
	binaryDir  string
	buildOnce  sync.Once
	buildError error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// credpropsBinary returns the path of the credprops binary, building it on
// the first call. It skips the test in short mode.
func credpropsBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	buildOnce.Do(func() {
		binaryDir, buildError = os.MkdirTemp("", "credprops-test-")
		if buildError != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binaryDir, "credprops"), ".").CombinedOutput()
		if err != nil {
			buildError = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildError != nil {
		t.Fatal(buildError)
	}
	return filepath.Join(binaryDir, "credprops")
}

// serveProcess is a running credprops serve.
type serveProcess struct {
	cmd    *exec.Cmd
	addr   string
	db     string
	logs   <-chan map[string]any
	exited <-chan error
}

// startServe runs credprops serve with args on a fresh database, with JSON
// logs, on a free port of 127.0.0.1, and waits until it listens. The
// process gets no CREDPROPS_ variables from the test's environment, and is
// killed when the test ends.
func startServe(t *testing.T, args ...string) *serveProcess {
	t.Helper()
	db := filepath.Join(t.TempDir(), "serve.db")
	args = append([]string{"serve", "--db", db, "--listen", "127.0.0.1:0", "--log-format", "json"}, args...)
	cmd := exec.Command(credpropsBinary(t), args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	exited := make(chan error, 1)
	logs := readLogs(t, stderr, func() { exited <- cmd.Wait() })
	p := &serveProcess{cmd: cmd, db: db, logs: logs, exited: exited}
	p.addr = waitFor(t, logs, "listening")["addr"].(string)
	return p
}

// readLogs decodes JSON log lines from r onto a channel, which it closes at
// the end of r, and then calls atEOF. Exec's Wait must not run before that,
// because it closes r.
func readLogs(t *testing.T, r io.Reader, atEOF func()) <-chan map[string]any {
	t.Helper()
	// The buffer holds every line of a test's server, so that an unread
	// channel never blocks the server's logging.
	logs := make(chan map[string]any, 10000)
	go func() {
		defer atEOF()
		defer close(logs)
		scanner := bufio.NewScanner(r)
		for scanner.Scan() {
			var line map[string]any
			if json.Unmarshal(scanner.Bytes(), &line) == nil {
				logs <- line
			}
		}
	}()
	return logs
}

func waitFor(t *testing.T, logs <-chan map[string]any, msg string) map[string]any {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-logs:
			if !ok {
				t.Fatalf("credprops exited before logging %q", msg)
			}
			if line["msg"] == msg {
				return line
			}
		case <-timeout:
			t.Fatalf("no %q log line within 30s", msg)
		}
	}
}

func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	status, data, err := send(method, url, token, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, data
}

// send is call for goroutines other than the test's, which must not call
// t.Fatal.
func send(method, url, token, body string) (int, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res.StatusCode, string(data), err
}
