package registry

import (
	"strconv"
	"strings"
)

// Schema returns a JSON Schema (draft 2020-12) of the config file, with one
// branch per registered component under services and pipes.
func Schema() map[string]any {
	var services, pipes []any
	for _, s := range All() {
		branch := componentSchema(s)
		if s.Kind == KindPipe {
			pipes = append(pipes, branch)
		} else {
			services = append(services, branch)
		}
	}
	pipeRef := map[string]any{"$ref": "#/$defs/pipe"}
	return map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         "https://otai.dev/schema/config.json",
		"title":       "otai config",
		"type":        "object",
		"description": "services (ticket systems, classifiers), pipes, and the orchestrator's runners.",
		"properties": map[string]any{
			"api_version":    map[string]any{"type": "string"},
			"plugins":        map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			"vars":           map[string]any{"type": "object", "description": "Values templates see as context.<name>."},
			"infrastructure": map[string]any{"type": "object"},
			"services":       map[string]any{"type": "array", "items": map[string]any{"oneOf": services}},
			"pipes":          map[string]any{"type": "array", "items": pipeRef},
			"orchestrator": map[string]any{
				"type":                 "object",
				"additionalProperties": false,
				"properties": map[string]any{
					"runners": map[string]any{"type": "array", "items": map[string]any{
						"type":                 "object",
						"required":             []string{"id"},
						"additionalProperties": false,
						"properties": map[string]any{
							"id":          map[string]any{"type": "string"},
							"description": map[string]any{"type": "string"},
							"pipes":       map[string]any{"type": "array", "items": map[string]any{"anyOf": []any{map[string]any{"type": "string"}, pipeRef}}},
							"vars":        map[string]any{"type": "object"},
							"dry_run":     map[string]any{"type": "boolean"},
							"triggers": map[string]any{"type": "array", "items": map[string]any{"oneOf": []any{
								map[string]any{"type": "object", "additionalProperties": false, "required": []string{"interval"}, "properties": map[string]any{"interval": map[string]any{"type": []string{"string", "number"}, "description": "e.g. 30s, 5m, 1h"}}},
								map[string]any{"type": "object", "additionalProperties": false, "required": []string{"cron"}, "properties": map[string]any{"cron": map[string]any{"type": "string", "description": "five-field cron, @hourly, @every 10m"}}},
								map[string]any{"type": "object", "additionalProperties": false, "required": []string{"once"}, "properties": map[string]any{"once": map[string]any{"type": "boolean"}}},
							}}},
						},
					}},
				},
			},
		},
		"additionalProperties": false,
		"$defs": map[string]any{
			"pipe": map[string]any{"oneOf": pipes},
		},
	}
}

func componentSchema(s *Spec) map[string]any {
	ids := append([]string{s.ID}, s.Aliases...)
	props := map[string]any{
		"id":     map[string]any{"type": "string"},
		"use":    map[string]any{"enum": ids, "description": s.Summary},
		"params": objectSchema(s.Fields),
	}
	required := []string{"id", "use"}
	if s.Kind == KindPipe {
		props["if"] = map[string]any{"type": []string{"string", "boolean"}, "description": "Run only when this is true, e.g. \"{{ pipes.classify.confidence >= 0.8 }}\"."}
		props["_if"] = props["if"]
		props["description"] = map[string]any{"type": "string"}
		props["injects"] = map[string]any{"type": "object"}
		if s.Container {
			props["steps"] = map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/pipe"}}
			required = append(required, "steps")
		}
	}
	for _, f := range s.Fields {
		if f.Required {
			required = append(required, "params")
			break
		}
	}
	return map[string]any{"type": "object", "title": s.ID, "description": s.Summary,
		"properties": props, "required": required, "additionalProperties": false}
}

func objectSchema(fields []Field) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range fields {
		fs := fieldSchema(f)
		props[f.Name] = fs
		for _, a := range f.Aliases {
			props[a] = fs
		}
		if f.Required {
			required = append(required, f.Name)
		}
	}
	out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

var templateString = map[string]any{"type": "string", "pattern": `\{\{`}

func fieldSchema(f Field) map[string]any {
	var s map[string]any
	switch f.Type {
	case "string", "duration", "time":
		s = map[string]any{"type": "string"}
	case "integer", "number", "boolean":
		// a template string may stand for any value
		s = map[string]any{"anyOf": []any{map[string]any{"type": f.Type}, templateString}}
	case "object":
		if len(f.Fields) > 0 {
			s = objectSchema(f.Fields)
			// an entity may also be written as its name
			if hasField(f.Fields, "name") && hasField(f.Fields, "id") {
				s = map[string]any{"anyOf": []any{s, map[string]any{"type": "string"}}}
			}
		} else {
			s = map[string]any{}
		}
	case "array":
		item := map[string]any{}
		if len(f.Fields) > 0 {
			item = objectSchema(f.Fields)
		} else if f.Elem != "" && f.Elem != "any" && f.Elem != "object" {
			item = map[string]any{"type": jsonType(f.Elem)}
		}
		s = map[string]any{"anyOf": []any{map[string]any{"type": "array", "items": item}, templateString}}
	case "map":
		s = map[string]any{"type": "object"}
	default:
		s = map[string]any{}
	}
	if f.Description != "" {
		s["description"] = f.Description
	}
	if f.HasDefault {
		s["default"] = typedDefault(f)
	}
	if len(f.Enum) > 0 {
		s["enum"] = f.Enum
	}
	if f.Secret {
		s["writeOnly"] = true
	}
	return s
}

func jsonType(t string) string {
	switch t {
	case "duration", "time":
		return "string"
	}
	return t
}

func hasField(fs []Field, name string) bool {
	for _, f := range fs {
		if f.Name == name {
			return true
		}
	}
	return false
}

func typedDefault(f Field) any {
	switch f.Type {
	case "integer":
		if i, err := strconv.ParseInt(f.Default, 10, 64); err == nil {
			return i
		}
	case "number":
		if x, err := strconv.ParseFloat(f.Default, 64); err == nil {
			return x
		}
	case "boolean":
		return strings.EqualFold(f.Default, "true")
	}
	return f.Default
}
