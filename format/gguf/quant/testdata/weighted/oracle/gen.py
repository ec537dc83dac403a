# Inputs for the weighted-quantizer fixtures: 16 rows of 512 values and 512
# importance values. python3 gen.py OUTDIR
import random, struct, math, sys, os
r = random.Random(20251205)
rows, n = 16, 512
x = []
for i in range(rows):
    kind = i % 8
    s = 10 ** r.uniform(-3, 0)
    for j in range(n):
        if kind in (0, 1, 2): v = s * r.gauss(0, 1)                      # weight-like
        elif kind == 3: v = s * r.gauss(0, 1) * (30 if r.random() < 0.01 else 1)  # outliers
        elif kind == 4: v = s * r.random()                                # one-sided
        elif kind == 5: v = (r.randrange(17) - 8) / 4                     # small-integer grid (ties)
        elif kind == 6: v = 0.0 if (j // 32) % 3 == 0 else s * r.gauss(0, 1)  # zero blocks
        else: v = s * r.gauss(0, 1) * 1e-6                                # tiny
        x.append(v)
w = [0.0 if r.random() < 0.05 else math.exp(2 * r.gauss(0, 1)) for _ in range(n)]
os.makedirs(sys.argv[1], exist_ok=True)
open(os.path.join(sys.argv[1], 'input.f32'), 'wb').write(struct.pack('<%df' % len(x), *x))
open(os.path.join(sys.argv[1], 'imatrix.f32'), 'wb').write(struct.pack('<%df' % n, *w))
