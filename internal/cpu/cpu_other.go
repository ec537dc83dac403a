//go:build !amd64 || purego

package cpu

// detect reports no features: there is nothing to detect off x86-64, and
// purego builds must not use assembly.
func detect() Features { return Features{} }
