package ldap

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/jimlambrt/gldap"

	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/users"
)

// Adds, modifies and deletes map to users.create, users.update,
// users.setPassword and users.delete for user entries, and to the groups
// function's operations for group entries (groups.go), called with the
// bound client's own Caller: the operations decide who may write,
// exactly as they do for GraphQL. Only user and group entries can be
// written; tenants are managed through GraphQL.

func (l *listener) add(w *gldap.ResponseWriter, r *gldap.Request) {
	ctx, done := l.begin("add", r)
	who := l.session(r.ConnectionID()).identity()
	m, err := r.GetAddMessage()
	switch {
	case err == nil && isGroupDN(m.DN):
		err = l.srv.addGroup(ctx, who, m)
	case err == nil:
		err = l.srv.addUser(ctx, who, m)
	}
	code, msg := outcome(err)
	_ = w.Write(r.NewResponse(gldap.WithApplicationCode(gldap.ApplicationAddResponse),
		gldap.WithResponseCode(code), gldap.WithDiagnosticMessage(msg)))
	done(code, who.tenantID, err)
}

func (l *listener) modify(w *gldap.ResponseWriter, r *gldap.Request) {
	ctx, done := l.begin("modify", r)
	who := l.session(r.ConnectionID()).identity()
	m, err := r.GetModifyMessage()
	switch {
	case err == nil && isGroupDN(m.DN):
		err = l.srv.modifyGroup(ctx, who, m)
	case err == nil:
		err = l.srv.modifyUser(ctx, who, m)
	}
	code, msg := outcome(err)
	_ = w.Write(r.NewModifyResponse(gldap.WithResponseCode(code),
		gldap.WithDiagnosticMessage(msg)))
	done(code, who.tenantID, err)
}

func (l *listener) delete(w *gldap.ResponseWriter, r *gldap.Request) {
	ctx, done := l.begin("delete", r)
	who := l.session(r.ConnectionID()).identity()
	m, err := r.GetDeleteMessage()
	switch {
	case err == nil && isGroupDN(m.DN):
		err = l.srv.deleteGroup(ctx, who, m.DN)
	case err == nil:
		err = l.srv.deleteUser(ctx, who, m.DN)
	}
	code, msg := outcome(err)
	_ = w.Write(r.NewResponse(gldap.WithApplicationCode(gldap.ApplicationDelResponse),
		gldap.WithResponseCode(code), gldap.WithDiagnosticMessage(msg)))
	done(code, who.tenantID, err)
}

// target resolves a written DN to its tenant; only user and group
// entries are writable.
func (s *Server) target(ctx context.Context, who identity, dn string) (place, store.Tenant,
	error) {
	if who.anonymous() {
		return place{}, store.Tenant{}, refuse(gldap.ResultInsufficientAccessRights,
			"bind first")
	}
	at, err := parseDN(dn)
	if err != nil {
		return place{}, store.Tenant{}, refuse(gldap.ResultInvalidDNSyntax, "invalid DN")
	}
	if at.kind != placeUser && at.kind != placeGroup {
		return place{}, store.Tenant{}, refuse(gldap.ResultUnwillingToPerform,
			"only user entries (uid=<username>,ou=users,o=<tenant>,dc=ward) and group "+
				"entries (cn=<name>,ou=groups,o=<tenant>,dc=ward) can be written")
	}
	// A tenant the client may not see is answered like a missing one.
	if who.caller.Tenant != "" && at.tenant != who.tenantName {
		return place{}, store.Tenant{}, refuse(gldap.ResultNoSuchObject, "no such object")
	}
	t, err := s.dir.tenantByName(ctx, at.tenant)
	return at, t, err
}

// single returns the one value of a single-valued attribute.
func single(name string, vals []string) (string, error) {
	if len(vals) != 1 {
		return "", refuse(gldap.ResultConstraintViolation, name+" takes exactly one value")
	}
	return vals[0], nil
}

// hashedPassword recognises a userPassword given as a stored scheme
// ({SSHA}..., {ARGON2}...): Ward hashes passwords itself and would
// otherwise take the hash for the password.
var hashedPassword = regexp.MustCompile(`^\{[A-Za-z0-9._-]+\}`)

func (s *Server) addUser(ctx context.Context, who identity, m *gldap.AddMessage) error {
	at, t, err := s.target(ctx, who, m.DN)
	if err != nil {
		return err
	}
	in := users.CreateInput{TenantID: t.ID, Username: at.user}
	var cn string
	for _, a := range m.Attributes {
		name := canonical(a.Type)
		switch name {
		case "objectclass":
			ok := false
			for _, v := range a.Vals {
				switch strings.ToLower(v) {
				case "inetorgperson":
					ok = true
				case "top", "person", "organizationalperson":
				default:
					return refuse(gldap.ResultObjectClassViolation, "unsupported objectClass "+v)
				}
			}
			if !ok {
				return refuse(gldap.ResultObjectClassViolation, "users are inetOrgPerson")
			}
			continue
		case "sn":
			// Derived from cn; accepted because inetOrgPerson requires it.
			continue
		}
		v, err := single(a.Type, a.Vals)
		if err != nil {
			return err
		}
		switch name {
		case "uid":
			if strings.ToLower(v) != at.user {
				return refuse(gldap.ResultNotAllowedOnRDN, "uid must match the entry's name")
			}
		case "cn":
			cn = v
		case "displayname":
			in.DisplayName = v
		case "mail":
			in.Email = v
		case "telephonenumber":
			in.Phone = v
		case "wardstatus":
			in.Status = store.UserStatus(strings.ToUpper(v))
		case "wardorgid":
			// Organization administrators must place the user in an
			// organization they reach; users.create checks it.
			in.OrgID = v
		case "userpassword":
			if hashedPassword.MatchString(v) {
				return refuse(gldap.ResultUnwillingToPerform,
					"userPassword must be given in clear text; Ward hashes it")
			}
			in.Password = users.Password(v)
		case "entryuuid":
			return refuse(gldap.ResultConstraintViolation, "entryUUID is assigned by Ward")
		default:
			return refuse(gldap.ResultUndefinedAttributeType, "unknown attribute "+a.Type)
		}
	}
	if in.DisplayName == "" && cn != "" && !strings.EqualFold(cn, at.user) {
		in.DisplayName = cn
	}
	_, err = invoke.Call[store.User](ctx, s.dir.inv, users.FunctionName, users.OpCreate,
		who.caller, in)
	return err
}

// modifyUser applies a modify request (RFC 4511 section 4.6) as one
// users.update, or, for userPassword, one users.setPassword. A request
// that changes the password together with anything else is refused:
// the two are separate operations, and LDAP requires a modify to apply
// entirely or not at all.
func (s *Server) modifyUser(ctx context.Context, who identity, m *gldap.ModifyMessage) error {
	_, t, err := s.target(ctx, who, m.DN)
	if err != nil {
		return err
	}
	at, _ := parseDN(m.DN)
	u, err := s.dir.userByName(ctx, who.caller, t.ID, at.user)
	if err != nil {
		return err
	}
	for i := range m.Changes {
		vals, err := modValues(m.Changes[i])
		if err != nil {
			return refuse(gldap.ResultProtocolError, "malformed modification")
		}
		m.Changes[i].Modification.Vals = vals
	}
	for _, c := range m.Changes {
		if canonical(c.Modification.Type) == "userpassword" {
			if len(m.Changes) != 1 {
				return refuse(gldap.ResultUnwillingToPerform,
					"change userPassword in a modify request of its own")
			}
			return s.setPassword(ctx, who, u, c)
		}
	}

	in := users.UpdateInput{TenantID: t.ID, ID: u.ID}
	for _, c := range m.Changes {
		name := canonical(c.Modification.Type)
		vals := c.Modification.Vals
		var cur string
		switch name {
		case "cn", "displayname":
			cur = u.DisplayName
		case "mail":
			cur = u.Email
		case "wardstatus":
			cur = string(u.Status)
		case "wardorgid":
			cur = u.OrgID
		case "uid":
			return refuse(gldap.ResultNotAllowedOnRDN, "uid names the entry; it cannot be modified")
		case "telephonenumber":
			// users.update takes no phone number yet.
			return refuse(gldap.ResultUnwillingToPerform, "telephoneNumber cannot be changed yet")
		case "objectclass", "sn", "entryuuid":
			return refuse(gldap.ResultConstraintViolation, c.Modification.Type+" is kept by Ward")
		default:
			return refuse(gldap.ResultUndefinedAttributeType,
				"unknown attribute "+c.Modification.Type)
		}
		var v string
		switch c.Operation {
		case gldap.ReplaceAttribute, gldap.AddAttribute:
			if c.Operation == gldap.AddAttribute && cur != "" {
				return refuse(gldap.ResultAttributeOrValueExists,
					c.Modification.Type+" is single-valued and already set")
			}
			if v, err = single(c.Modification.Type, vals); err != nil {
				return err
			}
		case gldap.DeleteAttribute:
			if len(vals) > 0 && !slices.ContainsFunc(vals, func(x string) bool {
				return fold(x) == fold(cur)
			}) {
				return refuse(gldap.ResultNoSuchAttribute, "no such value")
			}
			if name == "wardstatus" {
				return refuse(gldap.ResultObjectClassViolation, "wardStatus is required")
			}
		default:
			return refuse(gldap.ResultUnwillingToPerform, "unsupported modification")
		}
		switch name {
		case "cn", "displayname":
			in.DisplayName = &v
		case "mail":
			in.Email = &v
		case "wardstatus":
			st := store.UserStatus(strings.ToUpper(v))
			in.Status = &st
		case "wardorgid":
			// Deleting it moves the user to tenant level; users.update
			// checks the caller reaches both organizations.
			in.OrgID = &v
		}
	}
	_, err = invoke.Call[store.User](ctx, s.dir.inv, users.FunctionName, users.OpUpdate,
		who.caller, in)
	return err
}

func (s *Server) setPassword(ctx context.Context, who identity, u store.User,
	c gldap.Change) error {
	if c.Operation != gldap.ReplaceAttribute && c.Operation != gldap.AddAttribute {
		return refuse(gldap.ResultUnwillingToPerform, "a password can be replaced, not removed")
	}
	v, err := single("userPassword", c.Modification.Vals)
	if err != nil {
		return err
	}
	if hashedPassword.MatchString(v) {
		return refuse(gldap.ResultUnwillingToPerform,
			"userPassword must be given in clear text; Ward hashes it")
	}
	_, err = invoke.Call[users.PasswordOutput](ctx, s.dir.inv, users.FunctionName,
		users.OpSetPassword, who.caller,
		users.SetPasswordInput{TenantID: u.TenantID, ID: u.ID, Password: users.Password(v)})
	return err
}

func (s *Server) deleteUser(ctx context.Context, who identity, dn string) error {
	at, t, err := s.target(ctx, who, dn)
	if err != nil {
		return err
	}
	u, err := s.dir.userByName(ctx, who.caller, t.ID, at.user)
	if err != nil {
		return err
	}
	_, err = invoke.Call[users.DeleteOutput](ctx, s.dir.inv, users.FunctionName, users.OpDelete,
		who.caller, users.DeleteInput{TenantID: t.ID, ID: u.ID})
	return err
}
