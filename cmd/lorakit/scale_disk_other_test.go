//go:build !unix

package main

import (
	"errors"
	"runtime"
)

// freeBytes is unknown off unix: the scale benchmark skips.
func freeBytes(string) (int64, error) {
	return 0, errors.New("free space is not measured on " + runtime.GOOS)
}
