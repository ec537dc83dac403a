package mmap

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"unsafe"

	"github.com/lorakit/lorakit/format"
)

// mapped are the live mappings, so that a memory fault (a mapped input
// truncated underneath: SIGBUS) can be told apart from a bug and reported
// against the file. The fault is recovered only after the deferred Closes
// of the failing command ran, so mappings closed while their file was
// shorter than they are stay in shrunk (the last few).
var (
	mappedMu sync.Mutex
	mapped   = map[*Mapping]string{}
	shrunk   []addressRange
)

// addressRange is the memory a closed mapping of path covered.
type addressRange struct {
	lo, hi uintptr
	path   string
}

// maxShrunk bounds the closed mappings remembered.
const maxShrunk = 16

func trackMapping(m *Mapping, path string) {
	mappedMu.Lock()
	mapped[m] = path
	mappedMu.Unlock()
}

// untrackMapping forgets a mapping being closed, remembering its range if
// its file is now shorter than the mapping (so reads could have faulted).
func untrackMapping(m *Mapping) {
	mappedMu.Lock()
	defer mappedMu.Unlock()
	path, ok := mapped[m]
	delete(mapped, m)
	if !ok || len(m.data) == 0 {
		return
	}
	if st, err := os.Stat(path); err == nil && st.Size() >= int64(len(m.data)) {
		return
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(m.data)))
	shrunk = append(shrunk, addressRange{lo, lo + uintptr(len(m.data)), path})
	if len(shrunk) > maxShrunk {
		shrunk = shrunk[1:]
	}
}

// FaultError turns a memory fault at addr (the Addr of a runtime.Error a
// goroutine with debug.SetPanicOnFault recovered) into an error naming
// the mapped input it hit: that file was truncated or changed while being
// read. It reports false when addr is in no live mapping (a bug, not a
// file).
func FaultError(addr uintptr) (error, bool) {
	mappedMu.Lock()
	defer mappedMu.Unlock()
	ranges := slices.Clone(shrunk)
	for m, path := range mapped {
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(m.data)))
		ranges = append(ranges, addressRange{lo, lo + uintptr(len(m.data)), path})
	}
	for _, r := range ranges {
		if addr >= r.lo && addr < r.hi {
			return fmt.Errorf("%s: the file was truncated or changed while it was being read: %w", r.path, format.ErrFormat), true
		}
	}
	return nil, false
}
