package platform

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/config"
)

func TestAKMSKeyWithoutARegionStopsStartUp(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.OAuthKMSKeyID = "alias/ward-oauth"
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	_, err := OpenWith(context.Background(), cfg, quiet, []Wiring{OAuth()}, nil)
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Fatalf("opening with a KMS key and no region = %v, want an error naming AWS_REGION", err)
	}

	// A binary that does not host oauth does not need KMS.
	p, err := OpenWith(context.Background(), cfg, quiet, []Wiring{Tenants()}, nil)
	if err != nil {
		t.Fatalf("a binary without oauth: %v", err)
	}
	defer p.Close()
	if p.OAuthDataKeys != nil {
		t.Error("a binary without oauth made a KMS client")
	}
}
