package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/diff"
	"github.com/lorakit/lorakit/format"
)

type diffOptions struct {
	json bool
	tol  diff.Tolerance
}

func newDiffCmd() *cobra.Command {
	var o diffOptions
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Compare two checkpoints tensor by tensor",
		Long: `Compare two checkpoints tensor by tensor, by name, across formats and dtypes.
Values are decoded to float64 (quantized tensors are dequantized) and compared
element by element: a value is within tolerance when |a-b| <= atol + rtol*|b|.
Exit status 0 when every tensor is present on both sides with equal shapes and
all values within tolerance, 1 otherwise.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkNonNegative("--atol", o.tol.Abs); err != nil {
				return err
			}
			if err := checkNonNegative("--rtol", o.tol.Rel); err != nil {
				return err
			}
			return runDiff(cmd.OutOrStdout(), args[0], args[1], o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object")
	cmd.Flags().Float64Var(&o.tol.Abs, "atol", 0, "absolute tolerance")
	cmd.Flags().Float64Var(&o.tol.Rel, "rtol", 0, "relative tolerance (relative to B)")
	return cmd
}

func runDiff(w io.Writer, pathA, pathB string, o diffOptions) error {
	a, err := format.Open(pathA)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := format.Open(pathB)
	if err != nil {
		return err
	}
	defer b.Close()
	d, err := diff.Compare(a, b, o.tol)
	if err != nil {
		return err
	}
	if o.json {
		if err := writeJSON(w, jsonDiff(d)); err != nil {
			return err
		}
	} else {
		printDiff(w, d)
	}
	if !d.OK {
		return exitError(exitFail)
	}
	return nil
}

// jsonDiff replaces infinite relative differences (a zero reference value)
// by the largest float, since JSON has no infinity.
func jsonDiff(d *diff.Report) *diff.Report {
	for i := range d.Tensors {
		t := &d.Tensors[i]
		t.MaxAbs, t.MaxRel = finite(t.MaxAbs), finite(t.MaxRel)
	}
	d.MaxAbs = finite(d.MaxAbs)
	return d
}

func finite(f float64) float64 {
	const maxFloat = 1.7976931348623157e308
	if f > maxFloat {
		return maxFloat
	}
	return f
}

func printDiff(w io.Writer, d *diff.Report) {
	counts := map[diff.Status]int{}
	for _, t := range d.Tensors {
		counts[t.Status]++
		switch t.Status {
		case diff.Equal:
			continue
		case diff.OnlyA, diff.OnlyB:
			fmt.Fprintf(w, "%-7s %s\n", t.Status, t.Name)
		case diff.ShapeMismatch:
			fmt.Fprintf(w, "%-7s %s %v %v vs %v %v\n", t.Status, t.Name, t.DTypeA, t.ShapeA, t.DTypeB, t.ShapeB)
		default:
			fmt.Fprintf(w, "%-7s %s max_abs %.6g max_rel %.6g\n", t.Status, t.Name, t.MaxAbs, t.MaxRel)
		}
	}
	verdict := "same"
	if !d.OK {
		verdict = "DIFFERENT"
	}
	fmt.Fprintf(w, "%s: %d tensors (%d equal, %d within, %d differ, %d only in A, %d only in B, %d shape), max_abs %.6g\n",
		verdict, len(d.Tensors), counts[diff.Equal], counts[diff.Within], counts[diff.Differ],
		counts[diff.OnlyA], counts[diff.OnlyB], counts[diff.ShapeMismatch], d.MaxAbs)
}
