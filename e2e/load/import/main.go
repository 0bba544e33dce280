// Command import measures bulk user import through a running Ward's
// GraphQL facade: it creates a tenant, generates users as CSV with one
// precomputed Argon2id passwordHash (hashing each password would take
// about 25 ms a row), sends them as importUsers chunks within the 1 MiB
// request bound, one chunk after another on one job, checks every answer
// and the job's final counters, and prints wall time and rows per second.
// e2e/load/import.sh starts Ward, runs it and adds Ward's peak RSS.
//
//	go run ./e2e/load/import -url http://127.0.0.1:8080 -token "$TOKEN" -users 100000
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gocql/gocql"

	"github.com/wardhq/ward/shared/passwords"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "Ward base URL")
	token := flag.String("token", "", "bearer token of a system administrator")
	n := flag.Int("users", 100_000, "users to import")
	chunk := flag.Int("chunk", 5000, "rows per chunk")
	drop := flag.String("drop-keyspace", "", "after the run, drop this Cassandra keyspace "+
		"(hosts from WARD_SCYLLA_HOSTS)")
	flag.Parse()
	err := run(*base, *token, *n, *chunk)
	if *drop != "" {
		err = errors.Join(err, dropKeyspace(os.Getenv("WARD_SCYLLA_HOSTS"), *drop))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "import:", err)
		os.Exit(1)
	}
}

// dropKeyspace removes the run's keyspace from the shared Cassandra, so
// that repeated runs leave no data behind.
func dropKeyspace(hosts, keyspace string) error {
	if !keyspaceRE.MatchString(keyspace) || !strings.HasPrefix(keyspace, "ward_import_") {
		return fmt.Errorf("refusing to drop keyspace %q: not an import run's", keyspace)
	}
	cl := gocql.NewCluster(strings.Split(hosts, ",")...)
	cl.Timeout = time.Minute
	sess, err := cl.CreateSession()
	if err != nil {
		return err
	}
	defer sess.Close()
	return sess.Query("DROP KEYSPACE IF EXISTS " + keyspace).Exec()
}

var keyspaceRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,47}$`)

type client struct {
	http  *http.Client
	url   string
	token string
}

// maxBody is the facade's request bound (graphql.DefaultMaxBodyBytes).
const maxBody = 1 << 20

func (c client) do(query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	if len(body) > maxBody {
		return fmt.Errorf("request of %d bytes is over the facade's 1 MiB: use smaller chunks",
			len(body))
	}
	req, _ := http.NewRequest(http.MethodPost, c.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var r struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("status %d: %.300s", resp.StatusCode, raw)
	}
	if resp.StatusCode != http.StatusOK || len(r.Errors) > 0 {
		return fmt.Errorf("status %d: %.500s", resp.StatusCode, raw)
	}
	return json.Unmarshal(r.Data, out)
}

type job struct {
	ID      string `json:"id"`
	Chunks  int    `json:"chunks"`
	Rows    int    `json:"rows"`
	Created int    `json:"created"`
	Failed  int    `json:"failed"`
	Running bool   `json:"running"`
}

const importQuery = `mutation($t: ID!, $d: String!, $j: ID) {
	importUsers(tenantId: $t, format: CSV, data: $d, jobId: $j) {
		jobId rows created failed errorsOmitted errors { row field code message }
	}
}`

func run(base, token string, n, chunk int) error {
	if token == "" {
		return errors.New("-token is required")
	}
	c := client{http: &http.Client{Timeout: 5 * time.Minute}, url: base, token: token}

	var created struct {
		CreateTenant struct{ ID string } `json:"createTenant"`
	}
	name := fmt.Sprintf("import-%d", time.Now().UnixNano()%1_000_000_000)
	if err := c.do(`mutation($n: String!) { createTenant(input: {name: $n}) { id } }`,
		map[string]any{"n": name}, &created); err != nil {
		return fmt.Errorf("create tenant: %w", err)
	}
	tenant := created.CreateTenant.ID
	hash, err := passwords.Hash("one passphrase shared by every imported user")
	if err != nil {
		return err
	}

	var jobID string
	var lat []time.Duration
	maxBytes := 0
	start := time.Now()
	for first := 0; first < n; first += chunk {
		last := min(first+chunk, n)
		var b strings.Builder
		b.WriteString("username,email,displayName,status,passwordHash\n")
		for i := first; i < last; i++ {
			fmt.Fprintf(&b, "user%06d,user%06d@example.com,User %d,ACTIVE,\"%s\"\n", i, i, i, hash)
		}
		maxBytes = max(maxBytes, b.Len())
		vars := map[string]any{"t": tenant, "d": b.String()}
		if jobID != "" {
			vars["j"] = jobID
		}
		var out struct {
			ImportUsers struct {
				JobID         string `json:"jobId"`
				Rows          int    `json:"rows"`
				Created       int    `json:"created"`
				Failed        int    `json:"failed"`
				ErrorsOmitted int    `json:"errorsOmitted"`
				Errors        []any  `json:"errors"`
			} `json:"importUsers"`
		}
		t0 := time.Now()
		if err := c.do(importQuery, vars, &out); err != nil {
			return fmt.Errorf("chunk at row %d: %w", first+1, err)
		}
		lat = append(lat, time.Since(t0))
		r := out.ImportUsers
		if r.Rows != last-first || r.Created != r.Rows || r.Failed != 0 {
			return fmt.Errorf("chunk at row %d: rows %d created %d failed %d, errors %v",
				first+1, r.Rows, r.Created, r.Failed, r.Errors)
		}
		jobID = r.JobID
	}
	wall := time.Since(start)

	var st struct {
		UserImport job `json:"userImport"`
	}
	if err := c.do(`query($t: ID!, $j: ID!) { userImport(tenantId: $t, jobId: $j) { id chunks rows created failed running } }`,
		map[string]any{"t": tenant, "j": jobID}, &st); err != nil {
		return fmt.Errorf("userImport: %w", err)
	}
	j := st.UserImport
	if j.Rows != n || j.Created != n || j.Failed != 0 || j.Running {
		return fmt.Errorf("job counters %+v, want %d rows all created", j, n)
	}

	slices.Sort(lat)
	fmt.Printf("imported %d users in %d chunks of up to %d rows (largest %d KiB of CSV)\n",
		n, len(lat), chunk, maxBytes>>10)
	fmt.Printf("wall time %.1f s, %.0f rows/s\n", wall.Seconds(), float64(n)/wall.Seconds())
	fmt.Printf("chunk latency: min %.2f s, median %.2f s, max %.2f s\n",
		lat[0].Seconds(), lat[len(lat)/2].Seconds(), lat[len(lat)-1].Seconds())
	return nil
}
