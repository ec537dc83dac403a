//go:build !unix

package main

import "errors"

// mkfifo: no named pipes on this platform.
func mkfifo(path string) error { return errors.ErrUnsupported }
