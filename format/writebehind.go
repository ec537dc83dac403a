package format

// WriteBehindMax is the largest tensor (in bytes) a WriteBehind hands to
// its goroutine: while it is written the caller prepares the next tensor in
// a second buffer, so at most this much extra memory is held. Larger
// tensors (an 8B model's embedding and output, hundreds of MB) are written
// synchronously, keeping the peak at one large tensor plus this.
const WriteBehindMax = 128 << 20

// WriteBehind writes finished tensors to a Sink on its own goroutine, one
// at a time and in order, so that preparing tensor i+1 (decoding, merging,
// quantizing) overlaps writing tensor i to a page cache that may be
// throttled to disk speed. Use it from one goroutine, and Close it.
type WriteBehind struct {
	sink    Sink
	jobs    chan writeJob
	idle    chan struct{} // receives when the goroutine has finished a job
	err     error         // first write error; read by the caller after a wait
	pending bool          // a job was handed over and not yet waited for
}

// writeJob is one tensor to write; done runs after the write (it releases
// the input pages of a tensor that was copied as it was).
type writeJob struct {
	name string
	data []byte
	done func()
}

// NewWriteBehind starts the writer goroutine for sink; Close stops it (it
// does not close sink).
func NewWriteBehind(sink Sink) *WriteBehind {
	w := &WriteBehind{sink: sink, jobs: make(chan writeJob), idle: make(chan struct{})}
	go w.run()
	return w
}

func (w *WriteBehind) run() {
	for j := range w.jobs {
		if w.err == nil {
			w.err = w.sink.WriteTensor(j.name, j.data)
		}
		if j.done != nil {
			j.done()
		}
		w.idle <- struct{}{}
	}
}

// Wait blocks until no write is in flight and returns the first error.
func (w *WriteBehind) Wait() error {
	if w.pending {
		<-w.idle
		w.pending = false
	}
	return w.err
}

// Write writes data as the tensor name after every earlier tensor. A
// tensor of at most WriteBehindMax bytes is handed to the goroutine: data
// must stay untouched until the next call to Write or Wait. A larger one
// is written before Write returns. done, if not nil, runs after the write
// (on the goroutine). The error is that of an earlier write, or of this
// one when synchronous.
func (w *WriteBehind) Write(name string, data []byte, done func()) error {
	if err := w.Wait(); err != nil {
		return err
	}
	if int64(len(data)) > WriteBehindMax {
		w.err = w.sink.WriteTensor(name, data)
		if done != nil {
			done()
		}
		return w.err
	}
	w.pending = true
	w.jobs <- writeJob{name, data, done}
	return nil
}

// Close waits for the last write, stops the goroutine and returns the
// first error. It must be called exactly once.
func (w *WriteBehind) Close() error {
	err := w.Wait()
	close(w.jobs)
	return err
}
