package verify

import (
	"fmt"
	"io"
	"strings"
)

// WriteText writes the report for people: one line per tensor (the
// status "bit-exact", a rounding explanation, or what is wrong), the
// metadata that is not the same, and a verdict naming every offending
// item.
func WriteText(w io.Writer, rep *Report) error {
	fmt.Fprintf(w, "verify %s\nbase %s", rep.Release, rep.Base)
	if len(rep.Adapters) > 0 {
		fmt.Fprintf(w, ", adapters %s", strings.Join(rep.Adapters, " "))
	}
	fmt.Fprintln(w)
	counts := map[Status]int{}
	for _, t := range rep.Tensors {
		counts[t.Status]++
		merged := ""
		if len(t.Merged) > 0 {
			merged = " [merged]"
		}
		fmt.Fprintf(w, "  %-40s %-5s %s%s\n", t.Name, t.DType, describe(t), merged)
	}
	same := 0
	for _, m := range rep.Metadata {
		if m.Status == Same {
			same++
			continue
		}
		if m.Status == NotInBase {
			continue
		}
		fmt.Fprintf(w, "  metadata %-31s %s: %s\n", m.Key, m.Status, m.Note)
	}
	fmt.Fprintf(w, "metadata: %d items carried from the base unchanged\n", same)
	if l := rep.Logits; l != nil {
		fmt.Fprintf(w, "logits on %d prompts of %d random tokens, release vs base with the adapters at run time: max |diff| %.3g (%.3g of the largest), top-1 agrees on %d\n",
			len(l.Prompts), promptLen, l.MaxAbs, l.MaxRel, l.Top1)
	}
	if rep.OK {
		_, err := fmt.Fprintf(w, "OK: all %d tensors explained (%d bit-exact, %d within rounding)\n",
			len(rep.Tensors), counts[BitExact], counts[Rounding])
		return err
	}
	_, err := fmt.Fprintf(w, "FAIL: %d offending: %s\n", len(rep.Offending), strings.Join(rep.Offending, ", "))
	return err
}

// describe is a tensor's verdict in words.
func describe(t TensorResult) string {
	switch t.Status {
	case BitExact:
		return "bit-exact"
	case Rounding:
		return t.Note
	case Different:
		if t.Note != "" {
			return "DIFFERENT: " + t.Note
		}
		return fmt.Sprintf("DIFFERENT: max |diff| %.3g, max rel %.3g of the largest value", t.MaxAbs, t.MaxRel)
	}
	return strings.ToUpper(string(t.Status)) + ": " + t.Note
}
