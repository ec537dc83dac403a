package gguf

// Release implements format.Releaser: the tensor's pages leave the resident
// set (they are re-read from the page cache if touched again).
func (r *Reader) Release(name string) {
	if i, ok := r.index[name]; ok && r.mapping != nil && !r.closed {
		r.mapping.Release(r.offsets[i], r.nbytes[i])
	}
}
