//go:build !amd64 || purego

package quant

// q8_0Fast: no vector Q8_0 kernel on this platform.
var q8_0Fast func(dst []byte, src []float32, n int) int
