package ldap

import (
	"context"

	"github.com/jimlambrt/gldap"

	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/users"
	"github.com/wardhq/ward/shared/validate"
)

func (l *listener) bind(w *gldap.ResponseWriter, r *gldap.Request) {
	ctx, done := l.begin("bind", r)
	sess := l.session(r.ConnectionID())
	var who identity
	m, err := r.GetSimpleBindMessage()
	switch {
	case err == nil && m.Password != "" && l.needsTLSToBind() && !sess.isTLS():
		// RFC 4513 section 6.3.1 leaves it to the server to demand
		// confidentiality before a password is sent; Ward does off
		// loopback. The password has crossed already, but the client
		// learns to upgrade and nothing is checked with it.
		err = refuse(gldap.ResultConfidentialityRequired,
			"use StartTLS or LDAPS before binding with a password")
	case err == nil:
		who, err = l.srv.authenticate(ctx, m.UserName, string(m.Password))
	default:
		err = refuse(gldap.ResultProtocolError, "not a simple bind")
	}
	sess.setIdentity(who)
	code, msg := outcome(err)
	resp := r.NewBindResponse(gldap.WithResponseCode(code))
	resp.SetDiagnosticMessage(msg)
	_ = w.Write(resp)
	done(code, who.tenantID, err)
}

var errInvalidCredentials = refuse(gldap.ResultInvalidCredentials, "invalid credentials")

// authenticate checks a simple bind (RFC 4513 section 5.1).
func (s *Server) authenticate(ctx context.Context, dn, password string) (identity, error) {
	switch {
	case dn == "" && password == "":
		// RFC 4513 section 5.1.1: anonymous. Refused unless configured,
		// with the code the RFC gives for a mechanism the server will
		// not accept.
		if !s.cfg.AllowAnonymous {
			return identity{}, refuse(gldap.ResultInappropriateAuthentication,
				"anonymous bind is not allowed")
		}
		return identity{}, nil
	case password == "":
		// RFC 4513 section 5.1.2: an unauthenticated bind (a name and no
		// password) must fail by default with unwillingToPerform, so that
		// a client that lost its password is not silently anonymous.
		return identity{}, refuse(gldap.ResultUnwillingToPerform,
			"unauthenticated bind is not allowed")
	}
	at, err := parseDN(dn)
	if err != nil {
		return identity{}, errInvalidCredentials
	}
	switch at.kind {
	case placeUser:
		return s.bindUser(ctx, at, password)
	case placeToken:
		return s.bindToken(ctx, dn, password)
	}
	return identity{}, errInvalidCredentials
}

// bindUser checks a user's password with users.verifyPassword.
func (s *Server) bindUser(ctx context.Context, at place, password string) (identity, error) {
	tenantID := ""
	t, err := s.dir.tenantByName(ctx, at.tenant)
	switch {
	case err == nil:
		tenantID = t.ID
	case errs.CodeOf(err) == errs.NotFound:
		// An unknown tenant is checked against an ID that has no users,
		// so that it costs the same password derivation as a known one
		// and the answer's timing does not tell tenants apart.
		tenantID = validate.NewID()
	default:
		return identity{}, err
	}
	out, err := invoke.Call[users.VerifyPasswordOutput](ctx, s.dir.inv, users.FunctionName,
		users.OpVerifyPassword, verifierCaller, users.VerifyPasswordInput{TenantID: tenantID, Username: at.user,
			Password: users.Password(password)})
	if err != nil {
		return identity{}, bindError(err)
	}
	u := out.User
	return identity{
		caller: function.Caller{Subject: u.ID, Tenant: u.TenantID,
			Roles: []string{function.RoleUser}},
		dn:         userDN(t.Name, u.Username),
		tenantName: t.Name,
		tenantID:   u.TenantID,
	}, nil
}

// bindToken checks an API token given as the password of a name under
// ou=tokens,dc=ward, with apitokens.verify; the client then acts as the
// token's caller, as it would through GraphQL.
func (s *Server) bindToken(ctx context.Context, dn, token string) (identity, error) {
	who, err := invoke.Call[function.Caller](ctx, s.dir.inv, apitokens.FunctionName,
		apitokens.OpVerify, verifierCaller, apitokens.VerifyInput{Token: token})
	if err != nil {
		return identity{}, bindError(err)
	}
	id := identity{caller: who, dn: dn}
	if who.Tenant != "" {
		t, err := s.dir.tenant(ctx, who, who.Tenant)
		if err != nil {
			return identity{}, bindError(err)
		}
		id.tenantName, id.tenantID = t.Name, t.ID
	}
	return id, nil
}

// bindError keeps faults (unavailable, internal) as they are and answers
// every other refusal as invalid credentials, so that a bind's answer
// never tells which part was wrong.
func bindError(err error) error {
	switch errs.CodeOf(err) {
	case errs.Unavailable, errs.Internal:
		return err
	}
	return errInvalidCredentials
}
