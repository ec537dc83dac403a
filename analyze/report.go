package analyze

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/internal/atomicfile"
)

// Report gathers the analyses of one adapter (and optionally a second one
// and the base) for WriteReport. Nil parts are left out.
type Report struct {
	// AdapterA, AdapterB and Base name the inputs (paths or labels).
	AdapterA string `json:"adapter_a,omitempty"`
	AdapterB string `json:"adapter_b,omitempty"`
	Base     string `json:"base,omitempty"`

	Spectrum       *Spectrum       `json:"spectrum,omitempty"`
	Recommendation *Recommendation `json:"recommendation,omitempty"`
	Similarity     *Similarity     `json:"similarity,omitempty"`
	Amplification  *Amplification  `json:"amplification,omitempty"`

	// Figures lists the PNGs written beside report.md (set by WriteReport).
	Figures []Figure `json:"figures,omitempty"`
}

// ReportOptions tunes BuildReport.
type ReportOptions struct {
	// Energy and Coverage of the rank recommendation; 0 means
	// DefaultEnergy and DefaultCoverage.
	Energy, Coverage float64
	Compare          CompareOptions
	Amplify          AmplifyOptions
}

// BuildReport runs every analysis the inputs allow: the spectrum and rank
// recommendation of a; the subspace similarity of a and b when b is not
// nil; the amplification of a against base when base is not nil.
func BuildReport(ctx context.Context, a, b []Module, base BaseFunc, opt ReportOptions) (*Report, error) {
	if opt.Energy == 0 {
		opt.Energy = DefaultEnergy
	}
	if opt.Coverage == 0 {
		opt.Coverage = DefaultCoverage
	}
	rep := &Report{}
	var err error
	if rep.Spectrum, err = Spectra(ctx, a); err != nil {
		return nil, err
	}
	rec := Recommend(rep.Spectrum, opt.Energy, opt.Coverage)
	rep.Recommendation = &rec
	if b != nil {
		if rep.Similarity, err = Compare(ctx, a, b, opt.Compare); err != nil {
			return nil, err
		}
	}
	if base != nil {
		if rep.Amplification, err = Amplify(ctx, a, base, opt.Amplify); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// figures lists the report's PNGs.
func (r *Report) figures() []Figure {
	var figs []Figure
	if r.Spectrum != nil && len(r.Spectrum.Modules) > 0 {
		figs = append(figs, spectrumFigure(r.Spectrum))
	}
	if r.Similarity != nil && len(r.Similarity.Modules) > 0 {
		figs = append(figs, phiFigures(r.Similarity)...)
	}
	if r.Amplification != nil && len(r.Amplification.Modules) > 0 {
		figs = append(figs, amplificationFigure(r.Amplification))
	}
	return figs
}

// WriteReport writes rep into the directory dir: report.md, report.json and
// the PNG figures. Everything is written into a temporary directory beside
// dir and renamed into place at the end (atomicfile.WriteDir), so an
// error leaves no partial report. An existing dir is refused
// (format.ErrExists) unless force is set, and even then only when it holds
// nothing but files a report writes.
func WriteReport(dir string, rep *Report, force bool) error {
	rep.Figures = rep.figures()
	err := atomicfile.WriteDir(dir, force, isReportFile, func(tmp string) error {
		for _, f := range rep.Figures {
			var buf bytes.Buffer
			if err := f.WritePNG(&buf); err != nil {
				return err
			}
			if err := writeSynced(filepath.Join(tmp, f.File), buf.Bytes()); err != nil {
				return err
			}
		}
		js, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := writeSynced(filepath.Join(tmp, "report.json"), append(js, '\n')); err != nil {
			return err
		}
		var md bytes.Buffer
		if err := WriteMarkdown(&md, rep); err != nil {
			return err
		}
		return writeSynced(filepath.Join(tmp, "report.md"), md.Bytes())
	})
	if err != nil {
		return fmt.Errorf("analyze: report %s: %w", dir, err)
	}
	return nil
}

// isReportFile says whether a file of an existing report directory may be
// replaced: the names WriteReport writes.
func isReportFile(name string) bool {
	return name == "report.md" || name == "report.json" || strings.HasSuffix(name, ".png")
}

// writeSynced writes data to a new file and flushes it to disk.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("analyze: %s: %w", path, err)
	}
	return nil
}
