package dash

import (
	"context"
	"testing"
	"time"

	"github.com/netplay-dev/netplay/runtime/stack"
)

// A player and a server on loopback: every segment arrives, in order,
// and the server's log shows the requests.
func TestPlayOverLoopback(t *testing.T) {
	v, err := Synthesize(10, 1, []float64{200e3, 800e3, 3e6}, 0.1, 1)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Serve(context.Background(), stack.OS, "127.0.0.1:0", v, ServeOptions{Rate: 4e6})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	s, err := Play(context.Background(), stack.OS, srv.URL(), Config{Rule: NewThroughput(), Buffer: 4}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Log) != v.Segments() {
		t.Fatalf("%d segments played, want %d", len(s.Log), v.Segments())
	}
	for i, e := range s.Log {
		if e.Index != i || e.Size != (v.Sizes[i][e.Quality]+7)/8*8 {
			t.Errorf("segment %d: %+v", i, e)
		}
	}
	log := srv.Log()
	if len(log) != v.Segments()+1+sumAbandoned(s) || log[0].Path != "/manifest.mpd" || log[1].Segment != 0 {
		t.Errorf("server log: %+v", log)
	}
	if s.Server != srv.Addr().String() {
		t.Errorf("played from %s, server at %s", s.Server, srv.Addr())
	}
}

func sumAbandoned(s *Session) int {
	n := 0
	for _, e := range s.Log {
		n += e.Abandoned
	}
	return n
}
