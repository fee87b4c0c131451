package dnsmod_test

import (
	"testing"

	"github.com/netplay-dev/netplay/modules/startest"
)

// TestStarlark runs the module's binding tests, testdata/*_test.star, as
// `netplay test` runs them.
func TestStarlark(t *testing.T) { startest.Scripts(t, "testdata") }
