package server

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath returns the path of Debian's chromium. It skips the test when
// chromium is missing outside CI, and fails it in CI, where .ci/run
// installs chromium.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "" {
		t.Skip("chromium is not installed; install Debian's chromium package to run this test")
	}
	t.Fatalf("chromium is not installed, but CI is set: .ci/run must install Debian's chromium package: %v", err)
	return ""
}

// newBrowser starts headless Chromium with a fresh profile. Chromium can
// reach only 127.0.0.1, so a page that loads anything from elsewhere fails.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	profile, err := os.MkdirTemp("", "credprops-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Chromium's child processes can write to the profile for a
		// moment after the browser stops, so retry the removal.
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

// TestDocs_RendersInChromium opens /docs in headless Chromium and checks
// that Swagger UI renders the GET and PATCH operations of the properties
// path, loading nothing but the test server's own assets, without a
// JavaScript exception.
func TestDocs_RendersInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	s := newTestServer(t, "")
	ts := httptest.NewServer(s.echo)
	t.Cleanup(ts.Close)
	ctx := newBrowser(t)

	var mu sync.Mutex
	var requested, exceptions []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			requested = append(requested, ev.Request.URL)
		case *runtime.EventExceptionThrown:
			exceptions = append(exceptions, (&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
		}
	}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}

	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := chromedp.Do(waitCtx,
		chromedp.Navigate(ts.URL+"/docs"),
		chromedp.WaitVisible(chromedp.CSS(".opblock-patch")),
	)
	var operations []string
	if err == nil {
		operations, err = chromedp.Run(waitCtx, chromedp.Evaluate[[]string](`
			Array.from(document.querySelectorAll('.opblock')).map(op =>
				op.querySelector('.opblock-summary-method').textContent + ' ' +
				op.querySelector('.opblock-summary-path').dataset.path)`))
	}

	mu.Lock()
	defer mu.Unlock()
	for _, url := range requested {
		if !strings.HasPrefix(url, ts.URL+"/") && !strings.HasPrefix(url, "data:") {
			t.Errorf("the page requested %s, want only the test server's %s", url, ts.URL)
		}
	}
	for _, e := range exceptions {
		t.Errorf("JavaScript exception: %s", e)
	}
	if err != nil {
		t.Fatalf("Swagger UI rendered no PATCH operation within a minute: %v", err)
	}
	if !slices.Contains(requested, ts.URL+"/openapi.yaml") {
		t.Errorf("the page requested %q, want %s/openapi.yaml among them", requested, ts.URL)
	}
	path := "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}/generic-credentials/{extId}/properties"
	for _, want := range []string{"GET " + path, "PATCH " + path, "GET /healthz"} {
		if !slices.Contains(operations, want) {
			t.Errorf("rendered operations %q lack %q", operations, want)
		}
	}
}
