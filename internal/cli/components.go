package cli

import _ "github.com/otai-dev/otai/internal/components" // every built-in component
