package merge

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/resolve"
)

// Derivation re-derives, one tensor at a time and in any dtype, what
// merging adapters into a base gives, with Merge's own kernels (the same
// float32 arithmetic, the same codecs): package verify compares a release
// against it. Tensors are read from the base's mapping as they are asked
// for, so memory stays at a few tensors.
type Derivation struct {
	b   *base
	ops tensorOps
	p   processor
}

// Derive plans the inputs' updates on the opened base b (which the
// Derivation then owns and closes). With no inputs every tensor derives to
// the base's own (cast or quantized to the dtype asked for).
func Derive(b *resolve.Base, inputs []Input) (*Derivation, error) {
	ops, err := planOps(b, inputs)
	if err != nil {
		b.Close()
		return nil, err
	}
	return &Derivation{b: b, ops: ops}, nil
}

// Base returns the opened base.
func (d *Derivation) Base() *resolve.Base { return d.b }

// Updates names the updates applied to the base tensor name ("adapter X:
// module Y"), none when the adapters leave it as it is.
func (d *Derivation) Updates(name string) []string {
	var who []string
	for _, o := range d.ops[name] {
		who = append(who, o.who)
	}
	return who
}

// Tensor returns the base tensor name with every update applied, encoded
// as dt (quantized with ggml's reference codecs for block types). The
// slice is the base's own data when nothing changes (read-only), else a
// buffer valid until the next call.
func (d *Derivation) Tensor(name string, dt format.DType) ([]byte, error) {
	t, ok := d.b.Info(name)
	if !ok {
		return nil, fmt.Errorf("base %s: tensor %q: %w", d.b.Path, name, format.ErrNotFound)
	}
	data, err := d.b.Src.TensorData(name)
	if err != nil {
		return nil, err
	}
	out, err := d.p.tensor(t, data, dt, d.ops[name])
	if err != nil {
		if ops := d.ops[name]; len(ops) > 0 {
			err = fmt.Errorf("%s: %w", ops[0].who, err)
		}
		return nil, err
	}
	return out, nil
}

// Unmerged returns the base tensor name as it is, encoded as dt: what a
// release holds where an adapter's update was left out. The slice is valid
// until the next call.
func (d *Derivation) Unmerged(name string, dt format.DType) ([]byte, error) {
	t, ok := d.b.Info(name)
	if !ok {
		return nil, fmt.Errorf("base %s: tensor %q: %w", d.b.Path, name, format.ErrNotFound)
	}
	data, err := d.b.Src.TensorData(name)
	if err != nil {
		return nil, err
	}
	return d.p.tensor(t, data, dt, nil)
}

// Release lets the base tensor's pages leave memory.
func (d *Derivation) Release(name string) { format.Release(d.b.Src, name) }

// Close closes the base.
func (d *Derivation) Close() error { return d.b.Close() }
