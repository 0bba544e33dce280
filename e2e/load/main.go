// Command load measures the GraphQL facade from outside: it creates a
// tenant and a user through a running Ward, then sends `user(id)` queries
// from a fixed number of concurrent clients for a fixed time, and prints
// requests per second and latency percentiles. Every answer is checked;
// an error or a wrong user fails the run.
//
//	go run ./e2e/load -url http://127.0.0.1:8080 -token "$TOKEN" -c 32 -d 20s
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

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "Ward base URL")
	token := flag.String("token", "", "bearer token of a system administrator")
	conc := flag.Int("c", 32, "concurrent clients")
	dur := flag.Duration("d", 20*time.Second, "duration of the measurement")
	warm := flag.Duration("warmup", 2*time.Second, "warm-up before measuring")
	flag.Parse()
	if err := run(*base, *token, *conc, *dur, *warm); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

type client struct {
	http  *http.Client
	url   string
	token string
}

func (c client) do(query string, vars map[string]any) (map[string]json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var out struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []json.RawMessage          `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, raw)
	}
	if len(out.Errors) > 0 {
		return nil, fmt.Errorf("graphql error: %s", out.Errors[0])
	}
	return out.Data, nil
}

func run(base, token string, conc int, dur, warm time.Duration) error {
	c := client{
		http:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2}, Timeout: 10 * time.Second},
		url:   base,
		token: token,
	}
	name := fmt.Sprintf("load-%d", time.Now().UnixNano()%1e9)
	data, err := c.do(`mutation($n: String!) { createTenant(input: {name: $n, displayName: "Load"}) { id } }`,
		map[string]any{"n": name})
	if err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	var tenant struct{ ID string }
	json.Unmarshal(data["createTenant"], &tenant)
	data, err = c.do(`mutation($t: ID!) { createUser(input: {tenantId: $t, username: "loaduser", email: "load@example.com"}) { id } }`,
		map[string]any{"t": tenant.ID})
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	var user struct{ ID string }
	json.Unmarshal(data["createUser"], &user)

	query := `query($t: ID!, $id: ID!) { user(tenantId: $t, id: $id) { id username email status } }`
	vars := map[string]any{"t": tenant.ID, "id": user.ID}
	want := `"` + user.ID + `"`

	res, err := loadgen.Run(conc, dur, warm, func(context.Context, int) error {
		d, err := c.do(query, vars)
		if err == nil && !bytes.Contains(d["user"], []byte(want)) {
			err = fmt.Errorf("wrong user: %s", d["user"])
		}
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("user(id) query, %s\n", res)
	return nil
}
