package tokenizer

import (
	"strings"
	"sync"
)

// wordCacheSize bounds the cache of word encodings: natural text reuses a
// few thousand words, and an adversarial stream of distinct words only ever
// costs this many entries before the cache starts over.
const wordCacheSize = 1 << 15

// maxCachedWord: longer pre-tokens are rare and not worth keeping.
const maxCachedWord = 32

// wordCache memoises the token ids of pre-tokens. It is safe for
// concurrent use.
type wordCache struct {
	mu sync.RWMutex
	m  map[string][]int
}

func newWordCache() *wordCache { return &wordCache{m: make(map[string][]int)} }

func (c *wordCache) get(word string) ([]int, bool) {
	if len(word) > maxCachedWord {
		return nil, false
	}
	c.mu.RLock()
	ids, ok := c.m[word]
	c.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(word string, ids []int) {
	if len(word) > maxCachedWord {
		return
	}
	c.mu.Lock()
	if len(c.m) >= wordCacheSize {
		clear(c.m)
	}
	c.m[strings.Clone(word)] = append([]int(nil), ids...)
	c.mu.Unlock()
}
