package format

import "syscall"

// release drops the pages of b from the resident set.
func release(b []byte) { syscall.Madvise(b, syscall.MADV_DONTNEED) }
