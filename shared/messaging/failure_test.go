package messaging_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wardhq/ward/shared/errs"
	"github.com/wardhq/ward/shared/messaging"
)

func TestProviderFailureBlanksSecrets(t *testing.T) {
	const password = "s3cret-Passw0rd"
	body := "Hello,\nyour code is 493021 and it is secret\nBye"
	cause := fmt.Errorf("535 auth failed for %s; 554 rejected line: your code is 493021 and it "+
		"is secret; whole: %q", password, body)

	err := messaging.ProviderFailure("smtp", "AUTH", cause, password, body, "ab")

	if !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("err = %v, want unavailable", err)
	}
	text := err.Error()
	for _, secret := range []string{password, "493021"} {
		if strings.Contains(text, secret) {
			t.Errorf("error text holds %q: %s", secret, text)
		}
	}
	if !strings.Contains(text, "535 auth failed for [redacted]") {
		t.Errorf("error text lost the server's reply: %s", text)
	}
	if errors.Is(err, cause) || errors.Unwrap(errors.Unwrap(err)) != nil {
		t.Errorf("the original cause is still reachable through Unwrap")
	}
	pub := errs.Public(err)
	if strings.Contains(pub.Error(), "535") {
		t.Errorf("the client-safe error shows the server's reply: %v", pub)
	}
	var pe *messaging.ProviderError
	if !errors.As(err, &pe) || pe.Provider != "smtp" || pe.Step != "AUTH" {
		t.Errorf("ProviderError = %+v", pe)
	}
}

func TestProviderFailureKeepsContextErrors(t *testing.T) {
	for _, ctxErr := range []error{context.Canceled, context.DeadlineExceeded} {
		err := messaging.ProviderFailure("ses", "SendEmail", fmt.Errorf("operation error: %w", ctxErr))
		if !errors.Is(err, ctxErr) || !errors.Is(err, errs.ErrUnavailable) {
			t.Errorf("err = %v, want it to match %v and unavailable", err, ctxErr)
		}
	}
	err := messaging.ProviderFailure("ses", "SendEmail", errors.New("refused"))
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a plain failure matches a context error: %v", err)
	}
}

func TestProviderFailureCutsLongDetails(t *testing.T) {
	err := messaging.ProviderFailure("smtp", "DATA", errors.New(strings.Repeat("é", 1000)))
	var pe *messaging.ProviderError
	if !errors.As(err, &pe) {
		t.Fatal("no ProviderError")
	}
	if len(pe.Detail) > 520 || !strings.HasSuffix(pe.Detail, "…") {
		t.Errorf("detail of %d bytes, want it cut to about 512 with an ellipsis", len(pe.Detail))
	}
	if !strings.HasPrefix(pe.Detail, "éé") || strings.ContainsRune(pe.Detail, '\uFFFD') {
		t.Errorf("detail was cut inside a character")
	}
}
