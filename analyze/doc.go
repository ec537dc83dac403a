// Package analyze studies the rank deficiency of learned LoRA updates, as in
// Section 7 of Hu et al. 2021 ("Understanding the low-rank updates").
//
// An update ΔW = s·B·A (B: out×r, A: r×in) is never formed. LowRank computes
// its singular value decomposition from a thin QR of B and of Aᵀ and an SVD
// of the small r×r core, in O((out+in)·r²). On top of that:
//
//   - Spectra: singular values, numerical rank, the ranks that keep 90% and
//     99% of the energy, stable rank, entropy effective rank, Frobenius norm,
//     and a rank recommendation per module and for the whole adapter.
//   - Compare: the subspace similarity φ(i, j) = ‖U_iᵀU_j‖_F² / min(i, j)
//     between two adapters, over the right-singular vectors of A (the paper's
//     definition) and the left-singular vectors of B, with the random
//     Gaussian control.
//   - Amplify: the paper's Table 7, ‖UᵀWVᵀ‖_F for U, V the top-r singular
//     vectors of ΔW, of W itself (randomized subspace iteration) and of a
//     random matrix, and the amplification factor ‖ΔW‖_F / ‖UᵀWVᵀ‖_F.
//   - WriteReport: report.md, report.json and PNG figures in one directory.
//
// The input is a plain Module (name, A, B as gonum matrices, alpha, scale),
// so the package does not depend on how adapters are stored (FromAdapter's
// modules read a lora.Adapter's float32 values in place); the base weight W
// of a module is supplied by a BaseFunc as a Weight, which Amplify reads in
// passes over its rows, a band at a time (Base.Stream decodes the bands
// from a memory-mapped checkpoint), so no base weight is ever held whole.
//
// Module names are the adapter's own. Bad modules (rank 0, non-finite
// values, shapes that disagree) are reported as skips with the reason; a
// batch fails only when no module could be analysed. Errors wrap the
// sentinels of package format.
//
// # JSON
//
// The "modules" entries of Spectrum, Similarity and Amplification have
// exactly the fields of issue 6 (name, rank, alpha, scale, shape,
// singular_values, numerical_rank, energy_rank_90, energy_rank_99,
// stable_rank, effective_rank, frobenius; name, rank_a, rank_b, phi_right,
// phi_left, phi_right_11, phi_left_11; name, rank, w_frobenius,
// dw_frobenius, proj_dw, proj_w, proj_random, amplification). Beside
// "modules", a report may carry "skipped" and, for similarity, "summary"
// (mean top-k diagonal and the random control per module).
//
// # Numerics
//
// Factors are row-major, so the thin QRs of B and Aᵀ are computed as LQ
// factorizations of Bᵀ and A, whose Householder vectors are contiguous
// rows. Each factor is divided by its largest element first, so extreme
// inputs fail with format.ErrFormat instead of overflowing. Singular values
// agree with a dense SVD of the formed ΔW to 1e-10 relative; the numerical
// rank uses numpy's matrix_rank tolerance max(out, in)·ε·σ₁. φ never forms
// the larger basis: the smaller one is projected on the other's reflectors.
//
// # Cost
//
// On the 2-core reference machine (Go 1.26, gonum's pure-Go BLAS) the
// benchmarks use, in CPU seconds: the spectrum of a 7B-shaped adapter
// (32 layers × q, k, v, o at 4096×4096, r = 16) 0.15; its similarity r = 8
// against r = 64, with the Gaussian control, 2.1; the amplification row of
// one 4096×4096 module 0.53 with AVX2, 1.3 without (six passes over W,
// each a product with 32 to 64 columns). Spectra and Compare spread modules
// over all cores; Amplify takes one base weight at a time and parallelizes
// inside each pass. The products with W are bit for bit those of gonum's
// Dgemm on W in memory (the AVX2 kernel keeps its summation order);
// ‖W‖_F of a weight stored transposed (GPT-2's Conv1D) sums its squares in
// stored order, a few ulps from gonum's Dlange over W's rows.
package analyze
