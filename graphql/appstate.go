package graphql

import (
	"context"
	"encoding/json"
	"errors"

	gql "github.com/graphql-go/graphql"

	"github.com/wardhq/ward/shared/appstate"
	"github.com/wardhq/ward/shared/errs"
)

// The application state of the request's session (package appstate): the
// caller must have signed in with a session.

func (r *resolvers) appStateKeyType() *gql.Object {
	return gql.NewObject(gql.ObjectConfig{
		Name:        "AppStateKey",
		Description: "A key of an application's state in the session, and its value's size.",
		Fields: gql.Fields{
			"key": {Type: nnString, Resolve: from(func(k appstate.KeyInfo) any { return k.Key })},
			"size": {
				Type:        nnInt,
				Description: "Bytes of the value as compact JSON.",
				Resolve:     from(func(k appstate.KeyInfo) any { return k.Size }),
			},
		},
	})
}

func appStateArgs(more gql.FieldConfigArgument) gql.FieldConfigArgument {
	args := gql.FieldConfigArgument{
		"app": {Type: nnString, Description: "The application: a slug, 3 to 63 characters."},
		"key": {Type: nnString, Description: "1 to 128 letters, digits or . _ ~ : -"},
	}
	for k, v := range more {
		args[k] = v
	}
	return args
}

// decodeValue turns a stored JSON value into what the JSON scalar
// serializes.
func decodeValue(raw json.RawMessage) (any, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, &fieldError{code: errs.Internal, message: internalMessage}
	}
	return v, nil
}

func (r *resolvers) appStateQueryFields(keyT *gql.Object) gql.Fields {
	return gql.Fields{
		"appState": {
			Type:        jsonScalar,
			Description: "A value of an application's state in the session; null when unset.",
			Args:        appStateArgs(nil),
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := appstate.GetInput{App: str(p.Args, "app"), Key: str(p.Args, "key")}
				out, err := callState[appstate.GetOutput](r, p.Context, appstate.OpGet, in)
				if isKeyMissing(err) {
					return nil, nil
				}
				if err != nil {
					return nil, err
				}
				return decodeValue(out.Value)
			},
		},
		"appStateKeys": {
			Type:        gql.NewNonNull(gql.NewList(gql.NewNonNull(keyT))),
			Description: "The keys of an application's state in the session, in order.",
			Args:        gql.FieldConfigArgument{"app": {Type: nnString}},
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := appstate.ListInput{App: str(p.Args, "app")}
				out, err := callState[appstate.ListOutput](r, p.Context, appstate.OpList, in)
				if err != nil {
					return nil, err
				}
				return out.Keys, nil
			},
		},
	}
}

// callState calls an appstate operation for the request's caller.
func callState[Out any](r *resolvers, ctx context.Context, op string, in any) (Out, error) {
	return callOp[Out](r, ctx, appstate.FunctionName, op, in)
}

// isKeyMissing tells a missing key from a missing session, which is an
// error.
func isKeyMissing(err error) bool {
	var fe *fieldError
	return errors.As(err, &fe) && fe.code == errs.NotFound && fe.message == "key not found"
}

func (r *resolvers) appStateMutationFields(keyT *gql.Object) gql.Fields {
	return gql.Fields{
		"setAppState": {
			Type: gql.NewNonNull(keyT),
			Description: "Sets a value (any JSON but null) of an application's state in the " +
				"session. At most 16 KiB a value; 64 keys and 256 KiB an application; 8 " +
				"applications a session. It lives as long as the session.",
			Args: appStateArgs(gql.FieldConfigArgument{"value": {Type: gql.NewNonNull(jsonScalar)}}),
			Resolve: func(p gql.ResolveParams) (any, error) {
				raw, err := json.Marshal(p.Args["value"])
				if err != nil {
					return nil, &fieldError{code: errs.InvalidArgument, message: "value is not JSON"}
				}
				in := appstate.SetInput{App: str(p.Args, "app"), Key: str(p.Args, "key"),
					Value: raw}
				out, err := callState[appstate.SetOutput](r, p.Context, appstate.OpSet, in)
				if err != nil {
					return nil, err
				}
				return appstate.KeyInfo{Key: out.Key, Size: out.Size}, nil
			},
		},
		"deleteAppState": {
			Type:        nnBool,
			Description: "Deletes a key; false when it was not set.",
			Args:        appStateArgs(nil),
			Resolve: func(p gql.ResolveParams) (any, error) {
				in := appstate.DeleteInput{App: str(p.Args, "app"), Key: str(p.Args, "key")}
				_, err := callState[appstate.DeleteOutput](r, p.Context, appstate.OpDelete, in)
				if isKeyMissing(err) {
					return false, nil
				}
				if err != nil {
					return nil, err
				}
				return true, nil
			},
		},
	}
}
