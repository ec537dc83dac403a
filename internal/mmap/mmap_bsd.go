//go:build unix && !linux

package mmap

// willNeed and release are no-ops where the syscall package offers no
// madvise: no read-ahead hint, and the pages stay resident until the
// mapping is closed.
func willNeed([]byte) {}

func release([]byte) {}
