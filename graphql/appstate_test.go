package graphql

import (
	"testing"

	"github.com/wardhq/ward/shared/appstate"
	"github.com/wardhq/ward/shared/cache/memory"
)

func TestAppStateThroughTheFacade(t *testing.T) {
	w := newSessionWorld(t)
	mc, err := memory.New(memory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mc.Close() })
	w.inv.Register(appstate.Function(appstate.Deps{Cache: mc, Invoker: w.inv}))
	ann, _ := w.signIn(t, w.ann)
	bob, _ := w.signIn(t, w.bob)

	set := w.must(t, ann, `mutation { setAppState(app: "shop", key: "cart",
		value: {items: [1, 2], note: "x"}) { key size } }`, nil)
	if get(set, "setAppState", "key") != "cart" || get(set, "setAppState", "size") != float64(len(`{"items":[1,2],"note":"x"}`)) {
		t.Errorf("setAppState = %v", set)
	}
	w.must(t, ann, `mutation($v: JSON!) { setAppState(app: "shop", key: "n", value: $v) { key } }`,
		map[string]any{"v": "plain"})
	got := w.must(t, ann, `{ c: appState(app: "shop", key: "cart") n: appState(app: "shop", key: "n")
		none: appState(app: "shop", key: "none") keys: appStateKeys(app: "shop") { key size } }`, nil)
	items, _ := get(got, "c", "items").([]any)
	if len(items) != 2 || get(got, "c", "note") != "x" || get(got, "n") != "plain" ||
		got["none"] != nil {
		t.Errorf("appState = %v", got)
	}
	if keys, _ := got["keys"].([]any); len(keys) != 2 || get(keys[0], "key") != "cart" {
		t.Errorf("appStateKeys = %v", got["keys"])
	}

	// Another session sees none of it.
	other := w.must(t, bob, `{ appState(app: "shop", key: "cart") appStateKeys(app: "shop") { key } }`, nil)
	if other["appState"] != nil || len(other["appStateKeys"].([]any)) != 0 {
		t.Errorf("bob sees %v", other)
	}

	del := w.must(t, ann, `mutation { a: deleteAppState(app: "shop", key: "cart")
		b: deleteAppState(app: "shop", key: "cart") }`, nil)
	if del["a"] != true || del["b"] != false {
		t.Errorf("deleteAppState = %v", del)
	}

	// An API token has no session: refused, not empty.
	r := w.hs.query(t, w.acmeAdmin, `{ appStateKeys(app: "shop") { key } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "PERMISSION_DENIED" {
		t.Errorf("an API token: %s", r.raw)
	}
	big := make([]byte, appstate.MaxValueBytes)
	for i := range big {
		big[i] = 'x'
	}
	r = w.hs.query(t, ann, `mutation($v: JSON!) { setAppState(app: "shop", key: "big", value: $v) { key } }`,
		map[string]any{"v": string(big)})
	if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "PAYLOAD_TOO_LARGE" {
		t.Errorf("an oversized value: %s", r.raw)
	}
}
