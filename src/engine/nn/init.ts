// Weight initialisers with PyTorch's formulas (torch.nn.init), drawing from libtorch's seeded generator.
import { noGrad } from '../autograd.ts';
import type { Tensor } from '../tensor.ts';

export type Nonlinearity = 'linear' | 'relu' | 'leaky_relu' | 'sigmoid' | 'tanh';
export type FanMode = 'fanIn' | 'fanOut';

export function calculateGain(nonlinearity: Nonlinearity, param = 0.01): number {
  switch (nonlinearity) {
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu':
      return Math.sqrt(2 / (1 + param * param));
    case 'tanh':
      return 5 / 3;
    default:
      return 1;
  }
}

/** Fan-in and fan-out as PyTorch computes them: dim 1 and dim 0 times the receptive field. */
export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) throw new Error('fan in and fan out need a tensor of at least 2 dimensions');
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.size(1) * receptive, fanOut: t.size(0) * receptive };
}

export function kaimingUniform_(
  t: Tensor,
  o: { a?: number; mode?: FanMode; nonlinearity?: Nonlinearity } = {},
): Tensor {
  const fan = fans(t)[o.mode ?? 'fanIn'];
  const gain = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0);
  const bound = Math.sqrt(3) * (gain / Math.sqrt(fan));
  return noGrad(() => t.uniform_(-bound, bound));
}

export function kaimingNormal_(
  t: Tensor,
  o: { a?: number; mode?: FanMode; nonlinearity?: Nonlinearity } = {},
): Tensor {
  const fan = fans(t)[o.mode ?? 'fanIn'];
  const std = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) / Math.sqrt(fan);
  return noGrad(() => t.normal_(0, std));
}

export function uniform_(t: Tensor, low: number, high: number): Tensor {
  return noGrad(() => t.uniform_(low, high));
}

export function constant_(t: Tensor, value: number): Tensor {
  return noGrad(() => t.fill_(value));
}
