// Package mail is netplay's e-mail core: the mailbox store that the SMTP,
// POP3 and IMAP servers share, building and parsing RFC 5322 messages (MIME
// multipart, base64 attachments) and reading the Received: trace chain. It
// imports no Starlark; the module mail, and the Starlark values of the
// store and its messages that smtp, pop3 and imap share, are
// runtime/mail/mailmod.
//
// The store is in memory: it lives as long as the script (or the Go program)
// that made it, and servers stopped and started again on the same store keep
// every mailbox and every queued outgoing message. It is not written to disk.
package mail

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2/imapserver"
)

// Inbox is the folder new mail is delivered to.
const Inbox = "INBOX"

// Store is a set of users' mailboxes, each a set of folders of messages, plus
// the outgoing queues (spools) of the relaying SMTP servers that use it.
type Store struct {
	mu     sync.Mutex
	users  map[string]*User
	spools map[string]*Spool
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{users: map[string]*User{}, spools: map[string]*Spool{}}
}

// User returns a user's mailbox, creating it (with an empty INBOX) if create.
// It returns nil for an unknown user when !create.
func (s *Store) User(name string, create bool) *User {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(name)
	u := s.users[key]
	if u == nil && create {
		u = &User{Name: key, folders: map[string]*Folder{}}
		u.folders[Inbox] = u.newFolder(Inbox)
		s.users[key] = u
	}
	return u
}

// Users lists the users, sorted.
func (s *Store) Users() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range s.users {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Deliver appends raw to user's folder (INBOX if folder is ""), creating
// the user and the folder as needed.
func (s *Store) Deliver(user, folder string, raw []byte, t time.Time) (*Message, error) {
	if user == "" {
		return nil, fmt.Errorf("no user")
	}
	if folder == "" {
		folder = Inbox
	}
	u := s.User(user, true)
	f := u.Folder(folder)
	if f == nil {
		if err := u.Create(folder); err != nil {
			return nil, err
		}
		f = u.Folder(folder)
	}
	return f.Append(raw, t, nil), nil
}

// Spool returns the outgoing queue named name (one per relaying server,
// named after its domain), creating it.
func (s *Store) Spool(name string) *Spool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.spools[name]
	if sp == nil {
		sp = &Spool{}
		s.spools[name] = sp
	}
	return sp
}

// User is one user's folders.
type User struct {
	Name    string
	mu      sync.Mutex
	folders map[string]*Folder
	uidv    uint32
}

func (u *User) newFolder(name string) *Folder {
	u.uidv++
	return &Folder{Name: name, UIDValidity: u.uidv, UIDNext: 1, Subscribed: true, Tracker: imapserver.NewMailboxTracker(0)}
}

// canonName makes INBOX case-insensitive, as IMAP wants.
// UserOf maps an address to its mailbox name: "Bob@hamburger.edu" and
// "<bob@x>" to "bob".
func UserOf(addr string) string {
	addr = strings.Trim(strings.TrimSpace(addr), "<>")
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		addr = addr[:i]
	}
	return strings.ToLower(addr)
}

func canonName(name string) string {
	name = strings.TrimRight(name, "/")
	if strings.EqualFold(name, Inbox) {
		return Inbox
	}
	return name
}

// Folder returns a folder, or nil.
func (u *User) Folder(name string) *Folder {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.folders[canonName(name)]
}

// Folders lists the folder names, sorted with INBOX first.
func (u *User) Folders() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var names []string
	for n := range u.folders {
		if n != Inbox {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return append([]string{Inbox}, names...)
}

// ErrExists and ErrNoFolder are what Create, Delete and Rename fail with.
var (
	ErrExists   = fmt.Errorf("folder already exists")
	ErrNoFolder = fmt.Errorf("no such folder")
)

// Create makes an empty folder.
func (u *User) Create(name string) error {
	name = canonName(name)
	if name == "" {
		return fmt.Errorf("empty folder name")
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.folders[name] != nil {
		return ErrExists
	}
	u.folders[name] = u.newFolder(name)
	return nil
}

// Delete removes a folder and its messages (not INBOX).
func (u *User) Delete(name string) error {
	name = canonName(name)
	if name == Inbox {
		return fmt.Errorf("cannot delete INBOX")
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.folders[name] == nil {
		return ErrNoFolder
	}
	delete(u.folders, name)
	return nil
}

// Rename renames a folder (not INBOX).
func (u *User) Rename(old, new string) error {
	old, new = canonName(old), canonName(new)
	if old == Inbox || new == Inbox {
		return fmt.Errorf("cannot rename INBOX")
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	f := u.folders[old]
	if f == nil {
		return ErrNoFolder
	}
	if u.folders[new] != nil {
		return ErrExists
	}
	f.Mu.Lock()
	f.Name = new
	f.Mu.Unlock()
	u.folders[new] = f
	delete(u.folders, old)
	return nil
}

// Folder is one folder of messages. Its fields are guarded by Mu; the
// Tracker tells IMAP sessions that have it selected what changed.
type Folder struct {
	Mu          sync.Mutex
	Name        string
	UIDValidity uint32
	UIDNext     uint32
	Msgs        []*Message
	Subscribed  bool
	Tracker     *imapserver.MailboxTracker
}

// Message is a stored message: its bytes as received (CRLF line ends), the
// time it arrived and its flags (guarded by its folder's Mu).
type Message struct {
	UID   uint32
	Raw   []byte
	Time  time.Time
	Flags map[string]struct{}
}

// Append adds a message and returns it.
func (f *Folder) Append(raw []byte, t time.Time, flags []string) *Message {
	m := &Message{Raw: raw, Time: t, Flags: map[string]struct{}{}}
	for _, fl := range flags {
		m.Flags[CanonFlag(fl)] = struct{}{}
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	m.UID = f.UIDNext
	f.UIDNext++
	f.Msgs = append(f.Msgs, m)
	f.Tracker.QueueNumMessages(uint32(len(f.Msgs)))
	return m
}

// Snapshot returns the messages now in the folder.
func (f *Folder) Snapshot() []*Message {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	return append([]*Message(nil), f.Msgs...)
}

// Remove expunges the given messages and returns their former sequence
// numbers, highest first.
func (f *Folder) Remove(set map[*Message]bool) []uint32 {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	return f.RemoveLocked(set)
}

// RemoveLocked is Remove with Mu held.
func (f *Folder) RemoveLocked(set map[*Message]bool) []uint32 {
	var seqs []uint32
	var kept []*Message
	for i := len(f.Msgs) - 1; i >= 0; i-- {
		m := f.Msgs[i]
		if set[m] {
			seq := uint32(i) + 1
			seqs = append(seqs, seq)
			f.Tracker.QueueExpunge(seq)
		} else {
			kept = append(kept, m)
		}
	}
	for i, j := 0, len(kept)-1; i < j; i, j = i+1, j-1 {
		kept[i], kept[j] = kept[j], kept[i]
	}
	f.Msgs = kept
	return seqs
}

// FlagList returns a message's flags, sorted (hold the folder's Mu).
func (m *Message) FlagList() []string {
	var l []string
	for f := range m.Flags {
		l = append(l, f)
	}
	sort.Strings(l)
	return l
}

var systemFlags = map[string]string{}

func init() {
	for _, f := range []string{`\Seen`, `\Answered`, `\Flagged`, `\Deleted`, `\Draft`, `\Recent`} {
		systemFlags[strings.ToLower(f)] = f
	}
}

// CanonFlag spells system flags the standard way (\Seen), whatever case
// they came in; keywords stay as they are.
func CanonFlag(f string) string {
	if c, ok := systemFlags[strings.ToLower(f)]; ok {
		return c
	}
	return f
}

// A QueueItem is a message a relaying server has accepted (replied 250 to)
// and not yet delivered to the next server.
type QueueItem struct {
	ID        string
	From      string
	To        []string // recipients not yet delivered
	Raw       []byte
	Queued    time.Time
	Attempts  int
	Next      time.Time // next attempt
	LastError string
}

// Spool is a relaying server's outgoing queue.
type Spool struct {
	mu    sync.Mutex
	items []*QueueItem
}

// Add queues an item.
func (s *Spool) Add(it *QueueItem) {
	s.mu.Lock()
	s.items = append(s.items, it)
	s.mu.Unlock()
}

// Remove drops an item once it is delivered.
func (s *Spool) Remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, it := range s.items {
		if it.ID == id {
			s.items = append(s.items[:i:i], s.items[i+1:]...)
			return
		}
	}
}

// Update runs f on the item with id under the spool's lock.
func (s *Spool) Update(id string, f func(*QueueItem)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range s.items {
		if it.ID == id {
			f(it)
			return true
		}
	}
	return false
}

// Items returns copies of the queued items, oldest first.
func (s *Spool) Items() []QueueItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]QueueItem, len(s.items))
	for i, it := range s.items {
		out[i] = *it
		out[i].To = append([]string(nil), it.To...)
	}
	return out
}

// Len is how many items are queued.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}
