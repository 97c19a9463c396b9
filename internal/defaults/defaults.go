// Package defaults holds the config otai runs when it is given none: the
// embedded local ticket store with demo tickets, triaged by models trained
// on the demo's own closed history.
package defaults

import _ "embed"

// Name is how the embedded config is named in messages.
const Name = "<embedded default config>"

//go:embed default.yaml
var Config []byte
