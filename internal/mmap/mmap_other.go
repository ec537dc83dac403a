//go:build !unix

package mmap

import (
	"io"
	"os"
)

// mapFile reads the whole file where mmap is not available.
func mapFile(f *os.File, size int) ([]byte, func([]byte) error, error) {
	data := make([]byte, size)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, nil, err
	}
	return data, nil, nil
}

const pageSize = 4096

// willNeed is a no-op where the file was read into memory.
func willNeed([]byte) {}

// release is a no-op where the file was read into memory.
func release([]byte) {}
