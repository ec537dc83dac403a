// Package peakrss measures a process's peak resident memory (Linux VmHWM)
// over a stretch of work, for benchmarks that report memory beside speed.
package peakrss

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// Reset returns freed heap to the OS and resets the kernel's high-water
// mark, so that Read reports the peak of what follows. It reports false
// where the platform cannot reset the mark (Read then includes earlier
// peaks).
func Reset() bool {
	runtime.GC()
	debug.FreeOSMemory()
	// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0).
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// Read returns the peak resident set size in bytes since the last Reset,
// or 0 where it cannot be read.
func Read() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// ScratchDir returns a directory for large benchmark files: /dev/shm when
// it exists (so the disk does not decide the figures), else fallback.
func ScratchDir(fallback string) string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "lorakit-bench-*"); err == nil {
			return d
		}
	}
	return fallback
}
