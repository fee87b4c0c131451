package labmod

import (
	"fmt"

	"github.com/netplay-dev/netplay/lang"
	"github.com/netplay-dev/netplay/runtime/lab"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// networkFlows is net.flows(host=None): every open stream end's window
// and counters.
func networkFlows(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	nv, _ := lang.Receiver[*networkValue](b)
	var hostV starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "host?", &hostV); err != nil {
		return nil, err
	}
	only := ""
	if hostV != starlark.None {
		name, err := nodeName(b.Name(), "host", hostV)
		if err != nil {
			return nil, err
		}
		if _, ok := nv.hosts[name]; !ok {
			return nil, fmt.Errorf("%s: for parameter host: no lab host named %q", b.Name(), name)
		}
		only = name
	}
	var out []starlark.Value
	for _, f := range nv.n.Flows() {
		if only == "" || f.Host == only {
			out = append(out, flowStruct(f))
		}
	}
	return starlark.NewList(out), nil
}

func flowStruct(f lab.FlowInfo) *starlarkstruct.Struct {
	var cwnd, ssthresh starlark.Value = starlark.None, starlark.None
	if f.Model == lab.TCPReno {
		cwnd = starlark.Float(f.Cwnd)
		if f.Ssthresh > 0 {
			ssthresh = starlark.Float(f.Ssthresh)
		}
	}
	return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
		"host":             starlark.String(f.Host),
		"local":            starlark.String(f.Local),
		"remote":           starlark.String(f.Remote),
		"tcp":              starlark.String(f.Model.String()),
		"cwnd":             cwnd,
		"ssthresh":         ssthresh,
		"in_flight":        starlark.MakeInt(f.InFlight),
		"srtt":             starlark.Float(f.SRTT.Seconds()),
		"rto":              starlark.Float(f.RTO.Seconds()),
		"recovering":       starlark.Bool(f.Recovering),
		"buffered":         starlark.MakeInt(f.Buffered),
		"bytes_sent":       starlark.MakeInt64(f.BytesSent),
		"bytes_acked":      starlark.MakeInt64(f.BytesAcked),
		"bytes_received":   starlark.MakeInt64(f.BytesReceived),
		"retransmits":      starlark.MakeInt64(f.Retransmits),
		"fast_retransmits": starlark.MakeInt64(f.FastRetransmits),
		"timeouts":         starlark.MakeInt64(f.Timeouts),
	})
}
