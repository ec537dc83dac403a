// Package mmap maps lorakit's input files read-only, so that opening a
// checkpoint reads none of its data and a tensor is a zero-copy slice of
// the file, and keeps the resident memory of streaming passes bounded.
//
// What it adds to a plain mmap(2):
//
//   - Page release: Mapping.Release, ReleaseMapped, WriteReleasing and
//     EqualReleasing let the pages of a tensor leave the resident set once
//     it has been used (madvise MADV_DONTNEED on Linux), so that copying or
//     comparing a 1 GB mapped tensor costs a chunk of RSS, not 1 GB.
//   - Read-ahead: Mapping.WillNeed asks the kernel to start reading the
//     next tensor while the current one is processed (MADV_WILLNEED).
//   - SIGBUS recovery: reading a mapped file that was truncated underneath
//     faults; with debug.SetPanicOnFault that is a panic, and FaultError
//     tells such a fault (an input that changed) from a bug by the address.
//
// Where the platform has no mmap the file is read into memory, and where
// it has no madvise (the BSDs and macOS through package syscall) release and
// read-ahead are no-ops.
package mmap
