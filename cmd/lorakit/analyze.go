package main

import (
	"fmt"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/analyze"
	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/atomicfile"
	"github.com/lorakit/lorakit/lora"
	"github.com/lorakit/lorakit/resolve"
)

type analyzeOptions struct {
	json   bool
	module string
	base   string
	png    string
	output string
	force  bool
}

func newAnalyzeCmd() *cobra.Command {
	var o analyzeOptions
	cmd := &cobra.Command{
		Use:   "analyze",
		Short: "How much rank an adapter really uses (the LoRA paper's Section 7)",
		Long: `Analyse the updates dW = s·B·A of LoRA adapters (PEFT directories, mlx-lm
directories, llama.cpp LoRA GGUFs) without forming dW: thin QR of B and Aᵀ and
an SVD of the r×r core give dW's singular values and vectors.

  spectrum      singular values, numerical rank, energy ranks, stable and
                effective rank per module, and a rank recommendation
  similarity    subspace similarity φ(i, j) = ‖U_iᵀU_j‖²_F / min(i, j) between
                two adapters' top singular directions, with the random
                Gaussian baseline
  amplification ‖UᵀWVᵀ‖_F of the base W projected on dW's, W's and random
                top-r directions, and the amplification factor (Table 7)
  report        all of the above as report.md, report.json and PNG figures
  experts       how alike the experts' updates of stacked-expert modules are

Module names in the output are the adapter's own.`,
	}
	f := cmd.PersistentFlags()
	f.BoolVar(&o.json, "json", false, "print one JSON object")
	f.StringVar(&o.module, "module", "", "only modules whose name matches this regular expression")
	cmd.AddCommand(
		&cobra.Command{
			Use:   "spectrum ADAPTER",
			Short: "Singular-value spectrum and effective rank of every module",
			Args:  exactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return interrupted("", runSpectrum(cmd, args[0], o))
			},
		},
		newSimilarityCmd(&o),
		newAmplificationCmd(&o),
		newReportCmd(&o),
		newExpertsCmd(&o),
	)
	return cmd
}

func newSimilarityCmd(o *analyzeOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "similarity ADAPTER_A ADAPTER_B",
		Short: "Subspace similarity φ between two adapters, per common module",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return interrupted(o.png, runSimilarity(cmd, args[0], args[1], *o))
		},
	}
	cmd.Flags().StringVar(&o.png, "png", "", "also draw φ heatmaps (A side) into this PNG file")
	cmd.Flags().BoolVar(&o.force, "force", false, "replace an existing PNG")
	cmd.Flags().StringVar(&o.base, "base", "", "base model, to name both adapters alike when their layouts differ")
	return cmd
}

func newAmplificationCmd(o *analyzeOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "amplification ADAPTER --base BASE",
		Short: "How much dW amplifies directions of W (Table 7)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return interrupted("", runAmplification(cmd, args[0], *o))
		},
	}
	cmd.Flags().StringVar(&o.base, "base", "", "base model (GGUF, safetensors, HF directory, llama2.c) (required)")
	cmd.MarkFlagRequired("base")
	return cmd
}

func newReportCmd(o *analyzeOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report ADAPTER [ADAPTER_B] -o DIR",
		Short: "Write report.md, report.json and figures",
		Args:  rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return interrupted(o.output, runReport(cmd, args, *o))
		},
	}
	cmd.Flags().StringVar(&o.base, "base", "", "base model, for the amplification table")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "report directory (required)")
	cmd.Flags().BoolVar(&o.force, "force", false, "replace an existing report directory")
	cmd.MarkFlagRequired("output")
	return cmd
}

// loadModules reads an adapter's modules, keeping those --module selects.
func loadModules(path string, o analyzeOptions) (*lora.Adapter, []analyze.Module, error) {
	a, err := lora.Open(path)
	if err != nil {
		return nil, nil, err
	}
	mods, err := selectModules(analyze.FromAdapter(a), o.module)
	return a, mods, err
}

func selectModules(mods []analyze.Module, pattern string) ([]analyze.Module, error) {
	if pattern == "" {
		return mods, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, usageError{fmt.Errorf("--module: %w", err)}
	}
	var out []analyze.Module
	for _, m := range mods {
		if re.MatchString(m.Name) {
			out = append(out, m)
		}
	}
	return out, nil
}

func runSpectrum(cmd *cobra.Command, path string, o analyzeOptions) error {
	_, mods, err := loadModules(path, o)
	if err != nil {
		return err
	}
	s, err := analyze.Spectra(cmd.Context(), mods)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSONIndented(cmd.OutOrStdout(), s)
	}
	return analyze.WriteMarkdown(cmd.OutOrStdout(), &analyze.Report{Spectrum: s, Recommendation: recommend(s)})
}

func recommend(s *analyze.Spectrum) *analyze.Recommendation {
	r := analyze.Recommend(s, analyze.DefaultEnergy, analyze.DefaultCoverage)
	return &r
}

// comparable loads two adapters for comparison, naming B like A when
// their layouts differ (a PEFT and a GGUF adapter of the same base).
func comparable(pathA, pathB string, o analyzeOptions) ([]analyze.Module, []analyze.Module, error) {
	a, err := lora.Open(pathA)
	if err != nil {
		return nil, nil, err
	}
	b, err := lora.Open(pathB)
	if err != nil {
		return nil, nil, err
	}
	if (a.Kind == lora.KindGGUF) != (b.Kind == lora.KindGGUF) {
		for _, x := range []*lora.Adapter{a, b} {
			if x.Kind != lora.KindGGUF {
				if err := convert.ToGGUFNames(x, o.base); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	ma, err := selectModules(analyze.FromAdapter(a), o.module)
	if err != nil {
		return nil, nil, err
	}
	mb, err := selectModules(analyze.FromAdapter(b), o.module)
	return ma, mb, err
}

func runSimilarity(cmd *cobra.Command, pathA, pathB string, o analyzeOptions) error {
	ma, mb, err := comparable(pathA, pathB, o)
	if err != nil {
		return err
	}
	s, err := analyze.Compare(cmd.Context(), ma, mb, analyze.CompareOptions{})
	if err != nil {
		return err
	}
	if len(s.Modules) == 0 {
		return fmt.Errorf("%s and %s have no module in common: %w", pathA, pathB, format.ErrNotFound)
	}
	if o.png != "" {
		if err := writeFigure(o.png, analyze.SimilarityFigure(s, o.png), o.force); err != nil {
			return err
		}
	}
	if o.json {
		return writeJSONIndented(cmd.OutOrStdout(), s)
	}
	return analyze.WriteMarkdown(cmd.OutOrStdout(), &analyze.Report{Similarity: s})
}

// baseFor opens the base checkpoint and maps each of the adapter's modules
// to its weight there through package resolve (as merge does); the modules
// are returned in the base's layout (llama q/k rows permuted for a GGUF
// base), named as the adapter names them.
func baseFor(adapterPath, basePath, pattern string) ([]analyze.Module, analyze.BaseFunc, func(), error) {
	a, err := lora.Open(adapterPath)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := resolve.Open(basePath)
	if err != nil {
		return nil, nil, nil, err
	}
	base := analyze.NewBase(b)
	mods, err := base.Modules(a, adapterPath)
	if err == nil {
		mods, err = selectModules(mods, pattern)
	}
	if err != nil {
		b.Close()
		return nil, nil, nil, err
	}
	return mods, base.Stream, func() { b.Close() }, nil
}

func runAmplification(cmd *cobra.Command, path string, o analyzeOptions) error {
	mods, base, done, err := baseFor(path, o.base, o.module)
	if err != nil {
		return err
	}
	defer done()
	amp, err := analyze.Amplify(cmd.Context(), mods, base, analyze.AmplifyOptions{})
	if err != nil {
		return err
	}
	if o.json {
		return writeJSONIndented(cmd.OutOrStdout(), amp)
	}
	return analyze.WriteMarkdown(cmd.OutOrStdout(), &analyze.Report{Amplification: amp})
}

func runReport(cmd *cobra.Command, args []string, o analyzeOptions) error {
	var mods, other []analyze.Module
	var base analyze.BaseFunc
	var err error
	if o.base != "" {
		var done func()
		if mods, base, done, err = baseFor(args[0], o.base, o.module); err != nil {
			return err
		}
		defer done()
	} else if _, mods, err = loadModules(args[0], o); err != nil {
		return err
	}
	if len(args) == 2 {
		if mods2, b, err := comparable(args[0], args[1], o); err != nil {
			return err
		} else if o.base == "" {
			mods, other = mods2, b
		} else {
			other = b
		}
	}
	rep, err := analyze.BuildReport(cmd.Context(), mods, other, base, analyze.ReportOptions{})
	if err != nil {
		return err
	}
	if err := analyze.WriteReport(o.output, rep, o.force); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (report.md, report.json, %d figures)\n", o.output, len(rep.Figures))
	return nil
}

// writeFigure writes one figure to a PNG file atomically.
func writeFigure(path string, fig analyze.Figure, force bool) error {
	f, err := atomicfile.Create(path, force)
	if err != nil {
		return err
	}
	if err := fig.WritePNG(f); err != nil {
		f.Abort()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Commit()
}
