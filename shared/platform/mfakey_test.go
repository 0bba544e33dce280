package platform

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/wardhq/ward/shared/config"
)

func TestTheLocalMFAKeyIsMadeOnceAndKeptPrivate(t *testing.T) {
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	quiet := slog.New(slog.DiscardHandler)

	first, err := mfaKey(cfg, quiet)
	if err != nil || len(first) != 32 {
		t.Fatalf("first key = %x, %v", first, err)
	}
	info, err := os.Stat(filepath.Join(cfg.DataDir, "mfa.key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v; want mode 0600", info, err)
	}
	again, err := mfaKey(cfg, quiet)
	if err != nil || !bytes.Equal(first, again) {
		t.Errorf("second read = %x, %v; want the first key", again, err)
	}

	if err := os.WriteFile(filepath.Join(cfg.DataDir, "mfa.key"), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mfaKey(cfg, quiet); err == nil {
		t.Error("a damaged key file was accepted")
	}

	cfg.MFAKey = bytes.Repeat([]byte{7}, 32)
	if got, err := mfaKey(cfg, quiet); err != nil || !bytes.Equal(got, cfg.MFAKey) {
		t.Errorf("configured key = %x, %v", got, err)
	}
	cfg.MFAKey, cfg.Store = nil, "scylla"
	if got, err := mfaKey(cfg, quiet); err != nil || got != nil {
		t.Errorf("scylla without a key = %x, %v; want none", got, err)
	}
}

func TestTheLocalOAuthKeyIsItsOwnFileAndNotTheMFAKey(t *testing.T) {
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	quiet := slog.New(slog.DiscardHandler)

	mfa, err := mfaKey(cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	oauth, err := oauthKey(cfg, quiet)
	if err != nil || len(oauth) != 32 {
		t.Fatalf("oauth key = %x, %v", oauth, err)
	}
	if bytes.Equal(mfa, oauth) {
		t.Error("the OAuth key is the MFA key")
	}
	info, err := os.Stat(filepath.Join(cfg.DataDir, "oauth.key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v; want mode 0600", info, err)
	}
	if again, err := oauthKey(cfg, quiet); err != nil || !bytes.Equal(again, oauth) {
		t.Errorf("second read = %x, %v; want the first key", again, err)
	}
	cfg.OAuthKey = bytes.Repeat([]byte{9}, 32)
	if got, _ := oauthKey(cfg, quiet); !bytes.Equal(got, cfg.OAuthKey) {
		t.Errorf("configured key = %x, want %x", got, cfg.OAuthKey)
	}
	cfg.OAuthKey, cfg.Store = nil, "scylla"
	if got, err := oauthKey(cfg, quiet); err != nil || got != nil {
		t.Errorf("scylla without a key = %x, %v; want none", got, err)
	}
}
