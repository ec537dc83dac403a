package main

import (
	"fmt"
	"io"
	"os"
)

// newProgress returns a per-item progress callback that redraws one line on
// w, or nil when w is not a terminal (progress never pollutes logs or pipes).
func newProgress(w io.Writer, what string) func(done, total int, name string) {
	if !isTerminal(w) {
		return nil
	}
	return func(done, total int, name string) {
		fmt.Fprintf(w, "\r\033[K%s %d/%d %s", what, done, total, name)
		if done == total {
			fmt.Fprintln(w)
		}
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
