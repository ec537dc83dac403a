package glue

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/testshared"
)

// TestReadShared: the GLUE files in ../shared/data/glue read with the row
// and label counts their PROVENANCE files state.
func TestReadShared(t *testing.T) {
	dir := testshared.Path(t, "data/glue")
	for _, c := range []struct {
		task, split string
		rows        int
		ones        int // rows of label 1 (-1: regression)
	}{
		{"sst2", "dev", 872, 444},
		{"mrpc", "dev", 408, 279},
		{"mrpc", "train", 3668, 2474},
		{"rte", "dev", 277, 131},
		{"rte", "train", 2490, 1241},
		{"stsb", "dev", 1500, -1},
	} {
		t.Run(c.task+"/"+c.split, func(t *testing.T) {
			task, err := LookupTask("glue/" + c.task)
			if err != nil {
				t.Fatal(err)
			}
			p, err := task.SplitPath(dir, c.split)
			if err != nil {
				t.Fatal(err)
			}
			exs, err := task.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(exs) != c.rows {
				t.Errorf("%d rows, want %d", len(exs), c.rows)
			}
			ones := 0
			for _, e := range exs {
				if e.Label == 1 {
					ones++
				}
				if e.A == "" || (task.B != "" && e.B == "") {
					t.Fatalf("empty text in %+v", e)
				}
			}
			if c.ones >= 0 && ones != c.ones {
				t.Errorf("%d rows of label 1, want %d", ones, c.ones)
			}
		})
	}
}

// TestReadLayouts: each task's layout, on rows written by hand in GLUE's
// formats (CoLA headerless, MNLI's many columns, STS-B scores, RTE in
// datasets' CSV-quoted export), and the first rows of the shared files.
func TestReadLayouts(t *testing.T) {
	for _, c := range []struct {
		task, text string
		want       []Example
	}{
		{"cola", "gj04\t1\t\tThe sailors rode the breeze clear of the rocks.\ngj04\t0\t*\tThe more we study verbs, the crazier they get get.\n",
			[]Example{{A: "The sailors rode the breeze clear of the rocks.", Label: 1}, {A: "The more we study verbs, the crazier they get get.", Label: 0}}},
		{"qnli", "index\tquestion\tsentence\tlabel\n0\tWhat?\tThis.\tnot_entailment\n",
			[]Example{{A: "What?", B: "This.", Label: 1}}},
		{"mnli", "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n" +
			"0\t1\t1e\tgov\t( a )\t( b )\t(ROOT a)\t(ROOT b)\tA man.\tA person.\tneutral\tcontradiction\n",
			[]Example{{A: "A man.", B: "A person.", Label: 2}}},
		{"stsb", "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\tmain-captions\tMSRvid\t2012test\t0000\tnone\tnone\tA \"man.\tA man.\t4.750\n",
			[]Example{{A: "A \"man.", B: "A man.", Target: 4.75}}},
		{"rte", "sentence1\tsentence2\tlabel\tidx\n\"He said \"\"no\"\".\"\tHe spoke.\t0\t0\n",
			[]Example{{A: "He said \"no\".", B: "He spoke.", Label: 0}}},
		{"rte", "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\tnot_entailment\n",
			[]Example{{A: "A.", B: "B.", Label: 1}}},
		{"mrpc", "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tA \"b.\tC.\n",
			[]Example{{A: "A \"b.", B: "C.", Label: 1}}},
		{"qqp", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n1\t2\t3\tWhy?\tHow?\t0\n",
			[]Example{{A: "Why?", B: "How?", Label: 0}}},
		// datasets' exports of other tasks: their column names, class ids
		{"mnli", "premise\thypothesis\tlabel\tidx\nA man.\tA person.\t2\t0\n", []Example{{A: "A man.", B: "A person.", Label: 2}}},
		{"mrpc", "sentence1\tsentence2\tlabel\tidx\nA.\tB.\t1\t0\n", []Example{{A: "A.", B: "B.", Label: 1}}},
		{"cola", "sentence\tlabel\tidx\nThe sailors rode.\t1\t0\n", []Example{{A: "The sailors rode.", Label: 1}}},
		{"stsb", "sentence1\tsentence2\tlabel\tidx\nA.\tB.\t3.8\t0\n", []Example{{A: "A.", B: "B.", Target: 3.8}}},
	} {
		t.Run(c.task, func(t *testing.T) {
			task, _ := LookupTask(c.task)
			got, err := task.Read(strings.NewReader(c.text), "test.tsv")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("%d rows, want %d", len(got), len(c.want))
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("row %d = %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
	t.Run("rte quoted row of the shared file", func(t *testing.T) {
		task, _ := LookupTask("rte")
		exs, err := task.ReadFile(testshared.Path(t, "data/glue/RTE/dev.tsv"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(exs[6].A, `irreconcilable differences" as the reason`) || !strings.HasPrefix(exs[6].A, "singer and actress") {
			t.Errorf("row 6 = %q, want the CSV quoting decoded", exs[6].A)
		}
	})
}

// TestReadBad: malformed rows are refused naming file and line.
func TestReadBad(t *testing.T) {
	for _, c := range []struct {
		task, text, say string
	}{
		{"sst2", "sentence\tlabel\ngood\t1\nbad\n", "test.tsv:3: 1 fields, want 2"},
		{"sst2", "sentence\tlabel\ngood\t2\n", "test.tsv:2: label \"2\""},
		{"sst2", "text\tlabel\n", "no column \"sentence\""},
		{"stsb", "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\ta\tb\tc\td\te\tf\tg\th\tx\n", "test.tsv:2: score \"x\""},
		{"sst2", "", "empty file"},
		{"rte", "sentence1\tsentence2\tlabel\tidx\n\"unterminated\tb\t0\t0\n", "test.tsv"},
	} {
		task, _ := LookupTask(c.task)
		_, err := task.Read(strings.NewReader(c.text), "test.tsv")
		if !errors.Is(err, format.ErrFormat) || !strings.Contains(err.Error(), c.say) {
			t.Errorf("%s %q: err = %v, want ErrFormat saying %q", c.task, c.text, err, c.say)
		}
	}
	if _, err := LookupTask("glue/wnli"); !errors.Is(err, format.ErrUnsupported) {
		t.Errorf("LookupTask(wnli) = %v, want unsupported", err)
	}
}

// TestMetrics: GLUE's metrics on cases computed by hand.
func TestMetrics(t *testing.T) {
	const tol = 1e-15                                          // a few float64 roundings
	p1, g1 := []int{1, 0, 1, 1, 0, 0}, []int{1, 0, 0, 1, 1, 0} // TP 2, FP 1, FN 1, TN 2
	p2, g2 := []int{1, 1, 1, 0}, []int{1, 0, 0, 0}             // TP 1, FP 2, FN 0, TN 1
	x, y := []float64{1, 2, 3, 4, 5}, []float64{2, 4, 5, 4, 5}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"accuracy 1", must(Accuracy(p1, g1)), 4.0 / 6},
		{"f1 1", must(F1(p1, g1)), 4.0 / 6},                      // 2·2/(2·2+1+1)
		{"matthews 1", must(Matthews(p1, g1)), 3.0 / 9},          // (2·2−1·1)/√(3·3·3·3)
		{"accuracy 2", must(Accuracy(p2, g2)), 0.5},              //
		{"f1 2", must(F1(p2, g2)), 0.5},                          // 2/(2+2+0)
		{"matthews 2", must(Matthews(p2, g2)), 1 / math.Sqrt(9)}, // (1·1−2·0)/√(3·1·3·1)
		{"matthews constant", must(Matthews([]int{1, 1}, []int{1, 0})), 0},
		{"f1 no positives", must(F1([]int{0, 0}, []int{0, 0})), 0},
		{"pearson", must(Pearson(x, y)), 6 / math.Sqrt(60)},        // Σdxdy 6, Σdx² 10, Σdy² 6
		{"spearman ties", must(Spearman(x, y)), 7 / math.Sqrt(90)}, // y ranks 1, 2.5, 4.5, 2.5, 4.5
		{"spearman monotone", must(Spearman([]float64{1, 5, 9}, []float64{0.1, 0.2, 30})), 1},
	} {
		if math.Abs(c.got-c.want) > tol {
			t.Errorf("%s = %.17g, want %.17g", c.name, c.got, c.want)
		}
	}
	if v := must(Pearson([]float64{1, 1}, []float64{1, 2})); !math.IsNaN(v) {
		t.Errorf("Pearson of a constant = %v, want NaN", v)
	}
	if _, err := Accuracy([]int{1}, []int{1, 0}); !errors.Is(err, format.ErrShape) {
		t.Errorf("Accuracy of unequal lengths: %v, want ErrShape", err)
	}
}

func must(v float64, err error) float64 {
	if err != nil {
		panic(err)
	}
	return v
}
