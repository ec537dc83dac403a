package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/internal/atomicfile"
	"github.com/lorakit/lorakit/internal/cpu"

	// Container formats register themselves with format.Open / format.Create.
	_ "github.com/lorakit/lorakit/format/gguf"
	_ "github.com/lorakit/lorakit/format/llama2c"
	_ "github.com/lorakit/lorakit/format/safetensors"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFail        = 1   // the command failed, or (diff) found differences
	exitUsage       = 2   // bad command line
	exitInternal    = 3   // a bug in lorakit (a Go panic), reported in one line
	exitInterrupted = 130 // SIGINT, SIGTERM or SIGHUP (the shell's 128+SIGINT)
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
		newCombineCmd(),
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
		newCheckCmd(),
		newVerifyCmd(),
		newReleaseCmd(),
		newTokenizeCmd(),
		newTemplateCmd(),
	)
	root.SetHelpCommand(newHelpCmd(root))
	requireSubcommands(root)
	return root
}

// requireSubcommands makes every command that only groups subcommands
// (lorakit itself, analyze) refuse to run without one, or with one that
// does not exist, as a usage error instead of printing help and exiting 0.
func requireSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		requireSubcommands(sub)
	}
	if c.Runnable() || !c.HasSubCommands() {
		return
	}
	c.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return argsError{fmt.Errorf("unknown command %q for %q", clipArg(args[0]), cmd.CommandPath())}
		}
		return nil
	}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		return argsError{fmt.Errorf("%s needs a command (%s)", cmd.CommandPath(), strings.Join(subcommandNames(cmd), ", "))}
	}
}

func subcommandNames(c *cobra.Command) []string {
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return names
}

// newHelpCmd is cobra's help command, except that a topic that is no
// command is a usage error.
func newHelpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 || target == nil {
				return argsError{fmt.Errorf("unknown help topic %q", clipArg(strings.Join(args, " ")))}
			}
			target.SetOut(cmd.OutOrStdout())
			return target.Help()
		},
	}
}

// clipArg shortens a command-line word echoed in an error.
func clipArg(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// run executes the command line and returns the process exit status. Errors
// are printed as one line on stderr.
//
// SIGINT, SIGTERM and SIGHUP cancel the command's context: the command
// stops at its next check, removes its temporary outputs and exits with
// exitInterrupted; an output whose final rename had begun is complete and
// kept. A second signal removes the temporary outputs and exits at once.
func run(args []string, stdout, stderr io.Writer) (code int) {
	if cpu.LimitErr != nil {
		fmt.Fprintf(stderr, "lorakit: %v\n", cpu.LimitErr)
		return exitUsage
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stopSignals := onSignals(cancel, stderr)
	defer stopSignals()

	// A memory fault on a mapped input (truncated while being read) and a
	// bug end the command here, not in a Go stack dump.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			atomicfile.RemoveTemporaries()
			code = reportPanic(stderr, r)
		}
	}()

	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	var ue usageError
	var ee exitError
	switch {
	case ctx.Err() != nil && err == nil:
		fmt.Fprintf(stderr, "lorakit: %v arrived after the outputs were complete; they are kept\n", context.Cause(ctx))
		return exitInterrupted
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		atomicfile.RemoveTemporaries()
		fmt.Fprintf(stderr, "lorakit: %s\n", clipMessage(interruptMessage(ctx, err)))
		return exitInterrupted
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return int(ee)
	case errors.As(err, &ue) || isArgsError(err):
		fmt.Fprintf(stderr, "lorakit: %s\n", clipMessage(err.Error()))
		fmt.Fprintln(stderr, "Run 'lorakit help' for usage.")
		return exitUsage
	}
	fmt.Fprintf(stderr, "lorakit: %s\n", clipMessage(err.Error()))
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
