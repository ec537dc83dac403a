package tokenizer

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/lorakit/lorakit/format"
)

// Normalizer is one Hugging Face normalizer step, applied to text before
// it is split (a member of a normalizers.Sequence).
type Normalizer struct {
	// Type is "NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Replace",
	// "Prepend" or "Strip".
	Type string
	// Pattern is the literal text Replace replaces ({"String": ...}).
	Pattern string
	// Content is Replace's replacement or Prepend's prefix.
	Content string
	// Left and Right are Strip's sides.
	Left, Right bool
}

// checkNormalizer refuses steps lorakit does not implement.
func checkNormalizer(n Normalizer) error {
	switch n.Type {
	case "NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Replace", "Prepend", "Strip":
		return nil
	}
	return fmt.Errorf("normalizer %q: %w", n.Type, format.ErrUnsupported)
}

// normalize applies ns to s in order.
func normalize(ns []Normalizer, s string) string {
	for _, n := range ns {
		switch n.Type {
		case "NFC":
			s = norm.NFC.String(s)
		case "NFD":
			s = norm.NFD.String(s)
		case "NFKC":
			s = norm.NFKC.String(s)
		case "NFKD":
			s = norm.NFKD.String(s)
		case "Lowercase":
			s = strings.ToLower(s)
		case "Replace":
			if n.Pattern != "" {
				s = strings.ReplaceAll(s, n.Pattern, n.Content)
			}
		case "Prepend":
			if s != "" {
				s = n.Content + s
			}
		case "Strip":
			if n.Left {
				s = strings.TrimLeftFunc(s, unicode.IsSpace)
			}
			if n.Right {
				s = strings.TrimRightFunc(s, unicode.IsSpace)
			}
		}
	}
	return s
}
