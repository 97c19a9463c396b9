package local

// The demo's text: scenarios per queue and language with {slot}s that
// demoGen fills. All of it is written for otai; names, companies, numbers
// and domains are invented (example.com and friends are reserved domains).

// scenario is one kind of request: subject variants and a body core.
type scenario struct {
	subjects []string
	body     string
}

var demoScenarios = map[string]map[string][]scenario{
	"Billing": {
		"en": {
			{[]string{"Charged twice for invoice {invoice}", "Duplicate payment on our credit card", "Double charge on this month's bill"},
				"I just checked our bank statement and invoice {invoice} was charged twice, both times {amount}. Could you please refund the duplicate payment? I can forward the card statement if you need it."},
			{[]string{"Wrong VAT ID on invoice {invoice}", "Please correct invoice {invoice}", "Invoice shows our old billing address"},
				"The invoice {invoice} we received still lists our old company address and the VAT ID is missing. Our accounting department cannot book it like this. Please issue a corrected invoice for {company}."},
			{[]string{"Update credit card for our subscription", "Change payment method to bank transfer", "How do I change our billing details?"},
				"Our company credit card expires at the end of {month}. How can I update the payment details for the {plan} subscription? From now on we would prefer to pay by bank transfer or direct debit."},
			{[]string{"Refund of {amount} still not received", "Where is my refund for {invoice}?", "Status of our credit note"},
				"On {date} you confirmed a refund of {amount}, but the money has not arrived on our account yet. Can you tell me when the credit note will be processed and which account it was sent to?"},
			{[]string{"Billed again after cancelling", "Charged {amount} after cancellation", "Invoice received although we cancelled"},
				"We cancelled our {plan} plan in {month}, yet we were billed {amount} again this month. Please reverse the charge and confirm in writing that no further invoices will be issued."},
			{[]string{"Payment reminder for an invoice we already paid", "Late fee on invoice {invoice} is wrong", "Dunning letter received by mistake"},
				"We received a payment reminder with a late fee for invoice {invoice}, but we paid the full amount of {amount} on {date}. Please check your records, match the payment and remove the late fee."},
			{[]string{"Need copies of all invoices from {month}", "Invoice copies for our annual audit", "Missing invoices in the billing portal"},
				"For our annual audit I need PDF copies of all invoices from {month}. The billing portal only shows the last three invoices. Could you email the missing ones to our accounts payable team?"},
			{[]string{"Question about the amount on invoice {invoice}", "Invoice {invoice} is higher than agreed", "Unexpected price increase on our bill"},
				"Invoice {invoice} is for {amount}, which is more than the price in our contract. Nobody told us about a price increase. Please explain the difference or send a corrected invoice."},
		},
		"de": {
			{[]string{"Doppelte Abbuchung für Rechnung {invoice}", "Betrag zweimal abgebucht", "Doppelbelastung auf der Kreditkarte"},
				"Auf unserem Kontoauszug ist die Rechnung {invoice} über {amount} zweimal abgebucht worden. Bitte erstatten Sie den doppelt gezahlten Betrag. Den Kontoauszug kann ich Ihnen gern schicken."},
			{[]string{"Rechnungskorrektur benötigt: {invoice}", "Falsche Rechnungsadresse auf {invoice}", "Umsatzsteuer-ID fehlt auf der Rechnung"},
				"Auf der Rechnung {invoice} steht noch unsere alte Anschrift und die Umsatzsteuer-ID fehlt. So kann unsere Buchhaltung die Rechnung nicht verbuchen. Bitte stellen Sie eine korrigierte Rechnung für {company} aus."},
			{[]string{"Zahlungsart auf Lastschrift umstellen", "Neue Kreditkarte hinterlegen", "Änderung der Zahlungsdaten"},
				"Unsere Firmenkreditkarte läuft Ende {month} ab. Wie kann ich die Zahlungsdaten für das {plan}-Abo ändern? Künftig würden wir lieber per SEPA-Lastschrift oder Überweisung zahlen."},
			{[]string{"Gutschrift über {amount} noch nicht erhalten", "Wo bleibt die Rückerstattung zu {invoice}?", "Status unserer Gutschrift"},
				"Sie haben uns am {date} eine Gutschrift über {amount} bestätigt, das Geld ist aber noch nicht auf unserem Konto eingegangen. Wann wird die Erstattung angewiesen und auf welches Konto?"},
			{[]string{"Abbuchung trotz Kündigung", "Nach der Kündigung erneut {amount} abgebucht", "Rechnung nach Vertragsende erhalten"},
				"Wir haben unseren {plan}-Tarif im {month} gekündigt, trotzdem wurden diesen Monat wieder {amount} abgebucht. Bitte stornieren Sie die Buchung und bestätigen Sie schriftlich, dass keine weiteren Rechnungen kommen."},
			{[]string{"Mahnung trotz Zahlung", "Mahngebühr für Rechnung {invoice} nicht berechtigt", "Zahlungserinnerung irrtümlich erhalten"},
				"Wir haben eine Mahnung mit Mahngebühr für die Rechnung {invoice} bekommen, obwohl wir den vollen Betrag von {amount} am {date} überwiesen haben. Bitte prüfen Sie den Zahlungseingang und streichen Sie die Mahngebühr."},
			{[]string{"Rechnungskopien für {month}", "Rechnungen für die Jahresabschlussprüfung", "Fehlende Rechnungen im Kundenportal"},
				"Für die Jahresabschlussprüfung benötige ich alle Rechnungen aus dem {month} als PDF. Im Kundenportal sehe ich nur die letzten drei Rechnungen. Könnten Sie mir die Rechnungskopien per E-Mail schicken?"},
			{[]string{"Frage zum Rechnungsbetrag von {invoice}", "Rechnung {invoice} höher als vereinbart", "Unerwartete Preiserhöhung auf der Rechnung"},
				"Die Rechnung {invoice} lautet über {amount} und damit mehr als im Vertrag vereinbart. Über eine Preiserhöhung wurden wir nicht informiert. Bitte erklären Sie die Differenz oder schicken Sie eine Rechnungskorrektur."},
		},
	},
	"Technical Support": {
		"en": {
			{[]string{"Cannot log in to {product}", "Password reset link not working", "Login fails with \"{error}\""},
				"Since this morning I cannot log in to {product}. After entering my password I get the message \"{error}\". I already tried to reset my password, but the reset link in the email says it has expired."},
			{[]string{"{system} connection drops every few minutes", "{system} keeps disconnecting", "Unstable {system} when working from home"},
				"The {system} connection keeps dropping every few minutes when I work from home. The client shows \"{error}\" and I have to reconnect manually. Colleagues in the office do not seem to have the problem."},
			{[]string{"{product} crashes on startup", "{product} freezes after the latest update", "Application error in {product}"},
				"After the latest update {product} crashes right after startup. I reinstalled it twice and rebooted the laptop, but the error \"{error}\" appears every time. The laptop runs Windows 11 with all updates installed."},
			{[]string{"Printer on the {floor} floor is offline", "Network printer does not print", "Print jobs stuck in the queue"},
				"The network printer on the {floor} floor shows as offline and all print jobs stay in the queue. Restarting the printer and removing the paper jam did not help. The display says \"{error}\"."},
			{[]string{"Emails not syncing on my phone", "Mailbox stopped syncing", "Calendar and mail out of sync"},
				"My mailbox stopped syncing on my phone yesterday. New emails only show up in the web client and calendar invitations are missing. The mail app says \"{error}\"."},
			{[]string{"API returns {error}", "Integration with your API is failing", "Webhook calls time out"},
				"Our integration with your API started failing today at {time}. Every request returns \"{error}\" and our nightly synchronisation did not run. We did not change anything on our side."},
			{[]string{"License key not accepted", "Cannot activate {product} on new workstation", "Activation error for {product}"},
				"I am trying to activate {product} on a new workstation, but the license key is rejected with \"{error}\". The same key worked fine on the old machine, which has been wiped."},
			{[]string{"Slow performance in {product}", "{product} takes minutes to load reports", "Timeouts when opening the dashboard"},
				"For about a week {product} has been extremely slow. Opening a report takes several minutes and sometimes ends with \"{error}\". Our internet connection is fine and other web applications load quickly."},
		},
		"de": {
			{[]string{"Anmeldung bei {product} nicht möglich", "Passwortzurücksetzung funktioniert nicht", "Login schlägt fehl: \"{error}\""},
				"Seit heute früh kann ich mich nicht mehr bei {product} anmelden. Nach der Passworteingabe erscheint die Fehlermeldung \"{error}\". Die Passwortzurücksetzung habe ich schon versucht, aber der Link in der E-Mail ist angeblich abgelaufen."},
			{[]string{"{system}-Verbindung bricht ständig ab", "{system} trennt sich alle paar Minuten", "Instabile {system}-Verbindung im Homeoffice"},
				"Im Homeoffice bricht die {system}-Verbindung alle paar Minuten ab. Der Client zeigt \"{error}\" und ich muss mich jedes Mal neu verbinden. Die Kollegen im Büro haben das Problem anscheinend nicht."},
			{[]string{"{product} stürzt beim Start ab", "{product} friert nach dem Update ein", "Programmfehler in {product}"},
				"Seit dem letzten Update stürzt {product} direkt nach dem Start ab. Ich habe das Programm zweimal neu installiert und den Rechner neu gestartet, aber die Fehlermeldung \"{error}\" kommt jedes Mal."},
			{[]string{"Drucker im {floor} Stock ist offline", "Netzwerkdrucker druckt nicht", "Druckaufträge hängen in der Warteschlange"},
				"Der Netzwerkdrucker im {floor} Stock wird als offline angezeigt und alle Druckaufträge bleiben in der Warteschlange hängen. Ein Neustart des Druckers hat nicht geholfen. Im Display steht \"{error}\"."},
			{[]string{"E-Mails werden auf dem Handy nicht synchronisiert", "Postfach synchronisiert nicht mehr", "Kalender und Mails nicht synchron"},
				"Seit gestern synchronisiert mein Postfach auf dem Diensthandy nicht mehr. Neue E-Mails sehe ich nur noch im Webclient, Kalendereinladungen fehlen ganz. Die App meldet \"{error}\"."},
			{[]string{"Schnittstelle liefert {error}", "API-Anbindung funktioniert nicht mehr", "Webhook-Aufrufe laufen in ein Timeout"},
				"Unsere Anbindung an Ihre Schnittstelle funktioniert seit heute {time} Uhr nicht mehr. Jede Anfrage liefert \"{error}\" und der nächtliche Datenabgleich ist ausgefallen. Auf unserer Seite wurde nichts geändert."},
			{[]string{"Lizenzschlüssel wird nicht akzeptiert", "Aktivierung von {product} auf neuem Rechner schlägt fehl", "Aktivierungsfehler bei {product}"},
				"Ich möchte {product} auf einem neuen Arbeitsplatzrechner aktivieren, aber der Lizenzschlüssel wird mit \"{error}\" abgelehnt. Auf dem alten Rechner, der inzwischen neu aufgesetzt wurde, lief der Schlüssel problemlos."},
			{[]string{"{product} sehr langsam", "Berichte in {product} laden minutenlang", "Zeitüberschreitung beim Öffnen des Dashboards"},
				"Seit etwa einer Woche ist {product} extrem langsam. Ein Bericht braucht mehrere Minuten zum Laden und bricht manchmal mit \"{error}\" ab. Unsere Internetverbindung ist in Ordnung, andere Webanwendungen laden schnell."},
		},
	},
	"Sales": {
		"en": {
			{[]string{"Request for quote: {n} licenses of {product}", "Quote for {n} users", "Pricing for {product} for our team"},
				"We are a team of {n} people at {company} and are evaluating {product}. Could you send us a quote for {n} licenses with annual billing? We would also like to know whether volume discounts are available."},
			{[]string{"Product demo for our management team", "Can we book a demo of {product}?", "Demo request"},
				"I would like to schedule a live demo of {product} for our management team next week. We are particularly interested in the reporting features and the integration with our CRM."},
			{[]string{"Upgrade from {plan} to Enterprise", "Pricing for upgrading our plan", "Moving to the Enterprise plan"},
				"We are currently on the {plan} plan and would like to upgrade to Enterprise. What would the price be for {n} users, and can we keep our current contract end date?"},
			{[]string{"Reseller partnership inquiry", "Becoming a partner of yours", "Partner program for integrators"},
				"{company} is a systems integrator based in {city}. We would like to resell your products to our customers. Who can I talk to about partner conditions, margins and sales training?"},
			{[]string{"Discount for non-profit organisations?", "Education pricing", "Special pricing for charities"},
				"Do you offer discounted pricing for non-profit organisations or schools? We are interested in {product} for about {n} staff members and volunteers."},
			{[]string{"Extend our trial of {product}", "Trial extension request", "More time to evaluate {product}"},
				"Our trial of {product} ends in {days} days, but we have not finished our evaluation yet. Could you extend the trial by two weeks? We are very likely to buy afterwards."},
			{[]string{"Renewal offer for our contract", "Contract renewal for {n} seats", "Offer for a three-year contract"},
				"Our contract runs out on {date}. Please send us a renewal offer for {n} seats, ideally for three years with a fixed price, so that we can plan the budget."},
			{[]string{"Add-on modules and pricing", "Interested in the analytics add-on", "Information about additional modules"},
				"We are using {product} and are interested in your analytics and automation add-ons. Could you send us a price list and tell us whether they can be licensed for a subset of our {n} users?"},
		},
		"de": {
			{[]string{"Angebotsanfrage: {n} Lizenzen {product}", "Angebot für {n} Nutzer", "Preise für {product}"},
				"Wir sind ein Team von {n} Personen bei {company} und prüfen gerade {product}. Könnten Sie uns ein Angebot für {n} Lizenzen mit jährlicher Abrechnung schicken? Uns interessiert auch, ob es Mengenrabatt gibt."},
			{[]string{"Produktdemo für unsere Geschäftsführung", "Termin für eine Vorführung von {product}", "Demo-Anfrage"},
				"Ich möchte für nächste Woche eine Live-Vorführung von {product} für unsere Geschäftsführung vereinbaren. Besonders interessieren uns die Auswertungen und die Anbindung an unser CRM."},
			{[]string{"Upgrade von {plan} auf Enterprise", "Preis für einen Tarifwechsel", "Wechsel in den Enterprise-Tarif"},
				"Wir nutzen derzeit den {plan}-Tarif und möchten auf Enterprise wechseln. Was würde das für {n} Nutzer kosten, und können wir das bisherige Vertragsende beibehalten?"},
			{[]string{"Anfrage Partnerschaft als Wiederverkäufer", "Partnerprogramm für Systemhäuser", "Zusammenarbeit als Vertriebspartner"},
				"{company} ist ein Systemhaus in {city}. Wir würden Ihre Produkte gern an unsere Kunden weiterverkaufen. Mit wem kann ich über Partnerkonditionen, Margen und Vertriebsschulungen sprechen?"},
			{[]string{"Rabatt für gemeinnützige Organisationen?", "Preise für Schulen und Vereine", "Sonderkonditionen für Non-Profits"},
				"Gibt es bei Ihnen vergünstigte Preise für gemeinnützige Organisationen oder Schulen? Wir interessieren uns für {product} für etwa {n} Mitarbeitende und Ehrenamtliche."},
			{[]string{"Testphase von {product} verlängern", "Verlängerung des Testzugangs", "Mehr Zeit für die Evaluierung"},
				"Unsere Testphase von {product} endet in {days} Tagen, aber wir sind mit der Evaluierung noch nicht fertig. Könnten Sie den Testzugang um zwei Wochen verlängern? Ein Kauf ist sehr wahrscheinlich."},
			{[]string{"Verlängerungsangebot für unseren Vertrag", "Vertragsverlängerung für {n} Arbeitsplätze", "Angebot für drei Jahre Laufzeit"},
				"Unser Vertrag läuft am {date} aus. Bitte schicken Sie uns ein Verlängerungsangebot für {n} Arbeitsplätze, am liebsten mit drei Jahren Laufzeit und Festpreis, damit wir das Budget planen können."},
			{[]string{"Zusatzmodule und Preise", "Interesse am Analyse-Modul", "Informationen zu Erweiterungen"},
				"Wir setzen {product} ein und interessieren uns für Ihre Module für Auswertung und Automatisierung. Können Sie uns eine Preisliste schicken und sagen, ob man sie nur für einen Teil unserer {n} Nutzer lizenzieren kann?"},
		},
	},
	"Returns": {
		"en": {
			{[]string{"Item arrived damaged (order {order})", "Damaged {item} in delivery {order}", "Broken {item} received"},
				"The {item} from order {order} arrived with a cracked casing, and the box was clearly dented. I would like to return it and get a replacement. Please send me a return label."},
			{[]string{"Received the wrong item", "Wrong product in order {order}", "You sent me a {item2} instead of a {item}"},
				"I ordered a {item} but received a {item2} instead (order {order}). How do I send it back, and when will I get the product I actually ordered?"},
			{[]string{"Return request for order {order}", "I want to return my {item}", "How do I return an unused item?"},
				"I would like to return the {item} I bought on {date}. It is unused and still in the original packaging. What is the return process, and do I have to pay for shipping?"},
			{[]string{"Return label missing", "No return label for order {order}", "Still waiting for the return shipping label"},
				"I registered a return for order {order} in your portal, but I never received the return label. The return window closes in {days} days, so I would like to ship the {item} soon."},
			{[]string{"Return not confirmed yet", "Parcel returned, status still open", "Has my return arrived at your warehouse?"},
				"I sent back the {item} two weeks ago with tracking number {tracking}. The parcel was delivered to your warehouse, but the return still shows as open in my account."},
			{[]string{"Warranty replacement for defective {item}", "{item} stopped working after {weeks} weeks", "Defective {item} under warranty"},
				"My {item} stopped working after {weeks} weeks; it no longer switches on. It is still under warranty. Can I exchange it for a new one, and where should I send the defective unit?"},
			{[]string{"Exchange {item} for a different model", "Swap my {item} for the larger version", "Exchange instead of return"},
				"The {item} is too small for our setup. Can I exchange it for the larger model instead of returning it? I am happy to pay the price difference."},
		},
		"de": {
			{[]string{"Ware beschädigt angekommen (Bestellung {order})", "Beschädigte Lieferung {order}", "Artikel defekt geliefert"},
				"Der Artikel „{item}“ aus Bestellung {order} kam mit gesprungenem Gehäuse an, der Karton war deutlich eingedrückt. Ich möchte ihn zurücksenden und Ersatz bekommen. Bitte schicken Sie mir ein Rücksendeetikett."},
			{[]string{"Falscher Artikel geliefert", "Falsche Ware in Bestellung {order}", "Statt {item} kam {item2}"},
				"Ich habe „{item}“ bestellt, geliefert wurde aber „{item2}“ (Bestellung {order}). Wie schicke ich die falsche Ware zurück, und wann bekomme ich den bestellten Artikel?"},
			{[]string{"Rücksendung zu Bestellung {order}", "Retoure anmelden", "Wie kann ich einen unbenutzten Artikel zurückgeben?"},
				"Ich möchte den am {date} gekauften Artikel „{item}“ zurückgeben. Er ist unbenutzt und noch originalverpackt. Wie läuft die Rücksendung ab und wer trägt die Versandkosten?"},
			{[]string{"Rücksendeetikett fehlt", "Kein Retourenschein für Bestellung {order}", "Warte noch auf das Rücksendeetikett"},
				"Ich habe im Kundenportal eine Retoure für Bestellung {order} angemeldet, aber nie ein Rücksendeetikett erhalten. Die Rückgabefrist endet in {days} Tagen, ich würde das Paket gern bald abschicken."},
			{[]string{"Rücksendung noch nicht bestätigt", "Retoure angekommen, Status weiter offen", "Ist meine Rücksendung im Lager eingegangen?"},
				"Ich habe den Artikel „{item}“ vor zwei Wochen mit der Sendungsnummer {tracking} zurückgeschickt. Laut Sendungsverfolgung wurde das Paket im Lager zugestellt, die Retoure ist in meinem Konto aber immer noch offen."},
			{[]string{"Garantieaustausch für defekten Artikel", "Gerät nach {weeks} Wochen defekt", "Garantiefall: {item} funktioniert nicht mehr"},
				"Mein Artikel „{item}“ funktioniert nach {weeks} Wochen nicht mehr, er lässt sich nicht einschalten. Die Garantie läuft noch. Kann ich ihn gegen ein neues Gerät umtauschen, und wohin schicke ich das defekte Gerät?"},
			{[]string{"Umtausch gegen anderes Modell", "Artikel umtauschen statt zurückgeben", "Umtausch {item}"},
				"Der Artikel „{item}“ ist für unseren Arbeitsplatz zu klein. Kann ich ihn gegen das größere Modell umtauschen, statt ihn zurückzuschicken? Den Aufpreis zahle ich gern."},
		},
	},
	"Human Resources": {
		"en": {
			{[]string{"Vacation request for {month}", "Annual leave in {month}", "How many vacation days do I have left?"},
				"I would like to take {days} days of annual leave in {month}; my manager has already agreed. Could you also tell me how many vacation days I have left this year?"},
			{[]string{"Payslip for {month} missing", "Overtime not included in my salary", "Question about my payslip"},
				"I have not received my payslip for {month} yet. Also, the overtime I worked last month does not seem to be included in my salary."},
			{[]string{"Sick note submission", "Medical certificate for my sick leave", "Off sick since {date}"},
				"I have been on sick leave since {date} and my doctor has signed me off until the end of the week. Where should I send the medical certificate, and does my manager need a copy?"},
			{[]string{"Onboarding for new employee starting {date}", "New starter in our team", "Preparing the employment contract for {name2}"},
				"{name2} will join our team as {role} on {date}. Please prepare the employment contract, the onboarding plan and the welcome package, and let me know what documents you still need."},
			{[]string{"Request to switch to part-time", "Reducing my working hours after parental leave", "Part-time arrangement"},
				"After my parental leave I would like to reduce my working hours to {hours} hours per week. What do I need to submit, and who has to approve the new arrangement?"},
			{[]string{"Employment certificate needed", "Letter confirming my employment", "Proof of salary for a rental application"},
				"For a rental application I need a certificate confirming my employment, my salary and my start date. Could HR issue one for me?"},
			{[]string{"New bank details for salary payments", "Change of bank account", "Please update my IBAN"},
				"I have opened a new bank account. Please pay my salary to the new IBAN from next month on. I have already filled in the personnel data form."},
		},
		"de": {
			{[]string{"Urlaubsantrag für {month}", "Urlaub im {month}", "Wie viele Urlaubstage habe ich noch?"},
				"Ich möchte im {month} {days} Tage Urlaub nehmen, meine Vorgesetzte hat schon zugestimmt. Können Sie mir außerdem sagen, wie viel Resturlaub ich dieses Jahr noch habe?"},
			{[]string{"Gehaltsabrechnung für {month} fehlt", "Überstunden nicht abgerechnet", "Frage zur Lohnabrechnung"},
				"Meine Gehaltsabrechnung für {month} habe ich noch nicht bekommen. Außerdem scheinen die Überstunden aus dem letzten Monat im Gehalt nicht berücksichtigt zu sein."},
			{[]string{"Krankmeldung einreichen", "Arbeitsunfähigkeitsbescheinigung", "Krankgeschrieben seit {date}"},
				"Ich bin seit {date} krankgeschrieben, mein Arzt hat mich bis Ende der Woche arbeitsunfähig geschrieben. Wohin schicke ich die Arbeitsunfähigkeitsbescheinigung und braucht meine Vorgesetzte eine Kopie?"},
			{[]string{"Einarbeitung neuer Mitarbeiter ab {date}", "Neue Kollegin im Team", "Arbeitsvertrag für {name2} vorbereiten"},
				"{name2} fängt am {date} als {role} bei uns an. Bitte bereiten Sie den Arbeitsvertrag, den Einarbeitungsplan und das Willkommenspaket vor und sagen Sie mir, welche Unterlagen noch fehlen."},
			{[]string{"Antrag auf Teilzeit", "Arbeitszeit nach der Elternzeit reduzieren", "Teilzeitregelung"},
				"Nach meiner Elternzeit möchte ich meine Arbeitszeit auf {hours} Stunden pro Woche reduzieren. Was muss ich dafür einreichen und wer muss den Antrag genehmigen?"},
			{[]string{"Arbeitgeberbescheinigung benötigt", "Bestätigung meines Arbeitsverhältnisses", "Gehaltsnachweis für Wohnungsbewerbung"},
				"Für eine Wohnungsbewerbung brauche ich eine Arbeitgeberbescheinigung mit Gehalt und Eintrittsdatum. Könnte die Personalabteilung mir eine ausstellen?"},
			{[]string{"Neue Bankverbindung für das Gehalt", "Kontowechsel", "Bitte IBAN aktualisieren"},
				"Ich habe ein neues Konto eröffnet. Bitte überweisen Sie mein Gehalt ab nächstem Monat auf die neue IBAN. Das Personalstammblatt habe ich schon ausgefüllt."},
		},
	},
}

// demoExtras are optional detail sentences per queue and language.
var demoExtras = map[string]map[string][]string{
	"Billing": {
		"en": {"Our customer number is {custno}.", "I have attached the invoice as a PDF.", "Our accounts payable team needs this before closing the month.", "Please send billing correspondence to accounting@{domain} in future.", "We have been customers for {years} years and this has never happened before.", "The payment reference was {invoice}."},
		"de": {"Unsere Kundennummer lautet {custno}.", "Die Rechnung habe ich als PDF angehängt.", "Unsere Buchhaltung braucht das für den Monatsabschluss.", "Bitte schicken Sie Rechnungen künftig an buchhaltung@{domain}.", "Wir sind seit {years} Jahren Kunde und das ist bisher nie passiert.", "Als Verwendungszweck haben wir {invoice} angegeben."},
	},
	"Technical Support": {
		"en": {"I already cleared the browser cache and restarted the computer.", "The problem started after the update to version {version}.", "It happens on both Windows and Mac machines.", "I can send log files or screenshots if that helps.", "About {n} users are affected.", "Our IT contact is reachable at it@{domain}."},
		"de": {"Browser-Cache habe ich schon geleert und den Rechner neu gestartet.", "Das Problem tritt seit dem Update auf Version {version} auf.", "Es betrifft sowohl Windows- als auch Mac-Rechner.", "Logdateien oder Screenshots kann ich gern schicken.", "Betroffen sind etwa {n} Benutzer.", "Unsere IT erreichen Sie unter it@{domain}."},
	},
	"Sales": {
		"en": {"The budget for this project is approved for this quarter.", "We are also comparing offers from two other vendors.", "Please include pricing for onboarding and training.", "We would prefer annual billing.", "You can reach me by phone at {phone}.", "A reference customer in our industry would be helpful."},
		"de": {"Das Budget für das Projekt ist für dieses Quartal freigegeben.", "Wir vergleichen derzeit auch Angebote von zwei anderen Anbietern.", "Bitte nennen Sie auch die Kosten für Einrichtung und Schulung.", "Wir bevorzugen eine jährliche Abrechnung.", "Sie erreichen mich telefonisch unter {phone}.", "Ein Referenzkunde aus unserer Branche wäre hilfreich."},
	},
	"Returns": {
		"en": {"I still have the original packaging and the receipt.", "Photos of the damage are attached.", "I would prefer a replacement rather than a refund.", "Can the courier pick up the parcel from our office?", "The parcel was delivered on {date}.", "The order was placed under the email address {email}."},
		"de": {"Originalverpackung und Kaufbeleg habe ich noch.", "Fotos vom Schaden habe ich angehängt.", "Mir wäre Ersatz lieber als eine Erstattung.", "Kann der Paketdienst das Paket bei uns im Büro abholen?", "Das Paket wurde am {date} zugestellt.", "Bestellt wurde unter der E-Mail-Adresse {email}."},
	},
	"Human Resources": {
		"en": {"My employee number is {empno}.", "My team lead {name2} is in copy.", "Please let me know if you need any forms from me.", "I could not find this information on the intranet.", "Thank you for treating this confidentially."},
		"de": {"Meine Personalnummer ist {empno}.", "Meine Teamleitung {name2} ist in Kopie.", "Bitte sagen Sie mir, welche Formulare Sie von mir brauchen.", "Im Intranet habe ich dazu nichts gefunden.", "Danke, dass Sie das vertraulich behandeln."},
	},
}

// Urgency wording, by language.
var (
	demoHighSubject = map[string][]string{
		"en": {"URGENT: ", "Urgent - ", "ASAP: ", "[critical] "},
		"de": {"DRINGEND: ", "Dringend - ", "Eilt: ", "Sofort: "},
	}
	demoHighBody = map[string][]string{
		"en": {"This is urgent, please handle it today.", "Please treat this as urgent, we need a solution immediately.", "We need this resolved as soon as possible, the deadline is tomorrow.", "This is critical for us, please call me back right away.", "It is urgent: we cannot continue until this is fixed.", "Please handle this urgently, we are blocked.", "We need an answer today, this cannot wait."},
		"de": {"Das ist dringend, bitte heute noch bearbeiten.", "Bitte kümmern Sie sich sofort darum, wir brauchen umgehend eine Lösung.", "Die Frist läuft morgen ab, bitte dringend bearbeiten.", "Das ist für uns kritisch, bitte rufen Sie mich umgehend zurück.", "Es eilt: Wir können erst weiterarbeiten, wenn das gelöst ist.", "Bitte dringend heute noch erledigen, wir sind blockiert.", "Wir brauchen heute noch eine Antwort, das kann nicht warten."},
	}
	demoHighTech = map[string][]string{
		"en": {"The whole system is down for all users.", "Nobody in the office can work right now.", "Our production is down and we are losing orders every hour."},
		"de": {"Das komplette System ist für alle Benutzer ausgefallen.", "Im ganzen Büro kann gerade niemand arbeiten.", "Unsere Produktion steht still und wir verlieren stündlich Aufträge."},
	}
	demoLowBody = map[string][]string{
		"en": {"No rush, whenever you have time.", "This is not urgent at all.", "Whenever you get a chance is fine.", "It can wait until next week.", "Low priority, just for our records.", "Not urgent, whenever you have time is fine."},
		"de": {"Kein Stress, wenn Sie Zeit haben.", "Das hat keine Eile.", "Bei Gelegenheit wäre das nett.", "Es reicht, wenn Sie sich nächste Woche melden.", "Nicht dringend, nur zur Info.", "Wenn Sie Zeit haben, kein Stress."},
	}
	demoLowSubject = map[string][]string{
		"en": {" (not urgent)", " - no rush"},
		"de": {" (nicht dringend)", " - keine Eile"},
	}
	demoGreetings = map[string][]string{
		"en": {"Hello,", "Hi,", "Hi team,", "Dear support team,", "Good morning,", "Hello there,"},
		"de": {"Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,", "Hallo zusammen,", "Liebes Support-Team,", "Moin,"},
	}
	demoClosings = map[string][]string{
		"en": {"Thanks,", "Best regards,", "Kind regards,", "Many thanks in advance,", "Cheers,"},
		"de": {"Viele Grüße", "Mit freundlichen Grüßen", "Danke und Gruß", "Beste Grüße", "Vielen Dank im Voraus"},
	}
	demoResolutions = map[string][]string{
		"en": {"Thanks for reaching out. We have taken care of this and are closing the ticket; just reply if anything is still open.", "This has been resolved on our side. Closing the ticket.", "Done - please let us know if you need anything else."},
		"de": {"Vielen Dank für Ihre Nachricht. Wir haben das Anliegen erledigt und schließen das Ticket; melden Sie sich gern, falls noch etwas offen ist.", "Das ist auf unserer Seite erledigt. Wir schließen das Ticket.", "Erledigt - melden Sie sich gern, wenn Sie noch etwas brauchen."},
	}
)

// Slot values.
var (
	demoFirstNames = map[string][]string{
		"en": {"Emily", "James", "Olivia", "Daniel", "Grace", "Liam", "Chloe", "Noah", "Hannah", "Ethan", "Ava", "Samuel", "Ruby", "Owen", "Isla", "Lucas"},
		"de": {"Julia", "Jonas", "Katrin", "Stefan", "Miriam", "Tobias", "Sandra", "Florian", "Anja", "Matthias", "Jana", "Sebastian", "Leonie", "Dominik", "Carina", "Benedikt"},
	}
	demoLastNames = map[string][]string{
		"en": {"Clarke", "Hughes", "Patel", "Morgan", "Reid", "Foster", "Walsh", "Turner", "Bennett", "Collins", "Murphy", "Hayes", "Grant", "Ellis"},
		"de": {"Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann"},
	}
	demoCompanies = map[string][]string{
		"en": {"Northwind Logistics", "Bluefield Dental", "Harbor & Lane Architects", "Greenway Foods", "Crescent Media", "Oakridge Legal", "Summit Outdoor Gear", "Pinecrest Clinic"},
		"de": {"Müller Maschinenbau GmbH", "Bäckerei Sonnenschein", "Kanzlei Weber & Partner", "Stadtwerke Neuheim", "Alpenblick Hotel GmbH", "Elektro Brandt KG", "Praxis am Marktplatz", "Nordlicht Verlag"},
	}
	demoDomains  = []string{"example.com", "example.org", "example.net"}
	demoProducts = []string{"CloudDesk Pro", "NovaSync", "Aurora CRM", "PixelDock Manager", "Helix Backup", "TeamBoard", "LedgerLite", "FieldMate"}
	demoErrors   = map[string][]string{
		"en": {"Error 403: access denied", "HTTP 502 Bad Gateway", "ERR_CONNECTION_RESET", "License server not reachable", "Session expired, please sign in again", "Error 0x80070005", "Connection timed out", "Unexpected token in JSON at position 0", "Certificate has expired", "Out of memory"},
		"de": {"Zugriff verweigert (Fehler 403)", "HTTP 502 Bad Gateway", "Verbindung wurde zurückgesetzt", "Lizenzserver nicht erreichbar", "Sitzung abgelaufen, bitte neu anmelden", "Fehler 0x80070005", "Zeitüberschreitung der Verbindung", "Unbekannter Fehler (Code 500)", "Zertifikat abgelaufen", "Nicht genügend Arbeitsspeicher"},
	}
	demoSystems = map[string][]string{
		"en": {"VPN", "Wi-Fi", "remote desktop", "Citrix"},
		"de": {"VPN", "WLAN", "Remotedesktop", "Citrix"},
	}
	demoItems = map[string][]string{
		"en": {"headset", "monitor", "docking station", "keyboard", "webcam", "laptop bag", "office chair", "printer cartridge", "USB-C hub", "wireless mouse"},
		"de": {"Headset", "Monitor", "Dockingstation", "Tastatur", "Webcam", "Laptoptasche", "Bürostuhl", "Druckerpatrone", "USB-C-Hub", "Funkmaus"},
	}
	demoMonths = map[string][]string{
		"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		"de": {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
	}
	demoFloors = map[string][]string{
		"en": {"second", "third", "fourth", "fifth"},
		"de": {"2.", "3.", "4.", "5."},
	}
	demoRoles = map[string][]string{
		"en": {"a sales assistant", "a software developer", "an accountant", "a project manager", "a warehouse clerk"},
		"de": {"Vertriebsassistentin", "Softwareentwickler", "Buchhalterin", "Projektleiter", "Lagerist"},
	}
	demoCities = map[string][]string{
		"en": {"Leeds", "Bristol", "Dublin", "Manchester", "Glasgow"},
		"de": {"Leipzig", "Bremen", "Graz", "Dortmund", "Freiburg"},
	}
	demoPlans = []string{"Starter", "Business", "Professional"}
	// demoAgents own the history, two per queue.
	demoAgents = map[string][]string{
		"Billing":           {"maria.keller", "james.wood"},
		"Technical Support": {"lukas.wagner", "priya.nair"},
		"Sales":             {"sophie.martin", "felix.braun"},
		"Returns":           {"tom.baker", "elif.yilmaz"},
		"Human Resources":   {"anna.schmidt", "david.cohen"},
	}
)
