package analyze

import (
	"fmt"
	"io"
	"strings"
)

// mdWriter writes Markdown with a sticky error.
type mdWriter struct {
	w   io.Writer
	err error
}

func (m *mdWriter) printf(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, args...)
	}
}

// row writes one table row.
func (m *mdWriter) row(cells ...string) {
	m.printf("| %s |\n", strings.Join(cells, " | "))
}

// header writes a table header with its rule, numbers right-aligned after
// the first column.
func (m *mdWriter) header(cells ...string) {
	m.row(cells...)
	rule := make([]string, len(cells))
	for i := range rule {
		rule[i] = "---:"
	}
	rule[0] = "---"
	m.row(rule...)
}

// g formats a number compactly.
func g(x float64) string { return fmt.Sprintf("%.4g", x) }

// d formats an integer.
func d(x int) string { return fmt.Sprint(x) }

// code quotes a module name for a table cell.
func code(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }

// WriteMarkdown writes the report as Markdown: the rank recommendation, the
// spectrum table, the similarity table with its random control, the
// amplification table like the paper's Table 7, the figures and the
// skipped modules, with the definitions used.
func WriteMarkdown(w io.Writer, rep *Report) error {
	m := &mdWriter{w: w}
	m.printf("# LoRA rank analysis\n\n")
	for _, in := range []struct{ what, name string }{{"Adapter", rep.AdapterA}, {"Compared with", rep.AdapterB}, {"Base", rep.Base}} {
		if in.name != "" {
			m.printf("- %s: %s\n", in.what, code(in.name))
		}
	}
	m.printf("\n")
	if r := rep.Recommendation; r != nil {
		writeRecommendation(m, r)
	}
	if s := rep.Spectrum; s != nil {
		writeSpectrum(m, s)
	}
	if s := rep.Similarity; s != nil {
		writeSimilarity(m, s)
	}
	if a := rep.Amplification; a != nil {
		writeAmplification(m, a)
	}
	if len(rep.Figures) > 0 {
		m.printf("## Figures\n\n")
		for _, f := range rep.Figures {
			m.printf("### %s\n\n![%s](%s)\n\n", f.Title, f.Title, f.File)
		}
	}
	return m.err
}

func writeRecommendation(m *mdWriter, r *Recommendation) {
	m.printf("## Rank recommendation\n\n**%s.**\n\n", r.Summary)
	m.printf("Per module, the recommended rank is the smallest k whose top k singular values keep %s of ‖ΔW‖_F² (the energy columns below); the adapter rank is the smallest power of two that does so in at least %s of the modules.\n\n",
		percent(r.Energy), percent(r.Coverage))
	m.header("rank", "modules served", "fraction")
	for _, c := range r.Candidates {
		m.row(d(c.Rank), d(c.Covered), percent(c.Fraction))
	}
	m.printf("\n")
}

func writeSpectrum(m *mdWriter, s *Spectrum) {
	m.printf("## Spectrum of ΔW = s·B·A\n\n")
	m.printf("Numerical rank counts σ_i > max(out, in)·ε·σ₁ (ε = 2⁻⁵², as numpy's `matrix_rank`); energy rank k keeps 90%% / 99%% of Σσ²; stable rank is ‖ΔW‖_F²/σ₁²; effective rank is exp(entropy of σ/Σσ) (Roy & Vetterli 2007).\n\n")
	m.header("module", "r", "shape", "σ₁", "numerical rank", "energy 90%", "energy 99%", "stable rank", "effective rank", "‖ΔW‖_F")
	for _, x := range s.Modules {
		var s1 float64
		if len(x.SingularValues) > 0 {
			s1 = x.SingularValues[0]
		}
		m.row(code(x.Name), d(x.Rank), fmt.Sprintf("%d×%d", x.Shape[0], x.Shape[1]), g(s1), d(x.NumericalRank),
			d(x.EnergyRank90), d(x.EnergyRank99), g(x.StableRank), g(x.EffectiveRank), g(x.Frobenius))
	}
	m.printf("\n")
	writeSkipped(m, s.Skipped)
}

func writeSimilarity(m *mdWriter, s *Similarity) {
	m.printf("## Subspace similarity\n\n")
	m.printf("φ(i, j) = ‖U_iᵀU_j‖_F² / min(i, j) between the top-i singular vectors of the first adapter and the top-j of the second: right-singular vectors of A (the paper's Section 7.2) and left-singular vectors of B. 1 means one subspace contains the other, 0 that they are orthogonal. The mean diagonal is over φ(i, i), i = 1..k. Random: the expectation for independent random subspaces (φ = max(i, j)/n) and one sampled pair of Gaussian matrices of the same shapes.\n\n")
	m.header("module", "r_a", "r_b", "φ_A(1,1)", "random", "φ_B(1,1)", "random", "k", "mean φ_A(i,i)", "random", "mean φ_B(i,i)", "random")
	for i, x := range s.Modules {
		var c SimilaritySummary
		if i < len(s.Summary) {
			c = s.Summary[i]
		}
		m.row(code(x.Name), d(x.RankA), d(x.RankB),
			g(x.PhiRight11), g(c.ExpectedRight11)+" / "+g(c.RandomRight11),
			g(x.PhiLeft11), g(c.ExpectedLeft11)+" / "+g(c.RandomLeft11),
			d(c.TopK), g(c.MeanDiagRight), g(c.ExpectedMeanDiagRight)+" / "+g(c.RandomMeanDiagRight),
			g(c.MeanDiagLeft), g(c.ExpectedMeanDiagLeft)+" / "+g(c.RandomMeanDiagLeft))
	}
	m.printf("\n(random: expected / sampled)\n\n")
	writeSkipped(m, s.Skipped)
}

func writeAmplification(m *mdWriter, a *Amplification) {
	m.printf("## Amplification (paper Table 7)\n\n")
	m.printf("‖UᵀWVᵀ‖_F projects the base weight W on r-dimensional subspaces: U, V the top-r singular vectors of ΔW, of W itself (randomized subspace iteration), or of a random matrix. Amplification factor = ‖ΔW‖_F / ‖UᵀWVᵀ‖_F with U, V from ΔW.\n\n")
	m.header("module", "r", "‖W‖_F", "‖ΔW‖_F", "U,V of ΔW", "U,V of W", "U,V random", "amplification")
	for _, x := range a.Modules {
		m.row(code(x.Name), d(x.Rank), g(x.WFrobenius), g(x.DWFrobenius), g(x.ProjDW), g(x.ProjW), g(x.ProjRandom), g(x.Amplification))
	}
	m.printf("\n")
	writeSkipped(m, a.Skipped)
}

func writeSkipped(m *mdWriter, skips []Skip) {
	if len(skips) == 0 {
		return
	}
	m.printf("Skipped:\n\n")
	for _, s := range skips {
		m.printf("- %s: %s\n", code(s.Name), s.Reason)
	}
	m.printf("\n")
}
