//go:build race

package main

// raceEnabled: ThreadSanitizer reserves far more address space than a
// memory-limited script may have, so scripts that test --max-memory skip
// under -race ([!race] in testdata/script).
const raceEnabled = true
