package scylla

import "strings"

// statements holds every CQL statement of the store, qualified with the
// keyspace (a checked identifier) once at Open.
type statements struct {
	claimInsert, claimTakeOver, claimRead, claimOwner, claimDelete string

	tenantInsert, tenantGet, tenantList, tenantUpdate, tenantDelete string

	userInsert, userGet, userList, userUpdate, userDelete, userCount string
	userListByOrg, userInOrg                                         string

	orgInsert, orgGet, orgGetIn, orgUpdate, orgDelete string
	orgChildInsert, orgChildList, orgChildDelete      string
	orgMark, orgState                                 string

	credentialSet, credentialGet, credentialDelete string

	tokenInsert, tokenHashInsert, tokenGet, tokenList, tokenDelete string
	tokenByHash, tokenHashDelete                                   string
	tokenListBySubject                                             string

	verifInsert, verifGet, verifUpdate, verifDelete string
	verifUserInsert, verifUserList, verifUserDelete string

	auditMonthInsert, auditMonthList, auditInsert, auditGet, auditList string
	auditTargetInsert, auditTargetList                                 string
}

const (
	tenantCols = `id, name, display_name, registration, user_schema, settings, created_at, ` +
		`updated_at, version`
	userCols = `tenant_id, id, username, email, email_verified, phone, phone_verified, ` +
		`display_name, status, org_id, attributes, locale, preferences, created_at, ` +
		`updated_at, version`
	orgCols = `tenant_id, id, parent_id, name, display_name, depth, created_at, updated_at, ` +
		`version`
	tokenCols = `scope, id, hash, name, subject, tenant_id, roles, orgs, created_at, expires_at`
	auditCols = `id, tenant_id, at, actor, action, target_type, target_id, changes, request_id`
	verifCols = `tenant_id, id, user_id, purpose, target, secret_hash, code_hash, attempts, ` +
		`data, created_at, expires_at, used_at, version`
)

func newStatements(keyspace string) statements {
	r := strings.NewReplacer("{ks}", keyspace)
	return statements{
		claimInsert: r.Replace(`INSERT INTO {ks}.claims (kind, scope, value, owner)
    VALUES (?, ?, ?, ?) IF NOT EXISTS`),
		claimTakeOver: r.Replace(`UPDATE {ks}.claims SET owner = ?
    WHERE kind = ? AND scope = ? AND value = ? IF owner = ?`),
		claimRead: r.Replace(`SELECT owner, WRITETIME(owner) AS written FROM {ks}.claims
    WHERE kind = ? AND scope = ? AND value = ?`),
		claimOwner: r.Replace(`SELECT owner FROM {ks}.claims
    WHERE kind = ? AND scope = ? AND value = ?`),
		claimDelete: r.Replace(`DELETE FROM {ks}.claims
    WHERE kind = ? AND scope = ? AND value = ? IF owner = ?`),

		tenantInsert: r.Replace(`INSERT INTO {ks}.tenants (bucket, ` + tenantCols + `)
    VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`),
		tenantGet: r.Replace(`SELECT ` + tenantCols + ` FROM {ks}.tenants
    WHERE bucket = 0 AND id = ?`),
		tenantList: r.Replace(`SELECT ` + tenantCols + ` FROM {ks}.tenants
    WHERE bucket = 0 AND id > ? LIMIT ?`),
		tenantUpdate: r.Replace(`UPDATE {ks}.tenants
    SET display_name = ?, registration = ?, user_schema = ?, settings = ?, updated_at = ?,
    version = ?
    WHERE bucket = 0 AND id = ? IF version = ?`),
		tenantDelete: r.Replace(`DELETE FROM {ks}.tenants WHERE bucket = 0 AND id = ?
    IF version = ?`),

		userInsert: r.Replace(`INSERT INTO {ks}.users (` + userCols + `)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`),
		userGet: r.Replace(`SELECT ` + userCols + ` FROM {ks}.users
    WHERE tenant_id = ? AND id = ?`),
		userList: r.Replace(`SELECT ` + userCols + ` FROM {ks}.users
    WHERE tenant_id = ? AND id > ? LIMIT ?`),
		userUpdate: r.Replace(`UPDATE {ks}.users
    SET username = ?, email = ?, email_verified = ?, phone = ?, phone_verified = ?,
        display_name = ?, status = ?, org_id = ?, attributes = ?, locale = ?,
        preferences = ?, updated_at = ?, version = ?
    WHERE tenant_id = ? AND id = ? IF version = ?`),
		userDelete: r.Replace(`DELETE FROM {ks}.users WHERE tenant_id = ? AND id = ?
    IF version = ?`),
		userCount: r.Replace(`SELECT COUNT(*) FROM {ks}.users WHERE tenant_id = ?`),
		// Filtering within one tenant's partition: see users.ListByOrg.
		userListByOrg: r.Replace(`SELECT ` + userCols + ` FROM {ks}.users
    WHERE tenant_id = ? AND id > ? AND org_id = ? LIMIT ? ALLOW FILTERING`),
		userInOrg: r.Replace(`SELECT id FROM {ks}.users
    WHERE tenant_id = ? AND org_id = ? LIMIT 1 ALLOW FILTERING`),

		orgInsert: r.Replace(`INSERT INTO {ks}.organizations (` + orgCols + `)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`),
		orgGet: r.Replace(`SELECT ` + orgCols + ` FROM {ks}.organizations
    WHERE tenant_id = ? AND id = ?`),
		orgGetIn: r.Replace(`SELECT ` + orgCols + ` FROM {ks}.organizations
    WHERE tenant_id = ? AND id IN ?`),
		orgUpdate: r.Replace(`UPDATE {ks}.organizations
    SET name = ?, display_name = ?, updated_at = ?, version = ?
    WHERE tenant_id = ? AND id = ? IF version = ?`),
		orgDelete: r.Replace(`DELETE FROM {ks}.organizations WHERE tenant_id = ? AND id = ?
    IF version = ?`),
		orgMark: r.Replace(`UPDATE {ks}.organizations SET deleting = ?
    WHERE tenant_id = ? AND id = ? IF EXISTS`),
		orgState: r.Replace(`SELECT version, deleting FROM {ks}.organizations
    WHERE tenant_id = ? AND id = ?`),
		orgChildInsert: r.Replace(`INSERT INTO {ks}.organizations_by_parent
    (tenant_id, parent_key, id) VALUES (?, ?, ?)`),
		orgChildList: r.Replace(`SELECT id FROM {ks}.organizations_by_parent
    WHERE tenant_id = ? AND parent_key = ? AND id > ? LIMIT ?`),
		orgChildDelete: r.Replace(`DELETE FROM {ks}.organizations_by_parent
    WHERE tenant_id = ? AND parent_key = ? AND id = ?`),

		credentialSet: r.Replace(`UPDATE {ks}.credentials
    SET password_hash = ?, password_updated_at = ? WHERE tenant_id = ? AND user_id = ?`),
		credentialGet: r.Replace(`SELECT password_hash, password_updated_at FROM {ks}.credentials
    WHERE tenant_id = ? AND user_id = ?`),
		credentialDelete: r.Replace(`DELETE FROM {ks}.credentials
    WHERE tenant_id = ? AND user_id = ?`),

		tokenInsert: r.Replace(`INSERT INTO {ks}.api_tokens (` + tokenCols + `)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS USING TTL ?`),
		tokenHashInsert: r.Replace(`INSERT INTO {ks}.api_tokens_by_hash (` + tokenCols + `)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS USING TTL ?`),
		tokenGet: r.Replace(`SELECT ` + tokenCols + ` FROM {ks}.api_tokens
    WHERE scope = ? AND id = ?`),
		tokenList: r.Replace(`SELECT ` + tokenCols + ` FROM {ks}.api_tokens
    WHERE scope = ? AND id > ? LIMIT ?`),
		tokenDelete: r.Replace(`DELETE FROM {ks}.api_tokens WHERE scope = ? AND id = ?
    IF EXISTS`),
		tokenByHash: r.Replace(`SELECT ` + tokenCols + ` FROM {ks}.api_tokens_by_hash
    WHERE hash = ?`),
		tokenHashDelete: r.Replace(`DELETE FROM {ks}.api_tokens_by_hash WHERE hash = ?
    IF id = ?`),
		// Filtering within one scope's partition: see apiTokens.DeleteBySubject.
		tokenListBySubject: r.Replace(`SELECT ` + tokenCols + ` FROM {ks}.api_tokens
    WHERE scope = ? AND id > ? AND subject = ? LIMIT ? ALLOW FILTERING`),

		verifInsert: r.Replace(`INSERT INTO {ks}.verifications (` + verifCols + `)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS USING TTL ?`),
		verifGet: r.Replace(`SELECT ` + verifCols + ` FROM {ks}.verifications
    WHERE tenant_id = ? AND id = ?`),
		verifUpdate: r.Replace(`UPDATE {ks}.verifications USING TTL ?
    SET attempts = ?, data = ?, used_at = ?, version = ?
    WHERE tenant_id = ? AND id = ? IF version = ?`),
		verifDelete: r.Replace(`DELETE FROM {ks}.verifications WHERE tenant_id = ? AND id = ?
    IF user_id = ? AND purpose = ?`),
		verifUserInsert: r.Replace(`INSERT INTO {ks}.verifications_by_user
    (tenant_id, user_id, purpose, id) VALUES (?, ?, ?, ?) USING TTL ?`),
		verifUserList: r.Replace(`SELECT id FROM {ks}.verifications_by_user
    WHERE tenant_id = ? AND user_id = ? AND purpose = ?`),
		verifUserDelete: r.Replace(`DELETE FROM {ks}.verifications_by_user
    WHERE tenant_id = ? AND user_id = ? AND purpose = ? AND id = ?`),

		auditMonthInsert: r.Replace(`INSERT INTO {ks}.audit_months (scope, month)
    VALUES (?, ?)`),
		auditMonthList: r.Replace(`SELECT month FROM {ks}.audit_months
    WHERE scope = ? AND month <= ?`),
		auditInsert: r.Replace(`INSERT INTO {ks}.audit_events (scope, month, ` + auditCols + `)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`),
		auditGet: r.Replace(`SELECT ` + auditCols + ` FROM {ks}.audit_events
    WHERE scope = ? AND month = ? AND id = ?`),
		auditList: r.Replace(`SELECT ` + auditCols + ` FROM {ks}.audit_events
    WHERE scope = ? AND month = ? AND id < ? LIMIT ?`),
		auditTargetInsert: r.Replace(`INSERT INTO {ks}.audit_by_target (scope, ` + auditCols + `)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		auditTargetList: r.Replace(`SELECT ` + auditCols + ` FROM {ks}.audit_by_target
    WHERE scope = ? AND target_id = ? AND id < ? LIMIT ?`),
	}
}
