//go:build ward.nogcf

package platform

import (
	"context"
	"errors"
	"log/slog"

	"github.com/wardhq/ward/shared/function"
)

// Lambda bootstraps are built with the ward.nogcf tag, which leaves the
// functions framework and its CloudEvents dependencies out of the binary.
func startCloudFunctions(context.Context, *function.Function, []byte, string, string, *slog.Logger) error {
	return errors.New("this binary was built for AWS Lambda (tag ward.nogcf) and cannot run on Cloud Functions")
}
