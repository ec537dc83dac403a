package tokenizer

import "math/bits"

// pairTable maps a pair of token ids to a merge rule: an open-addressing
// hash table with linear probing, each entry 16 bytes, so that a lookup
// (the inner step of BPE) touches one cache line where Go's map touches
// several.
type pairTable struct {
	entries []pairEntry
	shift   uint // 64 - log2(len(entries))
}

// pairEntry holds a key with its top bit set (0 marks an empty slot; ids
// are below 2^31, so a real key never has it) and the rule.
type pairEntry struct {
	key  uint64
	rule mergeRule
}

const occupied = 1 << 63

func pairKey(l, r int32) uint64 { return occupied | uint64(uint32(l))<<32 | uint64(uint32(r)) }

func newPairTable(n int) *pairTable {
	size := 1 << bits.Len(uint(n+n/3)) // load factor at most 3/4
	return &pairTable{entries: make([]pairEntry, size), shift: uint(64 - bits.Len(uint(size-1)))}
}

func (t *pairTable) slot(key uint64) uint64 { return (key * 0x9E3779B97F4A7C15) >> t.shift }

// put adds a rule unless the pair has one already; it reports whether it
// did.
func (t *pairTable) put(l, r int32, rule mergeRule) bool {
	key := pairKey(l, r)
	mask := uint64(len(t.entries) - 1)
	for i := t.slot(key); ; i = (i + 1) & mask {
		e := &t.entries[i]
		switch e.key {
		case 0:
			*e = pairEntry{key, rule}
			return true
		case key:
			return false
		}
	}
}

// get returns the rule of the pair (l, r).
func (t *pairTable) get(l, r int32) (mergeRule, bool) {
	key := pairKey(l, r)
	mask := uint64(len(t.entries) - 1)
	for i := t.slot(key); ; i = (i + 1) & mask {
		e := &t.entries[i]
		if e.key == key {
			return e.rule, true
		}
		if e.key == 0 {
			return mergeRule{}, false
		}
	}
}
