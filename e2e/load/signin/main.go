// Command signin measures password sign-in end to end through a running
// Ward: it creates a tenant and users with passwords through GraphQL, then
// has concurrent clients sign in over the flow API (start a flow with the
// username, answer the password step), checking that every flow ends with
// a session, and prints sign-ins per second and latency percentiles of the
// whole sign-in (both requests). e2e/load/signin.sh starts Ward and runs
// it.
//
//	go run ./e2e/load/signin -url http://127.0.0.1:8080 -token "$TOKEN" -c 16 -d 20s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/wardhq/ward/e2e/load/loadgen"
)

const password = "violet-harbour-engine-42"

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "Ward base URL")
	token := flag.String("token", "", "bearer token of a system administrator")
	conc := flag.Int("c", 16, "concurrent clients")
	dur := flag.Duration("d", 20*time.Second, "duration of the measurement")
	warm := flag.Duration("warmup", 2*time.Second, "warm-up before measuring")
	nUsers := flag.Int("users", 64, "users to sign in, in turn")
	flag.Parse()
	if err := run(*base, *token, *conc, *nUsers, *dur, *warm); err != nil {
		fmt.Fprintln(os.Stderr, "signin:", err)
		os.Exit(1)
	}
}

type client struct {
	http *http.Client
	url  string
}

// post sends a JSON body and decodes a JSON answer, which must have the
// wanted status.
func (c client) post(path, token string, body any, want int, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, c.url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s: status %d: %s", path, resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

func (c client) graphql(token, query string, vars map[string]any, out any) error {
	var resp struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := c.post("/graphql", token, map[string]any{"query": query, "variables": vars},
		http.StatusOK, &resp); err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		return fmt.Errorf("graphql: %s", resp.Errors[0])
	}
	return json.Unmarshal(resp.Data, out)
}

func run(base, token string, conc, nUsers int, dur, warm time.Duration) error {
	c := client{url: base, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2}}}
	name := fmt.Sprintf("signin-%d", time.Now().UnixNano()%1e9)
	var tn struct {
		CreateTenant struct{ ID string } `json:"createTenant"`
	}
	if err := c.graphql(token, `mutation($n: String!) { createTenant(input: {name: $n}) { id } }`,
		map[string]any{"n": name}, &tn); err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	for i := range nUsers {
		var u struct{ CreateUser struct{ ID string } }
		if err := c.graphql(token, `mutation($t: ID!, $u: String!, $p: String!) {
			createUser(input: {tenantId: $t, username: $u, password: $p}) { id } }`,
			map[string]any{"t": tn.CreateTenant.ID, "u": fmt.Sprintf("user%d", i), "p": password},
			&u); err != nil {
			return fmt.Errorf("create user %d: %w", i, err)
		}
	}

	next := make([]int, conc)
	res, err := loadgen.Run(conc, dur, warm, func(_ context.Context, w int) error {
		// Each worker signs its own users in turn, so that no two workers
		// sign one user in at once.
		user := fmt.Sprintf("user%d", (w+next[w]*conc)%nUsers)
		next[w]++
		var flow struct {
			FlowID string `json:"flowId"`
			CSRF   string `json:"csrf"`
			Step   string `json:"step"`
		}
		if err := c.post("/t/"+name+"/authn/flows", "", map[string]any{"username": user,
			"deviceId": "load-device"}, http.StatusCreated, &flow); err != nil {
			return err
		}
		var done struct {
			Step    string `json:"step"`
			Session struct {
				Token string `json:"token"`
			} `json:"session"`
		}
		if err := c.post("/t/"+name+"/authn/flows/"+flow.FlowID, "", map[string]any{
			"csrf": flow.CSRF, "step": flow.Step, "password": password}, http.StatusOK,
			&done); err != nil {
			return err
		}
		if done.Step != "done" || done.Session.Token == "" {
			return fmt.Errorf("the flow ended at %q without a session", done.Step)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("password sign-in (flow API, two requests), %s\n", res)
	return nil
}
