package quantize

import (
	"sort"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// layerOf parses a tensor name as C's sscanf(name, "blk.%d.", &layer)
// does: the literal "blk.", then optional spaces, an optional sign and
// decimal digits. ok is false when the name does not start that way.
func layerOf(name string) (layer int, ok bool) {
	rest, found := strings.CutPrefix(name, "blk.")
	if !found {
		return -1, false
	}
	rest = strings.TrimLeft(rest, " \t\n\v\f\r")
	neg := false
	if rest != "" && (rest[0] == '+' || rest[0] == '-') {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	n, digits := 0, 0
	for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		if n < 1<<30 { // saturate instead of overflowing
			n = n*10 + int(rest[digits]-'0')
		}
		digits++
	}
	if digits == 0 {
		return -1, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// lessLlamaQuantize is llama.cpp's weight_name_comparer, the order of the
// model loader's weight map that llama-quantize processes and writes:
// tensors of a lower block number first (names outside blocks count as
// block -1), then by name as byte strings.
func lessLlamaQuantize(a, b string) bool {
	la, _ := layerOf(a)
	lb, _ := layerOf(b)
	if la != lb {
		return la < lb
	}
	return a < b
}

// sortLlamaQuantize sorts infos into llama-quantize's order.
func sortLlamaQuantize(infos []format.TensorInfo) {
	sort.SliceStable(infos, func(i, j int) bool { return lessLlamaQuantize(infos[i].Name, infos[j].Name) })
}
