package lang

import (
	"fmt"

	"go.starlark.net/starlark"
)

// Client is a line-protocol client as a Starlark value of type typ
// ("smtp.client", "pop3.client"): the connection C its methods drive,
// and the attributes address ("host:port") and greeting (the server's
// first reply). A binding names its client value as an instance,
// type ClientValue = lang.Client[*smtp.Client].
type Client[C any] struct {
	Conn     C
	Addr     string
	Greeting starlark.Value
	Closed   bool // by the script: later calls fail with kind "closed"

	typ     string
	methods Methods
}

// NewClient returns the value of a client of type typ connected to addr.
func NewClient[C any](typ string, methods Methods, conn C, addr string, greeting starlark.Value) *Client[C] {
	return &Client[C]{Conn: conn, Addr: addr, Greeting: greeting, typ: typ, methods: methods}
}

func (c *Client[C]) String() string        { return fmt.Sprintf("<%s %s>", c.typ, c.Addr) }
func (c *Client[C]) Type() string          { return c.typ }
func (c *Client[C]) Freeze()               {}
func (c *Client[C]) Truth() starlark.Bool  { return true }
func (c *Client[C]) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: %s", c.typ) }
func (c *Client[C]) AttrNames() []string {
	return append(c.methods.Names(), "address", "greeting")
}
func (c *Client[C]) Attr(name string) (starlark.Value, error) {
	switch name {
	case "greeting":
		return c.Greeting, nil
	case "address":
		return starlark.String(c.Addr), nil
	}
	return c.methods.Attr(c, name), nil
}
