//go:build integration

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// nodeAndChromium checks what the Node-driven tests (e2e/browser,
// e2e/oidc) need and answers the Chromium to drive: Node 20, Chromium at
// /usr/bin/chromium or $CHROMIUM, and the npm packages of dir, installed
// with npm ci when its node_modules lacks module. Anything missing fails
// the test: .ci/test.sh installs all of it, so a skip would only hide a
// broken CI.
func nodeAndChromium(t *testing.T, dir, module string) string {
	t.Helper()
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("Chromium is needed at %s (apt-get install chromium): %v", chromium, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("Node.js 20 is needed for the tests in %s", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", module)); err != nil {
		npm := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--silent")
		npm.Dir = dir
		if out, err := npm.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	return chromium
}
