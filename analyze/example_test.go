package analyze_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lorakit/lorakit/analyze"
	"gonum.org/v1/gonum/mat"
)

// rankTwo is a module whose ΔW = 2·B·A has singular values 6 and 2: B's
// columns and A's rows are orthogonal with norms (3, 1) and (1, 1).
func rankTwo(name string) analyze.Module {
	b := mat.NewDense(3, 2, []float64{
		3, 0,
		0, 1,
		0, 0,
	})
	a := mat.NewDense(2, 4, []float64{
		0, 1, 0, 0,
		0, 0, 0, 1,
	})
	return analyze.Module{Name: name, A: a, B: b, Alpha: 4, Scale: 2}
}

func ExampleLowRank() {
	f, err := analyze.LowRank(rankTwo("q_proj"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("σ = %.3g\n", f.Values)
	fmt.Printf("top left vector %.3g, top right vector %.3g\n", mat.Col(nil, 0, f.U), mat.Col(nil, 0, f.V))
	// Output:
	// σ = [6 2]
	// top left vector [1 0 0], top right vector [0 1 0 0]
}

func ExampleSpectra() {
	s, err := analyze.Spectra(context.Background(), []analyze.Module{rankTwo("layers.0.q_proj")})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := s.Modules[0]
	fmt.Printf("%s: numerical rank %d, 90%% energy at rank %d, stable rank %.2f, ‖ΔW‖_F %.3f\n",
		m.Name, m.NumericalRank, m.EnergyRank90, m.StableRank, m.Frobenius)
	fmt.Println(analyze.Recommend(s, analyze.Energy90, 0.9).Summary)
	// Output:
	// layers.0.q_proj: numerical rank 2, 90% energy at rank 1, stable rank 1.11, ‖ΔW‖_F 6.325
	// r=1 keeps 90% of the energy in 100% of modules (1 of 1)
}

func ExampleCompare() {
	a := []analyze.Module{rankTwo("q_proj")}
	s, err := analyze.Compare(context.Background(), a, a, analyze.CompareOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := s.Modules[0]
	fmt.Printf("φ_A = %.2f, φ_B(1,1) = %.2f, random expectation %.2f\n", m.PhiRight, m.PhiLeft11, s.Summary[0].ExpectedRight11)
	// Output:
	// φ_A = [[1.00 1.00] [1.00 1.00]], φ_B(1,1) = 1.00, random expectation 0.25
}

func ExampleAmplify() {
	// W = diag(10, 5, 1) padded to 3×4; ΔW lives in W's weakest direction.
	w := mat.NewDense(3, 4, []float64{
		10, 0, 0, 0,
		0, 5, 0, 0,
		0, 0, 1, 0,
	})
	m := analyze.Module{
		Name: "v_proj", Scale: 1,
		B: mat.NewDense(3, 1, []float64{0, 0, 2}),
		A: mat.NewDense(1, 4, []float64{0, 0, 1, 0}),
	}
	base := func(string) (analyze.Weight, error) { return analyze.DenseWeight(w), nil }
	rep, err := analyze.Amplify(context.Background(), []analyze.Module{m}, base, analyze.AmplifyOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := rep.Modules[0]
	fmt.Printf("‖UᵀWVᵀ‖: ΔW %.3g, W %.3g; amplification %.3g\n", r.ProjDW, r.ProjW, r.Amplification)
	// Output:
	// ‖UᵀWVᵀ‖: ΔW 1, W 10; amplification 2
}

func ExampleWriteReport() {
	dir, _ := os.MkdirTemp("", "analyze-example")
	defer os.RemoveAll(dir)
	mods := []analyze.Module{rankTwo("layers.0.q_proj"), rankTwo("layers.1.q_proj")}
	rep, err := analyze.BuildReport(context.Background(), mods, mods, nil, analyze.ReportOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	out := filepath.Join(dir, "report")
	if err := analyze.WriteReport(out, rep, false); err != nil {
		fmt.Println(err)
		return
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	// Output:
	// phi-q_proj-A.png
	// phi-q_proj-B.png
	// report.json
	// report.md
	// spectra.png
}
