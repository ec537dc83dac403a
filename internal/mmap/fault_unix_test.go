//go:build unix

package mmap

import (
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
)

// TestFaultOnTruncatedMapping: reading a mapped file that was truncated
// underneath faults (SIGBUS); with SetPanicOnFault that is a recoverable
// panic whose address FaultError attributes to the file.
func TestFaultOnTruncatedMapping(t *testing.T) {
	p := filepath.Join(t.TempDir(), "in.bin")
	if err := os.WriteFile(p, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	var addr uintptr
	func() {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if f, ok := recover().(interface{ Addr() uintptr }); ok {
				addr = f.Addr()
			}
		}()
		faultSink = m.Bytes()[1<<19]
	}()
	if addr == 0 {
		t.Fatal("reading a truncated mapping did not fault")
	}
	ferr, ok := FaultError(addr)
	if !ok || !errors.Is(ferr, format.ErrFormat) || !strings.Contains(ferr.Error(), "in.bin") {
		t.Errorf("FaultError = %v, %v; want an ErrFormat naming in.bin", ferr, ok)
	}
	// The command's deferred Close runs before its recover: the range of a
	// mapping closed after its file shrank is still attributed.
	m.Close()
	if ferr, ok := FaultError(addr); !ok || !strings.Contains(ferr.Error(), "in.bin") {
		t.Errorf("after Close, FaultError = %v, %v; want in.bin", ferr, ok)
	}
	if _, ok := FaultError(1); ok {
		t.Error("FaultError attributed address 1 to a file")
	}
}

// faultSink keeps the faulting read from being optimized away.
var faultSink byte
