// Package components links every component built into otai. Each one
// registers itself in init(); importing its package is all it takes, so a
// build with one more component is one more line here.
package components

import (
	_ "github.com/otai-dev/otai/classify/linear"
	_ "github.com/otai-dev/otai/classify/rules"
	_ "github.com/otai-dev/otai/pipes"
	_ "github.com/otai-dev/otai/ticketsystem/freshdesk"
	_ "github.com/otai-dev/otai/ticketsystem/local"
	_ "github.com/otai-dev/otai/ticketsystem/otobo"
	_ "github.com/otai-dev/otai/ticketsystem/zammad"
)
