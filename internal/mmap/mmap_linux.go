package mmap

import "syscall"

// willNeed starts reading the pages of b into the page cache.
func willNeed(b []byte) { syscall.Madvise(b, syscall.MADV_WILLNEED) }

// release drops the pages of b from the resident set.
func release(b []byte) { syscall.Madvise(b, syscall.MADV_DONTNEED) }
