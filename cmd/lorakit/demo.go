package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/demo"
)

type demoOptions struct {
	out    string
	force  bool
	epochs int
	beams  int
	json   bool
}

func newDemoCmd() *cobra.Command {
	o := demoOptions{out: "lorakit-demo"}
	cmd := &cobra.Command{
		Use:   "demo [-o DIR]",
		Short: "Train, evaluate, merge, export and analyse LoRA adapters on built-in data (about two minutes)",
		Long: `Run the whole life of a LoRA adapter with nothing but this program: the
embedded stories260K (a 260K-parameter Llama trained on TinyStories; MIT,
Andrej Karpathy) is adapted to a slice of the E2E NLG data (584 training
pairs, 25 test meaning representations; CC BY-SA 4.0, Novikova, Dušek and
Rieser 2017), which is also compiled in.

The demo exports the base as GGUF, trains a rank-4 adapter on q,v and a
rank-16 one, decodes test prompts before and after and scores them (BLEU,
NIST, ROUGE-L, CIDEr, METEOR exact-match), merges the rank-4 adapter into the
base and exports the merged model as GGUF (F32 and Q8_0; stories260K's
feed-forward width 172 is not a multiple of 32, so those tensors stay F16),
writes the Section 7 analysis (spectra, r=4 vs r=16 subspace similarity,
amplification) and prints a summary with the paths.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error { return interrupted("", runDemo(cmd, o)) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "output", "o", o.out, "output directory")
	f.BoolVar(&o.force, "force", false, "write into a non-empty directory")
	f.IntVar(&o.epochs, "epochs", 3, "epochs per adapter over the training slice")
	f.IntVar(&o.beams, "beam", 0, "beam width for the test decoding (0: greedy)")
	f.BoolVar(&o.json, "json", false, "print the summary as JSON")
	return cmd
}

func runDemo(cmd *cobra.Command, o demoOptions) error {
	errw := cmd.ErrOrStderr()
	sum, err := demo.Run(cmd.Context(), demo.Options{Dir: o.out, Force: o.force, Log: errw, Epochs: o.epochs, Beams: o.beams})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if o.json {
		return writeJSONIndented(out, sum)
	}
	fmt.Fprintf(out, "\nlorakit demo: %.0f s, everything in %s\n\n", sum.Seconds, sum.Dir)
	for _, s := range sum.Samples {
		fmt.Fprintf(out, "prompt:      %s\nbefore:      %s\nafter, r=4:  %s\nafter, r=16: %s\nreference:   %s\n\n", s.Prompt, clip(s.Before, 160), clip(s.After, 160), clip(s.After16, 160), s.Reference)
	}
	fmt.Fprintf(out, "%-9s %8s %10s %10s %7s %7s %8s %7s %9s\n", "adapter", "params", "test loss", "(before)", "BLEU", "NIST", "ROUGE-L", "CIDEr", "tokens/s")
	b := sum.BaseScores
	fmt.Fprintf(out, "%-9s %8s %10s %10s %7.3f %7.3f %8.3f %7.3f %9s\n", "base", "0", "", "", b.BLEU, b.NIST, b.ROUGEL, b.CIDEr, "")
	for _, r := range sum.Runs {
		s := r.Scores
		fmt.Fprintf(out, "%-9s %8d %10.3f %10.3f %7.3f %7.3f %8.3f %7.3f %9.0f\n", r.Name, r.Trainable, r.LossAfter, r.LossBefore, s.BLEU, s.NIST, s.ROUGEL, s.CIDEr, r.TokensPerSec)
	}
	fmt.Fprintf(out, "\nbase model (GGUF F32)      %s\n", sum.Base)
	for _, r := range sum.Runs {
		fmt.Fprintf(out, "%-26s %s/{adapter/,adapter.gguf,train.jsonl,loss.png}\n", r.Name+" adapter", r.Dir)
	}
	fmt.Fprintf(out, "merged model (GGUF F32)    %s\n", sum.Merged)
	fmt.Fprintf(out, "merged model (GGUF Q8_0)   %s\n", sum.MergedQ8)
	fmt.Fprintf(out, "merge check                max |logit(merged) - logit(base+adapter)| = %.2g\n", sum.MergeMaxDiff)
	fmt.Fprintf(out, "analysis report            %s/report.md\n", sum.Report)
	fmt.Fprintf(out, "\nnext: lorakit generate %s --prompt %q\n", sum.MergedQ8, "name : The Eagle | food : French ||")
	return nil
}

// clip shortens s to n bytes with an ellipsis.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
