package authn

import (
	"context"
	"net/http"

	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/httpx"
)

// The JSON HTTP API for native apps and anything else that is not a
// browser page nor a GraphQL client:
//
//	POST /t/{tenant}/authn/flows        start: {"username"?, "deviceId"?}
//	GET  /t/{tenant}/authn/flows/{id}   where the flow stands
//	POST /t/{tenant}/authn/flows/{id}   answer a step: SubmitInput's fields
//
// The flow's CSRF token goes in the X-Ward-CSRF header (or the body's
// "csrf"). Answers are FlowOutput as JSON, or {"error": {code, message,
// field}} with the status of the code. The client's IP and user agent are
// taken from the connection and its headers, never from the body.

// CSRFHeader carries a flow's CSRF token.
const CSRFHeader = "X-Ward-CSRF"

func (s *service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /t/{tenant}/authn/flows", s.httpStart)
	mux.HandleFunc("GET /t/{tenant}/authn/flows/{id}", s.httpGet)
	mux.HandleFunc("POST /t/{tenant}/authn/flows/{id}", s.httpSubmit)
	return mux
}

// clientOf is what the request's connection and headers say of the client.
func clientOf(r *http.Request, deviceID string) Client {
	return Client{IP: httpx.ClientIP(r), UserAgent: r.UserAgent(), DeviceID: deviceID}
}

func (s *service) httpStart(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Username string `json:"username,omitempty"`
		DeviceID string `json:"deviceId,omitempty"`
	}
	if err := httpx.ReadJSON(w, r, &body); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	in := StartInput{Tenant: r.PathValue("tenant"), Username: body.Username,
		Client: clientOf(r, body.DeviceID)}
	s.serve(w, r, http.StatusCreated, func(ctx context.Context) (FlowOutput, error) {
		if err := in.Validate(); err != nil {
			return FlowOutput{}, err
		}
		return s.start(ctx, function.Caller{}, in)
	})
}

func (s *service) httpGet(w http.ResponseWriter, r *http.Request) {
	in := GetInput{FlowID: r.PathValue("id"), CSRF: r.Header.Get(CSRFHeader)}
	s.serve(w, r, http.StatusOK, func(ctx context.Context) (FlowOutput, error) {
		if err := in.Validate(); err != nil {
			return FlowOutput{}, err
		}
		if err := s.sameTenant(ctx, r, in.FlowID, in.CSRF); err != nil {
			return FlowOutput{}, err
		}
		return s.get(ctx, function.Caller{}, in)
	})
}

func (s *service) httpSubmit(w http.ResponseWriter, r *http.Request) {
	var in SubmitInput
	if err := httpx.ReadJSON(w, r, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	in.FlowID = r.PathValue("id")
	if h := r.Header.Get(CSRFHeader); h != "" {
		in.CSRF = h
	}
	in.Client = clientOf(r, in.Client.DeviceID)
	s.serve(w, r, http.StatusOK, func(ctx context.Context) (FlowOutput, error) {
		if err := in.Validate(); err != nil {
			return FlowOutput{}, err
		}
		if err := s.sameTenant(ctx, r, in.FlowID, in.CSRF); err != nil {
			return FlowOutput{}, err
		}
		return s.submit(ctx, function.Caller{}, in)
	})
}

// sameTenant refuses a flow reached under another tenant's path, as if it
// did not exist.
func (s *service) sameTenant(ctx context.Context, r *http.Request, id, csrf string) error {
	f, err := s.loadFlow(ctx, id, csrf)
	if err != nil {
		return err
	}
	t, err := s.dir.TenantByName(ctx, r.PathValue("tenant"))
	if err != nil || t.ID != f.TenantID {
		return flowGone()
	}
	return nil
}

func (s *service) serve(w http.ResponseWriter, r *http.Request, status int,
	run func(context.Context) (FlowOutput, error)) {
	out, err := run(r.Context())
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, status, out)
}
