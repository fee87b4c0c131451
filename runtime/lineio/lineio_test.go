package lineio

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadLine(t *testing.T) {
	cases := []struct {
		name, in string
		max      int
		want     []string
		end      error
	}{
		{"crlf and lf", "HELO a\r\nMAIL\n", 100, []string{"HELO a", "MAIL"}, io.EOF},
		{"last line without end", "one\ntwo", 100, []string{"one", "two"}, io.ErrUnexpectedEOF},
		{"exactly max", "abcd\n", 4, []string{"abcd"}, io.EOF},
		{"longer than the reader's buffer", strings.Repeat("x", 5000) + "\n", 6000, []string{strings.Repeat("x", 5000)}, io.EOF},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := bufio.NewReaderSize(strings.NewReader(c.in), 16)
			var got []string
			var err error
			for {
				var line string
				line, err = ReadLine(r, c.max)
				if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
					break
				}
				got = append(got, strings.TrimRight(line, "\r\n"))
				if err != nil {
					break
				}
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") || !errors.Is(err, c.end) {
				t.Fatalf("got %q, %v; want %q, %v", got, err, c.want, c.end)
			}
		})
	}
	var tl *TooLongError
	if _, err := ReadLine(bufio.NewReader(strings.NewReader("abcdef\n")), 5); !errors.As(err, &tl) {
		t.Fatalf("a 6-byte line with max 5: got %v, want a TooLongError", err)
	}
}
