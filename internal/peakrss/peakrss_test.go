package peakrss

import (
	"runtime"
	"testing"
)

func TestPeakSeesAnAllocation(t *testing.T) {
	if !Reset() {
		t.Skip("cannot reset VmHWM on this platform")
	}
	before := Read()
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	after := Read()
	runtime.KeepAlive(buf)
	if after-before < 60<<20 {
		t.Errorf("peak grew by %d bytes after touching 64 MiB", after-before)
	}
}
