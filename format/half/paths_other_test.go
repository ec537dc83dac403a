//go:build !amd64 || purego

package half

// archPaths is empty: only the generic code exists here.
func archPaths() []codePath { return nil }
