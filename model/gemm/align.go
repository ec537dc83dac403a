package gemm

import "unsafe"

// uintptrOf is the address of s's first element (s must not be empty).
func uintptrOf(s []float32) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(s))) }
