// Package gguf reads and writes GGUF files, the container of llama.cpp and
// ggml, versions 2 and 3 (little-endian).
//
// A Reader is a format.Source: it lists every tensor with its shape in
// lorakit's row-major order (GGUF's ne list reversed) and hands out each
// tensor's raw bytes, zero-copy from a memory map when opened with Open.
// Metadata keeps GGUF's value types as Go types (see format.Metadata and
// the table below). Every count, length and offset in a file is checked
// against the bytes left before anything is allocated, mirroring what
// ggml's gguf.cpp enforces, and every failure wraps a format sentinel.
//
// A Writer is a format.Sink: it is planned with all tensor infos and the
// metadata, writes the header at once, then streams tensor data in the
// declared order with the layout llama.cpp and gguf-py produce (version 3,
// data section aligned to general.alignment or 32, every tensor padded with
// zeros to the alignment), so that reading a file written by those tools and
// writing it back reproduces it byte for byte. (A tensor-less file from
// gguf-py's vocab-only path lacks the padding after its header; written back,
// it gains it, as ggml's own writer would add it.)
//
// GGUF value types and their Go types, both ways:
//
//	UINT8 uint8     INT8 int8     UINT16 uint16   INT16 int16
//	UINT32 uint32   INT32 int32   UINT64 uint64   INT64 int64
//	FLOAT32 float32 FLOAT64 float64 BOOL bool     STRING string
//	ARRAY of a scalar type: the typed slice ([]uint32, []string, []float32, ...)
//	ARRAY of arrays: []any whose elements are such slices (or []any again)
//
// The Writer writes exactly the type each Go value has and rejects Go
// types without a GGUF type (int, uint, []int, maps, ...) with an error
// wrapping format.ErrUnsupported. Choosing the type is the caller's job:
// llama.cpp's loader insists on UINT32 counts and FLOAT32 epsilons, which
// SetCount, SetTokenID and SetFloat32 store.
//
// The Reader accepts any power-of-two general.alignment stored as UINT32 (as
// ggml does), arrays of arrays up to 8 deep (ggml rejects any nesting; the
// spec allows it), and tensors in any order with gaps, as long as each is
// aligned, inside the file and overlaps no other (ggml further insists on
// declaration order without gaps, which is what the Writer produces).
// After Open or NewReader returns, a Reader is safe for concurrent use
// until Close.
//
// Split models: format.Open (OpenModel) of the first shard of a set made by
// llama.cpp's llama-gguf-split (NAME-00001-of-0000n.gguf, with split.no,
// split.count and split.tensors.count) opens every shard as one Set, read
// exactly as the file that was split; any other shard is refused. A
// SplitWriter (CreateSplit, or format.Create with CreateOptions.Split)
// writes such a set byte for byte as llama-gguf-split would.
//
// Block (quantized) tensors are carried as raw bytes here; their codecs live
// in format/gguf/quant.
package gguf
