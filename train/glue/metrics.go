package glue

import (
	"fmt"
	"math"
	"sort"

	"github.com/lorakit/lorakit/format"
)

// Accuracy is the share of predictions equal to their labels.
func Accuracy(pred, gold []int) (float64, error) {
	if err := sameLen(len(pred), len(gold)); err != nil {
		return 0, err
	}
	n := 0
	for i := range pred {
		if pred[i] == gold[i] {
			n++
		}
	}
	return float64(n) / float64(len(pred)), nil
}

// F1 is the F1 score of class 1 (scikit-learn's f1_score, binary):
// 2·TP / (2·TP + FP + FN), 0 when there is no positive at all.
func F1(pred, gold []int) (float64, error) {
	if err := sameLen(len(pred), len(gold)); err != nil {
		return 0, err
	}
	tp, _, fp, fn := confusion(pred, gold)
	if tp+fp+fn == 0 {
		return 0, nil
	}
	return 2 * tp / (2*tp + fp + fn), nil
}

// Matthews is the Matthews correlation coefficient of binary predictions
// (scikit-learn's matthews_corrcoef):
// (TP·TN − FP·FN) / √((TP+FP)(TP+FN)(TN+FP)(TN+FN)), 0 when a factor is 0.
func Matthews(pred, gold []int) (float64, error) {
	if err := sameLen(len(pred), len(gold)); err != nil {
		return 0, err
	}
	tp, tn, fp, fn := confusion(pred, gold)
	den := (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
	if den == 0 {
		return 0, nil
	}
	return (tp*tn - fp*fn) / math.Sqrt(den), nil
}

// confusion counts the true and false positives and negatives of binary
// predictions (class 1 positive) against gold labels of the same length.
func confusion(pred, gold []int) (tp, tn, fp, fn float64) {
	for i := range pred {
		switch {
		case pred[i] == 1 && gold[i] == 1:
			tp++
		case pred[i] == 1:
			fp++
		case gold[i] == 1:
			fn++
		default:
			tn++
		}
	}
	return tp, tn, fp, fn
}

// Pearson is the Pearson correlation of x and y (scipy.stats.pearsonr);
// NaN when either is constant.
func Pearson(x, y []float64) (float64, error) {
	if err := sameLen(len(x), len(y)); err != nil {
		return 0, err
	}
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return math.NaN(), nil
	}
	return sxy / math.Sqrt(sxx*syy), nil
}

// Spearman is the Spearman rank correlation (scipy.stats.spearmanr): the
// Pearson correlation of the ranks, ties given their average rank.
func Spearman(x, y []float64) (float64, error) {
	if err := sameLen(len(x), len(y)); err != nil {
		return 0, err
	}
	return Pearson(ranks(x), ranks(y))
}

// ranks returns 1-based ranks, ties averaged.
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

func sameLen(a, b int) error {
	if a != b || a == 0 {
		return fmt.Errorf("glue: %d predictions for %d labels (want as many, at least one): %w", a, b, format.ErrShape)
	}
	return nil
}

// Score computes the task's metrics (Task.Metrics) from class predictions
// or, for regression, predicted values.
func (t *Task) Score(pred []int, predVals []float64, gold []Example) (map[string]float64, error) {
	out := map[string]float64{}
	g := make([]int, len(gold))
	gv := make([]float64, len(gold))
	for i, e := range gold {
		g[i], gv[i] = e.Label, e.Target
	}
	for _, name := range t.Metrics {
		var v float64
		var err error
		switch name {
		case "accuracy":
			v, err = Accuracy(pred, g)
		case "f1":
			v, err = F1(pred, g)
		case "matthews":
			v, err = Matthews(pred, g)
		case "pearson":
			v, err = Pearson(predVals, gv)
		case "spearman":
			v, err = Spearman(predVals, gv)
		}
		if err != nil {
			return nil, err
		}
		out[name] = v
	}
	return out, nil
}
