package local

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/wardhq/ward/shared/apitokens"
	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/invoke"
	"github.com/wardhq/ward/shared/messaging/outbox"
	"github.com/wardhq/ward/shared/validate"
)

// outboxHandler answers GET /_ward/outbox?tenant=<tenant ID> with the
// messages the development outbox holds for that tenant, newest first, as
// JSON. The outbox holds verification codes and password-reset links, so
// it answers system administrators only (the bootstrap token is one).
func outboxHandler(box *outbox.Outbox, inv invoke.Invoker) http.Handler {
	service := function.Caller{Subject: "local", Roles: []string{function.RoleService}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ward"`)
			http.Error(w, "a system administrator's bearer token is required",
				http.StatusUnauthorized)
			return
		}
		c, err := invoke.Call[function.Caller](r.Context(), inv, apitokens.FunctionName,
			apitokens.OpVerify, service, apitokens.VerifyInput{Token: token})
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ward", error="invalid_token"`)
			http.Error(w, "invalid bearer token", http.StatusUnauthorized)
			return
		}
		if !slices.Contains(c.Roles, function.RoleSystemAdmin) {
			http.Error(w, "the outbox is for system administrators", http.StatusForbidden)
			return
		}
		tenant := r.URL.Query().Get("tenant")
		if err := validate.ID("tenant", tenant); err != nil {
			http.Error(w, "tenant: must be a tenant ID", http.StatusBadRequest)
			return
		}
		records := box.List(tenant)
		if records == nil {
			records = []outbox.Record{}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(records)
	})
}
