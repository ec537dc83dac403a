package gemm

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"unsafe"
)

// TestFaultReachesCaller: A lives in a mapped file that is truncated
// before the product (an input changed underneath, as lorakit's models are
// mapped). Every goroutine of the product touches A; the resulting memory
// fault, wherever it happens, reaches the caller as a recoverable panic
// (runtime.Error with the faulting address) instead of a SIGBUS crash.
func TestFaultReachesCaller(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true)) // as lorakit's command runner does
	const m, n, k = 256, 256, 256
	path := filepath.Join(t.TempDir(), "a.bin")
	if err := os.WriteFile(path, make([]byte, 4*m*k), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw, err := syscall.Mmap(int(f.Fd()), 0, 4*m*k, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(raw)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	a := unsafe.Slice((*float32)(unsafe.Pointer(&raw[0])), m*k)
	b, c := make([]float32, k*n), make([]float32, m*n)
	got := func() (r any) {
		defer func() { r = recover() }()
		Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		return nil
	}()
	fault, ok := got.(interface{ Addr() uintptr })
	if !ok {
		t.Fatalf("recovered %v (%T) from Sgemm on a truncated mapping, want a memory fault", got, got)
	}
	if base := uintptr(unsafe.Pointer(&raw[0])); fault.Addr() < base || fault.Addr() >= base+uintptr(len(raw)) {
		t.Errorf("fault at %#x, outside A's mapping [%#x, %#x)", fault.Addr(), base, base+uintptr(len(raw)))
	}
}
