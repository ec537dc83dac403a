package analyze

import (
	"strconv"
	"strings"
)

// splitName splits a module name into its layer index and its module type,
// at the first dot-separated component that is a decimal number:
//
//	base_model.model.model.layers.3.self_attn.q_proj -> 3, "self_attn.q_proj"
//	blk.3.attn_q                                     -> 3, "attn_q"
//
// A name without a layer number has layer -1 and is its own type.
func splitName(name string) (layer int, kind string) {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		if n, err := strconv.Atoi(p); err == nil && n >= 0 && p == strconv.Itoa(n) && i+1 < len(parts) {
			return n, strings.Join(parts[i+1:], ".")
		}
	}
	return -1, name
}

// fileSafe maps s to a file-name fragment of [A-Za-z0-9_-].
func fileSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}
