package safetensors

// Prefetch implements format.Prefetcher: the OS starts reading the
// tensor's bytes in the background.
func (r *Reader) Prefetch(name string) {
	if i, ok := r.index[name]; ok && r.mapping != nil && !r.closed {
		e := r.entries[i]
		r.mapping.WillNeed(r.dataStart+e.begin, e.end-e.begin)
	}
}

// Prefetch implements format.Prefetcher for the shard holding name.
func (s *Sharded) Prefetch(name string) {
	if i, ok := s.where[name]; ok {
		s.shards[i].Prefetch(name)
	}
}

// Release implements format.Releaser: the tensor's pages leave the resident
// set (they are re-read from the page cache if touched again).
func (r *Reader) Release(name string) {
	if i, ok := r.index[name]; ok && r.mapping != nil && !r.closed {
		e := r.entries[i]
		r.mapping.Release(r.dataStart+e.begin, e.end-e.begin)
	}
}

// Release implements format.Releaser for the shard holding name.
func (s *Sharded) Release(name string) {
	if i, ok := s.where[name]; ok {
		s.shards[i].Release(name)
	}
}
