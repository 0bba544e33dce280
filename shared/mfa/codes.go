package mfa

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wardhq/ward/shared/cache"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// codeDigits is the length of a one-time code.
const codeDigits = 6

// contactData is the data of an EMAIL, SMS or VOICE factor: where its
// codes go.
type contactData struct {
	To string `json:"to"`
}

func contactOf(f store.Factor) string {
	var d contactData
	_ = json.Unmarshal(f.Data, &d) // a factor without data has no address
	return d.To
}

// isCodeFactor reports whether t proves itself with a code Ward sends.
func isCodeFactor(t store.FactorType) bool {
	return t == store.FactorEmail || t == store.FactorSMS || t == store.FactorVoice
}

// hintOf is what a factor shows of itself: a masked address, or how many
// recovery codes are left.
func hintOf(f store.Factor) string {
	switch f.Type {
	case store.FactorEmail:
		return maskEmail(contactOf(f))
	case store.FactorSMS, store.FactorVoice:
		return maskPhone(contactOf(f))
	case store.FactorRecovery:
		return strconv.Itoa(len(recoveryOf(f).Hashes)) + " codes left"
	}
	return ""
}

func maskEmail(a string) string {
	local, domain, ok := strings.Cut(a, "@")
	if !ok || local == "" {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(local)
	return string(r) + "•••@" + domain
}

func maskPhone(p string) string {
	if len(p) < 4 {
		return ""
	}
	return "••••" + p[len(p)-2:]
}

// codeEntry is a sent code in the cache under "mfa:otp:<challenge ID>":
// whose it is and the hash of the code bound to the challenge.
type codeEntry struct {
	TenantID string `json:"t"`
	UserID   string `json:"u"`
	FactorID string `json:"f"`
	Hash     string `json:"h"`
}

const codeKeyPrefix = "mfa:otp:"

// sendCode makes a one-time code for factor f, keeps its hash for CodeTTL
// and sends it. At most MaxSends codes go out per factor in
// FailureWindow, so that nobody can make Ward flood an address.
func (s *service) sendCode(ctx context.Context, f store.Factor, locale string) (
	ChallengeOutput, error) {
	to := contactOf(f)
	if to == "" {
		return ChallengeOutput{}, errs.New(errs.Internal, "a factor has no address")
	}
	switch {
	case f.Type == store.FactorEmail && s.email == nil:
		return ChallengeOutput{}, errs.New(errs.Unavailable, "email is not configured")
	case f.Type != store.FactorEmail && s.phone == nil:
		return ChallengeOutput{}, errs.New(errs.Unavailable, "text messages and calls are not configured")
	}
	n, err := s.cache.Incr(ctx, "mfa:sends:"+f.TenantID+":"+f.ID, FailureWindow)
	if err != nil {
		return ChallengeOutput{}, err
	}
	if n > MaxSends {
		return ChallengeOutput{}, errs.New(errs.RateLimited,
			"too many codes sent for this factor; try again later")
	}

	code, id := randomDigits(codeDigits), validate.NewID()
	entry, _ := json.Marshal(codeEntry{TenantID: f.TenantID, UserID: f.UserID, FactorID: f.ID,
		Hash: hashHex("otp", id, code)})
	if err := s.cache.Set(ctx, codeKeyPrefix+id, entry, CodeTTL); err != nil {
		return ChallengeOutput{}, err
	}
	if err := s.deliver(ctx, f, to, locale, code); err != nil {
		_ = s.cache.Delete(ctx, codeKeyPrefix+id)
		return ChallengeOutput{}, err
	}
	return ChallengeOutput{ChallengeID: id, SentTo: hintOf(f)}, nil
}

// deliver writes the otp-code message in the user's language and sends it
// the factor's way.
func (s *service) deliver(ctx context.Context, f store.Factor, to, locale, code string) error {
	tn, err := s.st.Tenants().Get(ctx, f.TenantID)
	if err != nil {
		return err
	}
	app := tn.DisplayName
	if app == "" {
		app = tn.Name
	}
	data := map[string]any{"AppName": app, "Code": code, "ValidMinutes": int(CodeTTL.Minutes())}
	m, err := s.tpl.Render(ctx, f.TenantID, messaging.KindOTPCode, locale, data)
	if err != nil && locale != "" && errs.CodeOf(err) == errs.InvalidArgument {
		m, err = s.tpl.Render(ctx, f.TenantID, messaging.KindOTPCode, "", data)
	}
	if err != nil {
		return errs.Wrap(errs.Internal, err, "the message could not be written")
	}
	short := "Your " + app + " code is " + code
	switch f.Type {
	case store.FactorEmail:
		return s.email.Send(ctx, m.Email(s.from, to))
	case store.FactorSMS:
		body := m.Text
		if utf8.RuneCountInString(body) > messaging.MaxSMSRunes {
			body = short
		}
		return s.phone.SendSMS(ctx, messaging.SMS{TenantID: f.TenantID,
			Kind: messaging.KindOTPCode, To: to, Body: body})
	default:
		// Spoken digit by digit, twice.
		spoken := strings.Join(strings.Split(code, ""), " ")
		return s.phone.Call(ctx, messaging.Voice{TenantID: f.TenantID,
			Kind: messaging.KindOTPCode, To: to, Locale: locale,
			Text: "Your " + app + " code is " + spoken + ". Again: " + spoken + "."})
	}
}

// proveCode checks a one-time code against its challenge and spends it:
// the entry is taken with GetDel, so of concurrent right answers one wins.
// Every try, right or wrong, counts against the challenge; past
// MaxCodeTries the challenge is dropped.
func (s *service) proveCode(ctx context.Context, f store.Factor, challengeID, code string) error {
	if validate.ID("challengeId", challengeID) != nil || len(code) != codeDigits {
		return badProof()
	}
	key := codeKeyPrefix + challengeID
	raw, err := s.cache.Get(ctx, key)
	if errors.Is(err, cache.ErrMiss) {
		return badProof()
	}
	if err != nil {
		return err
	}
	var e codeEntry
	if json.Unmarshal(raw, &e) != nil || e.TenantID != f.TenantID || e.UserID != f.UserID ||
		e.FactorID != f.ID {
		return badProof()
	}
	tries, err := s.cache.Incr(ctx, key+":tries", CodeTTL)
	if err != nil {
		return err
	}
	if tries > MaxCodeTries {
		_ = s.cache.Delete(ctx, key)
		return badProof()
	}
	if !sameHex(hashHex("otp", challengeID, code), e.Hash) {
		return badProof()
	}
	if _, err := s.cache.GetDel(ctx, key); errors.Is(err, cache.ErrMiss) {
		return badProof() // spent by a concurrent request
	} else if err != nil {
		return err
	}
	return nil
}
