package check

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes the report for people.
func WriteText(w io.Writer, rep *Report) error {
	fmt.Fprintf(w, "check %s: architecture %q", rep.Base, rep.Arch)
	if rep.BaseType != "" {
		fmt.Fprintf(w, ", %s", rep.BaseType)
	}
	fmt.Fprintln(w)
	if rep.VocabSize > 0 || rep.EmbeddingRows > 0 {
		tied := ""
		if rep.TiedEmbedding {
			tied = ", output head tied to the embedding"
		}
		fmt.Fprintf(w, "vocabulary %d tokens, embedding %d rows%s\n", rep.VocabSize, rep.EmbeddingRows, tied)
	}
	for _, a := range rep.Adapters {
		fmt.Fprintf(w, "adapter %s (%s) at scale %g", a.Path, a.Kind, a.UserScale)
		if a.BaseModel != "" {
			fmt.Fprintf(w, ", trained on %s", a.BaseModel)
		}
		fmt.Fprintf(w, ", rsLoRA %v, DoRA %v", a.RSLoRA, a.DoRA)
		if a.Init != "" {
			fmt.Fprintf(w, ", init %s", a.Init)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  %-44s %-30s %6s %7s %8s %9s  survival: %s\n", "module", "base tensor", "rank", "alpha", "scale", "effective", "cos(Q(W+ΔW)−Q(W), ΔW) for "+strings.Join(rep.Quants, ", "))
		for _, m := range a.Modules {
			var surv []string
			for _, q := range rep.Quants {
				if s, ok := m.Survival[q]; ok {
					surv = append(surv, fmt.Sprintf("%.3f (%s, ‖q‖/‖ΔW‖ %.2f)", s.Cosine, s.Type, s.Ratio))
				}
			}
			target := m.Target
			if target == "" {
				target = "-"
			}
			line := fmt.Sprintf("  %-44s %-30s %6d %7g %8.4g %9.4g  %s", m.Name, target, m.Rank, m.Alpha, m.Scale, m.Effective, strings.Join(surv, "  "))
			if m.Pattern != "" {
				line += "  [" + m.Pattern + "]"
			}
			if m.Problem != "" {
				line += "  ! " + m.Problem
			}
			fmt.Fprintln(w, line)
		}
		for _, s := range a.Saved {
			fmt.Fprintf(w, "  modules_to_save %s\n", s)
		}
	}
	if len(rep.Untouched) > 0 {
		var parts []string
		for _, g := range rep.Untouched {
			parts = append(parts, fmt.Sprintf("%s ×%d", g.Kind, g.Count))
		}
		fmt.Fprintf(w, "base weights no adapter touches: %s\n", strings.Join(parts, ", "))
	}
	for _, s := range rep.Warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
	for _, s := range rep.Blockers {
		fmt.Fprintf(w, "BLOCKER: %s\n", s)
	}
	verdict := "OK"
	if !rep.OK {
		verdict = fmt.Sprintf("FAIL: %d blockers", len(rep.Blockers))
	}
	_, err := fmt.Fprintf(w, "%s (%d warnings)\n", verdict, len(rep.Warnings))
	return err
}
