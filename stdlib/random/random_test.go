package random_test

import (
	"testing"

	"github.com/netplay-dev/netplay/modules/startest"
)

// TestIntArguments: as in Python, a rate or bound given as an int is fine.
func TestIntArguments(t *testing.T) {
	out := startest.MustRun(t, `
random.seed(1)
x = random.expovariate(15)
u = random.uniform(1, 2)
g = random.gauss(0, 1)
print(type(x), x > 0, 1 <= u and u < 2, type(g))
`)
	if out != "float True True float\n" {
		t.Fatalf("printed %q", out)
	}
}
