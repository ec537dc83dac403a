package main

// Signals, interruption and crashes: how a command ends when it is told to
// stop or when lorakit itself fails.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/lorakit/lorakit/internal/atomicfile"
	"github.com/lorakit/lorakit/internal/mmap"
)

// errSignal is the cause of a cancelled command context: the signal that
// asked the command to stop.
type errSignal struct{ sig os.Signal }

func (e errSignal) Error() string {
	switch e.sig {
	case os.Interrupt:
		return "interrupt (SIGINT)"
	case syscall.SIGTERM:
		return "termination signal (SIGTERM)"
	case syscall.SIGHUP:
		return "hangup (SIGHUP)"
	}
	return e.sig.String()
}

// stopSignals are the signals that interrupt a command.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// onSignals cancels the command on the first stop signal (of those not
// ignored when lorakit started); on the second it removes the temporary
// outputs and exits at once. It returns the function
// that stops listening.
func onSignals(cancel context.CancelCauseFunc, stderr io.Writer) func() {
	ch := make(chan os.Signal, 2)
	for _, sig := range stopSignals {
		// A signal the parent ignored stays ignored: under nohup (SIGHUP)
		// or as a background job of a script (SIGINT) lorakit must not
		// start stopping on it.
		if !signal.Ignored(sig) {
			signal.Notify(ch, sig)
		}
	}
	done := make(chan struct{})
	go func() {
		seen := 0
		for {
			select {
			case <-done:
				return
			case sig := <-ch:
				seen++
				if seen == 1 {
					cancel(errSignal{sig})
					continue
				}
				atomicfile.RemoveTemporaries()
				fmt.Fprintf(stderr, "lorakit: %v again: stopped at once, nothing written\n", errSignal{sig})
				os.Exit(exitInterrupted)
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// interruptMessage is the one line for an interrupted command: what it was
// writing (from the interrupted helper) and the signal.
func interruptMessage(ctx context.Context, err error) string {
	cause := context.Cause(ctx)
	if cause == nil || errors.Is(cause, context.Canceled) {
		cause = errors.New("interrupted")
	}
	// The library's wrapping ends in "context canceled": say which signal.
	msg := ""
	if err != nil {
		msg = strings.TrimSuffix(err.Error(), context.Canceled.Error())
		msg = strings.TrimSuffix(msg, ": ")
	}
	switch {
	case msg == "":
		return "interrupted by " + cause.Error()
	case !strings.Contains(msg, "interrupted"):
		return msg + ": interrupted by " + cause.Error()
	}
	return msg + " (" + cause.Error() + ")"
}

// reportPanic turns a recovered panic into one error line and a status: a
// memory fault on a mapped input is a file that changed underneath
// (exitFail); anything else is a bug in lorakit (exitInternal), reported
// with where it happened.
func reportPanic(stderr io.Writer, r any) int {
	if f, ok := r.(interface{ Addr() uintptr }); ok {
		if err, ok := mmap.FaultError(f.Addr()); ok {
			fmt.Fprintf(stderr, "lorakit: %v\n", err)
			return exitFail
		}
	}
	fmt.Fprintf(stderr, "lorakit: internal error: %s at %s (a bug in lorakit; please report it with the command line)\n", clipMessage(fmt.Sprint(r)), panicSite())
	return exitInternal
}

// panicSite is the innermost lorakit function on the panicking stack.
func panicSite() string {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		f, more := frames.Next()
		ours := strings.HasPrefix(f.Function, "main.") || strings.Contains(f.Function, "lorakit/lorakit/")
		skip := strings.HasSuffix(f.File, "cmd/lorakit/root.go") || strings.HasSuffix(f.File, "cmd/lorakit/signals.go") ||
			strings.Contains(f.Function, "internal/parallel.")
		if ours && !skip {
			return fmt.Sprintf("%s (%s:%d)", f.Function, f.File[strings.LastIndex(f.File, "/")+1:], f.Line)
		}
		if !more {
			return "unknown"
		}
	}
}

// maxMessage bounds an error line: messages that echo input (a token, a
// key, a line of a data file) are cut, so a hostile file cannot flood the
// terminal.
const maxMessage = 1000

// clipMessage cuts msg to maxMessage bytes (on a UTF-8 boundary), saying how
// much was left out.
func clipMessage(msg string) string {
	if len(msg) <= maxMessage {
		return msg
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... [%d more bytes]", msg[:cut], len(msg)-cut)
}
