// Package otobo is otai's adapter for OTOBO, Znuny and OTRS 6 through the
// GenericInterface REST web service as those products ship it
// (GenericTicketConnectorREST). An admin imports the standard web service
// YAML, creates an agent user, and points otai at it; nothing else is
// installed on the help desk.
//
// The adapter registers as otobo-znuny:OTOBOZnunyTicketSystemService with the
// aliases otobo:TicketSystem, znuny:TicketSystem and otrs:TicketSystem.
//
// Wire format notes (see docs/ticket-systems/otobo-znuny.md): business errors
// arrive as HTTP 200 with an Error object, transport errors as HTTP 500 with
// a text body, ids as strings or numbers, an empty search as {}, and
// timestamps without a zone. Every reply goes through one decoder that maps
// all of these into *ticket.Error values carrying the operation and the
// server's message, with credentials removed.
package otobo
