// Package lambdatest runs Ward functions the way AWS Lambda runs them,
// for tests: it builds a function binary as a Lambda bootstrap and starts
// it under the AWS Lambda Runtime Interface Emulator (aws-lambda-rie), a
// real Lambda runtime API and invoke endpoint on loopback ports.
//
// Fixture is a small function for the transports' own tests; its binary is
// FixturePackage.
package lambdatest

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
)

// FixturePackage is the import path of a main package that runs Fixture
// on Lambda, or on the functions framework when FUNCTION_TARGET or
// K_SERVICE is set.
const FixturePackage = "github.com/wardhq/ward/shared/function/lambdafn/lambdatest/testdata/fixture"

// Fixture operation names.
const (
	OpEcho  = "fixture.echo"  // answers EchoOutput
	OpSleep = "fixture.sleep" // sleeps SleepInput.Millis, even when cancelled
	OpFail  = "fixture.fail"  // answers a CONFLICT error
)

// EchoInput is the input of OpEcho.
type EchoInput struct {
	Text string `json:"text"`
}

// EchoOutput is what OpEcho answers: the text and who asked.
type EchoOutput struct {
	Text      string          `json:"text"`
	Caller    function.Caller `json:"caller"`
	RequestID string          `json:"requestId"`
}

// SleepInput is the input of OpSleep.
type SleepInput struct {
	Millis int `json:"millis"`
}

// Fixture returns a function named "fixture" with the operations above and
// these routes: GET /healthz answers {"status":"ok"}; GET /login sets the
// cookies session=s1 and csrf=c1; POST /echo answers its query and body.
func Fixture() *function.Function {
	f := function.New("fixture")
	function.Op(f, OpEcho, func(ctx context.Context, c function.Caller, in EchoInput) (EchoOutput, error) {
		return EchoOutput{Text: in.Text, Caller: c, RequestID: function.RequestID(ctx)}, nil
	})
	function.Op(f, OpSleep, func(_ context.Context, _ function.Caller, in SleepInput) (struct{}, error) {
		// Deaf to cancellation, as a stuck operation is: the platform's own
		// timeout has to end it.
		time.Sleep(time.Duration(in.Millis) * time.Millisecond)
		return struct{}{}, nil
	})
	function.Op(f, OpFail, func(context.Context, function.Caller, struct{}) (struct{}, error) {
		return struct{}{}, errs.New(errs.Conflict, "fixture conflict")
	})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1", Path: "/", HttpOnly: true})
		http.SetCookie(w, &http.Cookie{Name: "csrf", Value: "c1", Path: "/"})
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		var body json.RawMessage
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
			http.Error(w, "body must be JSON", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"query": r.URL.Query(), "body": body})
	})
	f.Routes = mux
	return f
}
