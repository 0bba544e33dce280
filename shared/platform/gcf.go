//go:build !ward.nogcf

package platform

import (
	"context"
	"log/slog"

	"github.com/wardhq/ward/shared/function"
	"github.com/wardhq/ward/shared/function/gcf"
	"github.com/wardhq/ward/shared/function/httpfn"
)

func startCloudFunctions(ctx context.Context, f *function.Function, key []byte, host, port string, log *slog.Logger) error {
	return gcf.Start(ctx, f, key, host, port, httpfn.WithLogger(log))
}
