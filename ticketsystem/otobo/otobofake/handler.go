package otobofake

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

const giTime = "2006-01-02 15:04:05"

// opType is the operation type's name, which prefixes error codes
// (TicketGetList is a Ticket::TicketGet).
func opType(op string) string {
	if op == "TicketGetList" {
		return "TicketGet"
	}
	if op == "SessionDelete" {
		return "SessionRemove"
	}
	return op
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	lat := s.latency
	s.mu.Unlock()
	if lat > 0 {
		t := time.NewTimer(lat)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	rep := s.handle(r)
	if rep.Hang > 0 {
		t := time.NewTimer(rep.Hang)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if rep.Reset {
		resetConn(w)
		return
	}
	ct := rep.ContentType
	if ct == "" {
		ct = "application/json; charset=UTF-8"
	}
	for k, v := range rep.Header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(rep.Body)))
	w.WriteHeader(rep.Status)
	if rep.CutAt > 0 && rep.CutAt < len(rep.Body) {
		_, _ = io.WriteString(w, rep.Body[:rep.CutAt])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler) // drops the connection mid-body, without a log line
	}
	_, _ = io.WriteString(w, rep.Body)
}

// resetConn closes the request's connection with a TCP RST (no answer).
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func text500(msg string) *Reply {
	return &Reply{Status: 500, ContentType: "text/plain; charset=UTF-8", Body: msg}
}

func ok(v any) *Reply {
	b, err := json.Marshal(v)
	if err != nil {
		return Fault(err.Error())
	}
	return &Reply{Status: 200, ContentType: "application/json; charset=UTF-8", Body: string(b)}
}

// parseQuery splits the query string the way the GI does: on & or ;, each
// pair on =, + is a space, repeated keys become arrays, "" and "0" become "".
func parseQuery(raw string) map[string]any {
	out := map[string]any{}
	for _, pair := range strings.FieldsFunc(raw, func(r rune) bool { return r == '&' || r == ';' }) {
		parts := strings.Split(pair, "=")
		k, _ := url.QueryUnescape(strings.ReplaceAll(parts[0], "+", " "))
		v := ""
		if len(parts) > 1 {
			v, _ = url.QueryUnescape(strings.ReplaceAll(parts[1], "+", " "))
		}
		if v == "0" {
			v = ""
		}
		switch old := out[k].(type) {
		case nil:
			out[k] = v
		case string:
			out[k] = []any{old, v}
		case []any:
			out[k] = append(old, v)
		}
	}
	return out
}

func (s *Server) handle(r *http.Request) *Reply {
	prefix := s.opts.Prefix + "/Webservice/" + s.opts.WebserviceName
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p, prefix+"/") && p != prefix {
		// Unknown web service: HTTP 500 with an empty body.
		return &Reply{Status: 500, ContentType: "text/plain; charset=UTF-8"}
	}
	rest := strings.TrimPrefix(p, prefix)
	var op string
	var rt route
	for _, name := range slices.Sorted(maps.Keys(s.routes)) {
		c := s.routes[name]
		if c.method != r.Method {
			continue
		}
		if c.re.MatchString(rest) {
			op, rt = name, c
			break
		}
	}
	if op == "" {
		return text500(fmt.Sprintf("HTTP::REST Error while determine Operation for request URI '%s'.", rest))
	}
	data := map[string]any{}
	if r.Method != http.MethodGet {
		b, err := io.ReadAll(io.LimitReader(r.Body, 100<<20))
		if err != nil || len(strings.TrimSpace(string(b))) == 0 {
			if r.Method != http.MethodDelete {
				return text500("Error while decoding request content.")
			}
		} else {
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				return text500("Error while decoding request content.")
			}
			switch x := v.(type) {
			case map[string]any:
				data = x
			case []any:
				// An array of objects: the GI merges nothing sensible; keep the first.
				if len(x) > 0 {
					if m, ok := x[0].(map[string]any); ok {
						data = m
					}
				}
			default:
				return text500("Unsupported request content structure.")
			}
		}
	}
	maps.Copy(data, parseQuery(r.URL.RawQuery))
	m := rt.re.FindStringSubmatch(rest)
	for i, name := range rt.params {
		v, err := url.PathUnescape(m[i+1])
		if err != nil {
			v = m[i+1]
		}
		data[name] = v
	}
	req := Request{Operation: op, Method: r.Method, Path: rest, Data: data, Header: r.Header.Clone()}
	s.mu.Lock()
	s.calls[op]++
	if !s.opts.NoRequestLog {
		s.requests = append(s.requests, req)
	}
	hooks := slices.Clone(s.hooks)
	s.mu.Unlock()
	for _, h := range hooks {
		if rep := h(&req); rep != nil {
			return rep
		}
	}
	rep := s.apply(op, data)
	s.mu.Lock()
	after := slices.Clone(s.after)
	s.mu.Unlock()
	for _, h := range after {
		if r := h(&req, rep); r != nil {
			return r
		}
	}
	return rep
}

// apply runs the operation under the server's lock.
func (s *Server) apply(op string, data map[string]any) *Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch op {
	case "SessionCreate":
		return s.sessionCreate(data)
	case "SessionGet":
		return s.sessionGet(data)
	case "SessionDelete":
		if _, ok := s.sessions[str(data["SessionID"])]; !ok {
			return GIError("SessionRemove.Fail", "SessionRemove: Could not remove session!")
		}
		delete(s.sessions, str(data["SessionID"]))
		return ok(map[string]any{"Success": 1})
	}
	login, rep := s.auth(op, data)
	if rep != nil {
		return rep
	}
	switch op {
	case "TicketSearch":
		return s.ticketSearch(login, data)
	case "TicketGet", "TicketGetList":
		return s.ticketGet(login, data)
	case "TicketCreate":
		return s.ticketCreate(login, data)
	case "TicketUpdate":
		return s.ticketUpdate(login, data)
	case "TicketHistoryGet":
		return s.ticketHistory(login, data)
	}
	return text500("unhandled operation " + op)
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return ""
	}
	return fmt.Sprint(v)
}

// list reads a string-or-array parameter.
func list(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []string: // a multiselect dynamic field as the fake stores it
		var out []string
		for _, e := range x {
			if s := strings.TrimSpace(e); s != "" {
				out = append(out, s)
			}
		}
		return out
	case []any:
		var out []string
		for _, e := range x {
			if s := str(e); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	if s := str(v); s != "" {
		return []string{s}
	}
	return nil
}

func (s *Server) sessionCreate(d map[string]any) *Reply {
	login, cust, pw := str(d["UserLogin"]), str(d["CustomerUserLogin"]), str(d["Password"])
	if login == "" && cust == "" {
		return GIError("SessionCreate.MissingParameter", "SessionCreate: The request is empty!")
	}
	if pw == "" {
		return GIError("SessionCreate.MissingParameter", "SessionCreate: Password parameter is missing!")
	}
	if cust != "" || s.agents[login] == "" || s.agents[login] != pw {
		return GIError("SessionCreate.AuthFail", "SessionCreate: Authorization failing!")
	}
	id := newSessionID()
	s.sessions[id] = session{login: login, created: s.opts.Now()}
	return ok(map[string]string{"SessionID": id})
}

func (s *Server) validSession(id string) (string, bool) {
	se, ok := s.sessions[id]
	if !ok {
		return "", false
	}
	if s.opts.SessionTTL > 0 && s.opts.Now().Sub(se.created) > s.opts.SessionTTL {
		delete(s.sessions, id)
		return "", false
	}
	return se.login, true
}

func (s *Server) sessionGet(d map[string]any) *Reply {
	id := str(d["SessionID"])
	if id == "" {
		return GIError("SessionGet.MissingParameter", "SessionGet: SessionID is missing!")
	}
	login, ok2 := s.validSession(id)
	if !ok2 {
		return GIError("SessionGet.SessionInvalid", "SessionGet: SessionID is Invalid!")
	}
	return ok(map[string]any{"SessionData": []map[string]any{
		{"Key": "SessionSource", "Value": "GenericInterface"},
		{"Key": "UserID", "Value": strconv.Itoa(s.agentIDs[login])},
		{"Key": "UserLogin", "Value": login},
		{"Key": "UserType", "Value": "User"},
	}})
}

var authFailMsg = map[string]string{
	"TicketCreate":     "TicketCreate: User could not be authenticated!",
	"TicketUpdate":     "TicketUpdate: User could not be authenticated!",
	"TicketGet":        "TicketGet: Authorization failing!",
	"TicketSearch":     "TicketSearch: Authorization failing!",
	"TicketHistoryGet": "TicketHistoryGet: Authorization failing!",
}

// auth checks SessionID, or UserLogin+Password, per request.
func (s *Server) auth(op string, d map[string]any) (string, *Reply) {
	t := opType(op)
	fail := GIError(t+".AuthFail", authFailMsg[t])
	if sid := str(d["SessionID"]); sid != "" {
		login, ok := s.validSession(sid)
		if !ok {
			return "", fail
		}
		return login, nil
	}
	login, pw := str(d["UserLogin"]), str(d["Password"])
	if login == "" && str(d["CustomerUserLogin"]) == "" {
		if t == "TicketCreate" || t == "TicketUpdate" {
			return "", GIError(t+".MissingParameter", t+": UserLogin, CustomerUserLogin or SessionID is required!")
		}
		return "", fail
	}
	if pw == "" {
		if t == "TicketCreate" || t == "TicketUpdate" {
			return "", GIError(t+".MissingParameter", t+": Password or SessionID is required!")
		}
		return "", fail
	}
	if login == "" || s.agents[login] == "" || s.agents[login] != pw {
		return "", fail
	}
	return login, nil
}

func (s *Server) ticketByID(id string) (*Ticket, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(id))
	if err != nil {
		return nil, false
	}
	t, ok := s.tickets[n]
	return t, ok
}

func (s *Server) stateType(name string) string {
	e, _ := find(s.states, name, "")
	return e.typ
}

func idOf(es []entity, name string) int {
	e, _ := find(es, name, "")
	return e.id
}

// likeMatch matches a GI search pattern (* or % wildcards), case-insensitively.
func likeMatch(pattern, v string) bool {
	pattern = strings.ToLower(strings.ReplaceAll(pattern, "%", "*"))
	v = strings.ToLower(v)
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == v
	}
	if !strings.HasPrefix(v, parts[0]) {
		return false
	}
	v = v[len(parts[0]):]
	for i, p := range parts[1:] {
		last := i == len(parts)-2
		if last {
			return strings.HasSuffix(v, p)
		}
		j := strings.Index(v, p)
		if j < 0 {
			return false
		}
		v = v[j+len(p):]
	}
	return true
}

func (s *Server) ticketSearch(login string, d map[string]any) *Reply {
	inNames := func(key, val string) bool {
		l := list(d[key])
		return l == nil || slices.ContainsFunc(l, func(x string) bool { return strings.EqualFold(x, val) })
	}
	inIDs := func(key string, id int) bool {
		l := list(d[key])
		return l == nil || slices.Contains(l, strconv.Itoa(id))
	}
	timeFilter := func(prefix string, t time.Time) bool {
		if v := str(d[prefix+"NewerDate"]); v != "" {
			b, err := time.ParseInLocation(giTime, v, s.opts.Location)
			if err == nil && t.Before(b) {
				return false
			}
		}
		if v := str(d[prefix+"OlderDate"]); v != "" {
			b, err := time.ParseInLocation(giTime, v, s.opts.Location)
			if err == nil && t.After(b) {
				return false
			}
		}
		return true
	}
	dfFilters := dynamicFieldFilters(d)
	var hits []*Ticket
	for _, t := range s.tickets {
		st := s.stateType(t.State)
		switch {
		case !s.may(login, t.Queue, PermRO),
			str(d["TicketNumber"]) != "" && !likeMatch(str(d["TicketNumber"]), t.Number),
			str(d["Title"]) != "" && !likeMatch(str(d["Title"]), t.Title),
			!inNames("Queues", t.Queue), !inIDs("QueueIDs", idOf(s.queues, t.Queue)),
			!inNames("States", t.State), !inIDs("StateIDs", idOf(s.states, t.State)),
			!inNames("Priorities", t.Priority), !inIDs("PriorityIDs", idOf(s.priorities, t.Priority)),
			!inNames("Types", t.Type), !inIDs("TypeIDs", idOf(s.types, t.Type)),
			!inIDs("OwnerIDs", s.agentIDs[t.Owner]),
			str(d["CustomerUserLogin"]) != "" && !strings.EqualFold(str(d["CustomerUserLogin"]), t.CustomerUser),
			!timeFilter("TicketCreateTime", t.Created), !timeFilter("TicketLastChangeTime", t.Changed):
			continue
		}
		if l := list(d["StateType"]); l != nil && !slices.ContainsFunc(l, func(x string) bool {
			switch x { // the meta values are case-sensitive, as in TicketSearch
			case "Open":
				return st == "new" || st == "open" || strings.HasPrefix(st, "pending")
			case "Closed":
				return st == "closed" || st == "removed" || st == "merged"
			}
			return strings.EqualFold(x, st)
		}) {
			continue
		}
		if !matchDynamicFields(dfFilters, t.DynamicFields) {
			continue
		}
		hits = append(hits, t)
	}
	up := strings.EqualFold(str(d["OrderBy"]), "Up")
	sortBy := orDefault(str(d["SortBy"]), "Age")
	sort.Slice(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		var less, eq bool
		switch sortBy {
		case "Changed":
			less, eq = a.Changed.Before(b.Changed), a.Changed.Equal(b.Changed)
		case "Title":
			less, eq = a.Title < b.Title, a.Title == b.Title
		case "TicketNumber":
			less, eq = a.Number < b.Number, a.Number == b.Number
		default: // Age: creation time
			less, eq = a.Created.Before(b.Created), a.Created.Equal(b.Created)
		}
		if eq {
			ai, _ := strconv.Atoi(a.ID)
			bi, _ := strconv.Atoi(b.ID)
			return ai < bi
		}
		if up {
			return less
		}
		return !less
	})
	limit := 500
	if n, err := strconv.Atoi(str(d["Limit"])); err == nil && n > 0 {
		limit = n
	}
	if len(hits) > limit {
		hits = hits[:limit]
	}
	if len(hits) == 0 {
		return ok(map[string]any{})
	}
	ids := make([]string, len(hits))
	for i, t := range hits {
		ids[i] = t.ID
	}
	return ok(map[string]any{"TicketID": ids})
}

type dfFilter struct {
	name string
	ops  map[string]any
}

func dynamicFieldFilters(d map[string]any) []dfFilter {
	var out []dfFilter
	addObj := func(name string, m map[string]any) {
		ops := maps.Clone(m)
		delete(ops, "Name")
		out = append(out, dfFilter{name, ops})
	}
	switch x := d["DynamicField"].(type) {
	case map[string]any:
		addObj(str(x["Name"]), x)
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				addObj(str(m["Name"]), m)
			}
		}
	}
	for k, v := range d {
		if name, ok := strings.CutPrefix(k, "DynamicField_"); ok {
			if m, ok := v.(map[string]any); ok { // a query-string value is silently ignored, as in the GI
				addObj(name, m)
			}
		}
	}
	return out
}

func matchDynamicFields(fs []dfFilter, values map[string]any) bool {
	for _, f := range fs {
		vals := list(values[f.name])
		for op, arg := range f.ops {
			want := list(arg)
			switch op {
			case "Empty":
				empty := len(vals) == 0
				if (str(arg) == "1") != empty {
					return false
				}
			case "Equals":
				if !slices.ContainsFunc(vals, func(v string) bool { return slices.Contains(want, v) }) {
					return false
				}
			case "Like":
				if !slices.ContainsFunc(vals, func(v string) bool {
					return slices.ContainsFunc(want, func(p string) bool { return likeMatch(p, v) })
				}) {
					return false
				}
			}
		}
	}
	return true
}

func (s *Server) num(id int) any {
	if s.opts.StringIDs {
		return strconv.Itoa(id)
	}
	return id
}

func (s *Server) ticketJSON(t *Ticket, d map[string]any) map[string]any {
	tid, _ := strconv.Atoi(t.ID)
	st, _ := find(s.states, t.State, "")
	loc := s.opts.Location
	m := map[string]any{
		"Age": int(s.opts.Now().Sub(t.Created).Seconds()), "ArchiveFlag": "n",
		"ChangeBy": s.num(1), "Changed": t.Changed.In(loc).Format(giTime), "CreateBy": s.num(1),
		"Created": t.Created.In(loc).Format(giTime), "CustomerID": "ACME", "CustomerUserID": t.CustomerUser,
		"EscalationResponseTime": 0, "EscalationSolutionTime": 0, "EscalationTime": 0, "EscalationUpdateTime": 0,
		"GroupID": s.num(1), "Lock": "unlock", "LockID": s.num(1), "Owner": t.Owner, "OwnerID": s.num(s.agentIDs[t.Owner]),
		"Priority": t.Priority, "PriorityColor": "#cdcdcd", "PriorityID": s.num(idOf(s.priorities, t.Priority)),
		"Queue": t.Queue, "QueueID": s.num(idOf(s.queues, t.Queue)), "RealTillTimeNotUsed": 0,
		"Responsible": "root@localhost", "ResponsibleID": s.num(1), "SLAID": "", "ServiceID": "",
		"State": t.State, "StateID": s.num(st.id), "StateType": st.typ, "TicketID": s.num(tid),
		"TicketNumber": t.Number, "TimeUnit": 0, "Title": t.Title, "Type": t.Type,
		"TypeID": s.num(idOf(s.types, t.Type)), "UnlockTimeout": 0, "UntilTime": 0,
	}
	if str(d["DynamicFields"]) == "1" {
		var dfs []map[string]any
		for _, name := range s.dynFields {
			dfs = append(dfs, map[string]any{"Name": name, "Value": t.DynamicFields[name]})
		}
		m["DynamicField"] = dfs
	}
	if str(d["AllArticles"]) == "1" {
		arts := slices.Clone(t.Articles)
		if senders := list(d["ArticleSenderType"]); senders != nil {
			arts = slices.DeleteFunc(arts, func(a Article) bool { return !slices.Contains(senders, a.SenderType) })
		}
		if strings.EqualFold(str(d["ArticleOrder"]), "DESC") {
			slices.Reverse(arts)
		}
		if n, err := strconv.Atoi(str(d["ArticleLimit"])); err == nil && n > 0 && len(arts) > n {
			arts = arts[:n]
		}
		out := []map[string]any{}
		for i, a := range arts {
			aid, _ := strconv.Atoi(a.ID)
			mime, charset, _ := strings.Cut(a.ContentType, ";")
			charset = strings.TrimPrefix(strings.TrimSpace(charset), "charset=")
			vis := 0
			if a.IsVisibleForCustomer {
				vis = 1
			}
			sender := map[string]string{"agent": "1", "system": "2", "customer": "3"}[a.SenderType]
			out = append(out, map[string]any{
				"ArticleID": s.num(aid), "ArticleNumber": i + 1, "Bcc": "", "Body": a.Body, "Cc": "",
				"ChangeBy": s.num(1), "ChangeTime": a.Created.In(loc).Format(giTime), "Charset": charset,
				"CommunicationChannelID": s.num(map[string]int{"Email": 1, "Phone": 2, "Internal": 3, "Chat": 4}[a.Channel]),
				"ContentCharset":         charset, "ContentType": a.ContentType, "CreateBy": s.num(1),
				"CreateTime": a.Created.In(loc).Format(giTime), "From": a.From, "InReplyTo": "",
				"IncomingTime": a.Created.Unix(), "IsVisibleForCustomer": vis, "MessageID": "",
				"MimeType": strings.TrimSpace(mime), "References": "", "ReplyTo": "", "SenderType": a.SenderType,
				"SenderTypeID": sender, "Subject": a.Subject, "TicketID": s.num(tid), "TimeUnit": 0, "To": t.Queue,
			})
		}
		m["Article"] = out
	}
	return m
}

func (s *Server) ticketGet(login string, d map[string]any) *Reply {
	var ids []string
	for _, v := range list(d["TicketID"]) {
		ids = append(ids, strings.Split(v, ",")...)
	}
	if len(ids) == 0 {
		return GIError("TicketGet.MissingParameter", "TicketGet: TicketID parameter is missing!")
	}
	var out []map[string]any
	for _, id := range ids {
		t, found := s.ticketByID(id)
		if !found || !s.may(login, t.Queue, PermRO) {
			return GIError("TicketGet.AccessDenied", "TicketGet: User does not have access to the ticket!")
		}
		out = append(out, s.ticketJSON(t, d))
	}
	return ok(map[string]any{"Ticket": out})
}

func (s *Server) ticketHistory(login string, d map[string]any) *Reply {
	t, found := s.ticketByID(str(d["TicketID"]))
	if !found || !s.may(login, t.Queue, PermRO) {
		return GIError("TicketHistoryGet.AccessDenied", "TicketHistoryGet: User does not have access to the ticket!")
	}
	var hist []map[string]any
	for _, a := range t.Articles {
		hist = append(hist, map[string]any{"TicketID": t.ID, "ArticleID": a.ID, "HistoryType": "AddNote",
			"Name": "%%", "CreateTime": a.Created.In(s.opts.Location).Format(giTime)})
	}
	return ok(map[string]any{"TicketHistory": []map[string]any{{"TicketID": t.ID, "History": hist}}})
}

// resolve looks an entity up by name (key) or id (key+"ID"). It returns
// set=false when neither is given.
func resolve(es []entity, d map[string]any, key string) (e entity, set, valid bool) {
	name, id := str(d[key]), str(d[key+"ID"])
	if name == "" && id == "" {
		return entity{}, false, false
	}
	if id != "" {
		e, valid = find(es, "", id)
	} else {
		e, valid = find(es, name, "")
	}
	return e, true, valid
}

func (s *Server) checkArticle(op string, a map[string]any) *Reply {
	for _, k := range []string{"Subject", "Body"} {
		if str(a[k]) == "" {
			return GIError(op+".MissingParameter", fmt.Sprintf("%s: Article->%s parameter is missing!", op, k))
		}
	}
	if str(a["ContentType"]) == "" && (str(a["MimeType"]) == "" || str(a["Charset"]) == "") {
		return GIError(op+".MissingParameter", op+": Article->ContentType or MimeType and Charset parameters are missing!")
	}
	if ch := str(a["CommunicationChannel"]); ch != "" && ch != "Email" && ch != "Internal" && ch != "Phone" {
		return GIError(op+".InvalidParameter", op+": Article->CommunicationChannel parameter is invalid!")
	}
	return nil
}

func (s *Server) newArticle(a map[string]any, defaultVisible bool, from string) Article {
	vis := defaultVisible
	if v, ok := a["IsVisibleForCustomer"]; ok {
		vis = str(v) == "1"
	}
	ct := str(a["ContentType"])
	if ct == "" {
		ct = str(a["MimeType"]) + "; charset=" + str(a["Charset"])
	}
	art := Article{ID: strconv.Itoa(s.nextArt), Channel: orDefault(str(a["CommunicationChannel"]), "Internal"),
		SenderType: orDefault(str(a["SenderType"]), "agent"), IsVisibleForCustomer: vis,
		From: orDefault(str(a["From"]), from), Subject: str(a["Subject"]), Body: fmt.Sprint(orAny(a["Body"], "")),
		ContentType: strings.ToLower(ct), Created: s.opts.Now().Truncate(time.Second)}
	s.nextArt++
	return art
}

func orAny(v, d any) any {
	if v == nil {
		return d
	}
	return v
}

// dynamicFieldItems validates DynamicField (object or array) items.
func (s *Server) dynamicFieldItems(op string, v any) (map[string]any, *Reply) {
	var items []map[string]any
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		items = []map[string]any{x}
	case []any:
		for _, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, Fault(op + ": DynamicField item is not a hash")
			}
			items = append(items, m)
		}
	default:
		return nil, Fault(op + ": DynamicField is not a hash")
	}
	out := map[string]any{}
	for _, m := range items {
		name := str(m["Name"])
		if name == "" {
			return nil, GIError(op+".MissingParameter", op+": DynamicField->Name parameter is missing!")
		}
		if !slices.Contains(s.dynFields, name) {
			return nil, GIError(op+".InvalidParameter", op+": DynamicField->Name parameter is invalid!")
		}
		val, present := m["Value"]
		if !present || val == nil {
			return nil, GIError(op+".MissingParameter", op+": DynamicField->Value parameter is missing!")
		}
		switch x := val.(type) {
		case string:
			out[name] = x
		case float64:
			out[name] = str(x)
		case []any:
			var l []string
			for _, e := range x {
				l = append(l, str(e))
			}
			out[name] = l
		default:
			return nil, GIError(op+".InvalidParameter", op+": DynamicField->Value parameter is invalid!")
		}
	}
	return out, nil
}

func (s *Server) ticketCreate(login string, d map[string]any) *Reply {
	const op = "TicketCreate"
	tk, okT := d["Ticket"].(map[string]any)
	if !okT || len(tk) == 0 {
		return GIError(op+".MissingParameter", op+": Ticket parameter is missing or not valid!")
	}
	art, okA := d["Article"].(map[string]any)
	if !okA || len(art) == 0 {
		return GIError(op+".MissingParameter", op+": Article parameter is missing or not valid!")
	}
	for _, k := range []string{"Title", "CustomerUser"} {
		if str(tk[k]) == "" {
			return GIError(op+".MissingParameter", fmt.Sprintf("%s: Ticket->%s parameter is missing!", op, k))
		}
	}
	var q, st, pr, ty entity
	for _, c := range []struct {
		key      string
		es       []entity
		dst      *entity
		required bool
	}{{"Queue", s.queues, &q, true}, {"State", s.states, &st, true}, {"Priority", s.priorities, &pr, true}, {"Type", s.types, &ty, false}} {
		e, set, valid := resolve(c.es, tk, c.key)
		if !set && c.required {
			return GIError(op+".MissingParameter", fmt.Sprintf("%s: Ticket->%sID or Ticket->%s parameter is missing!", op, c.key, c.key))
		}
		if set && !valid {
			return GIError(op+".InvalidParameter", fmt.Sprintf("%s: Ticket->%sID or Ticket->%s parameter is invalid!", op, c.key, c.key))
		}
		*c.dst = e
	}
	owner := login
	if o := str(tk["Owner"]); o != "" {
		if _, ok := s.agentIDs[o]; !ok {
			return GIError(op+".InvalidParameter", op+": Ticket->OwnerID or Ticket->Owner parameter is invalid!")
		}
		owner = o
	}
	if rep := s.checkArticle(op, art); rep != nil {
		return rep
	}
	dfs, rep := s.dynamicFieldItems(op, d["DynamicField"])
	if rep != nil {
		return rep
	}
	if !s.may(login, q.name, PermCreate) {
		return GIError(op+".AccessDenied", op+": Can not create tickets in given Queue or QueueID!")
	}
	now := s.opts.Now().Truncate(time.Second)
	t := &Ticket{Title: str(tk["Title"]), Queue: q.name, State: st.name, Priority: pr.name,
		Type: orDefault(ty.name, "Unclassified"), Owner: owner, CustomerUser: str(tk["CustomerUser"]),
		Created: now, Changed: now, DynamicFields: dfs}
	a := s.newArticle(art, true, login)
	t.Articles = []Article{a}
	id := s.nextTicket
	s.nextTicket++
	t.ID = strconv.Itoa(id)
	t.Number = fmt.Sprintf("%s10%06d", now.In(s.opts.Location).Format("20060102"), id)
	s.tickets[id] = t
	// As recorded: ArticleID is a string after session auth and a number
	// after UserLogin auth (the values come from different code paths).
	var artID any = a.ID
	if str(d["SessionID"]) == "" {
		artID, _ = strconv.Atoi(a.ID)
	}
	return ok(map[string]any{"TicketID": t.ID, "TicketNumber": t.Number, "ArticleID": artID})
}

func (s *Server) ticketUpdate(login string, d map[string]any) *Reply {
	const op = "TicketUpdate"
	t, found := s.ticketByID(str(d["TicketID"]))
	if n := str(d["TicketNumber"]); n != "" {
		found = false
		for _, x := range s.tickets {
			if x.Number == n {
				t, found = x, true
			}
		}
	}
	if !found || !s.may(login, t.Queue, PermRO) {
		return GIError(op+".AccessDenied", op+": User does not have access to the ticket!")
	}
	changed := false
	if tv, present := d["Ticket"]; present {
		tk, isObj := tv.(map[string]any)
		if !isObj {
			return GIError(op+".InvalidParameter", op+": Ticket parameter is invalid!")
		}
		// Validate everything first (the real GI checks before it writes).
		q, qSet, qValid := resolve(s.queues, tk, "Queue")
		st, stSet, stValid := resolve(s.states, tk, "State")
		pr, prSet, prValid := resolve(s.priorities, tk, "Priority")
		ty, tySet, tyValid := resolve(s.types, tk, "Type")
		switch {
		case qSet && !qValid:
			return GIError(op+".InvalidParameter", op+": Ticket->QueueID or Ticket->Queue parameter is invalid!")
		case stSet && !stValid:
			return GIError(op+".InvalidParameter", op+": Ticket->StateID or Ticket->State parameter is invalid!")
		case prSet && !prValid:
			return GIError(op+".InvalidParameter", op+": Ticket->PriorityID or Ticket->Priority parameter is invalid!")
		case tySet && !tyValid:
			return GIError(op+".InvalidParameter", op+": Ticket->TypeID or Ticket->Type parameter is invalid!")
		case stSet && strings.HasPrefix(st.typ, "pending") && tk["PendingTime"] == nil:
			return GIError(op+".MissingParameter", op+": Can't set a ticket on a pending state without pendig time!")
		case qSet && !s.may(login, t.Queue, PermMove):
			// The GI checks 'move' on the ticket's current queue, even when
			// the queue does not change; the target queue is not checked.
			return GIError(op+".AccessDenied", op+": Does not have permissions to update queue!")
		case prSet && !s.may(login, t.Queue, PermPriority):
			return GIError(op+".AccessDenied", op+": Does not have permissions to update priority!")
		}
		owner := str(tk["Owner"])
		if owner != "" {
			if _, ok := s.agentIDs[owner]; !ok {
				return GIError(op+".InvalidParameter", op+": Ticket->OwnerID or Ticket->Owner parameter is invalid!")
			}
			if !s.may(login, t.Queue, PermOwner) {
				return GIError(op+".AccessDenied", op+": Does not have permissions to update owner!")
			}
		}
		before := [...]string{t.Title, t.Queue, t.State, t.Priority, t.Type, t.Owner}
		if v := str(tk["Title"]); v != "" {
			t.Title = v
		}
		if qSet {
			t.Queue = q.name
		}
		if stSet {
			t.State = st.name
		}
		if prSet {
			t.Priority = pr.name
		}
		if tySet {
			t.Type = ty.name
		}
		if owner != "" {
			t.Owner = owner
		}
		// Data that is the same as stored changes nothing (after the
		// permission checks above, as in the GI).
		changed = before != [...]string{t.Title, t.Queue, t.State, t.Priority, t.Type, t.Owner}
	}
	reply := map[string]any{"TicketID": str(d["TicketID"]), "TicketNumber": t.Number}
	if av, present := d["Article"]; present {
		art, isObj := av.(map[string]any)
		if !isObj {
			return GIError(op+".InvalidParameter", op+": Article parameter is invalid!")
		}
		if rep := s.checkArticle(op, art); rep != nil {
			return rep
		}
		if !s.may(login, t.Queue, PermNote) {
			return GIError(op+".AccessDenied", op+": Does not have permissions to create new articles!")
		}
		a := s.newArticle(art, true, login) // IsVisibleForCustomer defaults to 1, as shipped
		t.Articles = append(t.Articles, a)
		n, _ := strconv.Atoi(a.ID)
		reply["ArticleID"] = n
		changed = true
	}
	if dv, present := d["DynamicField"]; present {
		dfs, rep := s.dynamicFieldItems(op, dv)
		if rep != nil {
			return rep
		}
		if !s.may(login, t.Queue, PermRW) {
			return GIError(op+".AccessDenied", op+": Does not have permissions to update dynamic fields!")
		}
		if t.DynamicFields == nil {
			t.DynamicFields = map[string]any{}
		}
		for k, v := range dfs {
			if v == "" {
				delete(t.DynamicFields, k)
			} else {
				t.DynamicFields[k] = v
			}
		}
		changed = true
	}
	if changed {
		t.Changed = s.opts.Now().Truncate(time.Second)
	}
	return ok(reply)
}
