//go:build integration

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestHostedPagesInABrowser runs the browser tests of e2e/browser (node
// --test, playwright-core driving headless Chromium with JavaScript off)
// against a fresh local process. It needs Node 20 and Chromium
// (/usr/bin/chromium, or $CHROMIUM); .ci/test.sh installs both, and the
// test installs the npm packages itself when they are missing.
func TestHostedPagesInABrowser(t *testing.T) {
	dir := filepath.Join(repoRoot(), "e2e", "browser")
	chromium := nodeAndChromium(t, dir, "playwright-core")

	w := startWithToken(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "tests/")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WARD_URL="+w.base, "WARD_TOKEN="+w.token,
		"CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("browser tests failed: %v\n%s\nward's log:\n%s", err, out, w.stderr)
	}
	t.Logf("%s", out)
}
