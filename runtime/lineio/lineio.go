// Package lineio reads the lines of text protocols (SMTP, POP3, line
// servers) with a bound on their length, so that a peer cannot make a
// server or client buffer without end.
package lineio

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// TooLongError is a line longer than its bound.
type TooLongError struct{ Max int }

func (e *TooLongError) Error() string { return fmt.Sprintf("line longer than %d bytes", e.Max) }

// ReadLine reads a line and returns it without its "\r\n" or "\n". A line
// longer than max bytes fails with a *TooLongError; a stream that ends in the
// middle of a line returns that line with io.ErrUnexpectedEOF, and one that
// ends between lines returns io.EOF.
func ReadLine(r *bufio.Reader, max int) (string, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(strings.TrimRight(string(line), "\r\n")) > max {
			return "", &TooLongError{max}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(line) > 0 {
			return string(line), io.ErrUnexpectedEOF
		}
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(line), "\r\n"), nil
	}
}
