package release

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/convert"
	"github.com/lorakit/lorakit/convert/quantize"
	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf"
	"github.com/lorakit/lorakit/internal/atomicfile"
	"github.com/lorakit/lorakit/merge"
	"github.com/lorakit/lorakit/resolve"
	"github.com/lorakit/lorakit/verify"
)

// Files of a release directory besides the models.
const (
	ManifestFile  = "release.json"
	SumsFile      = "SHA256SUMS"
	CardFile      = "README.md"
	ModelfileFile = "Modelfile"
	ReportFile    = "verify.json"
	ReportText    = "verify.txt"
	HFDir         = "hf" // the Hugging Face form, with --hf
)

// Options control Make.
type Options struct {
	// Base is the base model: a GGUF file (or split set) or a Hugging Face
	// directory.
	Base string
	// Adapters are merged into it, each at its scale.
	Adapters []merge.Input
	// Name names the files (NAME-F16.gguf, NAME-Q8_0.gguf ...); default:
	// the base's file or directory name, with "-merged" when adapters are
	// merged.
	Name string
	// DType is the merged model's float type: F16 (default) or BF16.
	DType format.DType
	// Quants are llama-quantize presets to write beside it.
	Quants []quantize.Preset
	// HF also writes the merged model as a Hugging Face directory (hf/).
	HF bool
	// Split writes every GGUF as llama-gguf-split shards.
	Split format.SplitLimits
	// Force replaces an existing release directory lorakit wrote.
	Force bool
	// Progress, if set, is told each step.
	Progress func(step string)
}

// Manifest is release.json: what the release was made from, so that
// `lorakit verify DIR` can re-check it later.
type Manifest struct {
	Name     string         `json:"name"`
	Base     string         `json:"base"`
	Adapters []ManifestItem `json:"adapters"`
	// Models lists each model in the directory: a GGUF file (the first
	// shard of a split set) or the hf/ directory.
	Models []string `json:"models"`
}

// ManifestItem is one adapter and its scale.
type ManifestItem struct {
	Path  string  `json:"path"`
	Scale float64 `json:"scale"`
}

// Make writes a release directory at out: the merged model as GGUF in
// opt.DType and in each of opt.Quants (NAME-<TYPE>.gguf), with opt.HF its
// Hugging Face form, a model card README.md, an ollama Modelfile, the
// verify report of every model (verify.json, verify.txt), release.json
// and SHA256SUMS. The directory appears whole or not at all: on any error,
// a failed verification, or cancellation of ctx, nothing is left.
func Make(ctx context.Context, out string, opt Options) (*Manifest, []*verify.Report, error) {
	if len(opt.Adapters) == 0 && len(opt.Quants) == 0 {
		return nil, nil, fmt.Errorf("release: nothing to release: give adapters to merge or --quant types: %w", format.ErrNotFound)
	}
	if !opt.DType.Valid() {
		opt.DType = format.F16
	}
	if opt.DType != format.F16 && opt.DType != format.BF16 {
		return nil, nil, fmt.Errorf("release: merged model as %v: want F16 or BF16: %w", opt.DType, format.ErrUnsupported)
	}
	if opt.Name == "" {
		opt.Name = strings.TrimSuffix(filepath.Base(filepath.Clean(opt.Base)), ".gguf")
		if len(opt.Adapters) > 0 {
			opt.Name += "-merged"
		}
	}
	if strings.ContainsAny(opt.Name, `/\`) || opt.Name == "." || opt.Name == ".." {
		return nil, nil, fmt.Errorf("release: name %q must be a plain file name: %w", opt.Name, format.ErrInvalidOption)
	}
	base, err := resolve.Open(opt.Base)
	if err != nil {
		return nil, nil, err
	}
	info := describeBase(base)
	base.Close()
	man := &Manifest{Name: opt.Name, Base: absPath(opt.Base), Adapters: []ManifestItem{}}
	for _, in := range opt.Adapters {
		man.Adapters = append(man.Adapters, ManifestItem{Path: absPath(in.Path), Scale: in.Scale})
	}
	var reps []*verify.Report
	err = atomicfile.WriteDir(out, opt.Force, isReleaseFile, func(dir string) error {
		var err error
		man.Models, err = writeModels(ctx, dir, opt, info)
		if err != nil {
			return err
		}
		if reps, err = verifyModels(ctx, dir, man, opt.Progress); err != nil {
			return err
		}
		if src, err := format.Open(filepath.Join(dir, man.Models[0])); err == nil {
			info.fromGGUF(src.Metadata()) // what the released GGUF carries
			src.Close()
		}
		if err := writeReports(dir, reps); err != nil {
			return err
		}
		for _, r := range reps {
			if !r.OK {
				return fmt.Errorf("release: %s does not verify: %s: %w", filepath.Base(r.Release), strings.Join(r.Offending, ", "), format.ErrFormat)
			}
		}
		if err := writeJSON(filepath.Join(dir, ManifestFile), man); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, CardFile), []byte(card(dir, man, opt, info, reps)), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, ModelfileFile), []byte(modelfile(man, info)), 0o644); err != nil {
			return err
		}
		return writeSums(dir)
	})
	if err != nil {
		return nil, nil, err
	}
	return man, reps, nil
}

// writeModels writes the merged model and its quantizations into dir and
// returns the models' paths relative to dir.
func writeModels(ctx context.Context, dir string, opt Options, info baseInfo) ([]string, error) {
	step := func(s string) {
		if opt.Progress != nil {
			opt.Progress(s)
		}
	}
	work, err := os.MkdirTemp(dir, ".work-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	// The exact merge, in float32: the source of every file.
	f32 := filepath.Join(work, "merged-F32.gguf")
	switch {
	case len(opt.Adapters) == 0:
		step("convert")
		if err := convert.Model(ctx, opt.Base, f32, convert.ModelOptions{DType: format.F32}); err != nil {
			return nil, err
		}
	case info.hfDir:
		hf := filepath.Join(work, "merged-hf")
		step("merge (Hugging Face)")
		if _, err := merge.Merge(ctx, opt.Base, opt.Adapters, hf, merge.Options{}); err != nil {
			return nil, err
		}
		step("convert to GGUF")
		if err := convert.Model(ctx, hf, f32, convert.ModelOptions{DType: format.F32}); err != nil {
			return nil, err
		}
		if opt.HF {
			if err := os.Rename(hf, filepath.Join(dir, HFDir)); err != nil {
				return nil, err
			}
		}
	default:
		step("merge")
		if _, err := merge.Merge(ctx, opt.Base, opt.Adapters, f32, merge.Options{DType: format.F32}); err != nil {
			return nil, err
		}
	}
	if opt.HF && !fileExists(filepath.Join(dir, HFDir)) {
		step("convert to Hugging Face")
		if err := convert.Model(ctx, f32, filepath.Join(dir, HFDir), convert.ModelOptions{To: "hf", DType: opt.DType}); err != nil {
			return nil, err
		}
	}
	var models []string
	name := func(typ string) string { return filepath.Join(dir, opt.Name+"-"+typ+".gguf") }
	step("write " + opt.DType.String())
	if err := convert.Model(ctx, f32, name(opt.DType.String()), convert.ModelOptions{DType: opt.DType, Split: opt.Split}); err != nil {
		return nil, err
	}
	models = append(models, first(name(opt.DType.String()), opt.Split))
	for _, p := range opt.Quants {
		step("quantize " + p.Name)
		if _, err := quantize.File(ctx, f32, name(p.Name), quantize.Options{Preset: p, Split: opt.Split}); err != nil {
			return nil, err
		}
		models = append(models, first(name(p.Name), opt.Split))
	}
	if opt.HF {
		models = append(models, filepath.Join(dir, HFDir))
	}
	for i, m := range models {
		models[i], _ = filepath.Rel(dir, m)
	}
	return models, nil
}

// first is the file a model written at path is opened by: itself, or the
// first shard of its split set.
func first(path string, split format.SplitLimits) string {
	if !split.Enabled() {
		return path
	}
	m, _ := filepath.Glob(globEscape(gguf.OutputPrefix(path)) + "-00001-of-*.gguf")
	if len(m) == 1 {
		return m[0]
	}
	return path
}

func globEscape(s string) string {
	r := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`)
	return r.Replace(s)
}

// verifyModels verifies every model of the release against its base and
// adapters.
func verifyModels(ctx context.Context, dir string, man *Manifest, progress func(string)) ([]*verify.Report, error) {
	var inputs []merge.Input
	for _, a := range man.Adapters {
		inputs = append(inputs, merge.Input{Path: a.Path, Scale: a.Scale})
	}
	var reps []*verify.Report
	for _, m := range man.Models {
		if progress != nil {
			progress("verify " + m)
		}
		rep, err := verify.Verify(ctx, filepath.Join(dir, m), verify.Options{Base: man.Base, Adapters: inputs})
		if err != nil {
			return nil, err
		}
		rep.Release = m
		reps = append(reps, rep)
	}
	return reps, nil
}

// writeReports writes verify.json and verify.txt.
func writeReports(dir string, reps []*verify.Report) error {
	if err := writeJSON(filepath.Join(dir, ReportFile), reps); err != nil {
		return err
	}
	var b strings.Builder
	for _, r := range reps {
		if err := verify.WriteText(&b, r); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, ReportText), []byte(b.String()), 0o644)
}

func writeJSON(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}

// isReleaseFile accepts the files a release directory holds, for --force.
func isReleaseFile(name string) bool {
	switch name {
	case ManifestFile, SumsFile, CardFile, ModelfileFile, ReportFile, ReportText:
		return true
	}
	return strings.HasSuffix(name, ".gguf")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// IsDir reports whether path is a directory written by Make.
func IsDir(path string) bool {
	st, err := os.Stat(filepath.Join(path, ManifestFile))
	return err == nil && st.Mode().IsRegular()
}

// Verify re-checks a release directory: every file against SHA256SUMS, then
// every model against the base and adapters it was made from (or those of
// opt, when given).
func Verify(ctx context.Context, dir string, opt verify.Options) ([]*verify.Report, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("release %s: %w", dir, err)
	}
	var man Manifest
	if err := json.Unmarshal(raw, &man); err != nil {
		return nil, fmt.Errorf("release %s: %s: %v: %w", dir, ManifestFile, err, format.ErrFormat)
	}
	if err := checkSums(dir); err != nil {
		return nil, err
	}
	if opt.Base != "" {
		man.Base = opt.Base
		man.Adapters = nil
		for _, a := range opt.Adapters {
			man.Adapters = append(man.Adapters, ManifestItem{Path: a.Path, Scale: a.Scale})
		}
	}
	for _, m := range man.Models {
		if filepath.IsAbs(m) || strings.HasPrefix(filepath.Clean(m), "..") {
			return nil, fmt.Errorf("release %s: %s: model path %q leaves the directory: %w", dir, ManifestFile, m, format.ErrFormat)
		}
	}
	return verifyModels(ctx, dir, &man, nil)
}
