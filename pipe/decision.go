package pipe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/otai-dev/otai/classify"
)

// Decision is what otai decided for one ticket in one run, and what it
// wrote back. A for-each records one per ticket it works on.
type Decision struct {
	ID           string       `json:"id"`
	At           time.Time    `json:"at"`
	Runner       string       `json:"runner"`
	Pipe         string       `json:"pipe"` // the for-each
	TicketSystem string       `json:"ticket_system,omitempty"`
	TicketID     string       `json:"ticket_id"`
	Subject      string       `json:"subject,omitempty"`
	Predictions  []Prediction `json:"predictions"`
	Written      []string     `json:"written"`           // what was written back, e.g. "set queue Inbox -> Billing", "noted"
	Changes      []Change     `json:"changes,omitempty"` // field changes written (or, in a dry run, planned)
	Outcome      Status       `json:"outcome"`
	Error        string       `json:"error,omitempty"`
	DryRun       bool         `json:"dry_run,omitempty"`
}

// Prediction is one classify step's answer within a decision.
type Prediction struct {
	Step           string                `json:"step"`
	Classifier     string                `json:"classifier,omitempty"`
	Model          string                `json:"model,omitempty"`
	ModelVersion   string                `json:"model_version,omitempty"`
	Label          string                `json:"label"`
	Confidence     float64               `json:"confidence"`
	AboveThreshold bool                  `json:"above_threshold"`
	TopK           []classify.Prediction `json:"top_k,omitempty"`
}

// Label is the first prediction's label, or "".
func (d *Decision) Label() (string, float64) {
	if len(d.Predictions) == 0 {
		return "", 0
	}
	return d.Predictions[0].Label, d.Predictions[0].Confidence
}

// Change is one field an update changes (or would change, in a dry run).
type Change struct {
	Field string `json:"field" expr:"field"`
	From  string `json:"from" expr:"from"`
	To    string `json:"to" expr:"to"`
}

// DecisionRecorder keeps decisions (the state store; PostgreSQL later).
type DecisionRecorder interface {
	RecordDecision(ctx context.Context, d Decision) error
}

// Correction is a field an agent changed after otai had set it: otai's
// value, the agent's, and the ticket's text, to learn from later.
type Correction struct {
	At           time.Time `json:"at"`
	Runner       string    `json:"runner"`
	TicketSystem string    `json:"ticket_system,omitempty"`
	TicketID     string    `json:"ticket_id"`
	Field        string    `json:"field"`
	Otai         string    `json:"otai"`  // what otai set
	Agent        string    `json:"agent"` // what an agent set instead
	DecisionID   string    `json:"decision_id"`
	Subject      string    `json:"subject,omitempty"`
	Body         string    `json:"body,omitempty"`
}

// DecisionHistory is what a recorder can tell about earlier decisions.
type DecisionHistory interface {
	// Applied returns the field changes otai has written to a ticket (the
	// newest value per field, with the decision that wrote it).
	Applied(ctx context.Context, ticketSystem, ticketID string) (map[string]AppliedChange, error)
	// RecordCorrection keeps a correction (once per decision and field).
	RecordCorrection(ctx context.Context, c Correction) error
}

// AppliedChange is a change otai wrote, with the decision that wrote it.
type AppliedChange struct {
	Change
	DecisionID string
	At         time.Time
}

// NewDecisionID returns a unique id that sorts by time: d-<ms hex>-<random>.
func NewDecisionID(t time.Time) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("d-%011x-%s", t.UnixMilli(), hex.EncodeToString(b[:]))
}

// DecisionOf builds the decision of one ticket from its steps' results:
// classify steps (those with top_k) give predictions, the actions of the
// other succeeded steps tell what was written.
func DecisionOf(rc *Context, pipeID string, it ItemResult, at time.Time) Decision {
	id := rc.DecisionID
	if id == "" {
		id = NewDecisionID(at)
	}
	d := Decision{ID: id, At: at, Runner: rc.Runner, Pipe: pipeID, TicketID: it.TicketID,
		Subject: it.Subject, Outcome: it.Status, DryRun: rc.DryRun, Predictions: []Prediction{}, Written: []string{}}
	if it.Status == StatusFailed {
		d.Error = it.Message
	}
	var walk func(rs []Result)
	walk = func(rs []Result) {
		for _, r := range rs {
			walk(r.Steps)
			if r.Data == nil {
				continue
			}
			if ts, ok := r.Data["ticket_system"].(string); ok && ts != "" && d.TicketSystem == "" {
				d.TicketSystem = ts
			}
			if topk, ok := r.Data["top_k"].([]classify.Prediction); ok {
				p := Prediction{Step: r.Pipe, TopK: topk}
				p.Classifier, _ = r.Data["classifier"].(string)
				p.Model, _ = r.Data["model"].(string)
				p.ModelVersion, _ = r.Data["model_version"].(string)
				p.Label, _ = r.Data["label"].(string)
				p.Confidence, _ = r.Data["confidence"].(float64)
				p.AboveThreshold, _ = r.Data["above_threshold"].(bool)
				d.Predictions = append(d.Predictions, p)
				continue
			}
			if cs, ok := r.Data["changes"].([]Change); ok && r.Status == StatusSucceeded {
				d.Changes = append(d.Changes, cs...)
			}
			if r.Status == StatusSucceeded && r.Action != "" && r.Action != "no change" {
				d.Written = append(d.Written, r.Action)
			}
		}
	}
	walk(it.Steps)
	return d
}
