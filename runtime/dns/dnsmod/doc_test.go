package dnsmod_test

import (
	"strings"
	"testing"

	"github.com/netplay-dev/netplay/grade"
	"github.com/netplay-dev/netplay/modules"
)

func TestDocumented(t *testing.T) {
	for _, name := range modules.Undocumented(modules.Docs(grade.Docs()...)) {
		if name == "dns" || strings.HasPrefix(name, "dns.") {
			t.Errorf("%s is not documented", name)
		}
	}
}
