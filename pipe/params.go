package pipe

// Params renders a pipe's params for one run: templates are evaluated
// against the run's scope, then decoded into P (strictly: the config loader
// has already rejected unknown keys and wrong literal types).
type Params[P any] struct {
	decode func(scope map[string]any, out any) error
}

// NewParams wraps a decode function; the config loader provides it.
func NewParams[P any](decode func(scope map[string]any, out any) error) Params[P] {
	return Params[P]{decode: decode}
}

// StaticParams returns Params that always yield p (for tests and for
// pipes built in code).
func StaticParams[P any](p P) Params[P] {
	return Params[P]{decode: func(_ map[string]any, out any) error {
		*(out.(*P)) = p
		return nil
	}}
}

// Get renders the params for rc.
func (p Params[P]) Get(rc *Context) (P, error) {
	var v P
	if p.decode == nil {
		return v, nil
	}
	err := p.decode(rc.Scope(), &v)
	return v, err
}
