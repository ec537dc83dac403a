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
// The input is a plain Module (name, A, B, alpha, scale) in float64, so the
// package does not depend on how adapters are stored; the base weight W of a
// module is supplied by a BaseFunc, so it can be streamed from any
// checkpoint one module at a time.
//
// Module names are the adapter's own. Bad modules (rank 0, non-finite
// values, shapes that disagree) are reported as skips with the reason; a
// batch fails only when no module could be analysed. Errors wrap the
// sentinels of package format.
package analyze
