// Package pipes holds otai's built-in pipes. Each registers itself in
// init() under a short id (base:FetchTicketsPipe) and the long ids of the
// Python Open Ticket AI (otai_base:pipes.ticket_system_pipes.FetchTicketsPipe),
// so configs written for it read naturally.
//
//	base:FetchTicketsPipe    fetch tickets from a ticket system       -> tickets, count
//	base:ForEachTicketPipe   run steps per ticket, bounded concurrency -> per-ticket results
//	base:CompositePipe       run steps in order                        -> steps' results
//	base:ClassifyPipe        classify text with a classifier service   -> label, confidence, top_k
//	base:UpdateTicketPipe    change queue, priority, state, tags ...   -> changes
//	base:AddNotePipe         add a note (internal by default), once    -> note_id
//	base:CreateTicketPipe    create a ticket                           -> ticket
//	base:ExpressionPipe      compute a value from earlier results      -> value
package pipes
