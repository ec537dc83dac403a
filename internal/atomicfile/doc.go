// Package atomicfile writes lorakit's outputs so that they are atomic and
// never replace what they must not: a file (Create) or a whole directory
// (WriteDir) is written under a temporary name beside its target, synced to
// disk and renamed into place, so readers see the old target, no target, or
// the complete new one.
//
// The rules every output follows:
//
//   - An existing target is kept unless force is set; a target that appears
//     while a run writes it is kept too (the commit is renameat2
//     RENAME_NOREPLACE on Linux, link(2) elsewhere), and the run fails with
//     an error wrapping format.ErrExists.
//   - An input of this process (format.MarkInput), a file inside an input
//     directory, and anything that is not a regular file (a device, FIFO,
//     socket or directory where a file is written) is never replaced, even
//     with force (CheckOutput).
//   - With force a directory is replaced in one atomic exchange where the
//     system has one (RENAME_EXCHANGE), and only when it holds nothing but
//     files the caller recognises as its own.
//   - Temporary names carry the process id (.TARGET.tmp-PID-RANDOM): those
//     of processes that died are removed by the next run, and a program
//     that must exit at once calls RemoveTemporaries so that nothing is left
//     behind.
//
// The container writers (format/gguf, format/safetensors) and every other
// writer in lorakit go through this package; a program using the library
// gets the same guarantees from those writers' Create functions.
package atomicfile
