package atomicfile

import (
	"errors"
	"runtime"
	"syscall"
	"unsafe"
)

// renameat2's flags (linux/fs.h) and its system call number per
// architecture (the syscall package lacks it on some).
const (
	renameNoReplaceFlag = 1 << 0
	renameExchangeFlag  = 1 << 1
	atFDCWD             = -0x64
)

var sysRenameat2 = map[string]uintptr{
	"amd64": 316, "386": 353, "arm64": 276, "arm": 382, "riscv64": 276,
	"loong64": 276, "ppc64le": 357, "ppc64": 357, "s390x": 347,
	"mips64": 5311, "mips64le": 5311,
}[runtime.GOARCH]

// renameat2 is the Linux system call; syscall.ENOSYS where the kernel or
// this build lacks it, syscall.EINVAL where the file system does.
func renameat2(from, to string, flags uintptr) error {
	if sysRenameat2 == 0 {
		return syscall.ENOSYS
	}
	p1, err := syscall.BytePtrFromString(from)
	if err != nil {
		return err
	}
	p2, err := syscall.BytePtrFromString(to)
	if err != nil {
		return err
	}
	fd := atFDCWD
	_, _, e := syscall.Syscall6(sysRenameat2, uintptr(fd), uintptr(unsafe.Pointer(p1)), uintptr(fd), uintptr(unsafe.Pointer(p2)), flags, 0)
	if e != 0 {
		return e
	}
	return nil
}

// unsupported reports a renameat2 the kernel or file system cannot do.
func unsupported(err error) bool {
	return errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}

// renameNoReplace renames from to to, failing with an error matching
// os.ErrExist when to exists, atomically.
func renameNoReplace(from, to string, dir bool) error {
	err := renameat2(from, to, renameNoReplaceFlag)
	if err == nil || !unsupported(err) {
		return err
	}
	return renameNoReplacePortable(from, to, dir)
}

// renameExchange swaps two existing paths atomically; errExchangeUnsupported
// where the system cannot.
func renameExchange(a, b string) error {
	err := renameat2(a, b, renameExchangeFlag)
	if err != nil && unsupported(err) {
		return errExchangeUnsupported
	}
	return err
}

func isSyncUnsupported(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP)
}
