package gguf

import (
	"io"
	"os"
)

// IsFile reports whether the file at path starts with GGUF's magic; false
// when it cannot be opened or is shorter than the magic.
func IsFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [len(Magic)]byte
	_, err = io.ReadFull(f, magic[:])
	return err == nil && string(magic[:]) == Magic
}
