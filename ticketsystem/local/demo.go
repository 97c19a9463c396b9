package local

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/otai-dev/otai/ticket"
)

// Demo data layout.
const (
	// DemoInboxQueue is where the demo's new tickets wait for triage.
	DemoInboxQueue = "Inbox"
	// DemoHistoryPerQueue is how many closed tickets each target queue gets.
	DemoHistoryPerQueue = 72
	// DemoHistoryEnglishPerQueue of those are in English, the rest in German.
	DemoHistoryEnglishPerQueue = 40
	// demoSeed fixes the generator: the demo is the same on every machine.
	demoSeed = 20261101
)

// DemoQueues are the demo's target queues, the labels a queue classifier
// learns.
var DemoQueues = []string{"Billing", "Technical Support", "Sales", "Returns", "Human Resources"}

// DemoPriorities are the demo's priorities, lowest first.
var DemoPriorities = []string{"low", "normal", "high"}

// DemoTicket is a demo ticket with the queue and priority it belongs in.
type DemoTicket struct {
	Subject  string `json:"subject"`
	Body     string `json:"body"`
	Language string `json:"language"` // "en" or "de"
	Customer string `json:"customer"`
	Queue    string `json:"queue"`    // the right queue
	Priority string `json:"priority"` // the right priority
	// Ambiguous marks a ticket written to fit two queues; Queue is the
	// better answer and AltQueue the other defensible one.
	Ambiguous bool   `json:"ambiguous,omitempty"`
	AltQueue  string `json:"alt_queue,omitempty"`
}

// Text is the subject and body as a classifier reads them.
func (d DemoTicket) Text() string { return d.Subject + "\n\n" + d.Body }

// demoInbox is written by hand, unlike the generated history, so that it
// tests whether a model trained on the history generalises.
var demoInbox = []DemoTicket{
	{Language: "en", Customer: "rachel.owens@example.com", Queue: "Billing", Priority: "high",
		Subject: "Invoice paid twice - need the refund today",
		Body: "Hi,\n\nour finance team noticed that invoice INV-2026-09931 (€1,180.00) was debited twice from our account on Monday. " +
			"This leaves us short for payroll, so please refund the duplicate charge urgently.\n\nRegards,\nRachel Owens, Bluefield Dental"},
	{Language: "de", Customer: "petra.lehmann@example.de", Queue: "Billing", Priority: "normal",
		Subject: "Rechnungskorrektur - falsche Firmenanschrift",
		Body: "Guten Tag,\n\nauf der Rechnung RE-2026-04412 ist noch unsere alte Adresse in Köln angegeben. " +
			"Bitte stellen Sie uns eine korrigierte Rechnung mit der neuen Anschrift aus, sonst kann unsere Buchhaltung sie nicht verbuchen.\n\nMit freundlichen Grüßen\nPetra Lehmann"},
	{Language: "en", Customer: "it-admin@northwind.example.com", Queue: "Technical Support", Priority: "high",
		Subject: "Whole office locked out of CloudDesk",
		Body: "Hello,\n\nsince 8am nobody in our office can log in to CloudDesk Pro. Everyone gets \"Error 403: access denied\" even with the correct password, " +
			"and the password reset email never arrives. We are completely blocked - please help immediately.\n\nThanks,\nKevin Shaw"},
	{Language: "de", Customer: "jan.hoffmann@example.de", Queue: "Technical Support", Priority: "high",
		Subject: "DRINGEND: Kundenportal nicht erreichbar",
		Body: "Hallo,\n\nseit 9 Uhr ist unser Kundenportal nicht erreichbar, die Seite zeigt nur \"HTTP 502 Bad Gateway\". " +
			"Unsere Kunden können keine Bestellungen aufgeben. Bitte kümmern Sie sich sofort darum!\n\nGruß\nJan Hoffmann"},
	{Language: "en", Customer: "mark.ellison@northwind.example.com", Queue: "Sales", Priority: "normal",
		Subject: "Pricing for 40 additional seats",
		Body: "Hello,\n\nwe are happy with the Business plan and are planning to roll it out to another department. " +
			"Could you send me a quote for 40 more licenses and tell me whether there is a volume discount?\n\nThanks,\nMark Ellison, Northwind Logistics"},
	{Language: "de", Customer: "sabine.krueger@example.de", Queue: "Technical Support", Priority: "normal",
		Subject: "Passwortzurücksetzung funktioniert nicht",
		Body: "Hallo,\n\nich habe mein Passwort vergessen und die Passwortzurücksetzung angefordert, aber der Link in der E-Mail meldet \"Token abgelaufen\". " +
			"Können Sie mir helfen, wieder Zugriff auf mein Konto zu bekommen?\n\nViele Grüße\nSabine Krüger"},
	{Language: "en", Customer: "lena.fox@example.org", Queue: "Returns", Priority: "normal",
		Subject: "Docking station arrived with a broken port - order #584213",
		Body: "Hi,\n\nthe docking station from order #584213 arrived today and one of the USB-C ports is physically broken off. " +
			"I'd like to send it back and receive a replacement. Could you send me a return label?\n\nBest,\nLena Fox"},
	{Language: "de", Customer: "thomas.becker@example.de", Queue: "Sales", Priority: "normal",
		Subject: "Angebot für den Enterprise-Tarif",
		Body: "Guten Tag,\n\nwir möchten vom Business- auf den Enterprise-Tarif wechseln. Bitte senden Sie uns ein Angebot für 120 Nutzer mit drei Jahren Laufzeit. " +
			"Gibt es einen Rabatt bei Vorauszahlung?\n\nBeste Grüße\nThomas Becker"},
	{Language: "en", Customer: "olivia.grant@example.com", Queue: "Human Resources", Priority: "low",
		Subject: "Question about my remaining vacation days",
		Body: "Hi HR team,\n\ncould you tell me how many vacation days I still have for this year? I'm planning a trip in the autumn. " +
			"No rush, whenever you have time.\n\nThanks,\nOlivia"},
	{Language: "de", Customer: "monika.vogel@example.org", Queue: "Sales", Priority: "low",
		Subject: "Informationen zu Preisen für Vereine",
		Body: "Hallo,\n\nwir sind ein kleiner Sportverein und überlegen, Ihre Software einzusetzen. " +
			"Könnten Sie uns Informationen zu Preisen für gemeinnützige Organisationen schicken? Das hat keine Eile.\n\nDanke\nMonika Vogel"},
	{Language: "en", Customer: "daniel.reid@example.com", Queue: "Technical Support", Priority: "normal",
		Subject: "Outlook keeps asking for my password",
		Body: "Hello,\n\nsince yesterday's update Outlook on my laptop asks for my password every few minutes and then shows \"Disconnected\". " +
			"Webmail works fine. Could someone take a look?\n\nBest regards,\nDaniel Reid"},
	{Language: "de", Customer: "frank.neumann@example.de", Queue: "Returns", Priority: "normal",
		Subject: "Falscher Monitor geliefert - Rücksendung",
		Body: "Guten Tag,\n\nstatt des bestellten 27-Zoll-Monitors (Bestellung 622918) haben wir ein 24-Zoll-Modell erhalten. " +
			"Wie können wir den Artikel zurückschicken und den richtigen bekommen? Bitte senden Sie uns ein Rücksendeetikett.\n\nFreundliche Grüße\nFrank Neumann"},
	{Language: "en", Customer: "helen.park@example.net", Queue: "Billing", Priority: "low",
		Subject: "Please add our PO number to future invoices",
		Body: "Hello,\n\nfor our bookkeeping it would help if future invoices showed our purchase order number PO-7781. " +
			"Not urgent, it can wait until the next billing cycle.\n\nKind regards,\nHelen Park"},
	{Language: "de", Customer: "lea.schubert@example.de", Queue: "Returns", Priority: "low",
		Subject: "Umtausch der Tastatur",
		Body: "Hallo,\n\nich würde die Tastatur aus meiner letzten Bestellung gern gegen das Modell mit deutschem Layout umtauschen. " +
			"Sie ist unbenutzt und originalverpackt. Kein Stress, wenn Sie Zeit haben.\n\nGruß\nLea Schubert"},
	{Language: "en", Customer: "sam.turner@example.com", Queue: "Billing", Priority: "normal", Ambiguous: true, AltQueue: "Returns",
		Subject: "Returned the headset but was charged again",
		Body: "Hi,\n\nI sent back the wireless headset from order #771045 three weeks ago and your warehouse confirmed receipt. " +
			"Instead of a refund I now see a new charge of €89.90 on my credit card. Can you sort this out?\n\nThanks,\nSam Turner"},
	{Language: "de", Customer: "murat.demir@example.de", Queue: "Human Resources", Priority: "high",
		Subject: "Gehaltsabrechnung für Oktober fehlt",
		Body: "Hallo Personalabteilung,\n\nmeine Gehaltsabrechnung und mein Gehalt für Oktober sind noch nicht da, die Miete ist aber morgen fällig. " +
			"Bitte prüfen Sie das dringend.\n\nDanke\nMurat Demir"},
}

// DemoInbox returns the demo's 16 new tickets (8 English, 8 German) with
// the queue and priority each should get; one is deliberately ambiguous.
func DemoInbox() []DemoTicket { return append([]DemoTicket(nil), demoInbox...) }

// demoRec is a generated history ticket with its timing and owner.
type demoRec struct {
	DemoTicket
	age      time.Duration // how long before now it was created
	resolved time.Duration // how long it stayed open
	owner    string
	reply    string
}

// DemoHistory returns the demo's closed history: DemoHistoryPerQueue
// tickets for each of DemoQueues, generated deterministically from
// templates, in the order SeedDemo creates them (oldest first).
func DemoHistory() []DemoTicket {
	recs := demoHistory()
	out := make([]DemoTicket, len(recs))
	for i, r := range recs {
		out[i] = r.DemoTicket
	}
	return out
}

// priorityWeights per queue: low, normal, high (percent).
var priorityWeights = map[string][3]int{
	"Billing":           {22, 55, 23},
	"Technical Support": {20, 50, 30},
	"Sales":             {27, 55, 18},
	"Returns":           {25, 55, 20},
	"Human Resources":   {27, 55, 18},
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func demoHistory() []demoRec {
	r := rand.New(rand.NewPCG(demoSeed, 0x6f746169))
	var recs []demoRec
	for _, q := range DemoQueues {
		for j := range DemoHistoryPerQueue {
			lang := "de"
			if j < DemoHistoryEnglishPerQueue {
				lang = "en"
			}
			recs = append(recs, genTicket(r, q, lang, j))
		}
	}
	// Oldest first, spread over the past six months.
	r.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	const span = 180 * 24 * time.Hour
	step := span / time.Duration(len(recs)+1)
	for i := range recs {
		jitter := time.Duration(r.Int64N(int64(step / 2)))
		recs[i].age = span - time.Duration(i)*step - jitter + 2*time.Hour
		recs[i].resolved = time.Duration(1+r.IntN(72))*time.Hour + time.Duration(r.IntN(60))*time.Minute
	}
	return recs
}

// genTicket writes one history ticket: greeting, a scenario, a few detail
// sentences, the urgency wording its priority calls for, and a closing.
func genTicket(r *rand.Rand, queue, lang string, j int) demoRec {
	scs := demoScenarios[queue][lang]
	// Walk the scenarios in turn so each is used evenly, then vary within.
	sc := scs[(j+r.IntN(2))%len(scs)]
	first, last := pick(r, demoFirstNames[lang]), pick(r, demoLastNames[lang])
	company := pick(r, demoCompanies[lang])
	domain := pick(r, demoDomains)
	f := &filler{r: r, lang: lang, vals: map[string]string{
		"company": company,
		"domain":  domain,
		"email":   strings.ToLower(first+"."+last) + "@" + domain,
	}}

	w := priorityWeights[queue]
	prio := "normal"
	switch x := r.IntN(100); {
	case x < w[0]:
		prio = "low"
	case x >= w[0]+w[1]:
		prio = "high"
	}

	subject := f.fill(pick(r, sc.subjects))
	var parts []string
	core := f.fill(sc.body)
	for _, e := range pickN(r, demoExtras[queue][lang], r.IntN(3)) {
		core += " " + f.fill(e)
	}
	switch prio {
	case "high":
		if r.IntN(100) < 60 {
			subject = pick(r, demoHighSubject[lang]) + subject
		}
		urgent := pick(r, demoHighBody[lang])
		if queue == "Technical Support" && r.IntN(2) == 0 {
			urgent = pick(r, demoHighTech[lang]) + " " + urgent
		}
		if r.IntN(2) == 0 {
			core = urgent + " " + core
		} else {
			core += " " + urgent
		}
	case "low":
		if r.IntN(100) < 20 {
			subject += pick(r, demoLowSubject[lang])
		}
		core += " " + pick(r, demoLowBody[lang])
	}
	parts = append(parts, pick(r, demoGreetings[lang]), core, pick(r, demoClosings[lang])+"\n"+first+" "+last)
	if r.IntN(3) == 0 {
		parts[len(parts)-1] += "\n" + company
	}
	return demoRec{
		DemoTicket: DemoTicket{Subject: subject, Body: strings.Join(parts, "\n\n"), Language: lang,
			Customer: f.vals["email"], Queue: queue, Priority: prio},
		owner: pick(r, demoAgents[queue]),
		reply: pick(r, demoResolutions[lang]),
	}
}

// pickN returns n distinct elements of xs in random order.
func pickN(r *rand.Rand, xs []string, n int) []string {
	idx := r.Perm(len(xs))
	out := make([]string, 0, n)
	for i := 0; i < n && i < len(idx); i++ {
		out = append(out, xs[idx[i]])
	}
	return out
}

// filler fills {slot}s, choosing each slot's value once per ticket.
type filler struct {
	r    *rand.Rand
	lang string
	vals map[string]string
}

func (f *filler) fill(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(f.value(s[i+1 : i+j]))
		s = s[i+j+1:]
	}
}

func (f *filler) value(slot string) string {
	if v, ok := f.vals[slot]; ok {
		return v
	}
	r, de := f.r, f.lang == "de"
	var v string
	switch slot {
	case "invoice":
		if de {
			v = fmt.Sprintf("RE-2026-%05d", r.IntN(100000))
		} else {
			v = fmt.Sprintf("INV-2026-%05d", r.IntN(100000))
		}
	case "order":
		if de {
			v = fmt.Sprintf("%06d", 100000+r.IntN(900000))
		} else {
			v = fmt.Sprintf("#%06d", 100000+r.IntN(900000))
		}
	case "amount":
		euros, cents := 19+r.IntN(2500), r.IntN(100)
		if de {
			v = fmt.Sprintf("%d,%02d €", euros, cents)
		} else {
			v = fmt.Sprintf("€%d.%02d", euros, cents)
		}
	case "date":
		m, d := r.IntN(12), 1+r.IntN(28)
		if de {
			v = fmt.Sprintf("%d. %s", d, demoMonths["de"][m])
		} else {
			v = fmt.Sprintf("%s %d", demoMonths["en"][m], d)
		}
	case "month":
		v = pick(r, demoMonths[f.lang])
	case "product":
		v = pick(r, demoProducts)
	case "error":
		v = pick(r, demoErrors[f.lang])
	case "system":
		v = pick(r, demoSystems[f.lang])
	case "item", "item2":
		items := demoItems[f.lang]
		v = pick(r, items)
		other := "item2"
		if slot == "item2" {
			other = "item"
		}
		for v == f.vals[other] {
			v = pick(r, items)
		}
	case "floor":
		v = pick(r, demoFloors[f.lang])
	case "role":
		v = pick(r, demoRoles[f.lang])
	case "city":
		v = pick(r, demoCities[f.lang])
	case "plan":
		v = pick(r, demoPlans)
	case "name2":
		v = pick(r, demoFirstNames[f.lang]) + " " + pick(r, demoLastNames[f.lang])
	case "n":
		v = fmt.Sprint(5 + r.IntN(146))
	case "weeks":
		v = fmt.Sprint(2 + r.IntN(30))
	case "days":
		v = fmt.Sprint(3 + r.IntN(19))
	case "hours":
		v = fmt.Sprint(20 + r.IntN(13))
	case "years":
		v = fmt.Sprint(2 + r.IntN(12))
	case "time":
		v = fmt.Sprintf("%02d:%02d", 6+r.IntN(14), r.IntN(4)*15)
	case "version":
		v = fmt.Sprintf("%d.%d.%d", 3+r.IntN(4), r.IntN(10), r.IntN(20))
	case "custno":
		v = fmt.Sprintf("K-%06d", r.IntN(1000000))
	case "empno":
		v = fmt.Sprintf("%05d", r.IntN(100000))
	case "tracking":
		v = fmt.Sprintf("00340434%010d", r.Int64N(10000000000))
	case "phone":
		if de {
			v = fmt.Sprintf("+49 30 %07d", r.IntN(10000000))
		} else {
			v = fmt.Sprintf("+44 20 7946 %04d", r.IntN(10000))
		}
	default:
		v = "{" + slot + "}"
	}
	f.vals[slot] = v
	return v
}

// SeedDemo fills an empty store with the demo: queues Inbox and
// DemoQueues, priorities low/normal/high, states new/open/closed, a closed
// history of DemoHistoryPerQueue tickets per target queue (English and
// German, created over the past six months) and the DemoInbox tickets as
// new tickets in Inbox, created within the last hour. It does nothing if
// the store already has tickets, and writes everything or nothing.
func SeedDemo(ctx context.Context, s *Store) error {
	const op = "seeding demo tickets"
	now := s.nowUTC()
	history := demoHistory()
	err := s.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM tickets").Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		for _, q := range append([]string{DemoInboxQueue}, DemoQueues...) {
			if _, err := ensure(ctx, tx, kindQueue, q, ""); err != nil {
				return err
			}
		}
		for i, p := range DemoPriorities {
			if _, err := ensure(ctx, tx, kindPriority, p, ", rank", i+1); err != nil {
				return err
			}
		}
		for _, st := range []StateType{StateTypeNew, StateTypeOpen, StateTypeClosed} {
			if _, err := ensure(ctx, tx, kindState, string(st), ", type", string(st)); err != nil {
				return err
			}
		}
		for _, h := range history {
			created := now.Add(-h.age)
			closed := created.Add(h.resolved)
			r := &record{subject: h.Subject, body: h.Body,
				queue: ticket.Entity{Name: h.Queue}, priority: ticket.Entity{Name: h.Priority},
				state: ticket.Entity{Name: "closed"}, owner: ticket.Entity{Name: h.owner}, customer: ticket.Entity{Name: h.Customer},
				custom:  map[string]any{"language": h.Language},
				created: created, updated: closed, createOwner: true,
				notes: []ticket.Note{{Body: h.reply, Author: h.owner, CreatedAt: closed}}}
			if _, err := insert(ctx, tx, r, op); err != nil {
				return err
			}
		}
		for i, d := range demoInbox {
			created := now.Add(-time.Duration(len(demoInbox)-i) * 3 * time.Minute)
			r := &record{subject: d.Subject, body: d.Body,
				queue: ticket.Entity{Name: DemoInboxQueue}, priority: ticket.Entity{Name: "normal"},
				state: ticket.Entity{Name: "new"}, customer: ticket.Entity{Name: d.Customer},
				custom:  map[string]any{"language": d.Language},
				created: created, updated: created}
			if _, err := insert(ctx, tx, r, op); err != nil {
				return err
			}
		}
		s.log.Info("seeded demo tickets", "path", s.path, "history", len(history), "inbox", len(demoInbox))
		return nil
	})
	return mapErr(op, err)
}
