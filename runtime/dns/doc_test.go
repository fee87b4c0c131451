package dns_test

import (
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/lang/predeclared"
)

func TestDocumented(t *testing.T) {
	for _, name := range predeclared.Undocumented() {
		if name == "dns" || strings.HasPrefix(name, "dns.") {
			t.Errorf("%s is not documented", name)
		}
	}
}
