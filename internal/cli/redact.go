package cli

import (
	"log/slog"

	"github.com/otai-dev/otai/secret"
)

func redactHandler(h slog.Handler) slog.Handler { return secret.Handler(h) }

func redactString(s string) string { return secret.Redact(s) }
