// Package awsfail turns an error of the AWS SDK into the cause a Ward sender
// keeps: what failed and why, without the text AWS sent back. That text is
// free-form and may quote the request, which holds the message.
package awsfail

import (
	"errors"
	"fmt"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Summary returns err reduced to the service's error code, the HTTP status
// and the request ID when AWS answered with an error, and err itself when
// no answer came (a refused connection, a canceled context). The result
// still matches context.Canceled and context.DeadlineExceeded.
func Summary(err error) error {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return err
	}
	s := "api error " + api.ErrorCode()
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		s += fmt.Sprintf(" (HTTP %d, request ID %s)", re.HTTPStatusCode(), re.ServiceRequestID())
	}
	return errors.New(s)
}
