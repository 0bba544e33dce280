package appstate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wardhq/ward/shared/appstate"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/sessions"
)

func wantCode(t *testing.T, what string, err error, code errs.Code) {
	t.Helper()
	if errs.CodeOf(err) != code || err == nil {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

func TestASessionKeepsItsOwnState(t *testing.T) {
	e := newEnv(t)
	ada := e.signIn(e.a, "ada")
	c := ada.caller

	out, err := e.set(c, "shop", "cart", map[string]any{"items": []int{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Key != "cart" || out.Size != len(`{"items":[1,2]}`) || out.Keys != 1 ||
		out.Bytes != len("cart")+out.Size {
		t.Errorf("set = %+v", out)
	}
	if _, err := e.set(c, "shop", "note", "hello"); err != nil {
		t.Fatal(err)
	}
	if got, err := e.get(c, "shop", "cart"); err != nil || got != `{"items":[1,2]}` {
		t.Errorf("get cart = %s, %v", got, err)
	}
	if got, err := e.get(c, "shop", "note"); err != nil || got != `"hello"` {
		t.Errorf("get note = %s, %v", got, err)
	}
	l := e.list(c, "shop")
	if len(l.Keys) != 2 || l.Keys[0].Key != "cart" || l.Keys[1] != (appstate.KeyInfo{Key: "note",
		Size: 7}) || l.Bytes != 4+15+4+7 {
		t.Errorf("list = %+v", l)
	}
	if l := e.list(c, "other-app"); len(l.Keys) != 0 || l.Keys == nil {
		t.Errorf("another application's keys = %+v", l)
	}
	if _, err := e.get(c, "other-app", "cart"); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("a key of another application: %v", err)
	}

	if _, err := call[appstate.DeleteOutput](e, appstate.OpDelete, c,
		appstate.DeleteInput{App: "shop", Key: "cart"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.get(c, "shop", "cart")
	wantCode(t, "get after delete", err, errs.NotFound)
	_, err = call[appstate.DeleteOutput](e, appstate.OpDelete, c,
		appstate.DeleteInput{App: "shop", Key: "cart"})
	wantCode(t, "delete again", err, errs.NotFound)
}

func TestNoOtherSessionIsReachable(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.signIn(e.a, "ada"), e.signIn(e.a, "bob")
	eve := e.signIn(e.b, "eve")
	if _, err := e.set(ada.caller, "shop", "cart", "ada's"); err != nil {
		t.Fatal(err)
	}

	_, err := e.get(bob.caller, "shop", "cart")
	wantCode(t, "another session's key, by its own name", err, errs.NotFound)
	for _, who := range []signedIn{bob, eve} {
		_, err := call[appstate.GetOutput](e, appstate.OpGet, who.caller, appstate.GetInput{
			Session: appstate.Session{TenantID: e.a.ID, SessionID: ada.session.ID},
			App:     "shop", Key: "cart"})
		wantCode(t, "naming another session", err, errs.NotFound)
		_, err = call[appstate.SetOutput](e, appstate.OpSet, who.caller, appstate.SetInput{
			Session: appstate.Session{TenantID: e.a.ID, SessionID: ada.session.ID},
			App:     "shop", Key: "cart", Value: []byte(`"overwritten"`)})
		wantCode(t, "writing another session", err, errs.NotFound)
		_, err = call[appstate.ClearOutput](e, appstate.OpClear, who.caller,
			appstate.ClearInput{Session: appstate.Session{TenantID: e.a.ID,
				SessionID: ada.session.ID}})
		wantCode(t, "clearing another session", err, errs.NotFound)
	}
	if got, _ := e.get(ada.caller, "shop", "cart"); got != `"ada's"` {
		t.Errorf("ada's value became %s", got)
	}

	apiToken := function.Caller{Subject: "tok", Tenant: e.a.ID,
		Roles: []string{function.RoleTenantAdmin}}
	_, err = e.get(apiToken, "shop", "cart")
	wantCode(t, "an administrator without a session", err, errs.PermissionDenied)
	_, err = e.get(function.Caller{}, "shop", "cart")
	wantCode(t, "nobody", err, errs.Unauthenticated)
}

func TestAServiceActsOnANamedSession(t *testing.T) {
	e := newEnv(t)
	ada := e.signIn(e.a, "ada")
	at := appstate.Session{TenantID: e.a.ID, SessionID: ada.session.ID}
	_, err := call[appstate.SetOutput](e, appstate.OpSet, svc,
		appstate.SetInput{Session: at, App: "shop", Key: "k", Value: []byte(`1`)})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.get(ada.caller, "shop", "k"); err != nil || got != "1" {
		t.Errorf("the session reads what the service wrote: %s, %v", got, err)
	}

	_, err = call[appstate.GetOutput](e, appstate.OpGet, svc, appstate.GetInput{App: "shop",
		Key: "k"})
	wantCode(t, "a service naming no session", err, errs.InvalidArgument)
	_, err = call[appstate.GetOutput](e, appstate.OpGet, svc, appstate.GetInput{
		Session: appstate.Session{TenantID: e.b.ID, SessionID: ada.session.ID}, App: "shop",
		Key: "k"})
	wantCode(t, "a service naming the session in another tenant", err, errs.NotFound)

	_, err = invoke.Call[sessions.RevokeOutput](context.Background(), e.inv,
		sessions.FunctionName, sessions.OpRevoke, ada.caller,
		sessions.RevokeInput{TenantID: e.a.ID, ID: ada.session.ID, UserID: ada.caller.Subject})
	if err != nil {
		t.Fatal(err)
	}
	_, err = call[appstate.GetOutput](e, appstate.OpGet, svc,
		appstate.GetInput{Session: at, App: "shop", Key: "k"})
	wantCode(t, "a service naming a revoked session", err, errs.NotFound)
}

func TestStateEndsWithTheSession(t *testing.T) {
	e := newEnv(t)
	ada := e.signIn(e.a, "ada")
	if _, err := e.set(ada.caller, "shop", "k", "v"); err != nil {
		t.Fatal(err)
	}
	end := time.Unix(ada.caller.SessionExpires, 0)
	key := "as:" + e.a.ID + ":" + ada.session.ID + ":a:shop"

	e.clk.Add(end.Sub(e.clk.Now()) - time.Second)
	if _, err := e.cache.Get(context.Background(), key); err != nil {
		t.Errorf("a second before the session's end: %v", err)
	}
	e.clk.Add(time.Second)
	if _, err := e.cache.Get(context.Background(), key); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("at the session's end the entry is still there: %v", err)
	}
	_, err := e.set(ada.caller, "shop", "k", "v")
	wantCode(t, "a write after the session's end", err, errs.Unauthenticated)
}

func TestBoundsAreEnforcedAndWriteNothing(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(e.a, "ada").caller

	big := strings.Repeat("x", appstate.MaxValueBytes-1) // +2 quotes: one over
	_, err := e.set(c, "shop", "big", big)
	wantCode(t, "a value over 16 KiB", err, errs.TooLarge)
	if _, err := e.set(c, "shop", "fits", big[:appstate.MaxValueBytes-2]); err != nil {
		t.Errorf("a value of exactly 16 KiB: %v", err)
	}

	for _, tc := range []struct {
		name, app, key, value string
		code                  errs.Code
	}{
		{"null", "shop", "k", "null", errs.InvalidArgument},
		{"an app that is no slug", "Shop!", "k", "1", errs.InvalidArgument},
		{"a key with a slash", "shop", "a/b", "1", errs.InvalidArgument},
		{"a long key", "shop", strings.Repeat("k", 129), "1", errs.InvalidArgument},
	} {
		_, err := call[appstate.SetOutput](e, appstate.OpSet, c, appstate.SetInput{App: tc.app,
			Key: tc.key, Value: []byte(tc.value)})
		wantCode(t, tc.name, err, tc.code)
	}

	// Keys: 64 fit, the 65th does not.
	for i := 1; i < appstate.MaxKeysPerApp; i++ {
		if _, err := e.set(c, "shop", fmt.Sprintf("k%02d", i), i); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.set(c, "shop", "k99", 1)
	wantCode(t, "a 65th key", err, errs.TooLarge)
	if _, err := e.set(c, "shop", "k01", "replaced"); err != nil {
		t.Errorf("replacing a key at the bound: %v", err)
	}
	if l := e.list(c, "shop"); len(l.Keys) != appstate.MaxKeysPerApp {
		t.Errorf("%d keys after the refusal", len(l.Keys))
	}

	// Bytes: 16 values of 16 KiB pass 256 KiB with their names.
	for i := range 15 {
		if _, err := e.set(c, "blobs", fmt.Sprintf("b%d", i), big[:appstate.MaxValueBytes-2]); err != nil {
			t.Fatalf("value %d: %v", i, err)
		}
	}
	before := e.list(c, "blobs")
	_, err = e.set(c, "blobs", "b15", big[:appstate.MaxValueBytes-2])
	wantCode(t, "a value past 256 KiB", err, errs.TooLarge)
	if after := e.list(c, "blobs"); after.Bytes != before.Bytes ||
		len(after.Keys) != len(before.Keys) || after.Bytes > appstate.MaxBytesPerApp {
		t.Errorf("the refused write changed the state: %+v -> %+v", before.Bytes, after.Bytes)
	}

	// Applications: 8 per session (shop, blobs and 6 more).
	for i := range 6 {
		if _, err := e.set(c, fmt.Sprintf("app-%d", i), "k", 1); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.set(c, "app-ninth", "k", 1)
	wantCode(t, "a ninth application", err, errs.TooLarge)
	if l := e.list(c, "app-ninth"); len(l.Keys) != 0 {
		t.Errorf("the refused application has %+v", l)
	}
}

func TestConcurrentWritersNeverPassTheQuota(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(e.a, "ada").caller
	value := strings.Repeat("v", 10<<10)
	const writers = 40 // 40 x 10 KiB: only 25 fit in 256 KiB
	var wg sync.WaitGroup
	errsOut := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			for {
				_, err := e.set(c, "shop", fmt.Sprintf("k%02d", i), value)
				if errs.CodeOf(err) == errs.Unavailable && err != nil &&
					strings.Contains(err.Error(), "busy") {
					continue // told to try again
				}
				errsOut[i] = err
				return
			}
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errsOut {
		switch {
		case err == nil:
			ok++
		case errs.CodeOf(err) != errs.TooLarge:
			t.Errorf("writer %d: %v", i, err)
		}
	}
	l := e.list(c, "shop")
	if l.Bytes > appstate.MaxBytesPerApp || len(l.Keys) != ok {
		t.Errorf("%d writes succeeded; the state holds %d keys and %d bytes (bound %d)", ok,
			len(l.Keys), l.Bytes, appstate.MaxBytesPerApp)
	}
	if ok != appstate.MaxBytesPerApp/(len(value)+2+3) {
		t.Errorf("%d writes succeeded, want as many as fit: %d", ok,
			appstate.MaxBytesPerApp/(len(value)+2+3))
	}
}

func TestClearDeletesEveryApplication(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.signIn(e.a, "ada"), e.signIn(e.a, "bob")
	for _, app := range []string{"shop", "game"} {
		if _, err := e.set(ada.caller, app, "k", 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.set(bob.caller, "shop", "k", 2); err != nil {
		t.Fatal(err)
	}
	out, err := call[appstate.ClearOutput](e, appstate.OpClear, ada.caller, appstate.ClearInput{})
	if err != nil || out.Apps != 2 {
		t.Fatalf("clear = %+v, %v", out, err)
	}
	for _, app := range []string{"shop", "game"} {
		if l := e.list(ada.caller, app); len(l.Keys) != 0 {
			t.Errorf("%s after clear: %+v", app, l)
		}
	}
	if got, err := e.get(bob.caller, "shop", "k"); err != nil || got != "2" {
		t.Errorf("another session's state after clear: %s, %v", got, err)
	}
}

func TestErrorsAreCoded(t *testing.T) {
	var ce *errs.Error
	e := newEnv(t)
	c := e.signIn(e.a, "ada").caller
	_, err := e.set(c, "shop", "big", strings.Repeat("x", appstate.MaxValueBytes))
	if !errors.As(err, &ce) || ce.Field != "value" || !strings.Contains(ce.Message, "16384") {
		t.Errorf("an oversized value: %#v", err)
	}
}
