//go:build !unix

package cputime

// Seconds is not measured on this platform: it reports 0.
func Seconds() float64 { return 0 }
