// Overlap-based segmentation losses, composed from tensor ops (autograd flows through them).
// Inputs are probabilities and binary targets of the same shape [N, 1, H, W] (or [N, H, W]).
import { tidy } from './scope.ts';
import type { Tensor } from './tensor.ts';

/** Per-sample true-positive, false-positive and false-negative soft counts: each a tensor [N]. */
export function softConfusion(probs: Tensor, target: Tensor): { tp: Tensor; fp: Tensor; fn: Tensor } {
  return tidy(() => {
    const p = probs.flatten(1);
    const t = target.flatten(1);
    const tp = p.mul(t).sum(1);
    const fp = p.mul(t.neg().add(1)).sum(1);
    const fn = p.neg().add(1).mul(t).sum(1);
    return { tp, fp, fn };
  });
}

/** 1 − soft Dice, averaged over the batch; smooth keeps empty masks defined. */
export function softDiceLoss(probs: Tensor, target: Tensor, smooth = 1): Tensor {
  return tidy(() => {
    const { tp, fp, fn } = softConfusion(probs, target);
    const dice = tp.mul(2).add(smooth).div(tp.mul(2).add(fp).add(fn).add(smooth));
    return dice.neg().add(1).mean();
  });
}

/** Tversky index TP / (TP + α·FN + (1−α)·FP) per sample: α > 0.5 weighs misses above false alarms. */
export function tverskyIndex(probs: Tensor, target: Tensor, alpha = 0.7, smooth = 1): Tensor {
  return tidy(() => {
    const { tp, fp, fn } = softConfusion(probs, target);
    return tp.add(smooth).div(
      tp
        .add(fn.mul(alpha))
        .add(fp.mul(1 - alpha))
        .add(smooth),
    );
  });
}

/** Focal Tversky loss (1 − TI)^γ averaged over the batch; γ = 0.75 and α = 0.7 as the reference notebooks. */
export function focalTverskyLoss(
  probs: Tensor,
  target: Tensor,
  alpha = 0.7,
  gamma = 0.75,
  smooth = 1,
): Tensor {
  return tidy(() => tverskyIndex(probs, target, alpha, smooth).neg().add(1).pow(gamma).mean());
}
