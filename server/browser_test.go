package server_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/otai-dev/otai/server"
)

// chromium finds a headless-capable browser: $OTAI_CHROMIUM, else Debian's
// chromium (apt-get install chromium) or a Chrome on PATH.
func chromium() string {
	if p := os.Getenv("OTAI_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowserRendersStatusPage loads the status page in headless Chromium,
// checks that the runner and ticket tables render (and that a hostile
// subject is text, not markup), and saves a full-page screenshot to the
// test's artifact directory (go test -artifacts -outputdir DIR keeps it;
// so does OTAI_UI_SCREENSHOT=file.png).
//
// It is skipped when no browser is installed or the browser cannot start,
// except under CI=true, where that is a failure (.ci/run installs
// chromium).
func TestBrowserRendersStatusPage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	ci := os.Getenv("CI") == "true"
	exe := chromium()
	if exe == "" {
		if ci {
			t.Fatal("CI=true but no chromium on PATH: .ci/run should have installed it (apt-get install -y chromium)")
		}
		t.Skip("no chromium on PATH (apt-get install -y chromium, or set OTAI_CHROMIUM)")
	}

	f := newFixture(t, server.Options{Version: "test"})
	f.srv.SetRunners(runners())
	f.srv.Record(sampleRun("triage-inbox", t0.Add(-90*time.Second)))
	f.srv.Record(sampleRun("triage-inbox", t0.Add(-2*time.Second)))

	var browserLog bytes.Buffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // as root in a container
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(&browserLog),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()

	// Start the browser (no timeout on this first call: it would bound
	// the browser's whole life).
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			if ci {
				t.Fatalf("CI=true but %s does not start: %v\n%s", exe, err, browserLog.String())
			}
			t.Skipf("%s does not start: %v\n%s", exe, err, browserLog.String())
		}
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("%s did not start within 60s", exe)
	}

	step, cancelStep := context.WithTimeout(ctx, 30*time.Second)
	defer cancelStep()
	if err := chromedp.Do(step,
		chromedp.Navigate(f.ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("table#runners tbody tr.runner")),
		chromedp.WaitVisible(chromedp.CSS("table.tickets tr.ticket")),
	); err != nil {
		t.Fatalf("loading the page: %v", err)
	}

	eval := func(js string) any {
		t.Helper()
		v, err := chromedp.Run(step, chromedp.Evaluate[any](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	checks := []struct {
		js   string
		want any
	}{
		{`document.title`, "otai"},
		{`document.querySelectorAll("table#runners tbody tr.runner").length`, 2.0},
		{`document.querySelector("table#runners tbody tr.runner code").textContent`, "triage-inbox"},
		{`document.querySelectorAll("details.run").length`, 2.0},
		{`document.querySelectorAll("details.run[open] table.tickets tr.ticket").length`, 6.0},
		{`document.querySelectorAll("tr.ticket.failed").length`, 2.0},
		// the hostile subject is shown as text and no script element exists
		{`document.querySelectorAll("td.subject")[1].textContent`, "<script>alert('x')</script> & more"},
		{`document.scripts.length`, 0.0},
		// failures stand out
		{`getComputedStyle(document.querySelector("tr.ticket.failed td")).backgroundColor`, "rgb(255, 240, 238)"},
		{`getComputedStyle(document.querySelector("tr.ticket.succeeded")).backgroundColor`, "rgba(0, 0, 0, 0)"},
		{`getComputedStyle(document.querySelector("tr.ticket.succeeded td")).backgroundColor`, "rgba(0, 0, 0, 0)"},
		{`document.querySelector('meta[http-equiv="refresh"]').content`, "10"},
		{`document.getElementById("ready").textContent`, "ready"},
	}
	for _, c := range checks {
		if got := eval(c.js); got != c.want {
			t.Errorf("%s = %#v, want %#v", c.js, got, c.want)
		}
	}
	if body := eval(`document.body.innerText`).(string); strings.Contains(body, testSecret) {
		t.Error("the page shows the secret")
	}

	png, err := chromedp.Run(step, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if len(png) < 1000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot: %d bytes, not a PNG", len(png))
	}
	out := filepath.Join(t.ArtifactDir(), "status-page.png")
	if p := os.Getenv("OTAI_UI_SCREENSHOT"); p != "" {
		out = p
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(png))
}
