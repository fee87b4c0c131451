// Package imap is netplay's IMAP: a server on
// github.com/emersion/go-imap/v2/imapserver whose mailboxes are a
// mail.Store (shared with the SMTP and POP3 servers) and the dialling and
// tracing of a client on imapclient, in plain Go (the module imap is
// runtime/imap/imapmod).
//
// The session code follows go-imap's own imapmemserver (MIT licence,
// Copyright (c) 2013 The Go-IMAP Authors), adapted to mail.Store.
package imap

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	gomessage "github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"github.com/netplay-dev/netplay/runtime/mail"
	"github.com/netplay-dev/netplay/runtime/stack"
)

const delim rune = '/'

// Config configures a server.
type Config struct {
	Store *mail.Store
	Users map[string]string // nil: any user, any password
	Clock stack.Clock
	Logf  func(string)
	// IdleTimeout ends a connection silent this long, on Clock (default
	// DefaultIdleTimeout); MaxBytes bounds an APPENDed message (default
	// DefaultMaxBytes).
	IdleTimeout time.Duration
	MaxBytes    int64
}

// DefaultIdleTimeout is RFC 9051's thirty minutes (section 5.4).
const DefaultIdleTimeout = 30 * time.Minute

// DefaultMaxBytes is the largest message APPEND takes by default, as real
// servers' 10 MB.
const DefaultMaxBytes = 10 << 20

// AppendLimit tells go-imap the largest message APPEND may upload; it
// refuses larger literals before reading them.
func (s *session) AppendLimit() uint32 { return uint32(min(s.cfg.MaxBytes, 1<<32-1)) }

type session struct {
	cfg  *Config
	user *mail.User
	view *view
}

var _ imapserver.SessionIMAP4rev2 = (*session)(nil)

func (s *session) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(fmt.Sprintf(format, args...))
	}
}

func (s *session) Close() error {
	if s.view != nil {
		s.view.close()
		s.view = nil
	}
	return nil
}

func (s *session) Login(username, password string) error {
	name := strings.ToLower(username)
	if s.cfg.Users != nil {
		want, ok := s.cfg.Users[name]
		if !ok || subtle.ConstantTimeCompare([]byte(want), []byte(password)) != 1 {
			s.logf("login failed for %s", name)
			return imapserver.ErrAuthFailed
		}
	}
	s.user = s.cfg.Store.User(name, true)
	s.logf("%s logged in", name)
	return nil
}

func noSuchMailbox() error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeNonExistent, Text: "No such mailbox"}
}

func (s *session) folder(name string) (*mail.Folder, error) {
	f := s.user.Folder(name)
	if f == nil {
		return nil, noSuchMailbox()
	}
	return f, nil
}

func (s *session) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	f, err := s.folder(name)
	if err != nil {
		return nil, err
	}
	if s.view != nil {
		s.view.close()
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	s.view = &view{f: f, tracker: f.Tracker.NewSession()}
	return selectDataLocked(f), nil
}

func (s *session) Unselect() error {
	if s.view != nil {
		s.view.close()
		s.view = nil
	}
	return nil
}

func storeErr(err error) error {
	switch err {
	case nil:
		return nil
	case mail.ErrExists:
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAlreadyExists, Text: "Mailbox already exists"}
	case mail.ErrNoFolder:
		return noSuchMailbox()
	}
	return &imap.Error{Type: imap.StatusResponseTypeNo, Text: err.Error()}
}

func (s *session) Create(name string, options *imap.CreateOptions) error {
	err := storeErr(s.user.Create(name))
	if err == nil {
		s.logf("%s created %s", s.user.Name, name)
	}
	return err
}
func (s *session) Delete(name string) error { return storeErr(s.user.Delete(name)) }
func (s *session) Rename(old, new string, options *imap.RenameOptions) error {
	return storeErr(s.user.Rename(old, new))
}

func (s *session) setSubscribed(name string, sub bool) error {
	f, err := s.folder(name)
	if err != nil {
		return err
	}
	f.Mu.Lock()
	f.Subscribed = sub
	f.Mu.Unlock()
	return nil
}
func (s *session) Subscribe(name string) error   { return s.setSubscribed(name, true) }
func (s *session) Unsubscribe(name string) error { return s.setSubscribed(name, false) }

func (s *session) Namespace() (*imap.NamespaceData, error) {
	return &imap.NamespaceData{Personal: []imap.NamespaceDescriptor{{Delim: delim}}}, nil
}

func (s *session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	if len(patterns) == 0 {
		return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: delim})
	}
	var l []imap.ListData
	for _, name := range s.user.Folders() {
		match := false
		for _, p := range patterns {
			if imapserver.MatchList(name, delim, ref, p) {
				match = true
				break
			}
		}
		if !match {
			continue
		}
		f := s.user.Folder(name)
		if f == nil {
			continue
		}
		f.Mu.Lock()
		if options.SelectSubscribed && !f.Subscribed {
			f.Mu.Unlock()
			continue
		}
		if options.SelectSpecialUse {
			f.Mu.Unlock()
			continue
		}
		data := imap.ListData{Mailbox: f.Name, Delim: delim}
		if f.Subscribed {
			data.Attrs = append(data.Attrs, imap.MailboxAttrSubscribed)
		}
		if options.ReturnStatus != nil {
			data.Status = statusDataLocked(f, options.ReturnStatus)
		}
		f.Mu.Unlock()
		l = append(l, data)
	}
	sort.Slice(l, func(i, j int) bool { return l[i].Mailbox < l[j].Mailbox })
	for i := range l {
		if err := w.WriteList(&l[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) Status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	f, err := s.folder(name)
	if err != nil {
		return nil, err
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	return statusDataLocked(f, options), nil
}

func (s *session) now() time.Time {
	if s.cfg.Clock != nil {
		return s.cfg.Clock.Now()
	}
	return time.Unix(0, 0)
}

func (s *session) Append(name string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	f := s.user.Folder(name)
	if f == nil {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeTryCreate, Text: "No such mailbox"}
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	t := options.Time
	if t.IsZero() {
		t = s.now()
	}
	var flags []string
	for _, fl := range options.Flags {
		flags = append(flags, string(fl))
	}
	m := f.Append(buf.Bytes(), t, flags)
	return &imap.AppendData{UIDValidity: f.UIDValidity, UID: imap.UID(m.UID)}, nil
}

func (s *session) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if s.view == nil {
		return nil
	}
	return s.view.tracker.Poll(w, allowExpunge)
}

func (s *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if s.view == nil {
		return nil
	}
	return s.view.tracker.Idle(w, stop)
}

func (s *session) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	f := s.view.f
	f.Mu.Lock()
	defer f.Mu.Unlock()
	set := map[*mail.Message]bool{}
	for _, m := range f.Msgs {
		if uids != nil && !uids.Contains(imap.UID(m.UID)) {
			continue
		}
		if _, ok := m.Flags[`\Deleted`]; ok {
			set[m] = true
		}
	}
	if len(set) > 0 {
		f.RemoveLocked(set)
	}
	return nil
}

func (s *session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	return s.view.search(kind, criteria, options), nil
}

func (s *session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	return s.view.fetch(w, numSet, options)
}

func (s *session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	v := s.view
	v.forEach(numSet, func(seq uint32, m *mail.Message) {
		storeFlags(m, flags)
		v.f.Tracker.QueueMessageFlags(seq, imap.UID(m.UID), flagList(m), v.tracker)
	})
	if !flags.Silent {
		return v.fetch(w, numSet, &imap.FetchOptions{Flags: true})
	}
	return nil
}

func (s *session) Copy(numSet imap.NumSet, destName string) (*imap.CopyData, error) {
	dest := s.user.Folder(destName)
	if dest == nil {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeTryCreate, Text: "No such mailbox"}
	}
	if dest == s.view.f {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "Source and destination mailboxes are identical"}
	}
	var src, dst imap.UIDSet
	type item struct {
		raw   []byte
		t     time.Time
		flags []string
		uid   uint32
	}
	var items []item
	s.view.forEach(numSet, func(seq uint32, m *mail.Message) {
		items = append(items, item{m.Raw, m.Time, m.FlagList(), m.UID})
	})
	for _, it := range items {
		nm := dest.Append(it.raw, it.t, it.flags)
		src.AddNum(imap.UID(it.uid))
		dst.AddNum(imap.UID(nm.UID))
	}
	return &imap.CopyData{UIDValidity: dest.UIDValidity, SourceUIDs: src, DestUIDs: dst}, nil
}

func (s *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, destName string) error {
	dest := s.user.Folder(destName)
	if dest == nil {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeTryCreate, Text: "No such mailbox"}
	}
	v := s.view
	if dest == v.f {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Text: "Source and destination mailboxes are identical"}
	}
	v.f.Mu.Lock()
	var src, dst imap.UIDSet
	set := map[*mail.Message]bool{}
	v.forEachLocked(numSet, func(seq uint32, m *mail.Message) {
		nm := dest.Append(m.Raw, m.Time, m.FlagList())
		src.AddNum(imap.UID(m.UID))
		dst.AddNum(imap.UID(nm.UID))
		set[m] = true
	})
	seqs := v.f.RemoveLocked(set)
	v.f.Mu.Unlock()
	s.logf("%s moved %d messages from %s to %s", s.user.Name, len(set), v.f.Name, dest.Name)
	if err := w.WriteCopyData(&imap.CopyData{UIDValidity: dest.UIDValidity, SourceUIDs: src, DestUIDs: dst}); err != nil {
		return err
	}
	for _, seq := range seqs {
		if err := w.WriteExpunge(v.tracker.EncodeSeqNum(seq)); err != nil {
			return err
		}
	}
	return nil
}

// view is a session's selected folder.
type view struct {
	f         *mail.Folder
	tracker   *imapserver.SessionTracker
	searchRes imap.UIDSet
}

func (v *view) close() { v.tracker.Close() }

func selectDataLocked(f *mail.Folder) *imap.SelectData {
	fl := folderFlagsLocked(f)
	perm := append(append([]imap.Flag(nil), fl...), imap.FlagWildcard)
	first := uint32(0)
	for i, m := range f.Msgs {
		if _, ok := m.Flags[`\Seen`]; !ok {
			first = uint32(i) + 1
			break
		}
	}
	return &imap.SelectData{Flags: fl, PermanentFlags: perm, NumMessages: uint32(len(f.Msgs)),
		FirstUnseenSeqNum: first, UIDNext: imap.UID(f.UIDNext), UIDValidity: f.UIDValidity}
}

func folderFlagsLocked(f *mail.Folder) []imap.Flag {
	set := map[imap.Flag]struct{}{imap.FlagSeen: {}, imap.FlagAnswered: {}, imap.FlagFlagged: {}, imap.FlagDeleted: {}, imap.FlagDraft: {}}
	for _, m := range f.Msgs {
		for fl := range m.Flags {
			set[imap.Flag(fl)] = struct{}{}
		}
	}
	var l []imap.Flag
	for fl := range set {
		l = append(l, fl)
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	return l
}

func statusDataLocked(f *mail.Folder, o *imap.StatusOptions) *imap.StatusData {
	d := imap.StatusData{Mailbox: f.Name}
	count := func(flag string) uint32 {
		n := uint32(0)
		for _, m := range f.Msgs {
			if _, ok := m.Flags[flag]; ok {
				n++
			}
		}
		return n
	}
	if o.NumMessages {
		n := uint32(len(f.Msgs))
		d.NumMessages = &n
	}
	if o.UIDNext {
		d.UIDNext = imap.UID(f.UIDNext)
	}
	if o.UIDValidity {
		d.UIDValidity = f.UIDValidity
	}
	if o.NumUnseen {
		n := uint32(len(f.Msgs)) - count(`\Seen`)
		d.NumUnseen = &n
	}
	if o.NumDeleted {
		n := count(`\Deleted`)
		d.NumDeleted = &n
	}
	if o.Size {
		var size int64
		for _, m := range f.Msgs {
			size += int64(len(m.Raw))
		}
		d.Size = &size
	}
	if o.NumRecent {
		n := uint32(0)
		d.NumRecent = &n
	}
	return &d
}

func flagList(m *mail.Message) []imap.Flag {
	var l []imap.Flag
	for _, f := range m.FlagList() {
		l = append(l, imap.Flag(f))
	}
	return l
}

func storeFlags(m *mail.Message, s *imap.StoreFlags) {
	switch s.Op {
	case imap.StoreFlagsSet:
		m.Flags = map[string]struct{}{}
		fallthrough
	case imap.StoreFlagsAdd:
		for _, f := range s.Flags {
			m.Flags[mail.CanonFlag(string(f))] = struct{}{}
		}
	case imap.StoreFlagsDel:
		for _, f := range s.Flags {
			delete(m.Flags, mail.CanonFlag(string(f)))
		}
	}
}

func (v *view) fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	markSeen := false
	for _, bs := range options.BodySection {
		if !bs.Peek {
			markSeen = true
		}
	}
	var err error
	v.forEach(numSet, func(seq uint32, m *mail.Message) {
		if err != nil {
			return
		}
		if markSeen {
			m.Flags[`\Seen`] = struct{}{}
			v.f.Tracker.QueueMessageFlags(seq, imap.UID(m.UID), flagList(m), nil)
		}
		err = fetchMessage(w.CreateMessage(v.tracker.EncodeSeqNum(seq)), m, options)
	})
	return err
}

func fetchMessage(w *imapserver.FetchResponseWriter, m *mail.Message, options *imap.FetchOptions) error {
	w.WriteUID(imap.UID(m.UID))
	if options.Flags {
		w.WriteFlags(flagList(m))
	}
	if options.InternalDate {
		w.WriteInternalDate(m.Time)
	}
	if options.RFC822Size {
		w.WriteRFC822Size(int64(len(m.Raw)))
	}
	if options.Envelope {
		if h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(m.Raw))); err == nil {
			w.WriteEnvelope(imapserver.ExtractEnvelope(h))
		} else {
			w.WriteEnvelope(&imap.Envelope{})
		}
	}
	if options.BodyStructure != nil {
		w.WriteBodyStructure(imapserver.ExtractBodyStructure(bytes.NewReader(m.Raw)))
	}
	for _, bs := range options.BodySection {
		buf := bodySection(m.Raw, bs)
		if err := writeAll(w.WriteBodySection(bs, int64(len(buf))), buf); err != nil {
			return err
		}
	}
	for _, bs := range options.BinarySection {
		buf := imapserver.ExtractBinarySection(bytes.NewReader(m.Raw), bs)
		if err := writeAll(w.WriteBinarySection(bs, int64(len(buf))), buf); err != nil {
			return err
		}
	}
	for _, bss := range options.BinarySectionSize {
		w.WriteBinarySectionSize(bss, imapserver.ExtractBinarySectionSize(bytes.NewReader(m.Raw), bss))
	}
	return w.Close()
}

// bodySection is a BODY[...] section of raw. go-imap finds nothing in a
// message without a header (the course's SMTP example stores just its
// text): BODY[] is then the whole message, and the other sections see an
// empty header before the text.
func bodySection(raw []byte, bs *imap.FetchItemBodySection) []byte {
	if len(bs.Part) == 0 && bs.Specifier == imap.PartSpecifierNone {
		whole := raw
		if p := bs.Partial; p != nil {
			start := min(p.Offset, int64(len(whole)))
			end := int64(len(whole))
			if p.Size > 0 {
				end = min(start+p.Size, end)
			}
			whole = whole[start:end]
		}
		return whole
	}
	if _, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw))); err != nil {
		raw = append([]byte("\r\n"), raw...)
	}
	return imapserver.ExtractBodySection(bytes.NewReader(raw), bs)
}

func (v *view) search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) *imap.SearchData {
	v.f.Mu.Lock()
	defer v.f.Mu.Unlock()
	v.staticCriteria(criteria)
	var data imap.SearchData
	var seqSet imap.SeqSet
	var uidSet imap.UIDSet
	for i, m := range v.f.Msgs {
		seq := v.tracker.EncodeSeqNum(uint32(i) + 1)
		if !matches(m, seq, criteria) {
			continue
		}
		uidSet.AddNum(imap.UID(m.UID))
		var num uint32
		switch kind {
		case imapserver.NumKindSeq:
			if seq == 0 {
				continue
			}
			seqSet.AddNum(seq)
			num = seq
		case imapserver.NumKindUID:
			num = m.UID
		}
		if data.Min == 0 || num < data.Min {
			data.Min = num
		}
		if data.Max == 0 || num > data.Max {
			data.Max = num
		}
		data.Count++
	}
	if kind == imapserver.NumKindSeq {
		data.All = seqSet
	} else {
		data.All = uidSet
	}
	if options.ReturnSave {
		v.searchRes = uidSet
	}
	return &data
}

func (v *view) staticCriteria(c *imap.SearchCriteria) {
	seqs := make([]imap.SeqSet, 0, len(c.SeqNum))
	for _, ss := range c.SeqNum {
		switch ns := v.staticNumSet(ss).(type) {
		case imap.SeqSet:
			seqs = append(seqs, ns)
		case imap.UIDSet:
			c.UID = append(c.UID, ns)
		}
	}
	c.SeqNum = seqs
	for i, us := range c.UID {
		c.UID[i] = v.staticNumSet(us).(imap.UIDSet)
	}
	for i := range c.Not {
		v.staticCriteria(&c.Not[i])
	}
	for i := range c.Or {
		for j := range c.Or[i] {
			v.staticCriteria(&c.Or[i][j])
		}
	}
}

func (v *view) forEach(numSet imap.NumSet, f func(seq uint32, m *mail.Message)) {
	v.f.Mu.Lock()
	defer v.f.Mu.Unlock()
	v.forEachLocked(numSet, f)
}

func (v *view) forEachLocked(numSet imap.NumSet, f func(seq uint32, m *mail.Message)) {
	numSet = v.staticNumSet(numSet)
	for i, m := range v.f.Msgs {
		seq := uint32(i) + 1
		var in bool
		switch ns := numSet.(type) {
		case imap.SeqSet:
			s := v.tracker.EncodeSeqNum(seq)
			in = s != 0 && ns.Contains(s)
		case imap.UIDSet:
			in = ns.Contains(imap.UID(m.UID))
		}
		if in {
			f(seq, m)
		}
	}
}

func (v *view) staticNumSet(numSet imap.NumSet) imap.NumSet {
	if imap.IsSearchRes(numSet) {
		return v.searchRes
	}
	switch ns := numSet.(type) {
	case imap.SeqSet:
		max := uint32(len(v.f.Msgs))
		for i := range ns {
			staticRange(&ns[i].Start, &ns[i].Stop, max)
		}
	case imap.UIDSet:
		max := v.f.UIDNext - 1
		for i := range ns {
			staticRange((*uint32)(&ns[i].Start), (*uint32)(&ns[i].Stop), max)
		}
	}
	return numSet
}

func staticRange(start, stop *uint32, max uint32) {
	dyn := false
	if *start == 0 {
		*start, dyn = max, true
	}
	if *stop == 0 {
		*stop, dyn = max, true
	}
	if dyn && *start > *stop {
		*start, *stop = *stop, *start
	}
}

func matches(m *mail.Message, seq uint32, c *imap.SearchCriteria) bool {
	for _, ss := range c.SeqNum {
		if seq == 0 || !ss.Contains(seq) {
			return false
		}
	}
	for _, us := range c.UID {
		if !us.Contains(imap.UID(m.UID)) {
			return false
		}
	}
	if !matchDate(m.Time, c.Since, c.Before) {
		return false
	}
	for _, f := range c.Flag {
		if _, ok := m.Flags[mail.CanonFlag(string(f))]; !ok {
			return false
		}
	}
	for _, f := range c.NotFlag {
		if _, ok := m.Flags[mail.CanonFlag(string(f))]; ok {
			return false
		}
	}
	if c.Larger != 0 && int64(len(m.Raw)) <= c.Larger {
		return false
	}
	if c.Smaller != 0 && int64(len(m.Raw)) >= c.Smaller {
		return false
	}
	entity := func() *gomessage.Entity {
		e, _ := gomessage.Read(bytes.NewReader(m.Raw))
		if e == nil {
			e, _ = gomessage.New(gomessage.Header{}, bytes.NewReader(m.Raw))
		}
		return e
	}
	h := gomail.Header{Header: entity().Header}
	for _, fc := range c.Header {
		if !matchFields(h.FieldsByKey(fc.Key), fc.Value) {
			return false
		}
	}
	if !c.SentSince.IsZero() || !c.SentBefore.IsZero() {
		t, err := h.Date()
		if err != nil || !matchDate(t, c.SentSince, c.SentBefore) {
			return false
		}
	}
	for _, t := range c.Text {
		if !matchEntity(entity(), t, true, 0) {
			return false
		}
	}
	for _, b := range c.Body {
		if !matchEntity(entity(), b, false, 0) {
			return false
		}
	}
	for i := range c.Not {
		if matches(m, seq, &c.Not[i]) {
			return false
		}
	}
	for _, or := range c.Or {
		if !matches(m, seq, &or[0]) && !matches(m, seq, &or[1]) {
			return false
		}
	}
	return true
}

func matchDate(t, since, before time.Time) bool {
	t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if !since.IsZero() && t.Before(since) {
		return false
	}
	if !before.IsZero() && !t.Before(before) {
		return false
	}
	return true
}

func matchFields(fields gomessage.HeaderFields, pattern string) bool {
	if pattern == "" {
		return fields.Len() > 0
	}
	pattern = strings.ToLower(pattern)
	for fields.Next() {
		v, _ := fields.Text()
		if strings.Contains(strings.ToLower(v), pattern) {
			return true
		}
	}
	return false
}

func matchEntity(e *gomessage.Entity, pattern string, header bool, depth int) bool {
	if pattern == "" {
		return true
	}
	if depth > 20 {
		return false
	}
	if header && matchFields(e.Header.Fields(), pattern) {
		return true
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if err != nil {
				return false
			}
			if matchEntity(p, pattern, header, depth+1) {
				return true
			}
		}
	}
	t, _, _ := e.Header.ContentType()
	if t != "" && !strings.HasPrefix(t, "text/") && !strings.HasPrefix(t, "message/") {
		return false
	}
	buf, err := io.ReadAll(e.Body)
	if err != nil {
		return false
	}
	return bytes.Contains(bytes.ToLower(buf), bytes.ToLower([]byte(pattern)))
}

// writeAll writes a fetched section and closes its writer, reporting the
// first error of the two.
func writeAll(wc io.WriteCloser, buf []byte) error {
	_, werr := wc.Write(buf)
	if cerr := wc.Close(); werr == nil {
		werr = cerr
	}
	return werr
}
