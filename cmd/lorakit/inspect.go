package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
	"github.com/lorakit/lorakit/lora"
)

type inspectOptions struct {
	json bool
	hash bool
}

func newInspectCmd() *cobra.Command {
	var o inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect PATH",
		Short: "Show a checkpoint's format, metadata and tensors",
		Long: `Inspect a safetensors file, a sharded safetensors directory or a GGUF file:
its format, version, alignment, metadata and every tensor (name, dtype,
row-major shape outermost first, file offset, size). --hash adds the sha256
of each tensor's raw bytes (as llama-gguf-hash --sha256 computes it).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd.OutOrStdout(), args[0], o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object")
	cmd.Flags().BoolVar(&o.hash, "hash", false, "add the sha256 of every tensor's data")
	return cmd
}

// inspectTensor is one tensor of `inspect --json`.
type inspectTensor struct {
	Name   string  `json:"name"`
	DType  string  `json:"dtype"`
	Shape  []int64 `json:"shape"`
	Offset int64   `json:"offset"`
	Shard  string  `json:"shard,omitempty"` // the file holding it, in a split GGUF set
	NBytes int64   `json:"nbytes"`
	SHA256 string  `json:"sha256,omitempty"`
}

// inspectReport is the whole of `inspect --json`.
type inspectReport struct {
	Path         string          `json:"path"`
	Format       string          `json:"format"`
	Version      int             `json:"version"`
	Alignment    int             `json:"alignment,omitempty"`
	Architecture string          `json:"architecture,omitempty"`
	ArchNote     string          `json:"architecture_note,omitempty"`
	Adapter      *inspectAdapter `json:"adapter,omitempty"`
	Metadata     map[string]any  `json:"metadata"`
	Shards       []string        `json:"shards,omitempty"` // a split GGUF set's files
	Tensors      []inspectTensor `json:"tensors"`
}

// inspectAdapter summarises a LoRA adapter.
type inspectAdapter struct {
	Kind    string          `json:"kind"`
	Modules []inspectModule `json:"modules"`
	// Note says why the modules are not listed (a valid adapter lorakit
	// cannot load, such as a LoRA of stacked experts).
	Note string `json:"note,omitempty"`
}

// inspectModule is one adapted module.
type inspectModule struct {
	Name  string  `json:"name"`
	Rank  int     `json:"rank"`
	Alpha float64 `json:"alpha"`
	Scale float64 `json:"scale"`
	Shape []int   `json:"shape"` // [out, in] of the update (of each expert's)
	DoRA  bool    `json:"dora,omitempty"`
	// Experts is the number of stacked experts (each its own pair), 0 if none.
	Experts int `json:"experts,omitempty"`
}

func runInspect(w io.Writer, path string, o inspectOptions) error {
	var adapter *inspectAdapter
	arch, archNote := "", ""
	weights := path
	kind, file, err := lora.Detect(path)
	if errors.Is(err, format.ErrFormat) {
		return err // an adapter, but a broken one: say so rather than list its weights file
	}
	if err == nil {
		a, err := lora.Open(path)
		if errors.Is(err, format.ErrUnsupported) && kind == lora.KindGGUF {
			// Valid but beyond lorakit's adapters: show the file.
			return inspectFile(w, path, file, &inspectAdapter{Kind: string(kind), Note: err.Error(), Modules: []inspectModule{}}, "", "", o)
		}
		if err != nil {
			return err
		}
		adapter = &inspectAdapter{Kind: string(kind)}
		if arch, err = convert.AdapterArch(a); err != nil {
			archNote = err.Error()
		}
		for _, m := range a.Modules {
			adapter.Modules = append(adapter.Modules, inspectModule{Name: m.Name, Rank: m.Rank, Alpha: m.Alpha,
				Scale: m.Scale(), Shape: []int{m.Out, m.In}, DoRA: m.Magnitude != nil, Experts: m.Experts})
		}
		weights = file
	}
	return inspectFile(w, path, weights, adapter, arch, archNote, o)
}

// inspectFile reports the container at weights (path as given by the
// user); arch and archNote, when empty, are worked out from its content.
func inspectFile(w io.Writer, path, weights string, adapter *inspectAdapter, arch, archNote string, o inspectOptions) error {
	src, err := format.Open(weights)
	if err != nil {
		return err
	}
	defer src.Close()
	rep := inspectReport{Path: path, Format: src.Format(), Metadata: map[string]any{},
		Architecture: arch, ArchNote: archNote, Adapter: adapter}
	if arch == "" && archNote == "" {
		if rep.Architecture, err = convert.ModelArch(path, src); err != nil {
			rep.ArchNote = err.Error()
		}
	}
	hdr, _ := src.(format.Header)
	if hdr != nil {
		rep.Version, rep.Alignment = hdr.Version(), hdr.Alignment()
	}
	set, _ := src.(*gguf.Set)
	if set != nil {
		rep.Version, rep.Alignment, rep.Shards = set.Version(), set.Alignment(), set.Paths()
	}
	for _, kv := range src.Metadata() {
		rep.Metadata[kv.Key] = jsonValue(kv.Value)
	}
	rep.Tensors = []inspectTensor{}
	for _, t := range src.Tensors() {
		it := inspectTensor{Name: t.Name, DType: t.DType.String(), Shape: t.Shape}
		if it.Shape == nil {
			it.Shape = []int64{}
		}
		it.NBytes, err = t.NumBytes()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if hdr != nil {
			it.Offset, _ = hdr.TensorOffset(t.Name)
		}
		if set != nil {
			it.Shard, it.Offset, _ = set.Shard(t.Name)
			it.Shard = filepath.Base(it.Shard)
		}
		if o.hash {
			data, err := src.TensorData(t.Name)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			it.SHA256 = hex.EncodeToString(sum[:])
		}
		rep.Tensors = append(rep.Tensors, it)
	}
	if o.json {
		return writeJSON(w, rep)
	}
	return printInspect(w, rep, src.Metadata())
}

// maxTextArray is the longest array inspect prints whole in text mode.
const maxTextArray = 64

func printInspect(w io.Writer, rep inspectReport, md format.Metadata) error {
	fmt.Fprintf(w, "%s: %s", safeText(rep.Path), rep.Format)
	if rep.Version != 0 {
		fmt.Fprintf(w, " v%d", rep.Version)
	}
	if rep.Alignment != 0 {
		fmt.Fprintf(w, ", alignment %d", rep.Alignment)
	}
	fmt.Fprintln(w)
	if len(rep.Shards) > 0 {
		fmt.Fprintf(w, "split set of %d shards: %s\n", len(rep.Shards), strings.Join(rep.Shards, ", "))
	}
	switch {
	case rep.Architecture != "" && rep.ArchNote != "":
		fmt.Fprintf(w, "architecture: %s (%s)\n", safeText(rep.Architecture), safeText(rep.ArchNote))
	case rep.Architecture != "":
		fmt.Fprintf(w, "architecture: %s\n", safeText(rep.Architecture))
	case rep.ArchNote != "":
		fmt.Fprintf(w, "architecture: not identified: %s\n", safeText(rep.ArchNote))
	}
	if a := rep.Adapter; a != nil {
		fmt.Fprintf(w, "adapter: %s, %d modules\n", a.Kind, len(a.Modules))
		if a.Note != "" {
			fmt.Fprintf(w, "  modules not read: %s\n", a.Note)
		}
		for _, m := range a.Modules {
			dora := ""
			if m.DoRA {
				dora = " DoRA"
			}
			if m.Experts > 0 {
				dora += fmt.Sprintf(" x %d experts", m.Experts)
			}
			fmt.Fprintf(w, "  %-48s r=%d alpha=%g scale=%g [%d, %d]%s\n", safeText(m.Name), m.Rank, m.Alpha, m.Scale, m.Shape[0], m.Shape[1], dora)
		}
	}
	fmt.Fprintf(w, "metadata: %d keys\n", len(md))
	for _, kv := range md {
		fmt.Fprintf(w, "  %s = %s\n", safeText(kv.Key), textValue(kv.Value))
	}
	var total int64
	for _, t := range rep.Tensors {
		total += t.NBytes
	}
	fmt.Fprintf(w, "tensors: %d, %d bytes\n", len(rep.Tensors), total)
	for _, t := range rep.Tensors {
		dims := make([]string, len(t.Shape))
		for i, d := range t.Shape {
			dims[i] = fmt.Sprint(d)
		}
		fmt.Fprintf(w, "  %-48s %-7s [%s] offset %d, %d bytes", safeText(t.Name), t.DType, strings.Join(dims, ", "), t.Offset, t.NBytes)
		if t.Shard != "" {
			fmt.Fprintf(w, " in %s", t.Shard)
		}
		if t.SHA256 != "" {
			fmt.Fprintf(w, " sha256 %s", t.SHA256)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// safeText is s as the terminal should show it: unchanged when it is
// printable UTF-8, else quoted with Go escapes, so that a name holding
// control characters (an escape sequence, a carriage return) cannot
// rewrite the screen or forge lines.
func safeText(s string) string {
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' || unicode.Is(unicode.Bidi_Control, r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// textValue formats a metadata value for the terminal, summarising long
// arrays.
func textValue(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		if s, ok := v.(string); ok {
			return fmt.Sprintf("%q", s)
		}
		return fmt.Sprint(v)
	}
	n := rv.Len()
	show := min(n, maxTextArray)
	if n > maxTextArray {
		show = 8
	}
	parts := make([]string, show)
	for i := range show {
		parts[i] = textValue(rv.Index(i).Interface())
	}
	s := "[" + strings.Join(parts, ", ")
	if show < n {
		s += fmt.Sprintf(", ... (%d %s elements)", n, rv.Type().Elem())
	}
	return s + "]"
}

// jsonValue makes a metadata value encodable as JSON: byte arrays as
// numbers (not base64), non-finite floats as strings.
func jsonValue(v any) any {
	switch x := v.(type) {
	case float32:
		return jsonFloat(float64(x))
	case float64:
		return jsonFloat(x)
	case string, bool:
		return x
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice {
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = jsonValue(rv.Index(i).Interface())
		}
		return out
	}
	return v
}

func jsonFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Sprint(f)
	}
	return f
}
