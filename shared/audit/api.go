package audit

import "github.com/wardhq/ward/shared/store"

// FunctionName is the function that serves the audit trail.
const FunctionName = "audit"

// OpList lists a tenant's trail, newest first.
const OpList = "audit.list"

// ListInput asks for one page of a trail. TenantID empty is the system
// trail (tenants created and deleted, system tokens): system
// administrators only. TargetID, when set, keeps the events about that
// entity.
type ListInput struct {
	TenantID string `json:"tenantId"`
	TargetID string `json:"targetId,omitempty"`
	After    string `json:"after,omitempty"`
	First    int    `json:"first,omitempty"`
}

// ListOutput is one page of events; Next is empty on the last page.
type ListOutput struct {
	Items []store.AuditEvent `json:"items"`
	Next  string             `json:"next,omitempty"`
}
