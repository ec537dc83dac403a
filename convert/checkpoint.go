package convert

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/parallel"
)

// Options control Checkpoint.
type Options struct {
	// Format is the output container ("gguf" or "safetensors"); empty means
	// guess from the output's extension.
	Format string
	// DType, when valid, is the element type floating-point tensors are cast
	// to (see CastTarget for which tensors take it).
	DType format.DType
	// Force replaces an existing output (never an input).
	Force bool
	// Split, when enabled, writes GGUF output as a llama-gguf-split set.
	Split format.SplitLimits
	// Progress, if set, is called after each tensor is written.
	Progress func(done, total int, name string)
}

// OutputFormat returns the container for path: opt if set, else by
// extension (.gguf, .safetensors).
func OutputFormat(path, opt string) (string, error) {
	if opt != "" {
		return strings.ToLower(opt), nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".gguf":
		return "gguf", nil
	case ".safetensors":
		return "safetensors", nil
	}
	return "", fmt.Errorf("%s: cannot tell the output format from the extension; use --to gguf|safetensors: %w", path, format.ErrUnsupported)
}

// CastTarget returns the dtype tensor t is written as when converting to
// container outFormat with the requested dtype want (Invalid: keep).
//   - Integer tensors are never cast.
//   - Block-quantized tensors are dequantized (to want, or F32) when the
//     container cannot hold them.
//   - In GGUF output, the tensors llama.cpp's converters keep F32 whatever
//     the output type (1-D norms and biases, norm weights, MoE routers:
//     arch.KeepF32) stay or become F32.
func CastTarget(t format.TensorInfo, outFormat string, want format.DType) format.DType {
	dt := t.DType
	switch {
	case dt.IsInt():
		return dt
	case dt.IsBlock() && outFormat == "safetensors":
		if want.Valid() && want.InSafetensors() && !want.IsInt() {
			return want
		}
		return format.F32
	case !want.Valid():
		return dt
	case outFormat == "gguf" && arch.KeepF32(t.Name, t.Shape) && !want.IsBlock():
		return format.F32
	}
	return want
}

// Checkpoint writes src to out in another container and/or element type,
// one tensor at a time. ctx is checked between tensors; on cancellation or
// any error no output file is left.
func Checkpoint(ctx context.Context, src format.Source, out string, opt Options) error {
	outFormat, err := OutputFormat(out, opt.Format)
	if err != nil {
		return err
	}
	infos := src.Tensors()
	plan := make([]format.TensorInfo, len(infos))
	for i, t := range infos {
		plan[i] = t
		plan[i].DType = CastTarget(t, outFormat, opt.DType)
		if plan[i].DType.IsBlock() && !format.CanEncode(plan[i].DType) {
			return fmt.Errorf("tensor %q: cannot write %v: %w", t.Name, plan[i].DType, format.ErrUnsupported)
		}
	}
	md := ContainerMetadata(src, outFormat)
	sink, err := format.Create(outFormat, out, plan, md, format.CreateOptions{Force: opt.Force, Split: opt.Split})
	if err != nil {
		return err
	}
	return writeTensors(ctx, src, plan, sink, opt.Progress)
}

// writeTensors streams the tensors of plan (names of src, each with the
// dtype to write) into sink in plan's order, one tensor at a time, and
// closes it. The next tensor is read ahead (format.Prefetch) and each one
// written behind (format.WriteBehind: every tensor's bytes are the source's
// own or a fresh buffer) while the next is prepared. On cancellation or
// any error the sink is aborted.
func writeTensors(ctx context.Context, src format.Source, plan []format.TensorInfo, sink format.Sink, progress func(done, total int, name string)) error {
	infos := map[string]format.TensorInfo{}
	for _, t := range src.Tensors() {
		infos[t.Name] = t
	}
	wb := format.NewWriteBehind(sink)
	fail := func(err error) error {
		wb.Close()
		sink.Abort()
		return err
	}
	for i, p := range plan {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		t := infos[p.Name]
		if i+1 < len(plan) {
			format.Prefetch(src, plan[i+1].Name)
		}
		data, err := src.TensorData(t.Name)
		if err == nil {
			data, err = Cast(data, t, p.DType)
		}
		if err == nil {
			err = wb.Write(t.Name, data, func() { format.Release(src, t.Name) })
		}
		if err != nil {
			return fail(err)
		}
		if progress != nil {
			progress(i+1, len(plan), t.Name)
		}
	}
	if err := wb.Close(); err != nil {
		sink.Abort()
		return err
	}
	return sink.Close()
}

// castChunk is the number of elements converted at a time by one worker:
// a multiple of every block size (32 and 256), small enough for the
// float32 scratch to stay in cache.
const castChunk = 16 << 10

// Cast returns t's raw bytes re-encoded as dtype to (data itself when the
// type does not change), converting block-aligned chunks on all cores
// without a float32 copy of the whole tensor.
func Cast(data []byte, t format.TensorInfo, to format.DType) ([]byte, error) {
	if t.DType == to {
		return data, nil
	}
	n, err := t.NumElements()
	if err != nil {
		return nil, err
	}
	outInfo := format.TensorInfo{Name: t.Name, DType: to, Shape: t.Shape}
	size, err := outInfo.NumBytes()
	if err != nil {
		return nil, err
	}
	if want, err := t.NumBytes(); err != nil || want != int64(len(data)) {
		return nil, fmt.Errorf("tensor %q: %d bytes for %v: %w", t.Name, len(data), t, format.ErrShape)
	}
	out := make([]byte, size)
	chunks := int((n + castChunk - 1) / castChunk)
	errs := make([]error, chunks)
	parallel.Range(chunks, 1, 1, func(lo, hi int) {
		tmp := make([]float32, castChunk)
		for c := lo; c < hi; c++ {
			e0 := int64(c) * castChunk
			m := min(castChunk, n-e0)
			in0, _ := t.DType.RowBytes(e0)
			inN, _ := t.DType.RowBytes(m)
			out0, _ := to.RowBytes(e0)
			outN, _ := to.RowBytes(m)
			if err := format.ToFloat32(tmp[:m], data[in0:in0+inN], t.DType); err != nil {
				errs[c] = err
				return
			}
			if err := format.FromFloat32(out[out0:out0+outN], tmp[:m], to); err != nil {
				errs[c] = err
				return
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
	}
	return out, nil
}

// ContainerMetadata carries src's metadata into a container of outFormat.
// safetensors' __metadata__ is a string map: string values are kept as
// they are, other typed (GGUF) values are kept as typed strings under a
// "gguf:" key (see encodeTyped), and "format": "pt" is set as the Hugging
// Face writers set it. Going to GGUF, such typed strings become typed
// values again (and the "format" tag is dropped), so GGUF → safetensors →
// GGUF keeps every key.
func ContainerMetadata(src format.Source, outFormat string) format.Metadata {
	md := src.Metadata().Clone()
	if outFormat != "safetensors" {
		var out format.Metadata
		for _, kv := range md {
			if kv.Key == "format" && src.Format() == "safetensors" {
				continue // the framework tag ("pt") of the Hugging Face writers
			}
			if key, ok := strings.CutPrefix(kv.Key, typedPrefix); ok {
				if s, isStr := kv.Value.(string); isStr {
					if v, err := decodeTyped(s); err == nil {
						out = append(out, format.KV{Key: key, Value: v})
						continue
					}
				}
			}
			out = append(out, kv)
		}
		return out
	}
	var out format.Metadata
	for _, kv := range md {
		if s, ok := kv.Value.(string); ok {
			out = append(out, format.KV{Key: kv.Key, Value: s})
		} else if enc, ok := encodeTyped(kv.Value); ok {
			out = append(out, format.KV{Key: typedPrefix + kv.Key, Value: enc})
		}
	}
	if _, ok := out.Get("format"); !ok {
		out = append(format.Metadata{{Key: "format", Value: "pt"}}, out...)
	}
	return out
}
