package glue

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// Task describes one GLUE task: its files, columns, labels and metrics.
type Task struct {
	// Name is lorakit's name ("sst2", "mrpc", ...), Dir GLUE's folder name.
	Name, Dir string
	// A, B are the header names of the text columns (B "" for single
	// sentences); Label the label column. Headerless files (CoLA) give
	// column indices instead (AIdx, BIdx, LabelIdx) and NoHeader.
	A, B, Label string
	NoHeader    bool
	// HFA, HFB are the text columns of Hugging Face datasets' export of
	// the task (with "label" holding class ids and "idx" last).
	HFA, HFB             string
	AIdx, LabelIdx, Cols int
	// Labels are the class names in id order, as the files spell them
	// (digits for tasks whose files hold 0/1); nil for regression.
	Labels []string
	// Metrics are the scores GLUE reports for the task, the first its main.
	Metrics []string
	// Dev is the dev file name (MNLI: dev_matched.tsv).
	Dev string
}

// Regression reports whether the task's label is a real number (STS-B).
func (t *Task) Regression() bool { return t.Labels == nil }

// Tasks are the GLUE tasks lorakit reads, by name.
var Tasks = map[string]*Task{
	"sst2": {Name: "sst2", Dir: "SST-2", A: "sentence", HFA: "sentence", Label: "label", Labels: []string{"0", "1"}, Metrics: []string{"accuracy"}},
	"mrpc": {Name: "mrpc", Dir: "MRPC", A: "#1 String", B: "#2 String", HFA: "sentence1", HFB: "sentence2", Label: "Quality", Labels: []string{"0", "1"}, Metrics: []string{"accuracy", "f1"}},
	"qqp":  {Name: "qqp", Dir: "QQP", A: "question1", B: "question2", HFA: "question1", HFB: "question2", Label: "is_duplicate", Labels: []string{"0", "1"}, Metrics: []string{"accuracy", "f1"}},
	"rte":  {Name: "rte", Dir: "RTE", A: "sentence1", B: "sentence2", HFA: "sentence1", HFB: "sentence2", Label: "label", Labels: []string{"entailment", "not_entailment"}, Metrics: []string{"accuracy"}},
	"qnli": {Name: "qnli", Dir: "QNLI", A: "question", B: "sentence", HFA: "question", HFB: "sentence", Label: "label", Labels: []string{"entailment", "not_entailment"}, Metrics: []string{"accuracy"}},
	"mnli": {Name: "mnli", Dir: "MNLI", A: "sentence1", B: "sentence2", HFA: "premise", HFB: "hypothesis", Label: "gold_label", Labels: []string{"entailment", "neutral", "contradiction"}, Metrics: []string{"accuracy"}, Dev: "dev_matched.tsv"},
	"cola": {Name: "cola", Dir: "CoLA", NoHeader: true, HFA: "sentence", AIdx: 3, LabelIdx: 1, Cols: 4, Labels: []string{"0", "1"}, Metrics: []string{"matthews", "accuracy"}},
	"stsb": {Name: "stsb", Dir: "STS-B", A: "sentence1", B: "sentence2", HFA: "sentence1", HFB: "sentence2", Label: "score", Metrics: []string{"pearson", "spearman"}},
}

// LookupTask returns a task by name; "glue/" in front is allowed.
func LookupTask(name string) (*Task, error) {
	n := strings.ToLower(strings.TrimPrefix(name, "glue/"))
	n = strings.NewReplacer("-", "", "_", "").Replace(n)
	if t, ok := Tasks[n]; ok {
		return t, nil
	}
	names := make([]string, 0, len(Tasks))
	for k := range Tasks {
		names = append(names, "glue/"+k)
	}
	slices.Sort(names)
	return nil, fmt.Errorf("glue: task %q: %w (known: %s)", name, format.ErrUnsupported, strings.Join(names, ", "))
}

// Example is one row: the text(s) and the label (class index, or the
// regression target in Target).
type Example struct {
	A, B   string
	Label  int
	Target float64
}

// SplitPath finds a split ("train", "dev") of the task under dir: dir
// itself or dir/<Task.Dir> holding <split>.tsv (MNLI's dev is
// dev_matched.tsv).
func (t *Task) SplitPath(dir, split string) (string, error) {
	name := split + ".tsv"
	if split == "dev" && t.Dev != "" {
		name = t.Dev
	}
	for _, p := range []string{filepath.Join(dir, name), filepath.Join(dir, t.Dir, name)} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("glue: %s: no %s in %s or %s: %w", t.Name, name, dir, filepath.Join(dir, t.Dir), format.ErrNotFound)
}

// ReadFile reads a task's TSV file.
func (t *Task) ReadFile(path string) ([]Example, error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("glue: %w: %w", format.ErrNotFound, err)
		}
		return nil, err
	}
	defer f.Close()
	return t.Read(f, path)
}

// maxLine bounds one TSV line.
const maxLine = 1 << 20

// Read reads a task's TSV from r (name for errors). GLUE's files are
// split on tabs without quoting; a file in Hugging Face datasets' export
// layout (its column names, e.g. premise, hypothesis for MNLI; "label" with
// class ids; "idx" last; CSV quoting) is recognised by its header.
func (t *Task) Read(r io.Reader, name string) ([]Example, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := readLine(br)
	if err != nil && len(first) == 0 {
		return nil, fmt.Errorf("glue: %s: empty file: %w", name, format.ErrFormat)
	}
	first = bytes.TrimPrefix(first, []byte("\ufeff")) // MRPC's byte-order mark
	header := strings.Split(string(first), "\t")
	// datasets' export: its own column names, "label" (class ids), and idx last
	hfExport := len(header) > 1 && header[len(header)-1] == "idx" && slices.Contains(header, "label")
	noHeader := t.NoHeader && !hfExport
	var rows [][]string
	if noHeader {
		rows = append(rows, header)
	}
	colA, colB, colLabel := t.A, t.B, t.Label
	if hfExport {
		colA, colB, colLabel = t.HFA, t.HFB, "label"
	}
	col := func(h string) (int, error) {
		i := slices.Index(header, h)
		if i < 0 {
			return 0, fmt.Errorf("glue: %s: header %q has no column %q (task %s): %w", name, strings.Join(header, "\t"), h, t.Name, format.ErrFormat)
		}
		return i, nil
	}
	ai, bi, li, ncols := t.AIdx, -1, t.LabelIdx, t.Cols
	if !noHeader {
		if ai, err = col(colA); err != nil {
			return nil, err
		}
		if colB != "" {
			if bi, err = col(colB); err != nil {
				return nil, err
			}
		}
		if li, err = col(colLabel); err != nil {
			return nil, err
		}
		ncols = len(header)
	}
	labels := t.Labels
	if hfExport && labels != nil {
		labels = []string{"0", "1", "2"}[:len(labels)] // datasets stores class ids
	}
	if hfExport {
		cr := csv.NewReader(br)
		cr.Comma, cr.FieldsPerRecord = '\t', ncols
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("glue: %s: %v: %w", name, err, format.ErrFormat)
			}
			rows = append(rows, rec)
		}
	} else {
		for {
			line, err := readLine(br)
			if len(line) > 0 {
				rows = append(rows, strings.Split(string(line), "\t"))
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("glue: %s: %w", name, err)
			}
		}
	}
	out := make([]Example, 0, len(rows))
	for i, row := range rows {
		line := i + 2
		if noHeader {
			line = i + 1
		}
		if len(row) != ncols {
			return nil, fmt.Errorf("glue: %s:%d: %d fields, want %d: %w", name, line, len(row), ncols, format.ErrFormat)
		}
		ex := Example{A: row[ai]}
		if bi >= 0 {
			ex.B = row[bi]
		}
		lab := strings.TrimSpace(row[li])
		if labels == nil {
			v, err := strconv.ParseFloat(lab, 64)
			if err != nil {
				return nil, fmt.Errorf("glue: %s:%d: score %q is not a number: %w", name, line, lab, format.ErrFormat)
			}
			ex.Target = v
		} else if ex.Label = slices.Index(labels, lab); ex.Label < 0 {
			return nil, fmt.Errorf("glue: %s:%d: label %q is none of %v: %w", name, line, lab, labels, format.ErrFormat)
		}
		out = append(out, ex)
	}
	return out, nil
}

// readLine reads one line without its line ending, refusing lines over
// maxLine bytes.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, fmt.Errorf("line over %d bytes: %w", maxLine, format.ErrFormat)
		}
		if err != nil || !isPrefix {
			return line, err
		}
	}
}
