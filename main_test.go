package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeEndToEnd builds the binary, serves the demo data on a fresh
// database, reads and updates properties over HTTP, and stops the server
// with SIGTERM.
func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "credprops")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.Command(bin, "serve", "--db", filepath.Join(dir, "e2e.db"),
		"--listen", "127.0.0.1:0", "--log-format", "json")
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	logs := readLogs(t, stderr)
	addr := waitFor(t, logs, "listening")["addr"].(string)
	demo := waitFor(t, logs, "demo data: try it")
	token, url := demo["token"].(string), demo["url"].(string)
	if !strings.HasPrefix(url, "http://"+addr+"/") {
		t.Fatalf("demo url = %q, want one on %s", url, addr)
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

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("credprops exited with %v, want 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("credprops did not exit within 20s of SIGTERM")
	}
}

// readLogs decodes JSON log lines from r onto a channel.
func readLogs(t *testing.T, r io.Reader) <-chan map[string]any {
	t.Helper()
	logs := make(chan map[string]any, 100)
	go func() {
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
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(data)
}
