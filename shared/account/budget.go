package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/function"
)

// Every address (email or phone) gets at most MaxMessagesPerAddress
// messages from Ward's self-service in any MessageWindow, counted in the
// cache per tenant. The public operations would otherwise let anyone make
// Ward flood an inbox, or run up an SMS bill.
//
// Past the budget the anonymous operations still answer exactly as before
// and simply send nothing (telling the caller would tell them the address
// has an account); operations of a signed-in user or an administrator
// answer RATE_LIMITED. The window is fixed, starting at an address's first
// message. Without a cache (Deps.Cache nil) nothing is counted.
const (
	MaxMessagesPerAddress = 5
	MessageWindow         = time.Hour
)

// spend counts one message to address and reports whether it is within the
// budget. A failing cache does not stop mail: the budget guards against
// abuse, it never decides whether Ward works.
func (s *service) spend(ctx context.Context, tenantID, address string) bool {
	if s.cache == nil {
		return true
	}
	sum := sha256.Sum256([]byte(strings.ToLower(address)))
	key := "acct-msg:" + tenantID + ":" + hex.EncodeToString(sum[:16])
	n, err := s.cache.Incr(ctx, key, MessageWindow)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "account: message budget not counted",
			slog.String("request_id", function.RequestID(ctx)), slog.String("tenant", tenantID),
			slog.String("error", err.Error()))
		return true
	}
	if n > MaxMessagesPerAddress {
		s.log.LogAttrs(ctx, slog.LevelInfo, "account: message budget spent; nothing sent",
			slog.String("request_id", function.RequestID(ctx)), slog.String("tenant", tenantID))
		return false
	}
	return true
}
