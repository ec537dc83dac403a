//go:build unix && !linux

package format

// release is a no-op where the syscall package offers no madvise (the
// pages stay resident until the mapping is closed).
func release([]byte) {}
