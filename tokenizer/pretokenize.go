package tokenizer

// Byte-level BPE vocabularies split text into pieces before merging, each
// with its own pre-tokenizer: a sequence of steps, every step splitting
// each piece of the one before (Hugging Face's pre_tokenizers.Sequence).
// Most steps are a Split on a regex whose matches become pieces of their
// own, the text between matches too ("Isolated"). Go's regexp has neither
// look-ahead (\s+(?!\S)) nor Oniguruma's backtracking order, so each known
// pattern is matched by hand here (see matchers.go), with the meaning the
// regex has in Hugging Face's tokenizers; a pattern that is not known is
// refused by name (format.ErrUnsupported), never approximated.

// matcher finds a match of a pattern that starts at s[i] (i < len(s)). It
// returns the match's end (> i), or end -1 and the next position at which a
// match could start (> i). Patterns see s as a whole: s is one piece, and
// "$" or a look-ahead stops at its end.
type matcher func(s string, i int) (end, next int)

// span is the piece text[a:b].
type span struct{ a, b int }

// pipeline is a compiled pre-tokenizer: steps applied in order, each to
// every piece the previous step made.
type pipeline struct {
	steps []matcher
}

// split returns the pieces of text as spans, reusing buf and tmp.
func (p *pipeline) split(text string, buf, tmp []span) ([]span, []span) {
	cur := append(buf[:0], span{0, len(text)})
	if len(text) == 0 {
		return cur[:0], tmp
	}
	for _, m := range p.steps {
		next := tmp[:0]
		for _, sp := range cur {
			next = findAll(text[sp.a:sp.b], sp.a, m, next)
		}
		cur, tmp = next, cur
	}
	return cur, tmp
}

// findAll appends the matches of m in s, and the gaps between them, as
// spans offset by off: a regex's find-all, leftmost match first.
func findAll(s string, off int, m matcher, out []span) []span {
	gap := 0
	for i := 0; i < len(s); {
		end, next := m(s, i)
		if end <= i {
			i = next
			continue
		}
		if gap < i {
			out = append(out, span{off + gap, off + i})
		}
		out = append(out, span{off + i, off + end})
		i, gap = end, end
	}
	if gap < len(s) {
		out = append(out, span{off + gap, off + len(s)})
	}
	return out
}
