package atomicfile

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Temporary outputs are named .TARGET.tmp-PID-RANDOM, so that a later run
// can tell whether the process that made one is still alive.
func tempPattern(base string) string {
	return "." + base + ".tmp-" + strconv.Itoa(os.Getpid()) + "-*"
}

// removeStaleTemps removes the temporary outputs for base in dir whose
// process has ended (killed before it could clean up).
func removeStaleTemps(dir, base string) {
	prefix := "." + base + ".tmp-"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// temps are this process's temporary outputs not yet committed or removed,
// so that RemoveTemporaries can clean up when the process must end at once.
var (
	tempsMu sync.Mutex
	temps   = map[string]bool{}
)

func trackTemp(p string) {
	tempsMu.Lock()
	temps[p] = true
	tempsMu.Unlock()
}

func untrackTemp(p string) {
	tempsMu.Lock()
	delete(temps, p)
	tempsMu.Unlock()
}

// removeTemp deletes a temporary output (file or directory) and forgets it.
func removeTemp(p string) error {
	untrackTemp(p)
	return os.RemoveAll(p)
}

// RemoveTemporaries deletes every temporary output of this process that is
// not committed yet. A program that must exit at once (a second Ctrl-C)
// calls it so that nothing is left behind.
func RemoveTemporaries() {
	tempsMu.Lock()
	defer tempsMu.Unlock()
	for p := range temps {
		os.RemoveAll(p)
		delete(temps, p)
	}
}
