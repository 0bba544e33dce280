package scylla

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestEmbeddedMigrationsLoad(t *testing.T) {
	ms, err := loadMigrations(migrationFiles, "ks")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Version != 1 || ms[0].Name != "0001_init" {
		t.Fatalf("migrations = %+v", ms)
	}
	for _, m := range ms {
		for _, stmt := range m.Statements {
			if strings.Contains(stmt, "${keyspace}") || strings.HasSuffix(stmt, ";") {
				t.Errorf("%s: statement not prepared: %q", m.Name, stmt)
			}
			if !strings.Contains(stmt, "IF NOT EXISTS") && addedColumn(stmt) == nil {
				t.Errorf("%s: statement cannot run twice: %q", m.Name, stmt)
			}
			if !strings.Contains(stmt, " ks.") {
				t.Errorf("%s: statement does not name the keyspace: %q", m.Name, stmt)
			}
		}
	}
	if n := len(ms[0].Statements); n != 5 {
		t.Errorf("0001_init has %d statements, want 5", n)
	}
	if len(ms) < 2 || ms[1].Name != "0002_user_contact_and_credentials" ||
		len(ms[1].Statements) != 4 {
		t.Errorf("second migration = %+v, want 0002 with 4 statements", ms[1:])
	}
	if len(ms) < 3 || ms[2].Name != "0003_organizations" || len(ms[2].Statements) != 5 {
		t.Errorf("third migration = %+v, want 0003 with 5 statements", ms[2:])
	}
	if len(ms) < 4 || ms[3].Name != "0004_audit" || len(ms[3].Statements) != 3 {
		t.Errorf("fourth migration = %+v, want 0004 with 3 statements", ms[3:])
	}
}

func TestAddColumnIsRecognised(t *testing.T) {
	for stmt, want := range map[string][]string{
		"ALTER TABLE ks.users ADD phone text":                 {"ks", "users", "phone"},
		"ALTER TABLE ks.users\n    ADD  flag boolean":         {"ks", "users", "flag"},
		"ALTER TABLE ks.users ADD IF NOT EXISTS x text":       nil,
		"ALTER TABLE ks.users DROP phone":                     nil,
		"CREATE TABLE IF NOT EXISTS ks.t (a int PRIMARY KEY)": nil,
	} {
		m := addedColumn(stmt)
		var got []string
		if m != nil {
			got = m[1:]
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%q: got %q, want %q", stmt, got, want)
		}
	}
}

func TestLoadMigrationsRefusals(t *testing.T) {
	ok := "CREATE TABLE IF NOT EXISTS ${keyspace}.t (a int PRIMARY KEY);\n"
	tests := []struct {
		name  string
		files fstest.MapFS
	}{
		{"a gap in versions", fstest.MapFS{
			"migrations/0001_a.cql": {Data: []byte(ok)},
			"migrations/0003_c.cql": {Data: []byte(ok)},
		}},
		{"not starting at 1", fstest.MapFS{
			"migrations/0002_b.cql": {Data: []byte(ok)},
		}},
		{"a badly named file", fstest.MapFS{
			"migrations/1_a.cql": {Data: []byte(ok)},
		}},
		{"a statement without a semicolon", fstest.MapFS{
			"migrations/0001_a.cql": {Data: []byte(ok + "CREATE TABLE x (a int PRIMARY KEY)\n")},
		}},
		{"only comments", fstest.MapFS{
			"migrations/0001_a.cql": {Data: []byte("-- nothing\n")},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := loadMigrations(tc.files, "ks"); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestSplitStatements(t *testing.T) {
	src := "-- heading\nCREATE TABLE a (\n  x int PRIMARY KEY\n);\n\n" +
		"  -- between\nCREATE TABLE b (y int PRIMARY KEY) ;\n"
	got, err := splitStatements(src)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CREATE TABLE a (\n  x int PRIMARY KEY\n)",
		"CREATE TABLE b (y int PRIMARY KEY)"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCheckApplied(t *testing.T) {
	ms := []migration{{Version: 1, Name: "0001_a", Checksum: "aa"},
		{Version: 2, Name: "0002_b", Checksum: "bb"}}

	done, err := checkApplied(ms, map[int]string{1: "aa"})
	if err != nil || done {
		t.Errorf("one of two applied: done %v, err %v", done, err)
	}
	done, err = checkApplied(ms, map[int]string{1: "aa", 2: "bb", 3: "cc"})
	if err != nil || !done {
		t.Errorf("all applied, and a newer one: done %v, err %v", done, err)
	}
	if _, err := checkApplied(ms, map[int]string{1: "changed"}); err == nil {
		t.Error("an edited migration was accepted")
	}
}
