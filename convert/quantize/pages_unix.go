//go:build unix

package quantize

import (
	"os"
	"syscall"
	"unsafe"
)

var pageSize = uintptr(os.Getpagesize())

// releasePages tells the kernel that the pages under b, a part of a
// read-only shared file mapping, are no longer needed: they leave this
// process's resident set and are read again from the page cache if touched.
// The range is widened to whole pages, which only costs a later re-read of
// the neighbouring bytes. It must never be called on other memory.
func releasePages(b []byte) {
	if len(b) == 0 {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	head := uintptr(p) & (pageSize - 1)
	n := (head + uintptr(len(b)) + pageSize - 1) &^ (pageSize - 1)
	syscall.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, -int(head))), n), syscall.MADV_DONTNEED)
}
