import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Adam,
  AdamW,
  CosineAnnealingLR,
  Linear,
  manualSeed,
  ReduceLROnPlateau,
  SGD,
  StepLR,
  type Tensor,
  tensor,
  WarmupLR,
} from '../../src/engine/index.ts';

/** A parameter p with loss sum(g ⊙ p), so its gradient is exactly g. */
function withGradient(p: Tensor, g: number[]): void {
  p.mul(tensor(g)).sum().backward();
}

describe('optimisers follow torch.optim', () => {
  it('Adam: two steps by hand', () => {
    const p = tensor([1, -2]).requiresGrad_(true);
    const opt = new Adam([p], { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8 });
    const expected = [1, -2];
    let m = [0, 0];
    let v = [0, 0];
    const grads = [
      [0.5, -1],
      [0.2, 0.3],
    ];
    grads.forEach((g, k) => {
      opt.zeroGrad();
      withGradient(p, g);
      opt.step();
      const t = k + 1;
      m = m.map((mi, i) => 0.9 * mi + 0.1 * g[i]!);
      v = v.map((vi, i) => 0.999 * vi + 0.001 * g[i]! ** 2);
      for (let i = 0; i < 2; i++) {
        const denom = Math.sqrt(v[i]!) / Math.sqrt(1 - 0.999 ** t) + 1e-8;
        expected[i] = expected[i]! - (0.1 / (1 - 0.9 ** t)) * (m[i]! / denom);
      }
    });
    const got = p.toFloat32();
    for (let i = 0; i < 2; i++)
      assert.ok(Math.abs(got[i]! - expected[i]!) < 1e-6, `${got[i]} vs ${expected[i]}`);
  });

  it('Adam adds L2 decay to the gradient; AdamW decays the weight itself', () => {
    const a = tensor([2]).requiresGrad_(true);
    const adam = new Adam([a], { lr: 0.1, weightDecay: 0.5 });
    withGradient(a, [0]);
    adam.step(); // gradient becomes 0.5·2 = 1 → first Adam step is lr·sign = 0.1
    assert.ok(Math.abs(a.item() - 1.9) < 1e-6);
    const w = tensor([2]).requiresGrad_(true);
    const adamw = new AdamW([w], { lr: 0.1, weightDecay: 0.5 });
    withGradient(w, [1]);
    adamw.step(); // 2·(1 − 0.05) − 0.1
    assert.ok(Math.abs(w.item() - 1.8) < 1e-6);
  });

  it('SGD with momentum and Nesterov', () => {
    const p = tensor([1]).requiresGrad_(true);
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    for (const g of [1, 1]) {
      opt.zeroGrad();
      withGradient(p, [g]);
      opt.step();
    }
    // buffer 1 then 1.9: p = 1 − 0.1 − 0.19
    assert.ok(Math.abs(p.item() - 0.71) < 1e-6);
    const q = tensor([1]).requiresGrad_(true);
    const nesterov = new SGD([q], { lr: 0.1, momentum: 0.9, nesterov: true });
    withGradient(q, [1]);
    nesterov.step(); // d = g + 0.9·buf = 1.9
    assert.ok(Math.abs(q.item() - 0.81) < 1e-6);
  });

  it('parameter groups keep their own learning rates', () => {
    const a = tensor([1]).requiresGrad_(true);
    const b = tensor([1]).requiresGrad_(true);
    const opt = new SGD([{ params: [a], lr: 0.1 }, { params: [b] }], { lr: 1 });
    withGradient(a, [1]);
    withGradient(b, [1]);
    opt.step();
    assert.ok(Math.abs(a.item() - 0.9) < 1e-6 && Math.abs(b.item() - 0) < 1e-6);
    assert.throws(() => new SGD([{ params: [a] }, { params: [a] }], { lr: 1 }), /more than one group/);
  });

  it('a resumed optimiser continues exactly like an uninterrupted one', () => {
    const run = (split: boolean) => {
      manualSeed(3);
      const model = new Linear(3, 1);
      let opt = new Adam(model.parameters(), { lr: 0.05 });
      const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      for (let step = 0; step < 6; step++) {
        if (split && step === 3) {
          const saved = opt.stateDict();
          const copy = {
            json: JSON.parse(JSON.stringify(saved.json)),
            tensors: new Map([...saved.tensors].map(([k, t]) => [k, t.clone()])),
          };
          opt = new Adam(model.parameters(), { lr: 0.05 });
          opt.loadStateDict(copy);
        }
        opt.zeroGrad();
        model.forward(x).square().mean().backward();
        opt.step();
      }
      return model.weight.toFloat32();
    };
    assert.deepEqual(run(true), run(false));
  });

  it('a frozen group needs no gradient and stays put; thawed, Adam starts its bias correction afresh', () => {
    const backbone = tensor([1, -2]).requiresGrad_(true);
    const head = tensor([3]).requiresGrad_(true);
    const opt = new Adam([{ params: [backbone] }, { params: [head] }], { lr: 0.1 });
    opt.setFrozen(0, true);
    assert.equal(backbone.requiresGrad, false);
    for (let k = 0; k < 3; k++) {
      opt.zeroGrad();
      backbone
        .mul(tensor([0.5, -1]))
        .sum()
        .add(head.mul(tensor([2])).sum())
        .backward();
      opt.step();
    }
    assert.deepEqual([...backbone.toFloat32()], [1, -2]);
    assert.notEqual(head.toFloat32()[0], 3);
    assert.deepEqual(opt.stateDict().json.groupSteps, [0, 3]);
    opt.setFrozen(0, false);
    opt.zeroGrad();
    withGradient(backbone, [0.5, -1]);
    opt.step();
    // Adam's first step for a group moves each weight by lr against the sign of its gradient (m̂/√v̂ = g/|g|);
    // counting the three frozen steps would have made it 0.1 · (1 − 0.9) / (1 − 0.9⁴) / √((1 − 0.999) / (1 − 0.999⁴)).
    const moved = backbone.toFloat32();
    assert.ok(Math.abs(moved[0]! - 0.9) < 1e-6, `${moved[0]}`);
    assert.ok(Math.abs(moved[1]! - -1.9) < 1e-6, `${moved[1]}`);
    assert.throws(() => opt.setFrozen(2, true), /no parameter group 2/);
  });
});

describe('learning-rate schedules', () => {
  const optimizer = () => new SGD([tensor([0]).requiresGrad_(true)], { lr: 1 });

  it('StepLR, cosine annealing and warm-up', () => {
    const a = optimizer();
    const step = new StepLR(a, 2, 0.5);
    const lrs = [1, 2, 3, 4].map(() => {
      step.step();
      return a.lr;
    });
    assert.deepEqual(lrs, [1, 0.5, 0.5, 0.25]);
    const b = optimizer();
    const cos = new CosineAnnealingLR(b, 4, 0.1);
    cos.step();
    cos.step();
    assert.ok(Math.abs(b.lr - 0.55) < 1e-12, `halfway: ${b.lr}`);
    cos.step();
    cos.step();
    assert.ok(Math.abs(b.lr - 0.1) < 1e-12);
    const c = optimizer();
    const warm = new WarmupLR(c, 2, 0.2);
    assert.ok(Math.abs(c.lr - 0.2) < 1e-12);
    warm.step();
    assert.ok(Math.abs(c.lr - 0.6) < 1e-12);
    warm.step();
    assert.equal(c.lr, 1);
  });

  it('ReduceLROnPlateau cuts after patience epochs without improvement, and resumes', () => {
    const o = optimizer();
    const s = new ReduceLROnPlateau(o, { mode: 'max', factor: 0.5, patience: 1 });
    for (const auc of [0.7, 0.8, 0.8]) s.step(auc);
    assert.equal(o.lr, 1);
    s.step(0.79);
    assert.equal(o.lr, 0.5);
    const restored = new ReduceLROnPlateau(optimizer(), { mode: 'max' });
    restored.loadStateDict(JSON.parse(JSON.stringify(s.stateDict())));
    assert.equal(restored.best, 0.8);
    assert.throws(() => s.step(), /monitored value/);
  });
});
