package graphql

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	gql "github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/parser"
)

// testSchema is the facade's schema with no invoker behind it, for
// measuring documents.
var testSchema = (&resolvers{}).schema()

func measureString(t testing.TB, doc string, vars map[string]any) (cost, string) {
	t.Helper()
	d, err := parser.Parse(parser.ParseParams{Source: doc})
	if err != nil {
		t.Fatalf("parse %q: %v", doc, err)
	}
	return measure(&testSchema, d, vars)
}

func TestMeasure(t *testing.T) {
	tests := []struct {
		name           string
		doc            string
		vars           map[string]any
		wantDepth      int
		wantComplexity int
		wantProblem    string
	}{
		{"one field with one leaf", `{ viewer { subject } }`, nil, 2, 2, ""},
		{"a listing without first counts the default page",
			`{ tenants { nodes { id } } }`, nil, 3, 1 + 50*2, ""},
		{"a listing multiplies its whole selection by first",
			`{ tenants(first: 10) { nodes { id name } pageInfo { hasNextPage } } }`, nil, 3,
			1 + 10*(3+2), ""},
		{"nested listings multiply",
			`{ tenants(first: 10) { nodes { users(first: 20) { nodes { id } } } } }`, nil, 5,
			1 + 10*(1+(1+20*2)), ""},
		{"first from a variable", `query($n: Int) { tenants(first: $n) { nodes { id } } }`,
			map[string]any{"n": float64(3)}, 3, 1 + 3*2, ""},
		{"first from a variable's default",
			`query($n: Int = 5) { tenants(first: $n) { nodes { id } } }`, nil, 3, 1 + 5*2, ""},
		{"first from a variable without a value",
			`query($n: Int) { tenants(first: $n) { nodes { id } } }`, nil, 3, 1 + 50*2, ""},
		{"a negative first counts the default page",
			`{ tenants(first: -1) { nodes { id } } }`, nil, 3, 1 + 50*2, ""},
		{"a huge first saturates",
			`{ tenants(first: 99999999999) { nodes { users(first: 2147483647) { nodes { id } } } } }`,
			nil, 5, costCap, ""},
		{"a fragment is expanded",
			`{ ...F } fragment F on Query { viewer { subject roles } }`, nil, 2, 3, ""},
		{"a fragment spread twice counts twice",
			`{ a: tenant(id: "x") { ...T } b: tenant(id: "y") { ...T } } fragment T on Tenant { id name }`,
			nil, 2, 6, ""},
		{"nested fragments add depth",
			`{ viewer { ...V } } fragment V on Viewer { tenant { ...T } } fragment T on Tenant { users { pageInfo { hasNextPage } } }`,
			nil, 5, 1 + 1 + 1 + 50*2, ""},
		{"inline fragments are expanded",
			`{ viewer { ... on Viewer { subject } ... { roles } } }`, nil, 2, 3, ""},
		{"a fragment cycle stops where it closes",
			`{ viewer { ...A } } fragment A on Viewer { subject ...B } fragment B on Viewer { roles ...A }`,
			nil, 2, 3, problemCycle},
		{"a fragment spreading itself", `{ viewer { ...A } } fragment A on Viewer { ...A }`,
			nil, 1, 1, problemCycle},
		{"a cycle among unused fragments",
			`{ viewer { subject } } fragment A on Viewer { ... on Viewer { ...B } } fragment B on Viewer { roles ...A }`,
			nil, 2, 2 + 1, problemCycle},
		{"a fragment spread twice is no cycle",
			`{ viewer { ...A ...A } } fragment A on Viewer { ...B ...B } fragment B on Viewer { roles }`,
			nil, 2, 1 + 4, ""},
		{"two fragments of one name",
			`{ viewer { ...A } } fragment A on Viewer { roles } fragment A on Viewer { ...A }`,
			nil, 2, 2, problemDuplicate},
		{"a spread of a missing fragment counts nothing", `{ viewer { ...Nope } }`, nil, 1, 1, ""},
		{"an unused fragment still counts",
			`{ viewer { subject } } fragment U on Query { tenants { nodes { id } } }`, nil, 3,
			2 + 101, ""},
		{"every operation counts",
			`query A { viewer { subject } } query B { tenants(first: 2) { nodes { id } } }`, nil,
			3, 2 + 1 + 2*2, ""},
		{"a mutation", `mutation { createTenant(input: {name: "x"}) { id } }`, nil, 2, 2, ""},
		{"unknown fields count one each", `{ nope { deeper { deepest } } }`, nil, 3, 3, ""},
		{"ofType adds no depth",
			`{ __schema { types { ofType { ofType { ofType { name } } } } } }`, nil, 3, 6, ""},
		{"ofType outside __Type is an unknown field and adds depth",
			`{ viewer { ofType { ofType { x } } } }`, nil, 4, 4, ""},
		{"__typename is a field", `{ __typename viewer { __typename } }`, nil, 2, 3, ""},
		{"a variable without a type", `query($a:) { viewer { subject } }`, nil, 2, 2,
			problemVarType},
		{"a variable of a list without a type", `query($a: ]) { viewer { subject } }`, nil, 2,
			2, problemVarType},
		{"a variable of a bare bang", `query($a: !) { viewer { subject } }`, nil, 2, 2,
			problemVarType},
		{"variables of sound types", `query($a: [ID!]!, $b: Int) { viewer { subject } }`, nil,
			2, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problem := measureString(t, tt.doc, tt.vars)
			if got.depth != tt.wantDepth || got.complexity != tt.wantComplexity {
				t.Errorf("depth %d complexity %d, want %d %d", got.depth, got.complexity,
					tt.wantDepth, tt.wantComplexity)
			}
			if problem != tt.wantProblem {
				t.Errorf("problem = %q, want %q", problem, tt.wantProblem)
			}
		})
	}
}

// fragmentBomb spreads each of n fragments twice into the one before it:
// expanded naively the document has 2^n leaves.
func fragmentBomb(n int) string {
	var b strings.Builder
	b.WriteString("{ viewer { ...F0 } }\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "fragment F%d on Viewer { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Viewer { subject }\n", n)
	return b.String()
}

func TestMeasureFragmentBombInLinearTime(t *testing.T) {
	start := time.Now()
	got, problem := measureString(t, fragmentBomb(60), nil)
	if problem != "" {
		t.Errorf("problem = %q, want none", problem)
	}
	if got.complexity != costCap {
		t.Errorf("complexity = %d, want the cap %d", got.complexity, costCap)
	}
	if got.depth != 2 {
		t.Errorf("depth = %d, want 2", got.depth)
	}
	// Not a speed claim: 2^60 expansions would never finish at all.
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestLimitsThroughTheHandler(t *testing.T) {
	deep := `{ viewer { tenant { users { pageInfo { hasNextPage } } } } }` // depth 5
	deepFrag := `{ viewer { ...V } } fragment V on Viewer { tenant { ...T } }
		fragment T on Tenant { users { pageInfo { hasNextPage } } }` // depth 5
	wide := `{ tenants(first: 10) { nodes { id name } pageInfo { hasNextPage } } }` // 51
	byVar := `query($n: Int) { tenants(first: $n) { nodes { id } } }`               // 1+2n
	cycle := `{ viewer { ...A } } fragment A on Viewer { subject ...B }
		fragment B on Viewer { roles ...A }`
	tests := []struct {
		name     string
		opts     Options
		query    string
		vars     map[string]any
		wantCode string // "" when the query runs
	}{
		{"depth at the limit", Options{MaxDepth: 5}, deep, nil, ""},
		{"depth over the limit", Options{MaxDepth: 4}, deep, nil, "QUERY_TOO_DEEP"},
		{"depth through fragments at the limit", Options{MaxDepth: 5}, deepFrag, nil, ""},
		{"depth through fragments over the limit", Options{MaxDepth: 4}, deepFrag, nil,
			"QUERY_TOO_DEEP"},
		{"complexity at the limit", Options{MaxComplexity: 51}, wide, nil, ""},
		{"complexity over the limit", Options{MaxComplexity: 50}, wide, nil, "QUERY_TOO_COMPLEX"},
		{"complexity by a variable at the limit", Options{MaxComplexity: 51}, byVar,
			map[string]any{"n": 25}, ""},
		{"complexity by a variable over the limit", Options{MaxComplexity: 51}, byVar,
			map[string]any{"n": 26}, "QUERY_TOO_COMPLEX"},
		{"the default depth refuses nine levels", Options{},
			`{ viewer { tenant { users { nodes { tenant { users { nodes { tenant { id } } } } } } } } }`,
			nil, "QUERY_TOO_DEEP"},
		{"the default complexity refuses nested default pages", Options{},
			`{ tenants { nodes { users { nodes { id } } } } }`, nil, "QUERY_TOO_COMPLEX"},
		{"a fragment bomb", Options{}, fragmentBomb(40), nil, "QUERY_TOO_COMPLEX"},
		{"a fragment cycle fails validation", Options{}, cycle, nil,
			"GRAPHQL_VALIDATION_FAILED"},
		{"a cycle in unused fragments fails validation", Options{},
			`{ viewer { subject } } fragment A on Viewer { ...B } fragment B on Viewer { ...A }`,
			nil, "GRAPHQL_VALIDATION_FAILED"},
		{"a variable without a type fails validation", Options{},
			`query($t:) { viewer { subject } }`, nil, "GRAPHQL_VALIDATION_FAILED"},
		{"two fragments of one name fail validation", Options{},
			`{ viewer { ...A } } fragment A on Viewer { roles } fragment A on Viewer { ...A }`,
			nil, "GRAPHQL_VALIDATION_FAILED"},
		{"a document nested as deep as the query size allows", Options{},
			strings.Repeat("{a", 20000) + strings.Repeat("}", 20000), nil, "QUERY_TOO_DEEP"},
		{"a long ofType chain", Options{},
			"{ __schema { types { " + strings.Repeat("ofType { ", 5000) + "name" +
				strings.Repeat(" }", 5000) + " } } }", nil, "QUERY_TOO_COMPLEX"},
		{"many copies of one field", Options{},
			"{ viewer { " + strings.Repeat("subject ", 5000) + "} }", nil, "QUERY_TOO_COMPLEX"},
		{"the usual introspection query passes the defaults", Options{}, introspectionQuery,
			nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, tt.opts)
			got := hs.query(t, tokAdmin, tt.query, tt.vars)
			if got.status != http.StatusOK {
				t.Fatalf("status = %d; body %s", got.status, got.raw)
			}
			if tt.wantCode == "" {
				if len(got.Errors) > 0 || got.Data == nil {
					t.Fatalf("refused: %s", got.raw)
				}
				return
			}
			if !slices.Equal(got.codes(), []string{tt.wantCode}) {
				t.Fatalf("codes = %v, want [%s]; body %.300s", got.codes(), tt.wantCode, got.raw)
			}
			if got.Data != nil {
				t.Errorf("a refused request has data: %.300s", got.raw)
			}
			if ops := hs.opsRun(); len(ops) > 0 {
				t.Errorf("operations ran: %v", ops)
			}
		})
	}
}

func TestIntrospectionMeasure(t *testing.T) {
	got, _ := measureString(t, introspectionQuery, nil)
	if got.depth > DefaultMaxDepth || got.complexity > DefaultMaxComplexity {
		t.Errorf("introspection measures depth %d complexity %d, over the defaults",
			got.depth, got.complexity)
	}
	t.Logf("introspection: depth %d, complexity %d", got.depth, got.complexity)
}

// introspectionQuery is the query GraphiQL and most clients send to learn
// the schema, with seven levels of ofType.
const introspectionQuery = `
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives {
      name
      description
      locations
      args { ...InputValue }
    }
  }
}
fragment FullType on __Type {
  kind
  name
  description
  fields(includeDeprecated: true) {
    name
    description
    args { ...InputValue }
    type { ...TypeRef }
    isDeprecated
    deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) {
    name
    description
    isDeprecated
    deprecationReason
  }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name
  description
  type { ...TypeRef }
  defaultValue
}
fragment TypeRef on __Type {
  kind
  name
  ofType {
    kind
    name
    ofType {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
              }
            }
          }
        }
      }
    }
  }
}`

// FuzzMeasure parses arbitrary documents and measures those that parse:
// the walker must not panic and must stay within its bounds.
func FuzzMeasure(f *testing.F) {
	for _, seed := range []string{
		`{ viewer { subject } }`,
		`{ tenants(first: 3) { nodes { users(first: $n) { nodes { id } } } } }`,
		`query($n: Int = 4) { tenants(first: $n) { nodes { id } } }`,
		`{ viewer { ...A } } fragment A on Viewer { ...B } fragment B on Viewer { ...A }`,
		`{ ... on Query { __schema { types { ofType { name } } } } }`,
		`mutation { createTenant(input: {name: "x"}) { id } }`,
		`fragment F on Nope { a { b } } { ...F }`,
		`subscription { x }`,
		`type T { a: Int }`,
		fragmentBomb(8),
		introspectionQuery,
	} {
		f.Add(seed, int64(7))
	}
	f.Fuzz(func(t *testing.T, doc string, n int64) {
		d, err := parser.Parse(parser.ParseParams{Source: doc})
		if err != nil {
			return
		}
		vars := map[string]any{"n": float64(n), "first": n}
		c, problem := measure(&testSchema, d, vars)
		if c.depth < 0 || c.complexity < 0 || c.depth > costCap || c.complexity > costCap {
			t.Fatalf("out of bounds: %+v", c)
		}
		if op, gerr := selectOperation(d, ""); gerr == nil {
			_ = checkVariables(&testSchema, op, vars)
		}
		// What the handler would validate must not crash the validator.
		if problem == "" && c.depth <= DefaultMaxDepth && c.complexity <= DefaultMaxComplexity {
			_ = gql.ValidateDocument(&testSchema, d, nil)
		}
	})
}

// TestCachedDocumentsStillMeetLimits checks that a document served from
// the document cache is measured again with each request's variables.
func TestCachedDocumentsStillMeetLimits(t *testing.T) {
	hs := newHarness(t, Options{MaxComplexity: 51})
	q := `query($n: Int) { tenants(first: $n) { nodes { id } } }` // 1+2n
	steps := []struct {
		n        int
		wantCode string
	}{
		{1, ""},
		{25, ""},
		{26, "QUERY_TOO_COMPLEX"},
		{2, ""},
	}
	for _, s := range steps {
		got := hs.query(t, tokAdmin, q, map[string]any{"n": s.n})
		var want []string
		if s.wantCode != "" {
			want = []string{s.wantCode}
		}
		if !slices.Equal(got.codes(), want) {
			t.Errorf("n=%d: codes %v, want %v", s.n, got.codes(), want)
		}
	}
	if n := hs.h.docs.len(); n != 1 {
		t.Errorf("the cache holds %d documents, want 1", n)
	}
}

func TestDocCacheKeepsOnlyValidDocuments(t *testing.T) {
	hs := newHarness(t, Options{})
	for _, q := range []string{
		`{ viewer { nope } }`,
		`{ viewer { ...A } } fragment A on Viewer { ...A }`,
		`{ viewer {`,
		`{ tenants { nodes { users { nodes { id } } } } }`,
	} {
		hs.query(t, tokAdmin, q, nil)
		hs.query(t, tokAdmin, q, nil)
	}
	if n := hs.h.docs.len(); n != 0 {
		t.Errorf("the cache holds %d documents, want 0", n)
	}
}

func TestDocCacheBounded(t *testing.T) {
	q := `{ viewer { subject } }`
	budget := 3 * len(q) * docWeightFactor
	c := newDocCache(budget)
	for i := range 10 {
		c.put(sha256.Sum256([]byte{byte(i)}), q, &ast.Document{})
		if c.size > budget || c.len() > 3 {
			t.Fatalf("after %d puts: %d entries weighing %d, budget %d", i+1, c.len(), c.size,
				budget)
		}
	}
	if c.get(sha256.Sum256([]byte{9})) == nil {
		t.Error("the latest document is missing")
	}
	c.put(sha256.Sum256([]byte("big")), strings.Repeat("x", budget), &ast.Document{})
	if c.get(sha256.Sum256([]byte("big"))) != nil {
		t.Error("a document over the whole budget was kept")
	}
	if newDocCache(-1) != nil {
		t.Error("a negative budget did not turn the cache off")
	}
}
