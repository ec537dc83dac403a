package analyze

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/lorakit/lorakit/format"
	"gonum.org/v1/gonum/mat"
)

// decaying returns an out×in weight with singular values 0.85^i (i from 0),
// a spectrum that falls like trained weights' head does.
func decaying(t testing.TB, seed uint64, out, in int) (*mat.Dense, []float64) {
	t.Helper()
	rng := newRNG(seed)
	k := min(out, in)
	sv := make([]float64, k)
	for i := range sv {
		sv[i] = math.Pow(0.85, float64(i))
	}
	u := orthoCols(t, rng, out, k)
	v := orthoCols(t, rng, in, k)
	var us, w mat.Dense
	us.Mul(u, mat.NewDiagDense(k, sv))
	w.Mul(&us, v.T())
	return &w, sv
}

// Tolerances of the amplification rows.
const (
	// ampTol: the ΔW row uses exact singular vectors, so it matches the
	// dense reference to rounding.
	ampTol = 1e-10
	// ritzTol: the randomized top-r of W with the default 2 power
	// iterations, on σ_i = 0.85^i, keeps ‖Σ_r‖ within 0.1%.
	ritzTol = 1e-3
)

func TestAmplifyMatchesDense(t *testing.T) {
	const out, in, r = 60, 50, 4
	w, wsv := decaying(t, 30, out, in)
	rng := newRNG(31)
	m := Module{Name: "q", A: randn(rng, r, in), B: randn(rng, out, r), Scale: 0.5}
	a, err := AmplifyModule(m, w, AmplifyOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}

	// Reference: dense SVD of the formed ΔW, Uᵀ W V over its top r vectors.
	dsv, du, dv := denseSVD(t, denseDelta(m))
	var wv, p mat.Dense
	wv.Mul(w, dv.Slice(0, in, 0, r))
	p.Mul(du.Slice(0, out, 0, r).T(), &wv)
	wantDW := mat.Norm(&p, 2)
	var dwF, wTop float64
	for i := range r {
		dwF += dsv[i] * dsv[i]
		wTop += wsv[i] * wsv[i]
	}
	cases := []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"proj_dw", a.ProjDW, wantDW, ampTol},
		{"dw_frobenius", a.DWFrobenius, math.Sqrt(dwF), ampTol},
		{"w_frobenius", a.WFrobenius, mat.Norm(w, 2), ampTol},
		{"amplification", a.Amplification, math.Sqrt(dwF) / wantDW, ampTol},
		// With W's own top-r vectors, UᵀWV = diag(σ₁..σ_r).
		{"proj_w", a.ProjW, math.Sqrt(wTop), ritzTol},
	}
	for _, c := range cases {
		if math.Abs(c.got-c.want) > c.tol*c.want {
			t.Errorf("AmplifyModule().%s = %.12g, want %.12g (tol %g relative)", c.name, c.got, c.want, c.tol)
		}
	}
	if a.ProjW < a.ProjDW || a.ProjW > math.Sqrt(wTop)*(1+ampTol) {
		t.Errorf("proj_w = %v must lie in [proj_dw, ‖Σ_r(W)‖_F] = [%v, %v]", a.ProjW, a.ProjDW, math.Sqrt(wTop))
	}
}

func TestAmplifyRandomRow(t *testing.T) {
	// For U, V spanning uniformly random r-subspaces,
	// E‖UᵀWV‖_F² = r²·‖W‖_F²/(out·in). The mean of 40 draws is checked
	// within 15% (the spread of one draw is about 40% here).
	const out, in, r, draws = 40, 30, 3, 40
	w, _ := decaying(t, 32, out, in)
	rng := newRNG(33)
	m := Module{Name: "v", A: randn(rng, r, in), B: randn(rng, out, r), Scale: 1}
	var mean float64
	for s := range draws {
		a, err := AmplifyModule(m, w, AmplifyOptions{Seed: uint64(s)})
		if err != nil {
			t.Fatal(err)
		}
		mean += a.ProjRandom * a.ProjRandom / draws
	}
	wf := mat.Norm(w, 2)
	want := r * r * wf * wf / (out * in)
	if math.Abs(mean-want) > 0.15*want {
		t.Errorf("mean proj_random² = %.4g, want %.4g ± 15%%", mean, want)
	}
}

func TestAmplifyPlantedAlignment(t *testing.T) {
	// ΔW along W's top directions: proj_dw = proj_w = ‖Σ_r(W)‖; ΔW in
	// directions W lacks entirely: proj_dw = 0 and amplification 0. W's
	// spectrum (50, 49, ..., 11, then 0) is nearly flat, so the top-r of W
	// needs more power iterations than the default to meet ritzTol.
	const out, in, r = 50, 50, 3
	rng := newRNG(34)
	u := orthoCols(t, rng, out, out)
	v := orthoCols(t, rng, in, in)
	sv := make([]float64, out)
	for i := range out - 10 {
		sv[i] = float64(out - i)
	}
	var us, w mat.Dense
	us.Mul(u, mat.NewDiagDense(out, sv))
	w.Mul(&us, v.T())

	pick := func(lo int) Module {
		b := mat.DenseCopyOf(u.Slice(0, out, lo, lo+r))
		a := mat.DenseCopyOf(v.Slice(0, in, lo, lo+r).T())
		return Module{Name: fmt.Sprint(lo), A: a, B: b, Scale: 1}
	}
	top := math.Sqrt(50*50 + 49*49 + 48*48)
	opt := AmplifyOptions{PowerIters: 8}
	aligned, err := AmplifyModule(pick(0), &w, opt)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(aligned.ProjDW-top) > ampTol*top || math.Abs(aligned.ProjW-top) > ritzTol*top {
		t.Errorf("aligned: proj_dw, proj_w = %v, %v, want %v", aligned.ProjDW, aligned.ProjW, top)
	}
	null, err := AmplifyModule(pick(out-r), &w, opt)
	if err != nil {
		t.Fatal(err)
	}
	if null.ProjDW > ampTol*top || null.Amplification != 0 && null.Amplification < 1e6 {
		t.Errorf("null space: proj_dw = %v, amplification = %v, want ≈ 0 and 0 or huge", null.ProjDW, null.Amplification)
	}
}

func TestAmplifyBatchAndBadInput(t *testing.T) {
	rng := newRNG(35)
	const out, in = 24, 20
	w, _ := decaying(t, 36, out, in)
	mk := func(name string, r int) Module {
		return Module{Name: name, A: randn(rng, r, in), B: randn(rng, out, r), Scale: 1}
	}
	nanW := mat.DenseCopyOf(w)
	nanW.Set(3, 3, math.NaN())
	ioErr := errors.New("disk on fire")
	base := func(name string) (Weight, error) {
		switch name {
		case "missing":
			return nil, fmt.Errorf("base: tensor %q: %w", name, format.ErrNotFound)
		case "wrong shape":
			return DenseWeight(mat.NewDense(in, out, nil)), nil
		case "nan base":
			return DenseWeight(nanW), nil
		case "broken":
			return nil, ioErr
		}
		return DenseWeight(w), nil
	}
	rank0 := Module{Name: "rank0", A: &mat.Dense{}, B: &mat.Dense{}}
	rep, err := Amplify(context.Background(), []Module{mk("q", 4), mk("missing", 4), mk("wrong shape", 4), mk("nan base", 2), rank0}, base, AmplifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Modules) != 1 || rep.Modules[0].Name != "q" || len(rep.Skipped) != 4 {
		t.Errorf("Amplify: modules %v, skipped %v, want q and 4 skips", rep.Modules, rep.Skipped)
	}
	if _, err := Amplify(context.Background(), []Module{mk("broken", 4)}, base, AmplifyOptions{}); !errors.Is(err, ioErr) {
		t.Errorf("Amplify(base error) error = %v, want the base's error", err)
	}
	if _, err := Amplify(context.Background(), []Module{mk("missing", 4)}, base, AmplifyOptions{}); !errors.Is(err, format.ErrNotFound) {
		t.Errorf("Amplify(all missing) error = %v, want ErrNotFound", err)
	}

	var got struct {
		Modules []map[string]any `json:"modules"`
	}
	buf, _ := json.Marshal(rep)
	if err := json.Unmarshal(buf, &got); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, "amplification", got.Modules[0], []string{"name", "rank", "w_frobenius", "dw_frobenius", "proj_dw", "proj_w", "proj_random", "amplification"})
}
