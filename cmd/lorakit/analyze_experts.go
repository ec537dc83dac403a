package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/analyze"
	"github.com/lorakit/lorakit/lora"
)

// newExpertsCmd is `lorakit analyze experts`: how alike the experts'
// updates of each stacked-expert module are.
func newExpertsCmd(o *analyzeOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "experts ADAPTER",
		Short: "How alike the experts' updates are, per stacked-expert module (φ and cosine per pair)",
		Long: `For every module that stacks experts (llama.cpp's 3-D ffn_*_exps adapters, PEFT
target_parameters on fused expert parameters), compare each pair of experts'
updates dW_e = s·B_e·A_e: φ = ‖U_eᵀU_f‖²_F / min(k_e, k_f) over their leading
output directions, and the cosine of dW_e and dW_f, with the means over
pairs and the φ of random subspaces. Per-expert spectra: lorakit analyze
spectrum (modules named "<module>[e]").`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := lora.Open(args[0])
			if err != nil {
				return err
			}
			sims, err := analyze.CompareExperts(cmd.Context(), a)
			if err != nil {
				return err
			}
			if o.json {
				return writeJSONIndented(cmd.OutOrStdout(), sims)
			}
			w := cmd.OutOrStdout()
			if len(sims) == 0 {
				fmt.Fprintln(w, "no stacked-expert modules")
				return nil
			}
			for _, s := range sims {
				fmt.Fprintf(w, "%s: %d experts, ranks %v, mean φ %.3f (random %.3f), mean cosine %.3f\n", s.Module, s.Experts, s.Ranks, s.MeanPhi, s.RandomPhi, s.MeanCosine)
				for e := range s.Experts {
					fmt.Fprintf(w, "  expert %2d φ:", e)
					for f := range s.Experts {
						fmt.Fprintf(w, " %.2f", s.Phi[e][f])
					}
					fmt.Fprint(w, "  cosine:")
					for f := range s.Experts {
						fmt.Fprintf(w, " %+.2f", s.Cosine[e][f])
					}
					fmt.Fprintln(w)
				}
			}
			return nil
		},
	}
}
