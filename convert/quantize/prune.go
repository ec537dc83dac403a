package quantize

import (
	"regexp"
	"strconv"

	"github.com/lorakit/lorakit/format"
)

// blockNumber is the pattern llama-quantize renumbers blocks by.
var blockNumber = regexp.MustCompile(`blk\.(\d+)\.`)

// pruneLayers drops the tensors of the blocks in prune (sorted) from infos
// (in processing order) and renumbers the blocks after them, as
// llama-quantize's remap_layer: a block below the first pruned one keeps
// its number, later ones are numbered on from there. It returns the kept
// tensors, their output names and the number of blocks left.
func pruneLayers(infos []format.TensorInfo, prune []int) (kept []format.TensorInfo, names []string, blocks int) {
	if len(prune) == 0 {
		return infos, infosNames(infos), 0
	}
	pruned := map[int]bool{}
	for _, p := range prune {
		pruned[p] = true
	}
	mapped := map[int]int{} // old block -> new block, -1 when pruned
	next := 0
	for _, t := range infos {
		m := blockNumber.FindStringSubmatchIndex(t.Name)
		if m == nil {
			kept, names = append(kept, t), append(names, t.Name)
			continue
		}
		blk, err := strconv.Atoi(t.Name[m[2]:m[3]])
		if err != nil {
			kept, names = append(kept, t), append(names, t.Name)
			continue
		}
		nb, seen := mapped[blk]
		if !seen {
			switch {
			case pruned[blk]:
				nb = -1
			case blk < prune[0]:
				nb, next = blk, blk+1
			default:
				nb = next
				next++
			}
			mapped[blk] = nb
		}
		if nb < 0 {
			continue
		}
		kept = append(kept, t)
		names = append(names, t.Name[:m[2]]+strconv.Itoa(nb)+t.Name[m[3]:])
	}
	return kept, names, next
}
