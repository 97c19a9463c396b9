// Package ticket is otai's contract with help desks: the unified ticket
// model every adapter converts to and from, the System interface every
// ticket system implements, and the typed errors adapters map their
// native failures into.
//
// Callers test errors with errors.Is against the sentinels (ErrNotFound,
// ErrAuth, ...) and with errors.As against *Error to read the operation
// and the server's message.
package ticket
