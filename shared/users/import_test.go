package users

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardhq/ward/shared/cache/memory"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/passwords"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/store/bolt"
	"github.com/wardhq/ward/shared/tenants"
	"github.com/wardhq/ward/shared/validate"
)

var importRoot = function.Caller{Subject: "root", Roles: []string{function.RoleSystemAdmin}}

// importGoodPassword passes the policy for any user of these tests.
const importGoodPassword = "violet kettle drums at noon"

type importFixture struct {
	inv   invoke.Invoker
	st    store.Store
	a, b  store.Tenant
	admin function.Caller // tenant a's administrator
	cache *memory.Cache
}

func setupImport(t testing.TB) *importFixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "ward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return setupImportOn(t, st)
}

// setupImportOn makes two tenants in st, with the functions and cache an
// import needs.
func setupImportOn(t testing.TB, st store.Store) *importFixture {
	t.Helper()
	c, err := memory.New(memory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f := &importFixture{st: st, cache: c, inv: invoke.NewLocal(
		tenants.Function(tenants.Deps{Store: st}),
		Function(Deps{Store: st, Cache: c}),
		orgs.Function(orgs.Deps{Store: st}),
	)}
	f.a = importCall[store.Tenant](t, f, tenants.FunctionName, tenants.OpCreate, importRoot,
		tenants.CreateInput{Name: "tenant-a"})
	f.b = importCall[store.Tenant](t, f, tenants.FunctionName, tenants.OpCreate, importRoot,
		tenants.CreateInput{Name: "tenant-b"})
	f.admin = function.Caller{Subject: "admin-a", Tenant: f.a.ID,
		Roles: []string{function.RoleTenantAdmin}}
	return f
}

func importCall[Out any](t testing.TB, f *importFixture, fn, op string, c function.Caller,
	in any) Out {
	t.Helper()
	out, err := invoke.Call[Out](context.Background(), f.inv, fn, op, c, in)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

func (f *importFixture) run(c function.Caller, in ImportInput) (ImportOutput, error) {
	return invoke.Call[ImportOutput](context.Background(), f.inv, FunctionName, OpImportUsers,
		c, in)
}

func (f *importFixture) byName(t *testing.T, tenantID, username string) (store.User, bool) {
	t.Helper()
	u, err := f.st.Users().GetByUsername(context.Background(), tenantID, username)
	if errors.Is(err, errs.ErrNotFound) {
		return u, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return u, true
}

// rowCodes reduces row errors to what the tests compare.
type rowCode struct {
	Row   int
	Field string
	Code  errs.Code
}

func codesOf(es []RowError) []rowCode {
	out := make([]rowCode, len(es))
	for i, e := range es {
		out[i] = rowCode{e.Row, e.Field, e.Code}
	}
	return out
}

func TestImportCSVReportsEveryBadRowAndWritesTheGoodOnes(t *testing.T) {
	f := setupImport(t)
	ctx := context.Background()
	importCall[store.User](t, f, FunctionName, OpCreate, f.admin,
		CreateInput{TenantID: f.a.ID, Username: "taken", Email: "taken@example.com"})
	hash, err := passwords.Hash("a fine precomputed passphrase")
	if err != nil {
		t.Fatal(err)
	}

	csv := strings.Join([]string{
		"username,email,emailVerified,phone,displayName,status,locale,password,passwordHash",
		"ann,ann@example.com,true,+14155550100,Ann,ACTIVE,fr-CA,,", // 1 ok
		"bob,not-an-email,,,,,,,",                     // 2 email
		"cat,,,555-0100,,,,,",                         // 3 phone
		"ann,ann2@example.com,,,,,,,",                 // 4 dup in chunk
		"taken,,,,,,,,",                               // 5 dup in store
		"dan,,,," + strings.Repeat("x", 201) + ",,,,", // 6 too long
		"eve,,,,,SLEEPING,,,",                         // 7 status
		"fay,,,,,,,password,",                         // 8 policy
		"gus,,,,,,,,\"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$bm90LWEta2V5\"",  // 9 bad hash
		"hal,,,,,LOCKED,,,\"" + hash + "\"",                                  // 10 ok
		"ivy,ivy@example.com,,,,,,\"" + importGoodPassword + "\",",           // 11 ok
		"jon,,,,,,,,\"" + strings.Repeat("y", maxCellBytes+1) + "\"",         // 12 oversized cell
		"kim,,,,,,,,\"" + strings.Replace(hash, ",t=2,", ",t=99,", 1) + "\"", // 13 cost too high
	}, "\n")
	out, err := f.run(f.admin, ImportInput{TenantID: f.a.ID, Format: FormatCSV, Data: csv})
	if err != nil {
		t.Fatal(err)
	}

	want := []rowCode{
		{2, "email", errs.InvalidArgument},
		{3, "phone", errs.InvalidArgument},
		{4, "username", errs.Conflict},
		{5, "username", errs.Conflict},
		{6, "displayName", errs.InvalidArgument},
		{7, "status", errs.InvalidArgument},
		{8, "password", errs.InvalidArgument},
		{9, "passwordHash", errs.InvalidArgument},
		{12, "passwordHash", errs.InvalidArgument},
		{13, "passwordHash", errs.InvalidArgument},
	}
	if d := cmp.Diff(want, codesOf(out.Errors)); d != "" {
		t.Errorf("row errors (-want +got):\n%s\n%+v", d, out.Errors)
	}
	if out.Rows != 13 || out.Created != 3 || out.Failed != 10 || out.ErrorsOmitted != 0 {
		t.Errorf("counts = %+v", out)
	}
	for _, e := range out.Errors {
		if e.Message == "" || strings.Contains(e.Message, importGoodPassword) {
			t.Errorf("row %d message %q", e.Row, e.Message)
		}
	}

	ann, ok := f.byName(t, f.a.ID, "ann")
	if !ok || !ann.EmailVerified || ann.Phone != "+14155550100" || ann.Locale != "fr-CA" ||
		ann.Status != store.UserActive {
		t.Errorf("ann = %+v", ann)
	}
	hal, _ := f.byName(t, f.a.ID, "hal")
	cred, err := f.st.Credentials().GetPassword(ctx, f.a.ID, hal.ID)
	if err != nil || cred.Hash != hash || hal.Status != store.UserLocked {
		t.Errorf("hal = %+v, stored hash %q, %v", hal, cred.Hash, err)
	}
	ivy, _ := f.byName(t, f.a.ID, "ivy")
	cred, err = f.st.Credentials().GetPassword(ctx, f.a.ID, ivy.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := passwords.Verify(importGoodPassword, cred.Hash); !ok || err != nil {
		t.Errorf("ivy's password does not verify: %v", err)
	}
	for _, name := range []string{"bob", "cat", "dan", "eve", "fay", "gus", "jon"} {
		if _, ok := f.byName(t, f.a.ID, name); ok {
			t.Errorf("%s was created from a bad row", name)
		}
	}

	// Every created user has the same audit event as users.create.
	events, _, err := f.st.Audit().List(ctx, f.a.ID, store.AuditFilter{TargetID: ivy.ID},
		store.Page{Limit: 10})
	if err != nil || len(events) != 1 || events[0].Action != "user.create" ||
		events[0].Actor != "admin-a" || events[0].Changes["password"].New == "" {
		t.Errorf("audit of ivy = %+v, %v", events, err)
	}
}

func TestImportRefusesAChunkItCannotRead(t *testing.T) {
	f := setupImport(t)
	cases := map[string]ImportInput{
		"an unknown CSV column": {Format: FormatCSV, Data: "username,nickname\nzed,z\n"},
		"an undeclared attr":    {Format: FormatCSV, Data: "username,attr.team\nzed,red\n"},
		"a header only":         {Format: FormatCSV, Data: "username,email\n"},
		"a broken JSON array":   {Format: FormatJSON, Data: `[{"username":"zed"}`},
		"too many rows": {Format: FormatCSV,
			Data: "username\n" + strings.Repeat("zed\n", MaxImportRows+1)},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			in.TenantID = f.a.ID
			_, err := f.run(f.admin, in)
			if errs.CodeOf(err) != errs.InvalidArgument {
				t.Fatalf("err = %v", err)
			}
			if _, ok := f.byName(t, f.a.ID, "zed"); ok {
				t.Error("a refused chunk wrote a user")
			}
		})
	}

	_, err := f.run(f.admin, ImportInput{TenantID: f.a.ID, Format: "xml", Data: "<u/>"})
	if errs.CodeOf(err) != errs.InvalidArgument {
		t.Errorf("format xml: %v", err)
	}
	big := "username\n" + strings.Repeat("z", MaxImportBytes)
	if _, err := f.run(f.admin, ImportInput{TenantID: f.a.ID, Format: FormatCSV,
		Data: big}); errs.CodeOf(err) != errs.TooLarge {
		t.Errorf("oversized chunk: %v", err)
	}
}

func TestImportJSONArrayAndLinesWithAttributes(t *testing.T) {
	f := setupImport(t)
	ctx := context.Background()
	_, err := f.st.Tenants().Update(ctx, f.a.ID, func(tn store.Tenant) (store.Tenant, error) {
		tn.UserSchema = []store.AttributeDef{
			{Name: "team", Type: store.AttributeString, Enum: []string{"red", "blue"}},
			{Name: "level", Type: store.AttributeNumber},
			{Name: "remote", Type: store.AttributeBoolean},
		}
		return tn, nil
	})
	if err != nil {
		t.Fatal(err)
	}

	array := `[
		{"username": "kim", "attributes": {"team": "red", "level": 3}},
		{"username": "lee", "attributes": {"team": "green"}},
		{"username": "max", "nickname": "m"},
		{"username": "ned", "emailVerified": true},
		"not an object"
	]`
	out, err := f.run(f.admin, ImportInput{TenantID: f.a.ID, Format: FormatJSON, Data: array})
	if err != nil {
		t.Fatal(err)
	}
	want := []rowCode{
		{2, "attributes.team", errs.InvalidArgument},
		{3, "nickname", errs.InvalidArgument},
		{4, "emailVerified", errs.InvalidArgument}, // verified without an email
		{5, "", errs.InvalidArgument},
	}
	if d := cmp.Diff(want, codesOf(out.Errors)); d != "" {
		t.Errorf("array row errors (-want +got):\n%s", d)
	}
	kim, _ := f.byName(t, f.a.ID, "kim")
	if kim.Attributes["team"] != "red" || kim.Attributes["level"] != 3.0 {
		t.Errorf("kim = %+v", kim.Attributes)
	}

	lines := `{"username": "oz", "attr.remote": true}` + "\n" +
		`{"username": "pia", "attr.level": "high"}` + "\n\n" +
		`{"username": "quinn"`
	out, err = f.run(f.admin, ImportInput{TenantID: f.a.ID, Format: FormatJSON, Data: lines,
		JobID: out.JobID})
	if err != nil {
		t.Fatal(err)
	}
	want = []rowCode{{7, "attributes.level", errs.InvalidArgument}, {8, "", errs.InvalidArgument}}
	if d := cmp.Diff(want, codesOf(out.Errors)); d != "" {
		t.Errorf("line row errors (-want +got):\n%s", d)
	}
	oz, _ := f.byName(t, f.a.ID, "oz")
	if oz.Attributes["remote"] != true {
		t.Errorf("oz = %+v", oz.Attributes)
	}

	// CSV attribute columns are converted to the declared types.
	out, err = f.run(f.admin, ImportInput{TenantID: f.a.ID, Format: FormatCSV,
		Data: "username,attr.level,attr.remote,attr.team\nrae,2.5,false,blue\nsam,x,,\n"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]rowCode{{2, "attributes.level", errs.InvalidArgument}},
		codesOf(out.Errors)); d != "" {
		t.Errorf("csv attribute errors (-want +got):\n%s", d)
	}
	rae, _ := f.byName(t, f.a.ID, "rae")
	if d := cmp.Diff(map[string]any{"level": 2.5, "remote": false, "team": "blue"},
		rae.Attributes); d != "" {
		t.Errorf("rae's attributes (-want +got):\n%s", d)
	}
}

func TestImportCountsAcrossChunks(t *testing.T) {
	f := setupImport(t)
	first, err := f.run(f.admin, ImportInput{TenantID: f.a.ID, Format: FormatCSV,
		Data: "username\nu1\nu2\nu3\n"})
	if err != nil || first.JobID == "" || first.Created != 3 {
		t.Fatalf("first chunk = %+v, %v", first, err)
	}
	second, err := f.run(f.admin, ImportInput{TenantID: f.a.ID, Format: FormatCSV,
		JobID: first.JobID, Data: "username\nu4\nu1\n"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]rowCode{{5, "username", errs.Conflict}}, codesOf(second.Errors)); d != "" {
		t.Errorf("second chunk errors (-want +got):\n%s", d)
	}

	st, err := invoke.Call[ImportJob](context.Background(), f.inv, FunctionName, OpImportStatus,
		f.admin, ImportStatusInput{TenantID: f.a.ID, JobID: first.JobID})
	if err != nil {
		t.Fatal(err)
	}
	got := [5]int{st.Chunks, st.Rows, st.Created, st.Failed, boolInt(st.Running)}
	if got != [5]int{2, 5, 4, 1, 0} || st.CreatedBy != "admin-a" || st != second.Job {
		t.Errorf("status = %+v, chunk's job = %+v", st, second.Job)
	}

	// The job is its starter's: another administrator of the tenant, and
	// the starter naming another tenant, find nothing.
	other := function.Caller{Subject: "admin-a2", Tenant: f.a.ID,
		Roles: []string{function.RoleTenantAdmin}}
	for name, q := range map[string]struct {
		c  function.Caller
		in ImportStatusInput
	}{
		"another admin":  {other, ImportStatusInput{TenantID: f.a.ID, JobID: first.JobID}},
		"another tenant": {importRoot, ImportStatusInput{TenantID: f.b.ID, JobID: first.JobID}},
	} {
		_, err := invoke.Call[ImportJob](context.Background(), f.inv, FunctionName,
			OpImportStatus, q.c, q.in)
		if errs.CodeOf(err) != errs.NotFound {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, err = f.run(other, ImportInput{TenantID: f.a.ID, Format: FormatCSV, JobID: first.JobID,
		Data: "username\nu9\n"})
	if errs.CodeOf(err) != errs.NotFound {
		t.Errorf("another admin continuing the job: %v", err)
	}
	if _, ok := f.byName(t, f.a.ID, "u9"); ok {
		t.Error("a refused chunk wrote a user")
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestImportRefusesASecondChunkWhileOneRuns(t *testing.T) {
	f := setupImport(t)
	out, err := f.run(f.admin, ImportInput{TenantID: f.a.ID, Format: FormatCSV,
		Data: "username\nv1\n"})
	if err != nil {
		t.Fatal(err)
	}
	// A chunk in flight holds the job's lock; stand in for one.
	if ok, err := f.cache.SetNX(context.Background(), importLockKey(f.a.ID, out.JobID), []byte{1},
		importLockTTL); !ok || err != nil {
		t.Fatalf("lock: %v %v", ok, err)
	}
	_, err = f.run(f.admin, ImportInput{TenantID: f.a.ID, Format: FormatCSV, JobID: out.JobID,
		Data: "username\nv2\n"})
	if errs.CodeOf(err) != errs.Conflict {
		t.Errorf("second chunk while one runs: %v", err)
	}
	st, err := invoke.Call[ImportJob](context.Background(), f.inv, FunctionName, OpImportStatus,
		f.admin, ImportStatusInput{TenantID: f.a.ID, JobID: out.JobID})
	if err != nil || !st.Running || st.Rows != 1 {
		t.Errorf("status while running = %+v, %v", st, err)
	}
}

func TestImportCapsTheErrorsItReturns(t *testing.T) {
	f := setupImport(t)
	var b strings.Builder
	b.WriteString("username,email\n")
	for i := range MaxImportErrors + 50 {
		fmt.Fprintf(&b, "bad%d,nope\n", i)
	}
	b.WriteString("good,good@example.com\n")
	out, err := f.run(f.admin, ImportInput{TenantID: f.a.ID, Format: FormatCSV, Data: b.String()})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) != MaxImportErrors || out.ErrorsOmitted != 50 ||
		out.Failed != MaxImportErrors+50 || out.Created != 1 ||
		out.Errors[MaxImportErrors-1].Row != MaxImportErrors {
		t.Errorf("errors %d, omitted %d, counts %+v", len(out.Errors), out.ErrorsOmitted, out)
	}
}

func TestImportAuthorization(t *testing.T) {
	f := setupImport(t)
	east := importCall[store.Organization](t, f, orgs.FunctionName, orgs.OpCreate, f.admin,
		orgs.CreateInput{TenantID: f.a.ID, Name: "east"})
	west := importCall[store.Organization](t, f, orgs.FunctionName, orgs.OpCreate, f.admin,
		orgs.CreateInput{TenantID: f.a.ID, Name: "west"})
	team := importCall[store.Organization](t, f, orgs.FunctionName, orgs.OpCreate, f.admin,
		orgs.CreateInput{TenantID: f.a.ID, ParentID: east.ID, Name: "team"})
	eastAdmin := function.Caller{Subject: "east-admin", Tenant: f.a.ID,
		Roles: []string{function.RoleOrgAdmin}, Orgs: []string{east.ID}}
	data := "username\nzed\n"

	refused := map[string]struct {
		c    function.Caller
		in   ImportInput
		code errs.Code
	}{
		"anonymous": {function.Caller{}, ImportInput{TenantID: f.a.ID}, errs.Unauthenticated},
		"a plain user": {function.Caller{Subject: "u", Tenant: f.a.ID,
			Roles: []string{function.RoleUser}}, ImportInput{TenantID: f.a.ID},
			errs.PermissionDenied},
		"another tenant's admin": {function.Caller{Subject: "admin-b", Tenant: f.b.ID,
			Roles: []string{function.RoleTenantAdmin}}, ImportInput{TenantID: f.a.ID},
			errs.NotFound},
		"an org admin at tenant level": {eastAdmin, ImportInput{TenantID: f.a.ID},
			errs.PermissionDenied},
		"an org admin into another org": {eastAdmin,
			ImportInput{TenantID: f.a.ID, OrgID: west.ID}, errs.NotFound},
	}
	for name, r := range refused {
		t.Run(name, func(t *testing.T) {
			r.in.Format, r.in.Data = FormatCSV, data
			_, err := f.run(r.c, r.in)
			if got := errs.CodeOf(err); got != r.code {
				t.Errorf("code = %s (%v), want %s", got, err, r.code)
			}
			if _, ok := f.byName(t, f.a.ID, "zed"); ok {
				t.Error("a refused import wrote a user")
			}
		})
	}

	// An org admin's rows land in the org given, or in one the admin
	// reaches; a row naming another organization fails alone.
	out, err := f.run(eastAdmin, ImportInput{TenantID: f.a.ID, OrgID: east.ID,
		Format: FormatCSV, Data: "username,orgId\nyan,\nyul," + team.ID + "\nyve," + west.ID +
			"\n"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]rowCode{{3, "orgId", errs.NotFound}}, codesOf(out.Errors)); d != "" {
		t.Errorf("org admin row errors (-want +got):\n%s", d)
	}
	if u, _ := f.byName(t, f.a.ID, "yan"); u.OrgID != east.ID {
		t.Errorf("yan's org = %q", u.OrgID)
	}
	if u, _ := f.byName(t, f.a.ID, "yul"); u.OrgID != team.ID {
		t.Errorf("yul's org = %q", u.OrgID)
	}
	if _, ok := f.byName(t, f.a.ID, "yve"); ok {
		t.Error("an org admin's import put a user in an organization out of reach")
	}

	// The system administrator may import into any tenant.
	if _, err := f.run(importRoot, ImportInput{TenantID: f.b.ID, Format: FormatCSV,
		Data: data}); err != nil {
		t.Errorf("system admin: %v", err)
	}
	if _, ok := f.byName(t, f.b.ID, "zed"); !ok {
		t.Error("system admin's row not written")
	}
}

// BenchmarkImportChunk imports one chunk of 2,000 rows with a precomputed
// passwordHash on bolt, for several worker-pool sizes.
func BenchmarkImportChunk(b *testing.B) {
	benchImportChunk(b, []int{1, 2, 4, 8, 16}, setupImport)
}

func benchImportChunk(b *testing.B, sizes []int, setup func(testing.TB) *importFixture) {
	hash, err := passwords.Hash("a fine precomputed passphrase")
	if err != nil {
		b.Fatal(err)
	}
	const rows = 2000
	defer func(n int) { importWorkers = n }(importWorkers)
	for _, workers := range sizes {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			importWorkers = workers
			f := setup(b)
			n := 0
			for b.Loop() {
				var sb strings.Builder
				sb.WriteString("username,email,displayName,passwordHash\n")
				for range rows {
					n++
					fmt.Fprintf(&sb, "user%d,user%d@example.com,User %d,\"%s\"\n", n, n, n, hash)
				}
				out, err := f.run(f.admin, ImportInput{TenantID: f.a.ID, Format: FormatCSV,
					Data: sb.String()})
				if err != nil || out.Created != rows {
					b.Fatalf("%+v %v", out.Errors, err)
				}
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func TestImportJoinsGroups(t *testing.T) {
	f := setupImport(t)
	ctx := context.Background()
	var ids []string
	for _, name := range []string{"ops", "dev"} {
		g, err := f.st.Groups().Create(ctx, store.Group{ID: validate.NewID(), TenantID: f.a.ID,
			Name: name})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, g.ID)
	}
	out, err := f.run(f.admin, ImportInput{TenantID: f.a.ID, Format: FormatCSV,
		Data: "username,groups\nwes,ops; DEV\nxia,ops;nope\nyoko,\n"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]rowCode{{2, "groups", errs.NotFound}}, codesOf(out.Errors)); d != "" {
		t.Errorf("row errors (-want +got):\n%s", d)
	}
	wes, _ := f.byName(t, f.a.ID, "wes")
	gs, err := f.st.Groups().GroupsOf(ctx, f.a.ID, wes.ID)
	if err != nil || len(gs) != 2 {
		t.Fatalf("wes's groups = %+v, %v", gs, err)
	}
	if _, ok := f.byName(t, f.a.ID, "xia"); ok {
		t.Error("a row naming a missing group was written")
	}
	events, _, err := f.st.Audit().List(ctx, f.a.ID, store.AuditFilter{TargetID: ids[0]},
		store.Page{Limit: 10})
	if err != nil || len(events) != 1 || events[0].Action != "group.addMember" ||
		events[0].Changes["member"].New != wes.ID {
		t.Errorf("audit of ops = %+v, %v", events, err)
	}

	// JSON takes an array of names.
	out, err = f.run(f.admin, ImportInput{TenantID: f.a.ID, Format: FormatJSON,
		Data: `{"username": "zoe", "groups": ["dev"]}`})
	if err != nil || out.Created != 1 {
		t.Fatalf("json = %+v, %v", out, err)
	}
	zoe, _ := f.byName(t, f.a.ID, "zoe")
	if gs, err := f.st.Groups().GroupsOf(ctx, f.a.ID, zoe.ID); err != nil || len(gs) != 1 ||
		gs[0].ID != ids[1] {
		t.Errorf("zoe's groups = %+v, %v", gs, err)
	}
}
