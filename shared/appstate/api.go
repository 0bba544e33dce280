package appstate

import "encoding/json"

// FunctionName is the function that owns application state.
const FunctionName = "appstate"

// Operation names. Each acts on one session's state: the caller's own
// session (a session caller), or the session a service caller names.
const (
	OpGet    = "appstate.get"
	OpList   = "appstate.list"
	OpSet    = "appstate.set"
	OpDelete = "appstate.delete"
	// OpClear deletes everything a session keeps, for every application.
	OpClear = "appstate.clear"
)

// Bounds of a session's state (see the package comment).
const (
	MaxValueBytes     = 16 << 10  // one value, as compact JSON
	MaxKeysPerApp     = 64        // keys of one application in one session
	MaxBytesPerApp    = 256 << 10 // keys' names plus values, one application
	MaxAppsPerSession = 8
	MaxKeyBytes       = 128
)

// Session names the session a service caller acts on. A session caller
// leaves it empty (or names its own session).
type Session struct {
	TenantID  string `json:"tenantId,omitempty"`
	SessionID string `json:"sessionId,omitempty"`
}

// GetInput reads one key of an application.
type GetInput struct {
	Session
	App string `json:"app"`
	Key string `json:"key"`
}

// GetOutput is a key's value, as JSON.
type GetOutput struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// ListInput lists an application's keys.
type ListInput struct {
	Session
	App string `json:"app"`
}

// KeyInfo is a key and the size of its value (bytes of compact JSON).
type KeyInfo struct {
	Key  string `json:"key"`
	Size int    `json:"size"`
}

// ListOutput is an application's keys, in order, and what they use
// against the quotas.
type ListOutput struct {
	Keys  []KeyInfo `json:"keys"`
	Bytes int       `json:"bytes"`
}

// SetInput writes one key. Value is any JSON value but null (a string is
// a JSON string); it is kept in compact form.
type SetInput struct {
	Session
	App   string          `json:"app"`
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// SetOutput describes the key written and the application's use after
// the write.
type SetOutput struct {
	Key   string `json:"key"`
	Size  int    `json:"size"`
	Keys  int    `json:"keys"`
	Bytes int    `json:"bytes"`
}

// DeleteInput deletes one key; a missing key is NOT_FOUND.
type DeleteInput struct {
	Session
	App string `json:"app"`
	Key string `json:"key"`
}

// DeleteOutput names the deleted key.
type DeleteOutput struct {
	Key string `json:"key"`
}

// ClearInput deletes a session's whole state.
type ClearInput struct {
	Session
}

// ClearOutput counts the applications whose state was deleted.
type ClearOutput struct {
	Apps int `json:"apps"`
}
