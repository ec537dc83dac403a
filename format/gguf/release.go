package gguf

// Prefetch implements format.Prefetcher: the OS starts reading the
// tensor's bytes in the background.
func (r *Reader) Prefetch(name string) {
	if i, ok := r.index[name]; ok && r.mapping != nil && !r.closed {
		r.mapping.WillNeed(r.offsets[i], r.nbytes[i])
	}
}

// Release implements format.Releaser: the tensor's pages leave the resident
// set (they are re-read from the page cache if touched again).
func (r *Reader) Release(name string) {
	if i, ok := r.index[name]; ok && r.mapping != nil && !r.closed {
		r.mapping.Release(r.offsets[i], r.nbytes[i])
	}
}
