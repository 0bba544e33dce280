package lambdafn_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/function/lambdafn/lambdatest"
)

// TestUnderTheEmulator runs the fixture function under the real Lambda
// runtime emulator: the handler, lambda.Start and the runtime API together.
func TestUnderTheEmulator(t *testing.T) {
	emu := lambdatest.Start(t, lambdatest.Build(t, lambdatest.FixturePackage), lambdatest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	post := func(t *testing.T, payload []byte) []byte {
		t.Helper()
		status, body, err := emu.Invoke(ctx, payload)
		if err != nil || status != http.StatusOK {
			t.Fatalf("invoke: %d %v %q", status, err, body)
		}
		return body
	}

	t.Run("an HTTP event keeps every cookie", func(t *testing.T) {
		var resp events.APIGatewayV2HTTPResponse
		body := post(t, httpEvent("GET", "/login", "", map[string]string{"host": "id.example"}, nil, "", false))
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatalf("answer %s: %v", body, err)
		}
		got := append([]string(nil), resp.Cookies...)
		sort.Strings(got)
		want := []string{"csrf=c1; Path=/", "session=s1; Path=/; HttpOnly"}
		if resp.StatusCode != http.StatusNoContent || !cmp.Equal(got, want) {
			t.Errorf("got %d %q, want 204 %q", resp.StatusCode, got, want)
		}
	})

	t.Run("an HTTP event with a query and a body", func(t *testing.T) {
		var resp events.APIGatewayV2HTTPResponse
		ev := httpEvent("POST", "/echo", "tag=a&tag=b", map[string]string{"content-type": "application/json"},
			nil, `{"n":1}`, false)
		if err := json.Unmarshal(post(t, ev), &resp); err != nil {
			t.Fatal(err)
		}
		want := `{"body":{"n":1},"query":{"tag":["a","b"]}}` + "\n"
		if resp.StatusCode != http.StatusOK || resp.Body != want {
			t.Errorf("got %d %q, want 200 %q", resp.StatusCode, resp.Body, want)
		}
	})

	t.Run("a direct invocation", func(t *testing.T) {
		var resp function.Response
		body := post(t, []byte(`{"op":"fixture.echo","caller":{"sub":"svc","roles":["service"]},`+
			`"input":{"text":"direct"},"requestId":"r-1"}`))
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatalf("answer %s: %v", body, err)
		}
		want := `{"text":"direct","caller":{"sub":"svc","roles":["service"]},"requestId":"r-1"}`
		if resp.Error != nil || string(resp.Output) != want {
			t.Errorf("got %s", body)
		}
	})

	t.Run("a malformed event is a function error", func(t *testing.T) {
		body := post(t, []byte(`{"hello":"world"}`))
		var lambdaErr struct {
			ErrorMessage string `json:"errorMessage"`
			ErrorType    string `json:"errorType"`
		}
		if err := json.Unmarshal(body, &lambdaErr); err != nil {
			t.Fatalf("answer %s: %v", body, err)
		}
		if lambdaErr.ErrorType != "MalformedEventError" ||
			!strings.Contains(lambdaErr.ErrorMessage, "malformed event") {
			t.Errorf("got %s", body)
		}
	})
}
