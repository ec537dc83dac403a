# PyTorch side of BenchmarkFamilyLoRAStep: the same LoRA step (rank 8 on q
# and v, base frozen, batch 4 x 128, forward + backward + AdamW on the LoRA
# parameters) on random models shaped like Qwen2.5-0.5B and Gemma-3-270m,
# written directly in torch 1.13 (no transformers package). Prints tokens/s,
# the median of STEPS steps (default 5) after one warm-up, and the process
# CPU seconds per step.
#
#   /usr/bin/python3 model/testdata/torch_lora_step.py THREADS [STEPS]
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

torch.manual_seed(1)
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)

SHAPES = {
    "qwen2": dict(vocab=151936, embd=896, layers=24, heads=14, kv=2, hd=64, ff=4864, qkv_bias=True,
                  gemma=False, base=1e6),
    "gemma3": dict(vocab=262144, embd=640, layers=18, heads=4, kv=1, hd=256, ff=2048, qkv_bias=False,
                   gemma=True, base=1e6, base_swa=1e4, window=512, pattern=6),
}
B, T, R, ALPHA = 4, 128, 8, 16


def rms(x, w, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, base):  # NEOX halves; x (B, H, T, hd)
    hd = x.shape[-1]
    inv = base ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
    ang = torch.arange(x.shape[2], dtype=torch.float32)[:, None] * inv[None, :]
    cos, sin = torch.cos(ang), torch.sin(ang)
    a, b = x[..., : hd // 2], x[..., hd // 2:]
    return torch.cat([a * cos - b * sin, a * sin + b * cos], -1)


class LoRA(torch.nn.Module):
    def __init__(self, w, b=None):
        super().__init__()
        self.w, self.b = w, b
        out, inp = w.shape
        self.A = torch.nn.Parameter(torch.randn(R, inp) / math.sqrt(inp))
        self.B = torch.nn.Parameter(torch.zeros(out, R))

    def forward(self, x):
        return F.linear(x, self.w, self.b) + F.linear(F.linear(x, self.A), self.B) * (ALPHA / R)


def mat(o, i):
    return torch.randn(o, i) * 0.02


class Model(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        C, qd, kvd = c["embd"], c["heads"] * c["hd"], c["kv"] * c["hd"]
        self.wte = mat(c["vocab"], C)
        self.blocks = []
        mods = []
        for _ in range(c["layers"]):
            bq = torch.randn(qd) * 0.02 if c["qkv_bias"] else None
            bv = torch.randn(kvd) * 0.02 if c["qkv_bias"] else None
            blk = dict(q=LoRA(mat(qd, C), bq), v=LoRA(mat(kvd, C), bv), k=mat(kvd, C),
                       bk=torch.randn(kvd) * 0.02 if c["qkv_bias"] else None,
                       o=mat(C, qd), gate=mat(c["ff"], C), up=mat(c["ff"], C), down=mat(C, c["ff"]),
                       n1=torch.ones(C), n2=torch.ones(C), pa=torch.ones(C), pf=torch.ones(C),
                       qn=torch.ones(c["hd"]), kn=torch.ones(c["hd"]))
            mods += [blk["q"], blk["v"]]
            self.blocks.append(blk)
        self.mods = torch.nn.ModuleList(mods)
        self.nf = torch.ones(C)

    def forward(self, ids, targets):
        c = self.c
        H, KV, hd = c["heads"], c["kv"], c["hd"]
        x = self.wte[ids]
        if c["gemma"]:
            x = x * math.sqrt(c["embd"])
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        for il, blk in enumerate(self.blocks):
            swa = c["gemma"] and il % c["pattern"] < c["pattern"] - 1
            h = rms(x, blk["n1"])
            q = blk["q"](h).view(B, T, H, hd).transpose(1, 2)
            k = F.linear(h, blk["k"], blk["bk"]).view(B, T, KV, hd).transpose(1, 2)
            v = blk["v"](h).view(B, T, KV, hd).transpose(1, 2)
            if c["gemma"]:
                q, k = rms(q, blk["qn"]), rms(k, blk["kn"])
            base = c["base_swa"] if swa else c["base"]
            q, k = rope(q, base), rope(k, base)
            k, v = k.repeat_interleave(H // KV, 1), v.repeat_interleave(H // KV, 1)
            s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
            mask = causal
            if swa:
                mask = mask & ~torch.ones(T, T, dtype=torch.bool).tril(-c["window"])
            s = s.masked_fill(~mask, float("-inf"))
            a = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, H * hd)
            a = F.linear(a, blk["o"])
            if c["gemma"]:
                a = rms(a, blk["pa"])
            x = x + a
            h = rms(x, blk["n2"])
            g, u = F.linear(h, blk["gate"]), F.linear(h, blk["up"])
            act = F.gelu(g, approximate="tanh") if c["gemma"] else F.silu(g)
            f = F.linear(act * u, blk["down"])
            if c["gemma"]:
                f = rms(f, blk["pf"])
            x = x + f
        logits = F.linear(rms(x, self.nf), self.wte)
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


for name, c in SHAPES.items():
    m = Model(c)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
    ids = torch.randint(0, c["vocab"], (B, T))
    tg = torch.randint(0, c["vocab"], (B, T))
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    times, cpus = [], []
    for i in range(steps + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad()
        m(ids, tg).backward()
        opt.step()
        if i >= 1:
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
    print(f"{name}: {B * T / statistics.median(times):.1f} tokens/s, {statistics.median(cpus):.2f} cpu-s/step"
          f" ({torch.get_num_threads()} threads)", flush=True)
    del m, opt
