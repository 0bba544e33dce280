package oauth

import (
	"context"
	"time"

	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/store"
)

// TestGrant is a refreshGrant as the tests give it.
type TestGrant struct {
	Client    clients.Client
	UserID    string
	SessionID string
	Scope     string
	Audience  []string
	AuthTime  time.Time
}

// NewRefreshFamily starts a refresh token family as the authorization
// code flow will, on a service built from d.
func NewRefreshFamily(ctx context.Context, d Deps, t store.Tenant, g TestGrant) (string,
	error) {
	s, err := newService(d)
	if err != nil {
		return "", err
	}
	token, _, err := s.newRefreshFamily(ctx, t, refreshGrant{Client: g.Client,
		UserID: g.UserID, SessionID: g.SessionID, Scope: g.Scope, Audience: g.Audience,
		AuthTime: g.AuthTime, ACR: "1", AMR: []string{"pwd"}})
	return token, err
}
