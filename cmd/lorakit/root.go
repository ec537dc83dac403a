package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"

	// Container formats register themselves with format.Open / format.Create.
	_ "github.com/lorakit/lorakit/format/gguf"
	_ "github.com/lorakit/lorakit/format/llama2c"
	_ "github.com/lorakit/lorakit/format/safetensors"
)

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1 // the command failed, or (diff) found differences
	exitUsage = 2 // bad command line
)

// usageError marks an error in the command line itself.
type usageError struct{ error }

// exitError carries a status without a message (diff's "differences found").
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "lorakit",
		Short:         "Convert, quantize, merge, train and analyse LoRA adapters",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newInspectCmd(),
		newDiffCmd(),
		newConvertCmd(),
		newQuantizeCmd(),
		newMergeCmd(),
		newExtractCmd(),
		newGenerateCmd(),
		newLogitsCmd(),
		newScoreCmd(),
		newImatrixCmd(),
		newSizeCmd(),
		newAnalyzeCmd(),
		newTrainCmd(),
		newEvalCmd(),
		newDemoCmd(),
		newTokenizeCmd(),
		newTemplateCmd(),
	)
	return root
}

// run executes the command line and returns the process exit status. Errors
// are printed as one line on stderr.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	var ue usageError
	var ee exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return int(ee)
	case errors.As(err, &ue) || isArgsError(err):
		fmt.Fprintf(stderr, "lorakit: %v\n", err)
		fmt.Fprintln(stderr, "Run 'lorakit help' for usage.")
		return exitUsage
	}
	fmt.Fprintf(stderr, "lorakit: %v\n", err)
	return exitFail
}

// cobraUsage are the beginnings of the command-line complaints cobra returns
// as plain errors (so only their text identifies them): an unknown command,
// and required or grouped flags missing.
var cobraUsage = []string{
	"unknown command",
	"required flag(s) ",                       // MarkFlagRequired
	"if any flags in the group ",              // MarkFlagsRequiredTogether, MarkFlagsMutuallyExclusive
	"at least one of the flags in the group ", // MarkFlagsOneRequired
}

// isArgsError recognises command-line complaints: our positional-argument
// checks and cobra's own.
func isArgsError(err error) bool {
	var ae argsError
	if errors.As(err, &ae) {
		return true
	}
	for _, prefix := range cobraUsage {
		if strings.HasPrefix(err.Error(), prefix) {
			return true
		}
	}
	return false
}

// argsError wraps positional-argument validation failures.
type argsError struct{ error }

// exactArgs is cobra.ExactArgs reporting a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return argsError{err}
		}
		return nil
	}
}

// rangeArgs is cobra.RangeArgs reporting a usage error.
func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.RangeArgs(lo, hi)(cmd, args); err != nil {
			return argsError{err}
		}
		return nil
	}
}
