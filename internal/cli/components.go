package cli

// Every component built into otai registers itself in init(); importing
// the package is all it takes.
import (
	_ "github.com/otai-dev/otai/classify/rules"
	_ "github.com/otai-dev/otai/pipes"
	_ "github.com/otai-dev/otai/ticketsystem/local"
)
