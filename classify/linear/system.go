package linear

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/otai-dev/otai/ticket"
)

// SourceOptions say which tickets of a ticket system to learn from.
type SourceOptions struct {
	// Field is the label: queue, priority, type, state, owner, or the name
	// of a custom field (optionally written custom_fields.NAME).
	Field string
	// States are the ticket states to learn from; default ["closed"].
	States []string
	// Since keeps tickets updated at or after it (zero: all).
	Since time.Time
	// PageSize is the search page size (default 100); MaxTickets stops
	// reading after that many tickets (default 100,000).
	PageSize   int
	MaxTickets int
	// MinExamples is the fewest labelled tickets to train on (default 20);
	// labels seen fewer than MinPerClass times (default 2) are dropped.
	MinExamples int
	MinPerClass int
	Train       TrainOptions
	Logger      *slog.Logger
}

// SourceStats say what TrainFromSystem read.
type SourceStats struct {
	Tickets    int            // tickets read
	Examples   int            // used for training
	NoLabel    int            // skipped: the field is empty
	NoText     int            // skipped: subject and body empty
	RareLabels map[string]int // dropped labels and their counts
}

// Examples reads labelled examples from a ticket system: tickets in the
// given states (closed by default), paged by Limit/Offset, with Field as
// the label and subject + " " + body as the text.
func Examples(ctx context.Context, sys ticket.System, o SourceOptions) ([]Example, SourceStats, error) {
	var st SourceStats
	if o.Field == "" {
		o.Field = "queue"
	}
	if len(o.States) == 0 {
		o.States = []string{"closed"}
	}
	if o.PageSize <= 0 {
		o.PageSize = 100
	}
	if o.MaxTickets <= 0 {
		o.MaxTickets = 100_000
	}
	if o.MinPerClass <= 0 {
		o.MinPerClass = 2
	}
	seen := map[string]bool{}
	var ex []Example
	for _, state := range o.States {
		for off := 0; st.Tickets < o.MaxTickets; {
			c := ticket.SearchCriteria{State: &ticket.Entity{Name: state}, UpdatedSince: o.Since, Limit: o.PageSize, Offset: off}
			page, err := sys.FindTickets(ctx, c)
			if err != nil {
				return nil, st, fmt.Errorf("reading %s tickets (offset %d): %w", state, off, err)
			}
			for i := range page {
				t := &page[i]
				if seen[t.ID] {
					continue
				}
				seen[t.ID] = true
				st.Tickets++
				label := strings.TrimSpace(FieldValue(t, o.Field))
				if label == "" {
					st.NoLabel++
					continue
				}
				text := strings.TrimSpace(t.Subject + " " + t.Body)
				if text == "" {
					st.NoText++
					continue
				}
				ex = append(ex, Example{Text: t.Subject + " " + t.Body, Label: label})
			}
			if len(page) < o.PageSize {
				break
			}
			off += len(page)
		}
	}
	counts := map[string]int{}
	for _, e := range ex {
		counts[e.Label]++
	}
	kept := ex[:0]
	for _, e := range ex {
		if counts[e.Label] >= o.MinPerClass {
			kept = append(kept, e)
		} else {
			if st.RareLabels == nil {
				st.RareLabels = map[string]int{}
			}
			st.RareLabels[e.Label] = counts[e.Label]
		}
	}
	st.Examples = len(kept)
	return kept, st, nil
}

// FieldValue returns the named field of t as a label.
func FieldValue(t *ticket.Ticket, field string) string {
	switch strings.ToLower(field) {
	case "queue":
		return t.Queue.String()
	case "priority":
		return t.Priority.String()
	case "type":
		return t.Type.String()
	case "state":
		return t.State.String()
	case "owner":
		return t.Owner.String()
	case "customer":
		return t.Customer.String()
	}
	name := strings.TrimPrefix(strings.TrimPrefix(field, "custom_fields."), "custom:")
	v, ok := t.CustomFields[name]
	if !ok || v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// TrainFromSystem trains a model on a ticket system's closed tickets (see
// Examples). It fails with ErrTooFewExamples when fewer than
// o.MinExamples labelled tickets or fewer than two labels are found.
func TrainFromSystem(ctx context.Context, sys ticket.System, o SourceOptions) (*Model, SourceStats, error) {
	ex, st, err := Examples(ctx, sys, o)
	if err != nil {
		return nil, st, err
	}
	minEx := o.MinExamples
	if minEx <= 0 {
		minEx = 20
	}
	labels := map[string]bool{}
	for _, e := range ex {
		labels[e.Label] = true
	}
	if len(ex) < minEx || len(labels) < 2 {
		return nil, st, fmt.Errorf("%w: %d labelled tickets with %d distinct %s values (of %d read); need at least %d and 2",
			ErrTooFewExamples, len(ex), len(labels), o.Field, st.Tickets, minEx)
	}
	if o.Logger != nil {
		names := make([]string, 0, len(labels))
		for l := range labels {
			names = append(names, l)
		}
		sort.Strings(names)
		o.Logger.Info("training linear model", "field", o.Field, "examples", len(ex), "labels", strings.Join(names, ", "))
	}
	m, err := Train(ctx, ex, o.Train)
	if err != nil {
		return nil, st, err
	}
	m.Meta.Field = o.Field
	return m, st, nil
}
