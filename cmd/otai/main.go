// Command otai triages help-desk tickets with local models.
package main

import (
	"os"

	"github.com/otai-dev/otai/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
