package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lorakit/lorakit/arch"
)

// How the gradient checks work: each layer's float32 backward receives a
// random upstream gradient r and is compared with the central differences,
// in float64, of L(x) = Σ r·f(x) where f is the plain float64 reference of
// the layer (ref_test.go), step h = 1e-6. The error measure is
// ‖analytic − numeric‖ / max(‖analytic‖, ‖numeric‖) over a whole gradient.
const (
	tolGrad = 1e-3 // issue 7's bound; float32 backward vs float64 differences
	fdStep  = 1e-6 // central difference step: O(h²) truncation far below float32 noise
)

func relErr(a []float32, n []float64) float64 {
	var d, na, nn float64
	for i := range n {
		d += (float64(a[i]) - n[i]) * (float64(a[i]) - n[i])
		na += float64(a[i]) * float64(a[i])
		nn += n[i] * n[i]
	}
	den := math.Sqrt(max(na, nn))
	if den == 0 {
		return 0
	}
	return math.Sqrt(d) / den
}

// numGrad returns dL/dx by central differences, perturbing x in place.
func numGrad(x []float64, L func() float64) []float64 { return numGradEvery(x, 1, L) }

// numGradEvery returns dL/dx[i] for i = 0, step, 2·step, ...
func numGradEvery(x []float64, step int, L func() float64) []float64 {
	var g []float64
	for i := 0; i < len(x); i += step {
		v := x[i]
		x[i] = v + fdStep
		p := L()
		x[i] = v - fdStep
		q := L()
		x[i] = v
		g = append(g, (p-q)/(2*fdStep))
	}
	return g
}

func randVec(rng *rand.Rand, n int, mean, std float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(mean + std*rng.NormFloat64())
	}
	return v
}

func to64(v []float32) []float64 {
	o := make([]float64, len(v))
	for i, x := range v {
		o[i] = float64(x)
	}
	return o
}

func dot64(r []float32, y []float64) float64 {
	s := 0.0
	for i := range y {
		s += float64(r[i]) * y[i]
	}
	return s
}

type gradCase struct {
	name     string
	analytic []float32
	x        []float64 // float64 copy of the input the reference reads
}

func checkGrads(t *testing.T, L func() float64, cases ...gradCase) {
	t.Helper()
	for _, c := range cases {
		if e := relErr(c.analytic, numGrad(c.x, L)); e > tolGrad {
			t.Errorf("d/d%s: relative error %.3g, want < %g", c.name, e, tolGrad)
		}
	}
}

func TestLayerGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	const N, C = 6, 10
	t.Run("layernorm", func(t *testing.T) {
		x, w, b, r := randVec(rng, N*C, 0.5, 1), randVec(rng, C, 1, 0.2), randVec(rng, C, 0, 0.2), randVec(rng, N*C, 0, 1)
		out, mean, rstd := make([]float32, N*C), make([]float32, N), make([]float32, N)
		layerNormForward(out, mean, rstd, x, w, b, N, C, 1e-5)
		dx, dw, db := make([]float32, N*C), make([]float32, C), make([]float32, C)
		layerNormBackward(dx, dw, db, r, x, w, mean, rstd, N, C)
		x6, w6, b6 := to64(x), to64(w), to64(b)
		L := func() float64 { return dot64(r, layerNorm64(x6, w6, b6, N, C, 1e-5)) }
		checkGrads(t, L, gradCase{"x", dx, x6}, gradCase{"w", dw, w6}, gradCase{"b", db, b6})
	})
	t.Run("rmsnorm", func(t *testing.T) {
		x, w, r := randVec(rng, N*C, 0.5, 1), randVec(rng, C, 1, 0.2), randVec(rng, N*C, 0, 1)
		out, rstd := make([]float32, N*C), make([]float32, N)
		rmsNormForward(out, rstd, x, w, N, C, 1e-5)
		dx, dw := make([]float32, N*C), make([]float32, C)
		rmsNormBackward(dx, dw, r, x, w, rstd, N, C)
		x6, w6 := to64(x), to64(w)
		L := func() float64 { return dot64(r, rmsNorm64(x6, w6, N, C, 1e-5)) }
		checkGrads(t, L, gradCase{"x", dx, x6}, gradCase{"w", dw, w6})
	})
	t.Run("gelu", func(t *testing.T) {
		x, r := randVec(rng, 50, 0, 2), randVec(rng, 50, 0, 1)
		dx := make([]float32, 50)
		geluBackward(dx, r, x)
		x6 := to64(x)
		L := func() float64 {
			s := 0.0
			for i, v := range x6 {
				s += float64(r[i]) * gelu64(v)
			}
			return s
		}
		checkGrads(t, L, gradCase{"x", dx, x6})
	})
	for _, act := range []arch.Activation{arch.SiLU, arch.GELUTanh} {
		// gate|up side by side (N, 2·FF), as Phi-3's fused ffn_up writes them
		t.Run(fmt.Sprintf("gated/act=%d", act), func(t *testing.T) {
			const n, ff = 5, 7
			gu, r := randVec(rng, n*2*ff, 0, 2), randVec(rng, n*ff, 0, 1)
			dgu := make([]float32, len(gu))
			gatedBackward(dgu, r, gu, n, ff, act)
			gu6 := to64(gu)
			L := func() float64 {
				s := 0.0
				for i := range n {
					for j := range ff {
						g, u := gu6[2*i*ff+j], gu6[(2*i+1)*ff+j]
						a := silu64(g)
						if act == arch.GELUTanh {
							a = gelu64(g)
						}
						s += float64(r[i*ff+j]) * a * u
					}
				}
				return s
			}
			checkGrads(t, L, gradCase{"gate|up", dgu, gu6})
		})
	}
	for _, neox := range []bool{false, true} {
		for _, factors := range [][]float32{nil, {1, 2.05, 8}} {
			t.Run(fmt.Sprintf("rope/neox=%v/freqs=%v", neox, factors != nil), func(t *testing.T) {
				const T, heads, hd, dims, base, scale = 3, 2, 8, 6, 10000, 0.5
				ld := heads * hd
				x, r := randVec(rng, N*ld, 0, 1), randVec(rng, N*ld, 0, 1)
				rt := newRopeTable(T, dims, base, scale, factors, neox)
				y := append([]float32(nil), x...)
				rt.rotate(y, ld, N, T, 0, heads, hd, false)
				x6 := to64(x)
				ref := func() []float64 {
					y := append([]float64(nil), x6...)
					rope64(y, ld, N, T, heads, hd, dims, base, scale, factors, neox)
					return y
				}
				if e := relErr(y, ref()); e > 1e-6 {
					t.Errorf("rotate differs from the reference by %.3g", e)
				}
				dx := append([]float32(nil), r...)
				rt.rotate(dx, ld, N, T, 0, heads, hd, true)
				checkGrads(t, func() float64 { return dot64(r, ref()) }, gradCase{"x", dx, x6})
			})
		}
	}
	t.Run("qknorm", func(t *testing.T) {
		// q|k|v rows of 3 q heads and 2 k heads (hd 4) and 8 v values
		const heads, hd, ld = 3, 4, 28
		x, w, r := randVec(rng, N*ld, 0.3, 1), randVec(rng, hd, 1, 0.2), randVec(rng, N*ld, 0, 1)
		pre, rstd := make([]float32, N*heads*hd), make([]float32, N*heads)
		y := append([]float32(nil), x...)
		headNormForward(y, ld, N, heads, hd, w, 1e-6, pre, rstd)
		d, dw := append([]float32(nil), r...), make([]float32, hd)
		headNormBackward(d, ld, N, heads, hd, w, pre, rstd, dw)
		for i := range N {
			clear(d[i*ld+heads*hd : (i+1)*ld]) // columns the norm does not touch
		}
		x6, w6 := to64(x), to64(w)
		L := func() float64 {
			y := append([]float64(nil), x6...)
			headNorm64(y, ld, N, heads, hd, w6, 1e-6)
			s := 0.0
			for i := range N {
				for j := range heads * hd {
					s += float64(r[i*ld+j]) * y[i*ld+j]
				}
			}
			return s
		}
		checkGrads(t, L, gradCase{"x", d, x6}, gradCase{"w", dw, w6})
	})
	for _, c := range []struct {
		name   string
		cap    float32
		window int
	}{{"causal", 0, 0}, {"softcap", 0.3, 0}, {"window", 0, 2}, {"softcap+window", 0.3, 3}} {
		t.Run("attention/"+c.name, func(t *testing.T) {
			s := attnShape{B: 2, T: 5, H: 4, KV: 2, hd: 3, scale: 0.7, cap: c.cap, window: c.window}
			s.ld = (s.H + 2*s.KV) * s.hd
			qkv, r := randVec(rng, s.B*s.T*s.ld, 0, 1), randVec(rng, s.B*s.T*s.H*s.hd, 0, 1)
			out, att := make([]float32, s.B*s.T*s.H*s.hd), make([]float32, s.B*s.H*s.T*s.T)
			attentionForward(out, att, qkv, s)
			dqkv := make([]float32, len(qkv))
			attentionBackward(dqkv, r, att, qkv, s)
			q6 := to64(qkv)
			if e := relErr(out, attention64(q6, s)); e > 1e-6 {
				t.Errorf("attentionForward differs from the reference by %.3g", e)
			}
			checkGrads(t, func() float64 { return dot64(r, attention64(q6, s)) }, gradCase{"qkv", dqkv, q6})
		})
	}
	t.Run("linear+lora", func(t *testing.T) {
		const in, out, rank = 7, 9, 3
		w := &Matrix{Rows: out, Cols: in, F32: randVec(rng, out*in, 0, 0.5)}
		l := &linear{w: w, b: randVec(rng, out, 0, 0.2), dw: make([]float32, out*in), db: make([]float32, out)}
		mk := func(off, o int, s float32) *loraPart {
			return &loraPart{off: off, out: o, in: in, rank: rank, scale: s, a: randVec(rng, rank*in, 0, 0.5), b: randVec(rng, o*rank, 0, 0.5),
				da: make([]float32, rank*in), db: make([]float32, o*rank)}
		}
		l.parts = []*loraPart{mk(0, 3, 2), mk(6, 3, 0.5)}
		x, r := randVec(rng, N*in, 0, 1), randVec(rng, N*out, 0, 1)
		y, act := make([]float32, N*out), &linAct{}
		l.forward(y, out, x, N, act)
		dx := make([]float32, N*in)
		l.backward(dx, r, out, x, N, act)
		x6, w6, b6 := to64(x), to64(w.F32), to64(l.b)
		p6 := []part64{}
		for _, p := range l.parts {
			p6 = append(p6, part64{off: p.off, out: p.out, rank: p.rank, scale: float64(p.scale), a: to64(p.a), b: to64(p.b)})
		}
		L := func() float64 { return dot64(r, linear64(x6, w6, b6, p6, N, in, out)) }
		checkGrads(t, L, gradCase{"x", dx, x6}, gradCase{"W", l.dw, w6}, gradCase{"b", l.db, b6},
			gradCase{"A0", l.parts[0].da, p6[0].a}, gradCase{"B0", l.parts[0].db, p6[0].b},
			gradCase{"A1", l.parts[1].da, p6[1].a}, gradCase{"B1", l.parts[1].db, p6[1].b})
	})
	for _, capZ := range []float32{0, 0.8} {
		t.Run(fmt.Sprintf("classifier/softcap=%v", capZ), func(t *testing.T) {
			const V = 13
			x := randVec(rng, N*C, 0, 1)
			w := &Matrix{Rows: V, Cols: C, F32: randVec(rng, V*C, 0, 0.5)}
			targets := []int{3, 0, 12, -1, 7, 7}
			weight := []float32{0.25, 0.25, 0, 0, 0.25, 0.25}
			const eps = 0.1
			dx, dw := make([]float32, N*C), make([]float32, V*C)
			classifier(nil, x, N, C, w, capZ, targets, weight, eps, dx, dw)
			x6, w6 := to64(x), to64(w.F32)
			L := func() float64 {
				s := 0.0
				for i := range N {
					if weight[i] == 0 {
						continue
					}
					z := make([]float64, V)
					for v := range V {
						for k := range C {
							z[v] += x6[i*C+k] * w6[v*C+k]
						}
						if capZ > 0 {
							z[v] = float64(capZ) * math.Tanh(z[v]/float64(capZ))
						}
					}
					s += float64(weight[i]) * xent64(z, targets[i], eps)
				}
				return s
			}
			checkGrads(t, L, gradCase{"x", dx, x6}, gradCase{"w", dw, w6})
		})
	}
	t.Run("embedding", func(t *testing.T) {
		const V, T = 5, 3
		wte := &Matrix{Rows: V, Cols: C, F32: randVec(rng, V*C, 0, 1)}
		wpe := randVec(rng, T*C, 0, 1)
		tokens := []int{1, 4, 1, 0, 2, 4}
		r := randVec(rng, N*C, 0, 1)
		dwte, dwpe := make([]float32, V*C), make([]float32, T*C)
		const scale = 3.5 // Gemma's √n_embd
		out := make([]float32, N*C)
		embeddingForward(out, tokens, T, 0, wte, wpe, scale)
		embeddingBackward(dwte, dwpe, r, tokens, T, C, scale)
		e6, p6 := to64(wte.F32), to64(wpe)
		emb := func(i, id, c int) float64 { return e6[id*C+c]*scale + p6[(i%T)*C+c] }
		for i, id := range tokens {
			for c := range C {
				if math.Abs(float64(out[i*C+c])-emb(i, id, c)) > 1e-6 {
					t.Fatalf("embeddingForward[%d,%d] = %v, want %v", i, c, out[i*C+c], emb(i, id, c))
				}
			}
		}
		L := func() float64 {
			s := 0.0
			for i, id := range tokens {
				for c := range C {
					s += float64(r[i*C+c]) * emb(i, id, c)
				}
			}
			return s
		}
		checkGrads(t, L, gradCase{"wte", dwte, e6}, gradCase{"wpe", dwpe, p6})
	})
}

// TestModelGradients checks whole-model gradients (LoRA dA, dB and full
// fine-tuning) of a tiny random model of every recipe against central
// differences of the float64 reference model (refLoss), perturbing every
// trainable parameter in turn: post norms, q/k norms, soft-caps, sliding
// windows, NEOX RoPE with rope_freqs, embedding scale, fused q|k|v and
// gate|up with LoRA parts on their row blocks.
func TestModelGradients(t *testing.T) {
	for _, tc := range tinyFamilies {
		for _, full := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/full=%v", tc.name(), full), func(t *testing.T) {
				m, err := Load(tinySource(tc), Options{FullFineTune: full})
				if err != nil {
					t.Fatal(err)
				}
				if !full {
					targets := []string{"q", "k", "v", "o", "gate", "up", "down"}
					switch {
					case m.Config.Experts > 0:
						targets = []string{"q", "k", "v", "o", "router"}
					case m.Config.Recipe.MLP == arch.MLPPlain:
						targets = []string{"q", "v", "o", "up", "down"}
					}
					if err := m.AddLoRA(LoRAConfig{Targets: targets, Rank: 2, Alpha: 4, Seed: 3}); err != nil {
						t.Fatal(err)
					}
					if m.Config.Experts > 0 {
						applyExpertLoRA(t, m, "blk.0.ffn_up_exps", 2)
						applyExpertLoRA(t, m, "blk.1.ffn_down_exps", 2)
					}
					// B starts at zero, where dA vanishes: move it off zero.
					rng := rand.New(rand.NewPCG(4, 4))
					for i := range m.Params() {
						m.Params()[i] += float32(0.3 * rng.NormFloat64())
					}
				}
				b := tinyBatch(tc.vocab, 2, 5, 5)
				b.LabelSmoothing = 0.1
				loss := trainStep(t, m, b)
				theta := to64(m.Params())
				if ref := refLoss(m, b, theta); math.Abs(ref-float64(loss)) > 1e-5*math.Max(1, math.Abs(ref)) {
					t.Errorf("Forward = %v, float64 reference %v", loss, ref)
				}
				// With -short, full fine-tuning checks every fifth parameter.
				step := 1
				if full && testing.Short() {
					step = 5
				}
				num := numGradEvery(theta, step, func() float64 { return refLoss(m, b, theta) })
				var got []float32
				for i := 0; i < len(theta); i += step {
					got = append(got, m.Grads()[i])
				}
				if e := relErr(got, num); e > tolGrad {
					t.Errorf("gradient of %d parameters: relative error %.3g, want < %g", len(num), e, tolGrad)
				}
			})
		}
	}
}

// applyExpertLoRA gives every expert of a stacked tensor a random rank-r
// LoRA pair (moved off zero below, like the others).
func applyExpertLoRA(t *testing.T, m *Model, module string, r int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(6, 6))
	var a, b [][]float32
	for _, l := range m.blocks[0].experts {
		w := l.up.w
		if strings.Contains(module, "down") {
			w = l.down.w
		}
		a, b = append(a, randVec(rng, r*w.Cols, 0, 0.3)), append(b, randVec(rng, w.Rows*r, 0, 0.3))
	}
	if err := m.ApplyExpertLoRA(module, a, b, r, 1.5); err != nil {
		t.Fatal(err)
	}
}

// tolExp: expf against math.Exp, relative (a few float32 ulps).
const tolExp = 5e-7 // below e^-87 (1.6e-38) expf gives 0, hence the 2e-38 floor

func TestExpf(t *testing.T) {
	for x := float32(-90); x <= 0; x += 0.001 {
		want := math.Exp(float64(x))
		if got := float64(expf(x)); math.Abs(got-want) > tolExp*want+2e-38 {
			t.Fatalf("expf(%v) = %v, want %v", x, got, want)
		}
	}
}

// TestVecLoops checks the softmax loops (assembly where the CPU has it)
// against plain float64 arithmetic, at lengths around the vector width.
func TestVecLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 7, 8, 9, 31, 1023, 1024, 1025, 50257} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			z := randVec(rng, n, 0, 8)
			want := math.Inf(-1)
			for _, v := range z {
				want = max(want, float64(v))
			}
			m := maxf(z)
			if float64(m) != want {
				t.Fatalf("maxf = %v, want %v", m, want)
			}
			e := append([]float32(nil), z...)
			sum := expSub(e, m)
			var wantSum float64
			for i, v := range z {
				w := math.Exp(float64(v - m)) // the float32 difference is the input
				wantSum += w
				if math.Abs(float64(e[i])-w) > tolExp*w+2e-38 {
					t.Fatalf("expSub: z[%d] = %v, want %v", i, e[i], w)
				}
			}
			if math.Abs(sum-wantSum) > tolSum*wantSum {
				t.Fatalf("expSub sum = %v, want %v", sum, wantSum)
			}
			axpb(e, 2, -1)
			for i, v := range z {
				w := 2*math.Exp(float64(v-m)) - 1
				if math.Abs(float64(e[i])-w) > 1e-6 {
					t.Fatalf("axpb: z[%d] = %v, want %v", i, e[i], w)
				}
			}
		})
	}
}

// tolSum: float32 partial sums over blocks of xentBlock values.
const tolSum = 1e-5

// tolGELU: float32 GELU and its derivative (tanh through expf, assembly
// where the CPU has it) against float64, absolute plus relative.
const tolGELU = 1e-6

func TestGELUValues(t *testing.T) {
	var x []float32
	for v := float32(-12); v <= 12; v += 0.0137 {
		x = append(x, v)
	}
	x = append(x, 0, 1e-30, -1e-30, 1e-4, -1e-4, 30, -30, 100, -100)
	ones := make([]float32, len(x))
	for i := range ones {
		ones[i] = 1
	}
	y, dy := make([]float32, len(x)), make([]float32, len(x))
	geluForward(y, x, false)
	geluBackward(dy, ones, x)
	for i, v := range x {
		u := float64(v)
		want := gelu64(u)
		th := math.Tanh(math.Sqrt(2/math.Pi) * (u + 0.044715*u*u*u))
		wantD := 0.5*(1+th) + 0.5*u*(1-th*th)*math.Sqrt(2/math.Pi)*(1+3*0.044715*u*u)
		if math.Abs(float64(y[i])-want) > tolGELU*(1+math.Abs(want)) {
			t.Errorf("geluForward(%v) = %v, want %v", v, y[i], want)
		}
		if math.Abs(float64(dy[i])-wantD) > tolGELU*(1+math.Abs(wantD)) {
			t.Errorf("geluBackward(%v) = %v, want %v", v, dy[i], wantD)
		}
	}
}

// TestSoftmaxXentNaN: a NaN logit makes the loss NaN (a diverged model is
// seen), through the vector loops as through plain Go.
func TestSoftmaxXentNaN(t *testing.T) {
	for _, n := range []int{5, 64, 1000} {
		for _, at := range []int{0, n / 2, n - 1} {
			z := make([]float32, n)
			z[at] = float32(math.NaN())
			if got := softmaxXent(z, 1, 0, 1, true); !math.IsNaN(got) {
				t.Errorf("softmaxXent(%d logits, NaN at %d) = %v, want NaN", n, at, got)
			}
		}
	}
}
