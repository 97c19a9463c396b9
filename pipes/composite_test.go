package pipes_test

import (
	"slices"
	"testing"

	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
)

func TestCompositeAndExpression(t *testing.T) {
	tests := []struct {
		name     string
		failIf   string
		status   pipe.Status
		itemMsg  string
		failures []string
		notes    int
	}{
		{"all succeed", "false", pipe.StatusSucceeded, "", nil, 1},
		{"a check fails inside the group", "{{ pipes.decide.value == 'Billing' }}", pipe.StatusFailed,
			"group: check failed: refusing to note Billing", []string{"ticket 1: check: refusing to note Billing"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := `
      - id: classify
        use: base:ClassifyPipe
      - id: group
        use: base:CompositePipe
        steps:
          - id: decide
            use: base:ExpressionPipe
            params: {expression: "{{ pipes.classify.above_threshold ? pipes.classify.label : 'Inbox' }}"}
          - id: check
            use: base:ExpressionPipe
            params: {expression: 1, fail_if: "` + tc.failIf + `", message: "refusing to note {{ pipes.decide.value }}"}
          - id: note
            use: base:AddNotePipe
            params: {note: {body: "decided {{ pipes.decide.value }}"}}
      - id: after
        use: base:ExpressionPipe
        params: {expression: "{{ pipes.note.status }}"}
`
			eng := build(t, triageYAML(1, steps, ""), orchestrator.Options{})
			d := desk(t, eng, "desk")
			d.Add(oneTicket())
			res := runOne(t, eng)
			byID, _ := items(t, res, "each")
			it := byID["1"]
			if it.Status != tc.status || it.Message != tc.itemMsg {
				t.Errorf("item %s %q, want %s %q", it.Status, it.Message, tc.status, tc.itemMsg)
			}
			if got := res.Failures(); !slices.Equal(got, tc.failures) {
				t.Errorf("Failures() = %q, want %q", got, tc.failures)
			}
			if n := len(d.Notes("1")); n != tc.notes {
				t.Errorf("%d notes, want %d", n, tc.notes)
			}
			group := stepOf(t, it.Steps, "group")
			if len(group.Steps) != 3 {
				t.Fatalf("group has %d step results", len(group.Steps))
			}
			after := stepOf(t, it.Steps, "after")
			if tc.status == pipe.StatusSucceeded {
				// children's results are visible to the steps after the group
				if after.Data["value"] != "succeeded" || group.Steps[0].Data["value"] != "Billing" {
					t.Errorf("after: %v, decide: %v", after.Data, group.Steps[0].Data)
				}
			} else if after.Status != pipe.StatusSkipped || after.Message != "skipped because group failed" {
				t.Errorf("after: %s %q", after.Status, after.Message)
			}
		})
	}
}
