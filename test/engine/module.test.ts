import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BatchNorm2d,
  Conv2d,
  Dropout,
  Linear,
  ones,
  ReLU,
  randn,
  Sequential,
  StateDictError,
  tensor,
} from '../../src/engine/index.ts';

const net = () =>
  new Sequential([
    ['conv', new Conv2d(3, 4, 3, { padding: 1 })],
    ['bn', new BatchNorm2d(4)],
    ['relu', new ReLU()],
  ]);

describe('Module', () => {
  it('names parameters and buffers by dotted path, in registration order', () => {
    const m = net();
    assert.deepEqual(
      m.namedParameters().map(([k]) => k),
      ['conv.weight', 'conv.bias', 'bn.weight', 'bn.bias'],
    );
    assert.deepEqual(
      [...m.stateDict().keys()],
      [
        'conv.weight',
        'conv.bias',
        'bn.weight',
        'bn.bias',
        'bn.running_mean',
        'bn.running_var',
        'bn.num_batches_tracked',
      ],
    );
    assert.equal(m.parameterCount(), 4 * 3 * 9 + 4 + 4 + 4);
    assert.ok(m.parameters().every((p) => p.requiresGrad));
  });

  it('loads a state dict by name and round-trips it', () => {
    const a = net();
    const b = net();
    b.loadStateDict(a.stateDict());
    for (const [k, t] of a.stateDict()) assert.deepEqual(b.stateDict().get(k)!.data(), t.data(), k);
  });

  it('reports missing, unexpected and mis-shaped keys together, and copies nothing then', () => {
    const m = net();
    const before = m.stateDict().get('conv.bias')!.data();
    const state = new Map(net().stateDict());
    state.delete('bn.running_var');
    state.set('extra.weight', ones([1]));
    state.set('conv.weight', ones([4, 3, 5, 5]));
    assert.throws(
      () => m.loadStateDict(state),
      (e: unknown) =>
        e instanceof StateDictError &&
        e.missing.includes('bn.running_var') &&
        e.unexpected.includes('extra.weight') &&
        /conv.weight: checkpoint \[4, 3, 5, 5\] vs model \[4, 3, 3, 3\]/.test(e.message),
    );
    assert.deepEqual(m.stateDict().get('conv.bias')!.data(), before);
  });

  it('non-strict loading skips missing and unexpected keys but never shape mismatches', () => {
    const m = net();
    const partial = new Map([['conv.bias', tensor([1, 2, 3, 4])]]);
    const report = m.loadStateDict(partial, { strict: false });
    assert.deepEqual(report.loaded, ['conv.bias']);
    assert.deepEqual([...m.stateDict().get('conv.bias')!.toFloat32()], [1, 2, 3, 4]);
    assert.throws(
      () => m.loadStateDict(new Map([['conv.bias', ones([5])]]), { strict: false }),
      StateDictError,
    );
  });

  it('batch norm: batch statistics and running updates in training, running statistics in eval', () => {
    const bn = new BatchNorm2d(2);
    const x = randn([8, 2, 4, 4]).mul(3).add(5);
    const y = bn.forward(x);
    assert.ok(Math.abs(y.mean().item()) < 1e-5, 'normalised by batch statistics');
    const mean = bn.runningMean!.toFloat32();
    assert.ok(
      mean.every((v) => Math.abs(v - 0.5) < 0.2),
      `running mean moved 10% toward 5: ${mean}`,
    );
    assert.equal(bn.numBatchesTracked!.item(), 1);
    bn.eval();
    const z = bn.forward(x);
    assert.ok(Math.abs(z.mean().item()) > 1, 'eval uses running statistics, not the batch');
    assert.equal(bn.numBatchesTracked!.item(), 1);
  });

  it('train()/eval() reach every descendant; dropout is identity in eval', () => {
    const m = new Sequential(new Linear(4, 4), new Dropout(0.5));
    m.eval();
    assert.ok(m.namedModules().every(([, c]) => !c.training));
    const x = ones([2, 4]);
    assert.deepEqual(m.forward(x).data(), m.forward(x).data());
    m.train();
    assert.ok(m.namedModules().every(([, c]) => c.training));
  });

  it('refuses duplicate member names', () => {
    assert.throws(
      () =>
        new Sequential([
          ['a', new ReLU()],
          ['a', new ReLU()],
        ]),
      /already registered/,
    );
  });
});
