//go:build unix

package format

import (
	"os"
	"syscall"
)

func mapFile(f *os.File, size int) ([]byte, func([]byte) error, error) {
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, syscall.Munmap, nil
}

var pageSize = syscall.Getpagesize()

// willNeed starts reading the pages of b into the page cache.
func willNeed(b []byte) { syscall.Madvise(b, syscall.MADV_WILLNEED) }

// release drops the pages of b from the resident set.
func release(b []byte) { syscall.Madvise(b, syscall.MADV_DONTNEED) }
