package account

import (
	"context"
	"log/slog"
	"slices"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/store"
)

// MaxExportItems bounds each listing of an export (tokens scanned, audit
// events), so that one export is a bounded amount of work.
const MaxExportItems = 5000

// exportData returns everything Ward holds about the caller: the user
// record, its organization, its groups, its API tokens without their
// hashes, and the audit events about it. Secrets are never exported: the
// password hash and pending proofs stay out.
//
// Known shortcoming: the store lists tokens by tenant only, so the export
// scans up to MaxExportItems of the tenant's tokens to find the user's.
func (s *service) exportData(ctx context.Context, c function.Caller,
	_ ExportInput) (ExportOutput, error) {
	u, err := s.self(ctx, c)
	if err != nil {
		return ExportOutput{}, err
	}
	out := ExportOutput{ExportedAt: s.now().UTC(), User: u, APITokens: []TokenInfo{},
		AuditEvents: []store.AuditEvent{}}
	if u.OrgID != "" {
		o, err := s.st.Organizations().Get(ctx, u.TenantID, u.OrgID)
		switch {
		case err == nil:
			out.Organization = &o
		case errs.CodeOf(err) != errs.NotFound:
			return ExportOutput{}, err
		}
	}
	if gs, err := s.st.Groups().GroupsOf(ctx, u.TenantID, u.ID); err == nil {
		out.Groups = gs
	} else {
		// Left out rather than failing the whole export; the answer says
		// so by its absence, and the log says why.
		s.log.LogAttrs(ctx, slog.LevelWarn, "account: groups left out of an export",
			slog.String("request_id", function.RequestID(ctx)),
			slog.String("tenant", u.TenantID), slog.String("error", err.Error()))
	}

	seen := 0
	for after := ""; ; {
		items, next, err := s.st.APITokens().List(ctx, u.TenantID,
			store.Page{After: after, Limit: store.MaxPageSize})
		if err != nil {
			return ExportOutput{}, err
		}
		for _, t := range items {
			if t.Subject == u.ID {
				out.APITokens = append(out.APITokens, TokenInfo{ID: t.ID, Name: t.Name,
					Roles: slices.Clone(t.Roles), Orgs: slices.Clone(t.Orgs),
					CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt})
			}
		}
		seen += len(items)
		if next == "" {
			break
		}
		if seen >= MaxExportItems {
			out.Truncated = true
			break
		}
		after = next
	}

	for after := ""; ; {
		items, next, err := s.st.Audit().List(ctx, u.TenantID,
			store.AuditFilter{TargetID: u.ID}, store.Page{After: after, Limit: store.MaxPageSize})
		if err != nil {
			return ExportOutput{}, err
		}
		out.AuditEvents = append(out.AuditEvents, items...)
		if next == "" {
			break
		}
		if len(out.AuditEvents) >= MaxExportItems {
			out.Truncated = true
			break
		}
		after = next
	}
	return out, nil
}
