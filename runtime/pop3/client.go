package pop3

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/netplay-dev/netplay/runtime/lineio"
	"github.com/netplay-dev/netplay/runtime/stack"
)

// Reply is a POP3 status line: +OK or -ERR and its text.
type Reply struct {
	OK   bool
	Text string
}

func (r Reply) String() string {
	if r.OK {
		if r.Text == "" {
			return "+OK"
		}
		return "+OK " + r.Text
	}
	return "-ERR " + r.Text
}

// ParseStatus reads a status line.
func ParseStatus(line string) (Reply, error) {
	switch {
	case line == "+OK" || strings.HasPrefix(line, "+OK "):
		return Reply{true, strings.TrimPrefix(strings.TrimPrefix(line, "+OK"), " ")}, nil
	case line == "-ERR" || strings.HasPrefix(line, "-ERR "):
		return Reply{false, strings.TrimPrefix(strings.TrimPrefix(line, "-ERR"), " ")}, nil
	}
	return Reply{}, fmt.Errorf("malformed status line %q", line)
}

// maxResponse bounds a multi-line response the client reads.
const maxResponse = 64 << 20

// Client is a POP3 client connection. Close closes it without QUIT (no
// deletions happen).
type Client struct{ *lineio.Client }

// Dial connects and reads the greeting.
func Dial(ctx context.Context, st stack.Stack, addr string, timeout time.Duration, trace func(string)) (*Client, Reply, error) {
	return lineio.DialGreeted(ctx, st, addr, timeout, trace, newClient, (*Client).readStatus)
}

func newClient(lc *lineio.Client) *Client { return &Client{lc} }

func (c *Client) readStatus(ctx context.Context) (Reply, error) {
	defer c.Guard(ctx)()
	line, err := lineio.ReadLine(c.R, 1<<16)
	if err != nil {
		return Reply{}, err
	}
	c.TraceLine("S", line)
	return ParseStatus(line)
}

// Cmd sends a command line and reads its status line.
func (c *Client) Cmd(ctx context.Context, line string) (Reply, error) {
	if err := c.Send(ctx, line); err != nil {
		return Reply{}, err
	}
	return c.readStatus(ctx)
}

// ReadMulti reads the lines of a multi-line response up to the final ".",
// undoing dot-stuffing; lines are without line ends.
func (c *Client) ReadMulti(ctx context.Context) ([]string, error) {
	defer c.Guard(ctx)()
	var lines []string
	total := 0
	for {
		line, err := lineio.ReadLine(c.R, 1<<16)
		if err != nil {
			return lines, err
		}
		c.TraceLine("S", line)
		if line == "." {
			return lines, nil
		}
		if strings.HasPrefix(line, ".") {
			line = line[1:]
		}
		total += len(line) + 2
		if total > maxResponse {
			return lines, fmt.Errorf("response longer than %d bytes", maxResponse)
		}
		lines = append(lines, line)
	}
}

// MultiCmd sends a command whose +OK reply is followed by lines.
func (c *Client) MultiCmd(ctx context.Context, line string) (Reply, []string, error) {
	rep, err := c.Cmd(ctx, line)
	if err != nil || !rep.OK {
		return rep, nil, err
	}
	lines, err := c.ReadMulti(ctx)
	return rep, lines, err
}

// ParseScanList reads "n size" lines as LIST returns them.
func ParseScanList(lines []string) ([][2]int, error) {
	var out [][2]int
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 {
			return nil, fmt.Errorf("malformed LIST line %q", l)
		}
		n, err1 := strconv.Atoi(f[0])
		size, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("malformed LIST line %q", l)
		}
		out = append(out, [2]int{n, size})
	}
	return out, nil
}
