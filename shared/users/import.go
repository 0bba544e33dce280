package users

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardhq/ward/shared/attributes"
	"github.com/wardhq/ward/shared/audit"
	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/orgs"
	"github.com/wardhq/ward/shared/passwords"
	"github.com/wardhq/ward/shared/store"
	"github.com/wardhq/ward/shared/validate"
)

// Bulk import (users.importUsers) creates many users from CSV or JSON text,
// one chunk per call. Every row takes the path of users.create: the same
// checks, the same store writes (user, then password, the user undone when
// the password cannot be stored) and the same "user.create" audit event. A
// bad row is reported and skipped; it never stops the chunk.
//
// Chunks of one import share a job, whose counters live in the platform
// cache for ImportJobTTL so that users.importStatus can report progress
// while a chunk runs and after. The chunks of a job run one after another
// (a second chunk sent while one runs is CONFLICT), which is what makes row
// numbers count across the whole job.

// Bounds of one chunk. MaxImportBytes matches the facade's request bound;
// the JSON envelope around the data must fit in it too, so a client sends
// chunks of somewhat less.
const (
	MaxImportBytes  = 1 << 20
	MaxImportRows   = 10_000
	MaxImportErrors = 100 // row errors returned per chunk; the rest are counted
	maxCellBytes    = 4096
)

// ImportJobTTL is how long a job's counters are kept after its last chunk.
const ImportJobTTL = 24 * time.Hour

// importLockTTL bounds how long a chunk holds its job. A chunk of
// MaxImportRows plain-text passwords hashes for about 10,000 × 25 ms over
// the workers, far below it; a process that dies mid-chunk frees the job
// when it expires.
const importLockTTL = 15 * time.Minute

// importWorkers is how many rows of a chunk are written at once. Measured
// with BenchmarkImportChunk and BenchmarkImportChunkCassandra (2,000 rows
// with a passwordHash, on a 2-core machine with a shared disk): Cassandra
// goes from 94 rows/s with 4 workers to 158 with 16 and no further with 32,
// since each row waits on three network writes. On bolt, whose writes of
// a bulk operation share transactions, the pool is what fills them: 176
// rows/s with 1 worker, 726 with 4, 2,585 with 16.
var importWorkers = 16

// importProgressEvery is how often a running chunk writes its counters.
const importProgressEvery = time.Second

// Operation names.
const (
	// OpImportUsers imports one chunk of users: tenant administrators, and
	// organization administrators into the organizations they reach.
	OpImportUsers = "users.importUsers"
	// OpImportStatus reports an import job to the caller that started it.
	OpImportStatus = "users.importStatus"
)

// Import formats.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// ImportInput is one chunk of an import. Format is "csv" (a header row,
// then one user per row; every chunk carries its header) or "json" (an
// array of objects, or one object per line). JobID continues the job that
// an earlier chunk started; without it the chunk starts a new job.
//
// OrgID is the organization the rows land in when a row names none.
// Organization administrators must set it to an organization they reach,
// and a row may name only organizations they reach.
//
// Columns (CSV) and keys (JSON): username, email, emailVerified, phone,
// phoneVerified, displayName, status, orgId, locale, password (checked by
// the password policy and hashed), passwordHash (an Argon2id PHC string,
// stored as given), and attr.<name> columns or an "attributes" object for
// the tenant's user schema. An unknown CSV column refuses the whole chunk;
// an unknown JSON key fails its row. groups names existing groups of the
// tenant (names separated by ';', or a JSON array), which the user joins
// as with groups.addMember; a missing group fails the row.
type ImportInput struct {
	TenantID string `json:"tenantId"`
	OrgID    string `json:"orgId,omitempty"`
	Format   string `json:"format"`
	Data     string `json:"data"`
	JobID    string `json:"jobId,omitempty"`
}

// LogValue keeps the data, which may hold passwords, out of logs.
func (in ImportInput) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tenantId", in.TenantID),
		slog.String("format", in.Format), slog.Int("bytes", len(in.Data)))
}

// RowError is why one row was not imported. Row counts data rows from 1
// across the whole job (a CSV header is not a row).
type RowError struct {
	Row     int       `json:"row"`
	Field   string    `json:"field,omitempty"`
	Code    errs.Code `json:"code"`
	Message string    `json:"message"`
}

// ImportOutput reports one chunk: its rows, how many were created and how
// many failed, the first MaxImportErrors row errors in row order and the
// number left out, and the job as it stands after the chunk.
type ImportOutput struct {
	JobID         string     `json:"jobId"`
	Rows          int        `json:"rows"`
	Created       int        `json:"created"`
	Failed        int        `json:"failed"`
	Errors        []RowError `json:"errors"`
	ErrorsOmitted int        `json:"errorsOmitted"`
	Job           ImportJob  `json:"job"`
}

// ImportJob is the running count of an import. Running is true while a
// chunk is being processed; its counters then move about once a second.
type ImportJob struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"tenantId"`
	CreatedBy string    `json:"createdBy"`
	Chunks    int       `json:"chunks"`
	Rows      int       `json:"rows"`
	Created   int       `json:"created"`
	Failed    int       `json:"failed"`
	Running   bool      `json:"running"`
	StartedAt time.Time `json:"startedAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ImportStatusInput names a job.
type ImportStatusInput struct {
	TenantID string `json:"tenantId"`
	JobID    string `json:"jobId"`
}

func (in *ImportInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	if in.OrgID != "" {
		if err := validate.ID("orgId", in.OrgID); err != nil {
			return err
		}
	}
	if in.JobID != "" {
		if err := validate.ID("jobId", in.JobID); err != nil {
			return err
		}
	}
	if in.Format != FormatCSV && in.Format != FormatJSON {
		return errs.Invalid("format", "must be csv or json")
	}
	if len(in.Data) > MaxImportBytes {
		return errs.New(errs.TooLarge, "data must be at most %d bytes: send smaller chunks",
			MaxImportBytes)
	}
	if strings.TrimSpace(in.Data) == "" {
		return errs.Invalid("data", "is empty")
	}
	return nil
}

func (in *ImportStatusInput) Validate() error {
	if err := validate.ID("tenantId", in.TenantID); err != nil {
		return err
	}
	return validate.ID("jobId", in.JobID)
}

// importRow is one parsed row; err is set once the row has failed.
type importRow struct {
	n            int // within the job, from 1
	in           CreateInput
	passwordHash string
	groupNames   []string // folded, as the row names them
	groupIDs     []string // resolved before the row is written
	err          *RowError
}

func (r *importRow) fail(err error) {
	if r.err != nil {
		return
	}
	e := errs.Public(err)
	r.err = &RowError{Field: e.Field, Code: e.Code, Message: e.Message}
}

// importUsers processes one chunk; see ImportInput.
func (s *service) importUsers(ctx context.Context, c function.Caller,
	in ImportInput) (ImportOutput, error) {
	wide, err := orgs.Gate(c, in.TenantID)
	if err != nil {
		return ImportOutput{}, err
	}
	if !wide {
		if in.OrgID == "" {
			return ImportOutput{}, errs.New(errs.PermissionDenied,
				"organization administrators import users into one of their organizations")
		}
		if err := s.reachOrg(ctx, c, in.TenantID, in.OrgID); err != nil {
			return ImportOutput{}, err
		}
	}
	if s.cache == nil {
		return ImportOutput{}, errs.New(errs.Unavailable, "imports need the platform cache")
	}
	tn, err := s.tenant(ctx, in.TenantID)
	if err != nil {
		return ImportOutput{}, err
	}
	rows, err := parseImport(in.Format, in.Data, tn.UserSchema)
	if err != nil {
		return ImportOutput{}, err
	}

	job, err := s.claimJob(ctx, c, in)
	if err != nil {
		return ImportOutput{}, err
	}
	// The job is released even when the request is cancelled: its counters
	// must say what was written.
	wctx := context.WithoutCancel(ctx)
	for i := range rows {
		rows[i].n = job.Rows + i + 1
	}

	p := &importProgress{job: job}
	stop := s.reportProgress(wctx, p)
	s.runChunk(ctx, c, wide, in, tn, rows, p)
	stop()

	out := ImportOutput{JobID: job.ID, Rows: len(rows), Errors: []RowError{}}
	for _, r := range rows {
		if r.err == nil {
			out.Created++
			continue
		}
		out.Failed++
		if len(out.Errors) < MaxImportErrors {
			e := *r.err
			e.Row = r.n
			out.Errors = append(out.Errors, e)
		} else {
			out.ErrorsOmitted++
		}
	}
	job.Chunks++
	job.Rows += out.Rows
	job.Created += out.Created
	job.Failed += out.Failed
	job.UpdatedAt = s.stamp()
	if err := s.putJob(wctx, job); err != nil {
		// The rows are written; only the counters are behind. The chunk's
		// own answer is exact, so it is returned all the same.
		s.log.LogAttrs(ctx, slog.LevelError, "users: import counters not saved",
			slog.String("request_id", function.RequestID(ctx)),
			slog.String("tenant", in.TenantID), slog.String("job", job.ID),
			slog.String("error", err.Error()))
	}
	if err := s.cache.Delete(wctx, importLockKey(in.TenantID, job.ID)); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "users: import job not released",
			slog.String("request_id", function.RequestID(ctx)),
			slog.String("job", job.ID), slog.String("error", err.Error()))
	}
	out.Job = job
	return out, nil
}

// runChunk checks every row, then writes the good ones on a bounded pool.
// Rows are checked in order first, so that duplicates inside the chunk are
// found whatever order the writes finish in.
func (s *service) runChunk(ctx context.Context, c function.Caller, wide bool, in ImportInput,
	tn store.Tenant, rows []importRow, p *importProgress) {
	reach := map[string]error{}
	groupIDs := map[string]string{} // folded name to ID; "" for a missing group
	usernames := map[string]int{}
	emails := map[string]int{}
	for i := range rows {
		r := &rows[i]
		if r.err != nil {
			continue
		}
		r.in.TenantID = in.TenantID
		if r.in.OrgID == "" {
			r.in.OrgID = in.OrgID
		}
		if err := r.in.Validate(); err != nil {
			r.fail(err)
			continue
		}
		attrs, err := attributes.Apply(tn.UserSchema, nil, r.in.Attributes, attributes.Admin)
		if err != nil {
			r.fail(err)
			continue
		}
		r.in.Attributes = attrs
		if !wide && r.in.OrgID != in.OrgID {
			err, seen := reach[r.in.OrgID]
			if !seen {
				err = s.reachOrg(ctx, c, in.TenantID, r.in.OrgID)
				reach[r.in.OrgID] = err
			}
			if errs.CodeOf(err) == errs.NotFound {
				err = &errs.Error{Code: errs.NotFound, Field: "orgId",
					Message: "organization not found"}
			}
			if err != nil {
				r.fail(err)
				continue
			}
		}
		if first, dup := usernames[r.in.Username]; dup {
			r.fail(&errs.Error{Code: errs.Conflict, Field: "username",
				Message: fmt.Sprintf("repeats the username of row %d", first)})
			continue
		}
		if first, dup := emails[r.in.Email]; dup && r.in.Email != "" {
			r.fail(&errs.Error{Code: errs.Conflict, Field: "email",
				Message: fmt.Sprintf("repeats the email of row %d", first)})
			continue
		}
		usernames[r.in.Username] = r.n
		if r.in.Email != "" {
			emails[r.in.Email] = r.n
		}
		if err := s.resolveGroups(ctx, in.TenantID, r, groupIDs); err != nil {
			r.fail(err)
		}
	}
	for i := range rows {
		if rows[i].err != nil {
			p.failed.Add(1)
		}
	}

	// The rows' writes are a bulk operation: the store may commit several
	// workers' writes together.
	ctx = store.WithBulk(ctx)
	work := make(chan *importRow)
	var wg sync.WaitGroup
	for range max(1, importWorkers) {
		wg.Go(func() {
			for r := range work {
				if err := ctx.Err(); err != nil {
					r.fail(errs.Wrap(errs.Unavailable, err, "not imported: the request ended"))
				} else if err := s.importRow(ctx, c, tn, r); err != nil {
					r.fail(err)
				}
				if r.err != nil {
					p.failed.Add(1)
				} else {
					p.created.Add(1)
				}
			}
		})
	}
	for i := range rows {
		if rows[i].err == nil {
			work <- &rows[i]
		}
	}
	close(work)
	wg.Wait()
}

// importRow writes one checked row the way create does.
func (s *service) importRow(ctx context.Context, c function.Caller, tn store.Tenant,
	r *importRow) error {
	now := s.stamp()
	u := store.User{
		ID:            validate.NewID(),
		TenantID:      r.in.TenantID,
		Username:      r.in.Username,
		Email:         r.in.Email,
		EmailVerified: r.in.EmailVerified,
		Phone:         r.in.Phone,
		PhoneVerified: r.in.PhoneVerified,
		DisplayName:   r.in.DisplayName,
		Status:        r.in.Status,
		OrgID:         r.in.OrgID,
		Attributes:    r.in.Attributes,
		Locale:        r.in.Locale,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	hash := r.passwordHash
	if r.in.Password != "" {
		var err error
		if hash, err = s.newHash("password", r.in.Password, u, tn, false); err != nil {
			return err
		}
	}
	_, err := s.storeNewUser(ctx, c, u, hash, r.groupIDs, now)
	return err
}

// resolveGroups finds the IDs of the groups a row names, reading each name
// once per chunk (known maps names already read to IDs, "" when missing).
func (s *service) resolveGroups(ctx context.Context, tenantID string, r *importRow,
	known map[string]string) error {
	for _, name := range r.groupNames {
		id, seen := known[name]
		if !seen {
			g, err := s.groups.GetByName(ctx, tenantID, name)
			switch {
			case err == nil:
				id = g.ID
			case errs.CodeOf(err) != errs.NotFound:
				return err
			}
			known[name] = id
		}
		if id == "" {
			return &errs.Error{Code: errs.NotFound, Field: "groups",
				Message: fmt.Sprintf("group %q not found", truncate(name, 64))}
		}
		if !slices.Contains(r.groupIDs, id) {
			r.groupIDs = append(r.groupIDs, id)
		}
	}
	return nil
}

// storeNewUser writes a checked user, its password when hash is set and
// its group memberships, and records them; it is the tail of create, with
// groups. Either everything is written or, once the user was, it is
// deleted again (which removes any membership already added), so that a
// failed row leaves nothing behind and may simply be sent again.
func (s *service) storeNewUser(ctx context.Context, c function.Caller, u store.User,
	hash string, groupIDs []string, now time.Time) (store.User, error) {
	u, err := s.users.Create(ctx, u)
	if err != nil {
		return u, err
	}
	if hash != "" {
		err = s.creds.SetPassword(ctx, u.TenantID, u.ID, hash, now)
	}
	for _, g := range groupIDs {
		if err != nil {
			break
		}
		if err = s.groups.AddMember(ctx, u.TenantID, g, u.ID); err != nil {
			err = inField(err, "groups")
		}
	}
	if err != nil {
		// The undo outlives a cancelled request: its need is decided.
		dctx := context.WithoutCancel(ctx)
		if derr := s.users.Delete(dctx, u.TenantID, u.ID); derr != nil {
			s.log.LogAttrs(ctx, slog.LevelError,
				"users: a user whose password or groups could not be stored "+
					"was not deleted either",
				slog.String("request_id", function.RequestID(ctx)),
				slog.String("tenant", u.TenantID), slog.String("user", u.ID),
				slog.String("error", derr.Error()))
		}
		return store.User{}, err
	}
	s.recordCreate(ctx, c, u, hash != "")
	for _, g := range groupIDs {
		s.audit.Record(ctx, c, "group.addMember",
			audit.Target{TenantID: u.TenantID, Type: audit.TypeGroup, ID: g},
			map[string]store.AuditChange{"member": {New: u.ID}})
	}
	return u, nil
}

// importProgress is what a running chunk has done so far.
type importProgress struct {
	job             ImportJob // as it stood before the chunk
	created, failed atomic.Int64
}

// reportProgress writes p's counters to the job every
// importProgressEvery until the returned stop is called.
func (s *service) reportProgress(ctx context.Context, p *importProgress) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(importProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				j := p.job
				c, f := int(p.created.Load()), int(p.failed.Load())
				j.Created += c
				j.Failed += f
				j.Rows += c + f
				j.Running = true
				j.UpdatedAt = s.stamp()
				_ = s.putJob(ctx, j) // best effort: the final write is checked
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func importJobKey(tenantID, jobID string) string  { return "uimp:" + tenantID + ":" + jobID }
func importLockKey(tenantID, jobID string) string { return "uimpl:" + tenantID + ":" + jobID }

func importJobNotFound() error {
	return errs.New(errs.NotFound, "import job not found (jobs are kept 24 hours)")
}

// claimJob starts a new job, or takes the one named by in.JobID for this
// chunk. A job belongs to the tenant and the caller that started it;
// anyone else is told it does not exist.
func (s *service) claimJob(ctx context.Context, c function.Caller, in ImportInput) (ImportJob,
	error) {
	if in.JobID == "" {
		now := s.stamp()
		j := ImportJob{ID: validate.NewID(), TenantID: in.TenantID, CreatedBy: c.Subject,
			StartedAt: now, UpdatedAt: now}
		if _, err := s.cache.SetNX(ctx, importLockKey(in.TenantID, j.ID), []byte{1},
			importLockTTL); err != nil {
			return ImportJob{}, err
		}
		j.Running = true
		if err := s.putJob(ctx, j); err != nil {
			_ = s.cache.Delete(context.WithoutCancel(ctx), importLockKey(in.TenantID, j.ID))
			return ImportJob{}, err
		}
		j.Running = false
		return j, nil
	}

	if _, err := s.ownJob(ctx, c, in.TenantID, in.JobID); err != nil {
		return ImportJob{}, err
	}
	ok, err := s.cache.SetNX(ctx, importLockKey(in.TenantID, in.JobID), []byte{1},
		importLockTTL)
	if err != nil {
		return ImportJob{}, err
	}
	if !ok {
		return ImportJob{}, errs.New(errs.Conflict,
			"another chunk of this import is running: send chunks one after another")
	}
	// Read again under the lock: the counters may have moved since.
	j, err := s.ownJob(ctx, c, in.TenantID, in.JobID)
	if err != nil {
		_ = s.cache.Delete(context.WithoutCancel(ctx), importLockKey(in.TenantID, in.JobID))
		return ImportJob{}, err
	}
	j.Running = false
	return j, nil
}

// ownJob reads a job that c started in tenantID.
func (s *service) ownJob(ctx context.Context, c function.Caller, tenantID,
	jobID string) (ImportJob, error) {
	b, err := s.cache.Get(ctx, importJobKey(tenantID, jobID))
	if errs.CodeOf(err) == errs.NotFound {
		return ImportJob{}, importJobNotFound()
	}
	if err != nil {
		return ImportJob{}, err
	}
	var j ImportJob
	if err := json.Unmarshal(b, &j); err != nil {
		return ImportJob{}, errs.Wrap(errs.Internal, err, "unreadable import job")
	}
	if j.TenantID != tenantID || j.CreatedBy != c.Subject {
		return ImportJob{}, importJobNotFound()
	}
	return j, nil
}

func (s *service) putJob(ctx context.Context, j ImportJob) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return s.cache.Set(ctx, importJobKey(j.TenantID, j.ID), b, ImportJobTTL)
}

// importStatus reports a job to the caller that started it. Tenant-wide
// administrators see only their own jobs too: a job ID is not a secret,
// but its counters are the starter's business.
func (s *service) importStatus(ctx context.Context, c function.Caller,
	in ImportStatusInput) (ImportJob, error) {
	if _, err := orgs.Gate(c, in.TenantID); err != nil {
		return ImportJob{}, err
	}
	if s.cache == nil {
		return ImportJob{}, errs.New(errs.Unavailable, "imports need the platform cache")
	}
	j, err := s.ownJob(ctx, c, in.TenantID, in.JobID)
	if err != nil {
		return ImportJob{}, err
	}
	// Running is whether a chunk holds the job now, not what the last
	// write said: a process that died mid-chunk left Running set.
	_, err = s.cache.Get(ctx, importLockKey(in.TenantID, in.JobID))
	switch {
	case err == nil:
		j.Running = true
	case errs.CodeOf(err) == errs.NotFound:
		j.Running = false
	default:
		return ImportJob{}, err
	}
	return j, nil
}

// parseImport parses a chunk into rows. A chunk that cannot be read as a
// whole (a bad CSV header, JSON that is no array or object lines, too many
// rows) is an error; anything wrong inside one row fails that row only.
func parseImport(format, data string, schema []store.AttributeDef) ([]importRow, error) {
	defs := make(map[string]store.AttributeDef, len(schema))
	for _, d := range schema {
		defs[d.Name] = d
	}
	var rows []importRow
	var err error
	if format == FormatCSV {
		rows, err = parseCSV(data, defs)
	} else {
		rows, err = parseJSON(data, defs)
	}
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errs.Invalid("data", "holds no rows")
	}
	return rows, nil
}

func tooManyRows() error {
	return errs.Invalid("data", "holds more than %d rows: send smaller chunks", MaxImportRows)
}

func parseCSV(data string, defs map[string]store.AttributeDef) ([]importRow, error) {
	cr := csv.NewReader(strings.NewReader(data))
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, errs.Invalid("data", "has no readable CSV header row")
	}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		head[i] = h
		if err := knownColumn(h, defs); err != nil {
			return nil, err
		}
		if slices.Contains(head[:i], h) {
			return nil, errs.Invalid("data", "column %q appears twice in the header", h)
		}
	}

	var rows []importRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if len(rows) == MaxImportRows {
			return nil, tooManyRows()
		}
		r := importRow{n: len(rows) + 1}
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			r.fail(errs.Invalid("", "is not valid CSV: %v", pe.Err))
		case err != nil:
			return nil, errs.Invalid("data", "is not valid CSV")
		case len(rec) != len(head):
			r.fail(errs.Invalid("", "has %d fields where the header has %d", len(rec), len(head)))
		default:
			for i, v := range rec {
				if v == "" {
					continue // an empty cell is an absent value
				}
				if err := r.set(head[i], v, defs); err != nil {
					r.fail(err)
					break
				}
			}
		}
		rows = append(rows, r)
	}
}

// knownColumn refuses a CSV header naming something no row can hold.
func knownColumn(h string, defs map[string]store.AttributeDef) error {
	switch h {
	case "username", "email", "emailVerified", "phone", "phoneVerified", "displayName",
		"status", "orgId", "locale", "password", "passwordHash", "groups":
		return nil
	}
	if name, ok := strings.CutPrefix(h, "attr."); ok {
		if _, ok := defs[name]; ok {
			return nil
		}
		return errs.Invalid("data", "column %q: the tenant's user schema has no attribute %q",
			h, name)
	}
	return errs.Invalid("data", "unknown column %q", truncate(h, 64))
}

func parseJSON(data string, defs map[string]store.AttributeDef) ([]importRow, error) {
	trimmed := strings.TrimSpace(data)
	var objs []json.RawMessage
	if strings.HasPrefix(trimmed, "[") {
		if err := json.Unmarshal([]byte(trimmed), &objs); err != nil {
			return nil, errs.Invalid("data", "is not a JSON array")
		}
	} else {
		for line := range strings.Lines(trimmed) {
			if line = strings.TrimSpace(line); line != "" {
				objs = append(objs, json.RawMessage(line))
			}
		}
	}
	if len(objs) > MaxImportRows {
		return nil, tooManyRows()
	}
	rows := make([]importRow, len(objs))
	for i, raw := range objs {
		r := &rows[i]
		r.n = i + 1
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(raw))
		if err := d.Decode(&m); err != nil || m == nil || d.More() {
			r.fail(errs.Invalid("", "is not a JSON object"))
			continue
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys) // the first error reported is the same on every run
		for _, k := range keys {
			var err error
			if k == "attributes" {
				err = r.setAttributes(m[k])
			} else if err = knownColumn(k, defs); err == nil {
				err = r.set(k, m[k], defs)
			} else {
				err = errs.Invalid(truncate(k, 64), "is not a known key")
			}
			if err != nil {
				r.fail(err)
				break
			}
		}
	}
	return rows, nil
}

func (r *importRow) setAttributes(v any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return errs.Invalid("attributes", "must be an object")
	}
	// Checked with the row, by attributes.Apply, as create checks them.
	if r.in.Attributes == nil {
		r.in.Attributes = make(map[string]any, len(m))
	}
	for k, v := range m {
		r.in.Attributes[k] = v
	}
	return nil
}

// set stores one value: a string from CSV, or a decoded JSON value.
func (r *importRow) set(key string, v any, defs map[string]store.AttributeDef) error {
	if v == nil {
		return nil
	}
	if s, ok := v.(string); ok && len(s) > maxCellBytes {
		return errs.Invalid(key, "must be at most %d bytes", maxCellBytes)
	}
	if name, ok := strings.CutPrefix(key, "attr."); ok {
		val, err := attributeFromText(defs[name], v)
		if err != nil {
			return err
		}
		if r.in.Attributes == nil {
			r.in.Attributes = map[string]any{}
		}
		r.in.Attributes[name] = val
		return nil
	}
	switch key {
	case "groups":
		return r.setGroups(v)
	case "emailVerified":
		var err error
		r.in.EmailVerified, err = boolValue(key, v)
		return err
	case "phoneVerified":
		var err error
		r.in.PhoneVerified, err = boolValue(key, v)
		return err
	}
	s, ok := v.(string)
	if !ok {
		return errs.Invalid(key, "must be a string")
	}
	switch key {
	case "username":
		r.in.Username = s
	case "email":
		r.in.Email = s
	case "phone":
		r.in.Phone = s
	case "displayName":
		r.in.DisplayName = s
	case "status":
		r.in.Status = store.UserStatus(s)
	case "orgId":
		r.in.OrgID = s
	case "locale":
		r.in.Locale = s
	case "password":
		if r.passwordHash != "" {
			return errs.Invalid(key, "give password or passwordHash, not both")
		}
		r.in.Password = Password(s)
	case "passwordHash":
		if r.in.Password != "" {
			return errs.Invalid(key, "give password or passwordHash, not both")
		}
		if err := checkPHC(s); err != nil {
			return err
		}
		r.passwordHash = s
	}
	return nil
}

// setGroups takes group names separated by ';' (CSV, or a JSON string) or
// a JSON array of names.
func (r *importRow) setGroups(v any) error {
	var names []string
	switch v := v.(type) {
	case string:
		names = strings.Split(v, ";")
	case []any:
		for _, n := range v {
			s, ok := n.(string)
			if !ok {
				return errs.Invalid("groups", "must be group names")
			}
			names = append(names, s)
		}
	default:
		return errs.Invalid("groups", "must be group names separated by ;")
	}
	for _, n := range names {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" &&
			!slices.Contains(r.groupNames, n) {
			r.groupNames = append(r.groupNames, n)
		}
	}
	if len(r.groupNames) > store.MaxGroupsPerUser {
		return errs.Invalid("groups", "must name at most %d groups", store.MaxGroupsPerUser)
	}
	return nil
}

func boolValue(key string, v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(v) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, errs.Invalid(key, "must be true or false")
}

// attributeFromText turns a CSV cell into the type its attribute's
// definition names; JSON values pass as they are. attributes.Apply checks
// the result like any other value.
func attributeFromText(d store.AttributeDef, v any) (any, error) {
	text, ok := v.(string)
	if !ok {
		return v, nil
	}
	field := "attributes." + d.Name
	switch d.Type {
	case store.AttributeNumber:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, errs.Invalid(field, "must be a number")
		}
		return f, nil
	case store.AttributeBoolean:
		return boolValue(field, text)
	}
	return text, nil
}

// checkPHC checks an imported Argon2id PHC string as Verify will parse it,
// cost bounds included, without deriving anything.
func checkPHC(s string) error {
	if err := passwords.CheckHash(s); err != nil {
		return errs.Invalid("passwordHash", "must be an Argon2id PHC string "+
			"($argon2id$v=19$m=...,t=...,p=...$salt$key) with costs Ward accepts")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
