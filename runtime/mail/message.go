package mail

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"

	gomessage "github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Attachment is a file carried by a message.
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

// Spec is what Build makes a message from.
type Spec struct {
	From        string
	To          []string
	Cc          []string
	Subject     string
	Body        string
	Attachments []Attachment
	Headers     [][2]string // extra header fields, in order
	Date        time.Time
	MessageID   string // without <>; generated if empty
}

// Build writes an RFC 5322 message: 7-bit safe (non-ASCII text is
// quoted-printable, attachments base64), multipart/mixed when there are
// attachments. Line ends are CRLF.
func Build(s Spec) ([]byte, error) {
	body := crlf(s.Body)
	h, err := s.header(body)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if len(s.Attachments) == 0 {
		w, err := gomessage.CreateWriter(&buf, h.Header)
		if err != nil {
			return nil, err
		}
		io.WriteString(w, body)
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	mw, err := gomail.CreateWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	var ih gomail.InlineHeader
	textHeader(&ih.Header, body)
	tw, err := mw.CreateSingleInline(ih)
	if err != nil {
		return nil, err
	}
	io.WriteString(tw, body)
	tw.Close()
	for _, a := range s.Attachments {
		if err := a.write(mw); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// header is the message's header. go-message writes header fields in the
// reverse of the order they are added, so they are added last first: the
// message reads From, To, Cc, Subject, Date, Message-Id, the extra fields,
// MIME-Version.
func (s Spec) header(body string) (gomail.Header, error) {
	var h gomail.Header
	if len(s.Attachments) == 0 {
		textHeader(&h.Header, body)
	}
	h.Set("MIME-Version", "1.0")
	for i := len(s.Headers) - 1; i >= 0; i-- {
		kv := s.Headers[i]
		if !validFieldName(kv[0]) {
			return h, fmt.Errorf("bad header field name %q", kv[0])
		}
		if strings.ContainsAny(kv[1], "\r\n") {
			return h, fmt.Errorf("header %s: value has a line break", kv[0])
		}
		h.Add(kv[0], mime.QEncoding.Encode("utf-8", kv[1]))
	}
	if s.MessageID != "" {
		h.SetMessageID(s.MessageID)
	} else if err := h.GenerateMessageIDWithHostname("netplay.local"); err != nil {
		return h, err
	}
	h.SetDate(s.Date)
	h.SetSubject(s.Subject)
	for _, f := range []struct {
		key  string
		list []string
	}{{"Cc", s.Cc}, {"To", s.To}} {
		if len(f.list) == 0 {
			continue
		}
		addrs, err := parseAddrs(strings.Join(f.list, ", "))
		if err != nil {
			return h, fmt.Errorf("%s: %v", strings.ToLower(f.key), err)
		}
		h.SetAddressList(f.key, addrs)
	}
	if s.From != "" {
		addrs, err := parseAddrs(s.From)
		if err != nil {
			return h, fmt.Errorf("sender: %v", err)
		}
		h.SetAddressList("From", addrs)
	}
	return h, nil
}

// textHeader describes the text body: 7bit when it can be sent as it is,
// quoted-printable otherwise.
func textHeader(th *gomessage.Header, body string) {
	th.Set("Content-Type", "text/plain; charset=utf-8")
	if is7bit(body) && maxLineLen(body) <= 998 {
		th.Set("Content-Transfer-Encoding", "7bit")
	} else {
		th.Set("Content-Transfer-Encoding", "quoted-printable")
	}
}

// write adds the attachment to a multipart message, base64-encoded.
func (a Attachment) write(mw *gomail.Writer) error {
	var ah gomail.AttachmentHeader
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	t, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("attachment %q: content type %q: %v", a.Filename, ct, err)
	}
	ah.SetContentType(t, params)
	ah.SetFilename(a.Filename)
	ah.Set("Content-Transfer-Encoding", "base64")
	aw, err := mw.CreateAttachment(ah)
	if err != nil {
		return err
	}
	aw.Write(a.Data)
	return aw.Close()
}

func parseAddrs(s string) ([]*gomail.Address, error) {
	addrs, err := gomail.ParseAddressList(s)
	if err != nil {
		// a bare local part ("bob") is fine for a lab
		if !strings.ContainsAny(s, "<>,\"@") && strings.TrimSpace(s) != "" {
			return []*gomail.Address{{Address: strings.TrimSpace(s)}}, nil
		}
		return nil, err
	}
	return addrs, nil
}

func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 127 || c == ':' {
			return false
		}
	}
	return true
}

func is7bit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 128 || s[i] == 0 {
			return false
		}
	}
	return true
}

func maxLineLen(s string) int {
	m := 0
	for _, l := range strings.Split(s, "\n") {
		if len(l) > m {
			m = len(l)
		}
	}
	return m
}

// crlf turns any line ends into CRLF.
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// CRLF turns any line ends of raw into CRLF, as SMTP carries messages.
func CRLF(raw []byte) []byte {
	if !bytes.Contains(raw, []byte("\n")) && !bytes.Contains(raw, []byte("\r")) {
		return raw
	}
	return []byte(crlf(string(raw)))
}

// Part is one leaf of a parsed message.
type Part struct {
	ContentType string
	Filename    string
	Disposition string
	Headers     [][2]string
	Data        []byte // decoded (base64 and quoted-printable undone)
}

// Parsed is a message taken apart.
type Parsed struct {
	Raw         []byte
	Headers     [][2]string // in order, values decoded (RFC 2047)
	Text        string      // the first text/plain part (or the body of a plain message)
	Parts       []Part      // every leaf part, in order
	Attachments []Part      // the parts that are attachments
	Received    []Hop       // the Received: chain, oldest first
}

// Header returns the first value of a header field, or "".
func (p *Parsed) Header(key string) string {
	for _, kv := range p.Headers {
		if strings.EqualFold(kv[0], key) {
			return kv[1]
		}
	}
	return ""
}

// Parse takes a message apart. It is lenient: what cannot be decoded is kept
// as it is, and a message without a header is all body.
func Parse(raw []byte) (*Parsed, error) {
	p := &Parsed{Raw: raw}
	e, err := gomessage.Read(bytes.NewReader(raw))
	if err != nil && !gomessage.IsUnknownCharset(err) && !gomessage.IsUnknownEncoding(err) {
		e, err = gomessage.Read(bytes.NewReader(splitHeader(raw)))
	}
	if e == nil {
		// unreadable header: treat everything as text
		p.Text = string(raw)
		p.Parts = []Part{{ContentType: "text/plain", Data: raw}}
		return p, nil
	}
	_ = err // unknown charset or encoding: the entity is still usable
	p.Headers = headerList(e.Header.Header)
	var received []string
	fields := e.Header.FieldsByKey("Received")
	for fields.Next() {
		received = append(received, unfold(fields.Value()))
	}
	// header fields are listed newest first (each hop prepends its own)
	for i := len(received) - 1; i >= 0; i-- {
		p.Received = append(p.Received, ParseReceived(received[i]))
	}
	walk(e, p, 0)
	for _, part := range p.Parts {
		if p.Text == "" && strings.HasPrefix(part.ContentType, "text/plain") && part.Disposition != "attachment" {
			p.Text = string(part.Data)
		}
	}
	p.Text = strings.ReplaceAll(p.Text, "\r\n", "\n")
	return p, nil
}

// splitHeader makes a message whose header ends without a blank line (a
// Received: line prepended to a bare text, as in the course's sample
// dialogue) readable: the header ends at the first line that is not a header
// field, and a blank line is put there.
func splitHeader(raw []byte) []byte {
	rest := raw
	n := 0
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		line := rest
		if i >= 0 {
			line = rest[:i]
		}
		l := bytes.TrimRight(line, "\r")
		if len(l) == 0 {
			return raw
		}
		isCont := l[0] == ' ' || l[0] == '\t'
		if !isCont && !isField(l) {
			break
		}
		if i < 0 {
			n = len(raw)
			rest = nil
			break
		}
		n += i + 1
		rest = rest[i+1:]
	}
	out := append([]byte(nil), raw[:n]...)
	out = append(out, '\r', '\n')
	return append(out, raw[n:]...)
}

func isField(l []byte) bool {
	i := bytes.IndexByte(l, ':')
	if i <= 0 {
		return false
	}
	return validFieldName(string(l[:i]))
}

func unfold(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "")
	s = strings.ReplaceAll(s, "\n", "")
	return strings.Join(strings.Fields(s), " ")
}

func headerList(h textproto.Header) [][2]string {
	var out [][2]string
	mh := gomessage.Header{Header: h}
	f := mh.Fields()
	for f.Next() {
		v, err := f.Text()
		if err != nil {
			v = f.Value()
		}
		out = append(out, [2]string{f.Key(), unfold(v)})
	}
	return out
}

func walk(e *gomessage.Entity, p *Parsed, depth int) {
	if depth > 20 {
		return
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			part, err := mr.NextPart()
			if err != nil {
				return
			}
			walk(part, p, depth+1)
		}
	}
	ct, _, err := e.Header.ContentType()
	if err != nil || ct == "" {
		ct = "text/plain"
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	_, cparams, _ := e.Header.ContentType()
	name := dparams["filename"]
	if name == "" {
		name = cparams["name"]
	}
	data, _ := io.ReadAll(e.Body)
	part := Part{ContentType: ct, Filename: name, Disposition: disp, Headers: headerList(e.Header.Header), Data: data}
	p.Parts = append(p.Parts, part)
	if disp == "attachment" || (name != "" && disp != "inline") {
		p.Attachments = append(p.Attachments, part)
	}
}

// Envelope reads a message's header for the addresses it names (From, To,
// Cc), as a client submitting it without an explicit envelope would use.
func Envelope(raw []byte) (from string, to []string) {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return "", nil
	}
	mh := gomail.Header{Header: gomessage.Header{Header: h}}
	if l, err := mh.AddressList("From"); err == nil && len(l) > 0 {
		from = l[0].Address
	}
	for _, k := range []string{"To", "Cc"} {
		if l, err := mh.AddressList(k); err == nil {
			for _, a := range l {
				to = append(to, a.Address)
			}
		}
	}
	return from, to
}
