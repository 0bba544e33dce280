package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/clients"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// The device authorization grant (RFC 8628). A device asks for a pair of
// codes at the device authorization endpoint; the person enters the user
// code on the hosted page {issuer}/device, signed in, and approves or
// denies (the pages call OpDeviceLookup and OpDeviceDecide); meanwhile
// the device polls the token endpoint with the device code.
//
// Everything lives in the cache, for deviceTTL, under SHA-256s only:
//
//	oauth:dc:<h>        the request (deviceRecord), h the device code's hash
//	oauth:uc:<t>:<u>    h, under the hash of the tenant's normalized user code
//	oauth:dcd:<h>       the person's decision, written once (SetNX)
//	oauth:dcu:<h>       the redemption's marker, written once (SetNX)
//	oauth:dcp:<h>       the time of the last poll; oauth:dcs:<h> slow_downs
//	oauth:ucf:<t>:<user> wrong user codes of a person in a window
const (
	// DeviceCodePrefix starts every device code: "wdc_" and 32 random
	// bytes in unpadded base64url.
	DeviceCodePrefix = "wdc_"
	// deviceTTL is the life of a pair of codes (expires_in).
	deviceTTL = 10 * time.Minute
	// deviceInterval is the least time between polls (RFC 8628 section
	// 3.2); each slow_down adds deviceSlowDown (section 3.5).
	deviceInterval = 5 * time.Second
	deviceSlowDown = 5 * time.Second
	// userCodeAlphabet has no vowels (no words) and none of the letters
	// read alike (RFC 8628 section 6.1); 8 of them are 20^8, about 2^34.6.
	userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"
	userCodeLength   = 8
	// maxUserCodeFailures wrong user codes a person may enter within
	// userCodeWindow (RFC 8628 section 5.1: brute force). With 10 tries
	// per 15 minutes and a few thousand live codes per tenant, a person
	// guesses one in millions of windows.
	maxUserCodeFailures = 10
	userCodeWindow      = 15 * time.Minute

	// DevicePage is the path of the hosted page under the issuer.
	DevicePage = "/device"
)

// deviceRecord is a pending device authorization.
type deviceRecord struct {
	TenantID  string   `json:"tid"`
	ClientID  string   `json:"cid"`
	Scope     string   `json:"sc"`
	Audience  audience `json:"aud"`
	ExpiresAt int64    `json:"exp"`
	UserCode  string   `json:"uc"` // the hash of the user code, to forget it once decided
}

// deviceDecision is what the person decided, and who they are.
type deviceDecision struct {
	Approved bool      `json:"ok"`
	Grant    userGrant `json:"g"`
}

// deviceAuthorization is RFC 8628 section 3.2's answer.
type deviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

func deviceKey(prefix, hash string) string { return prefix + hash }

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func userCodeKey(tenantID, code string) string { return "oauth:uc:" + tenantID + ":" + hashOf(code) }

// newUserCode draws 8 letters of the alphabet uniformly (rejection
// sampling: 256 is not a multiple of 20).
func newUserCode() string {
	out := make([]byte, 0, userCodeLength)
	buf := make([]byte, 16)
	for len(out) < userCodeLength {
		_, _ = rand.Read(buf)
		for _, b := range buf {
			if int(b) < 240 && len(out) < userCodeLength { // 240 = 12 * 20
				out = append(out, userCodeAlphabet[int(b)%len(userCodeAlphabet)])
			}
		}
	}
	return string(out)
}

// NormalizeUserCode is a typed user code as Ward keeps it: upper case,
// without the dash, spaces or other separators people type (RFC 8628
// section 6.1). ok is false when it cannot be a user code at all.
func NormalizeUserCode(typed string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch {
		case r == '-' || r == ' ' || r == '\t':
		case strings.ContainsRune(userCodeAlphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return b.String(), b.Len() == userCodeLength
}

// showUserCode is the code as people read it: four letters, a dash and
// four more (BCDF-GHJK).
func showUserCode(code string) string { return code[:4] + "-" + code[4:] }

// serveDeviceAuthorization is the device authorization endpoint (RFC 8628
// section 3.1): the client authenticates as at the token endpoint (a
// public client by its client_id), and must hold the device code grant.
func (s *service) serveDeviceAuthorization(r *http.Request, t store.Tenant, iss string,
	form url.Values) (any, error) {
	cl, err := s.authenticateClient(r, t, form, false)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(cl.GrantTypes, clients.GrantDeviceCode) {
		return nil, badRequest(errUnauthorizedClient,
			"the client may not use the device authorization grant")
	}
	scope, err := grantedScope(form, cl.Scopes)
	if err != nil {
		return nil, err
	}
	aud, err := audienceOf(form["resource"], iss)
	if err != nil {
		return nil, err
	}
	if s.cache == nil {
		return nil, errs.New(errs.Unavailable, "no cache for device codes")
	}

	ctx := r.Context()
	now := s.now()
	device := DeviceCodePrefix + randomString(32)
	hash := hashOf(device)
	// A user code already in use at the tenant is drawn again: SetNX
	// makes each one name a single device code.
	var user string
	for range 5 {
		user = newUserCode()
		ok, err := s.cache.SetNX(ctx, userCodeKey(t.ID, user), []byte(hash), deviceTTL)
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
		user = ""
	}
	if user == "" {
		return nil, errs.New(errs.Unavailable, "no free user code")
	}
	rec := deviceRecord{TenantID: t.ID, ClientID: cl.ID, Scope: scope, Audience: aud,
		ExpiresAt: now.Add(deviceTTL).Unix(), UserCode: hashOf(user)}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "internal error")
	}
	// The record outlives its expiry by a while, so that a late poll is
	// told expired_token rather than invalid_grant (section 3.5).
	if err := s.cache.Set(ctx, deviceKey("oauth:dc:", hash), b, 2*deviceTTL); err != nil {
		return nil, err
	}
	page, shown := iss+DevicePage, showUserCode(user)
	return deviceAuthorization{DeviceCode: device, UserCode: shown, VerificationURI: page,
		VerificationURIComplete: page + "?" + url.Values{"user_code": {shown}}.Encode(),
		ExpiresIn:               int64(deviceTTL / time.Second),
		Interval:                int64(deviceInterval / time.Second)}, nil
}

// Error codes of RFC 8628 section 3.5.
const (
	errAuthorizationPending = "authorization_pending"
	errSlowDown             = "slow_down"
	errExpiredToken         = "expired_token"
)

// grantDeviceCode serves grant_type=urn:ietf:params:oauth:grant-type:
// device_code (RFC 8628 section 3.4) for cl, already authenticated.
func (s *service) grantDeviceCode(r *http.Request, t store.Tenant, iss string, form url.Values,
	cl clients.Client) (any, error) {
	ctx := r.Context()
	if !slices.Contains(cl.GrantTypes, clients.GrantDeviceCode) {
		return nil, badRequest(errUnauthorizedClient,
			"the client may not use the device authorization grant")
	}
	device := form.Get("device_code")
	if device == "" {
		return nil, badRequest(errInvalidRequest, "device_code is required")
	}
	if s.cache == nil {
		return nil, errs.New(errs.Unavailable, "no cache for device codes")
	}
	hash := hashOf(device)
	b, err := s.cache.Get(ctx, deviceKey("oauth:dc:", hash))
	if errors.Is(err, cache.ErrMiss) {
		return nil, invalidGrant("the device code is invalid")
	}
	if err != nil {
		return nil, err
	}
	var rec deviceRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "a device code record is damaged")
	}
	// RFC 8628 section 3.4 with RFC 6749 section 5.2: the device code was
	// issued to the authenticated client; another client's is unknown.
	if rec.TenantID != t.ID || rec.ClientID != cl.ID {
		return nil, invalidGrant("the device code is invalid")
	}
	if _, err := s.cache.Get(ctx, deviceKey("oauth:dcu:", hash)); err == nil {
		return nil, invalidGrant("the device code was used")
	} else if !errors.Is(err, cache.ErrMiss) {
		return nil, err
	}
	now := s.now()
	if now.Unix() >= rec.ExpiresAt {
		return nil, badRequest(errExpiredToken, "the device code has expired")
	}
	if err := s.pollPace(ctx, hash, now); err != nil {
		return nil, err
	}

	b, err = s.cache.Get(ctx, deviceKey("oauth:dcd:", hash))
	if errors.Is(err, cache.ErrMiss) {
		return nil, badRequest(errAuthorizationPending, "the user has not decided yet")
	}
	if err != nil {
		return nil, err
	}
	var d deviceDecision
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "a device decision is damaged")
	}
	if !d.Approved {
		return nil, badRequest(errAccessDenied, "the user denied the request")
	}
	// Issued once: of concurrent polls, one marks the code and issues.
	ok, err := s.cache.SetNX(ctx, deviceKey("oauth:dcu:", hash), []byte{1},
		time.Unix(rec.ExpiresAt, 0).Sub(now)+deviceTTL)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalidGrant("the device code was used")
	}
	out, _, err := s.issueStartingFamily(ctx, t, iss, cl, d.Grant)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// pollPace answers slow_down to a poll that comes sooner than the
// interval after the last one, and adds 5 seconds to the interval for
// this and every later poll (RFC 8628 section 3.5). The last poll's time
// is read, then written: two polls at the same instant may both pass,
// which costs Ward nothing but two answers.
func (s *service) pollPace(ctx context.Context, hash string, now time.Time) error {
	slow, err := s.cache.Get(ctx, deviceKey("oauth:dcs:", hash))
	if err != nil && !errors.Is(err, cache.ErrMiss) {
		return err
	}
	slowed, _ := strconv.Atoi(string(slow))
	interval := deviceInterval + time.Duration(slowed)*deviceSlowDown

	last, err := s.cache.Get(ctx, deviceKey("oauth:dcp:", hash))
	if err != nil && !errors.Is(err, cache.ErrMiss) {
		return err
	}
	at := strconv.FormatInt(now.UnixMilli(), 10)
	if err := s.cache.Set(ctx, deviceKey("oauth:dcp:", hash), []byte(at), 2*deviceTTL); err != nil {
		return err
	}
	if ms, perr := strconv.ParseInt(string(last), 10, 64); perr == nil &&
		now.Sub(time.UnixMilli(ms)) < interval {
		if err := s.cache.Set(ctx, deviceKey("oauth:dcs:", hash),
			[]byte(strconv.Itoa(slowed+1)), 2*deviceTTL); err != nil {
			return err
		}
		return badRequest(errSlowDown, "poll less often: the interval is now "+
			strconv.Itoa(int((interval+deviceSlowDown)/time.Second))+" seconds")
	}
	return nil
}

// Operations of the hosted device page: service callers only (the
// pages), which pass the person they validated from the session cookie.
const (
	// OpDeviceLookup finds a pending device request by its user code and
	// answers what it asks for, to show the person before they decide.
	OpDeviceLookup = "oauth.deviceLookup"
	// OpDeviceDecide records the person's approval or denial, once.
	OpDeviceDecide = "oauth.deviceDecide"
)

// DeviceUser is the signed-in person at the device page, as the
// sessions function validated their session.
type DeviceUser struct {
	UserID    string   `json:"userId"`
	SessionID string   `json:"sessionId"`
	AuthTime  int64    `json:"authTime"`
	ACR       string   `json:"acr"`
	AMR       []string `json:"amr,omitempty"`
}

// DeviceLookupInput names the tenant, the code typed, and who typed it.
type DeviceLookupInput struct {
	TenantID string     `json:"tenantId"`
	UserCode string     `json:"userCode"`
	User     DeviceUser `json:"user"`
}

// DeviceLookupOutput is what the device asks for.
type DeviceLookupOutput struct {
	UserCode   string   `json:"userCode"` // as shown, with its dash
	ClientID   string   `json:"clientId"`
	ClientName string   `json:"clientName"`
	Scopes     []string `json:"scopes"`
	// Described are the scopes as the consent page says them to people.
	Described []ScopeInfo `json:"described"`
}

// DeviceDecideInput is a lookup's input and the decision.
type DeviceDecideInput struct {
	DeviceLookupInput
	Approve bool `json:"approve"`
}

// DeviceDecideOutput says what was recorded.
type DeviceDecideOutput struct {
	Approved bool `json:"approved"`
}

func (in *DeviceLookupInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if err := validate.ID("user.userId", in.User.UserID); err != nil {
		return err
	}
	if in.User.SessionID != "" {
		if err := validate.ID("user.sessionId", in.User.SessionID); err != nil {
			return err
		}
	}
	if len(in.UserCode) > 64 {
		return errs.Invalid("userCode", "is not a code of this site")
	}
	return nil
}

func (in *DeviceDecideInput) Validate() error { return in.DeviceLookupInput.Validate() }

// errWrongUserCode is the answer to a user code that names nothing
// pending: wrong, expired, decided, or another tenant's.
var errWrongUserCode = errs.Invalid("userCode", "is wrong or has expired")

func (s *service) deviceLookup(ctx context.Context, c function.Caller, in DeviceLookupInput) (
	DeviceLookupOutput, error) {
	_, out, err := s.pendingDevice(ctx, c, in)
	return out, err
}

func (s *service) deviceDecide(ctx context.Context, c function.Caller, in DeviceDecideInput) (
	DeviceDecideOutput, error) {
	hash, _, err := s.pendingDevice(ctx, c, in.DeviceLookupInput)
	if err != nil {
		return DeviceDecideOutput{}, err
	}
	b, err := s.cache.Get(ctx, deviceKey("oauth:dc:", hash))
	if err != nil {
		return DeviceDecideOutput{}, errs.Wrap(errs.Unavailable, err, "device code vanished")
	}
	var rec deviceRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return DeviceDecideOutput{}, errs.Wrap(errs.Internal, err, "a device code record is damaged")
	}
	u := in.User
	d := deviceDecision{Approved: in.Approve, Grant: userGrant{ClientID: rec.ClientID,
		Scope: rec.Scope, Audience: rec.Audience, UserID: u.UserID, SessionID: u.SessionID,
		AuthTime: u.AuthTime, ACR: u.ACR, AMR: u.AMR}}
	db, err := json.Marshal(d)
	if err != nil {
		return DeviceDecideOutput{}, errs.Wrap(errs.Internal, err, "internal error")
	}
	ttl := time.Unix(rec.ExpiresAt, 0).Sub(s.now()) + deviceTTL
	ok, err := s.cache.SetNX(ctx, deviceKey("oauth:dcd:", hash), db, ttl)
	if err != nil {
		return DeviceDecideOutput{}, err
	}
	if !ok {
		return DeviceDecideOutput{}, errWrongUserCode // decided meanwhile
	}
	// A decided code names nothing any more: nobody can look it up again.
	norm, _ := NormalizeUserCode(in.UserCode)
	if err := s.cache.Delete(ctx, userCodeKey(in.TenantID, norm)); err != nil {
		s.log.WarnContext(ctx, "oauth: a decided user code could not be forgotten",
			"tenant", in.TenantID, "error", err.Error())
	}
	return DeviceDecideOutput{Approved: in.Approve}, nil
}

// pendingDevice finds the pending request a user code names, counting
// wrong codes against the person: after maxUserCodeFailures in the
// window every code is refused, right ones too (RFC 8628 section 5.1).
func (s *service) pendingDevice(ctx context.Context, c function.Caller, in DeviceLookupInput) (
	string, DeviceLookupOutput, error) {
	if !c.Has(function.RoleService) {
		return "", DeviceLookupOutput{}, errs.New(errs.PermissionDenied,
			"only Ward's hosted pages decide device requests")
	}
	if s.cache == nil {
		return "", DeviceLookupOutput{}, errs.New(errs.Unavailable, "no cache for device codes")
	}
	failKey := "oauth:ucf:" + in.TenantID + ":" + in.User.UserID
	if b, err := s.cache.Get(ctx, failKey); err == nil {
		if n, _ := strconv.Atoi(string(b)); n >= maxUserCodeFailures {
			return "", DeviceLookupOutput{}, errs.New(errs.RateLimited,
				"too many wrong codes; try again later")
		}
	} else if !errors.Is(err, cache.ErrMiss) {
		return "", DeviceLookupOutput{}, err
	}
	hash, rec, err := s.findUserCode(ctx, in.TenantID, in.UserCode)
	if errs.CodeOf(err) == errs.InvalidArgument {
		// The counter is decimal text in both caches: the Get above reads it.
		n, ierr := s.cache.Incr(ctx, failKey, userCodeWindow)
		if ierr != nil {
			return "", DeviceLookupOutput{}, ierr
		}
		if n >= maxUserCodeFailures {
			s.log.WarnContext(ctx, "oauth: too many wrong user codes; the person is held back",
				"tenant", in.TenantID, "request_id", function.RequestID(ctx))
		}
		return "", DeviceLookupOutput{}, err
	}
	if err != nil {
		return "", DeviceLookupOutput{}, err
	}
	cl, err := s.client(ctx, store.Tenant{ID: in.TenantID}, rec.ClientID)
	if err != nil {
		return "", DeviceLookupOutput{}, errWrongUserCode // the client is gone
	}
	norm, _ := NormalizeUserCode(in.UserCode)
	name := cl.Name
	if name == "" {
		name = cl.ID
	}
	return hash, DeviceLookupOutput{UserCode: showUserCode(norm), ClientID: cl.ID,
		ClientName: name, Scopes: strings.Fields(rec.Scope),
		Described: describeScopes(rec.Scope)}, nil
}

// findUserCode finds the pending, undecided, unexpired request of a user
// code at the tenant; anything else is errWrongUserCode.
func (s *service) findUserCode(ctx context.Context, tenantID, typed string) (string,
	deviceRecord, error) {
	norm, ok := NormalizeUserCode(typed)
	if !ok {
		return "", deviceRecord{}, errWrongUserCode
	}
	h, err := s.cache.Get(ctx, userCodeKey(tenantID, norm))
	if errors.Is(err, cache.ErrMiss) {
		return "", deviceRecord{}, errWrongUserCode
	}
	if err != nil {
		return "", deviceRecord{}, err
	}
	hash := string(h)
	b, err := s.cache.Get(ctx, deviceKey("oauth:dc:", hash))
	if errors.Is(err, cache.ErrMiss) {
		return "", deviceRecord{}, errWrongUserCode
	}
	if err != nil {
		return "", deviceRecord{}, err
	}
	var rec deviceRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return "", deviceRecord{}, errs.Wrap(errs.Internal, err, "a device code record is damaged")
	}
	if rec.TenantID != tenantID || s.now().Unix() >= rec.ExpiresAt {
		return "", deviceRecord{}, errWrongUserCode
	}
	if _, err := s.cache.Get(ctx, deviceKey("oauth:dcd:", hash)); err == nil {
		return "", deviceRecord{}, errWrongUserCode
	} else if !errors.Is(err, cache.ErrMiss) {
		return "", deviceRecord{}, err
	}
	return hash, rec, nil
}
