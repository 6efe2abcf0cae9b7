// Test-time augmentation by flips: the segmenter sees each batch as is, flipped left–right, flipped up–down and
// both; each output is flipped back onto the original pixel grid before the probabilities are averaged.
import { F, type Module, noGrad, type Tensor, tidy } from '../engine/index.ts';
import type { TtaMode } from './config.ts';

/** Flipped dims of an [N, C, H, W] batch: identity, horizontal (W), vertical (H), both. Each is its own inverse. */
const FLIPS: readonly (readonly number[])[] = [[], [3], [2], [2, 3]];

/**
 * Mean of sigmoid(model(x)) over the four flips, each flipped back: [N, 3, H, W] images → [N, 1, H, W]
 * probabilities. The model must return logits with the input's H and W. Puts the model in eval mode (as the
 * other inference functions do) and records no gradients; frees every intermediate.
 */
export function predictWithFlipTTA(model: Module, images: Tensor): Tensor {
  return predictMeanOverFlips(model, images, FLIPS);
}

/** Probabilities [N, 1, H, W] of a segmenter returning logits, with the given test-time augmentation. */
export function predictProbabilities(model: Module, images: Tensor, tta: TtaMode): Tensor {
  return predictMeanOverFlips(model, images, tta === 'flips' ? FLIPS : [[]]);
}

function predictMeanOverFlips(model: Module, images: Tensor, flips: readonly (readonly number[])[]): Tensor {
  if (images.ndim !== 4)
    throw new RangeError(`expected images [N, C, H, W], got [${images.shape.join(', ')}]`);
  const [n, , h, w] = images.shape as [number, number, number, number];
  model.eval();
  return noGrad(() =>
    tidy(() => {
      let sum: Tensor | null = null;
      for (const dims of flips) {
        const probs = tidy(() => {
          const input = dims.length > 0 ? images.flip(...dims) : images;
          const logits = model.forward(input);
          const [ln, lc, lh, lw] = logits.shape;
          if (logits.ndim !== 4 || ln !== n || lc !== 1 || lh !== h || lw !== w) {
            throw new RangeError(
              `segmenter output [${logits.shape.join(', ')}] is not [${n}, 1, ${h}, ${w}]: flips cannot be undone`,
            );
          }
          const p = F.sigmoid(logits);
          return dims.length > 0 ? p.flip(...dims) : p;
        });
        // Accumulate and free at once, so a batch holds two probability maps at a time, not one per flip.
        const next: Tensor = sum === null ? probs : sum.add(probs);
        if (sum !== null) {
          sum.dispose();
          probs.dispose();
        }
        sum = next;
      }
      return flips.length > 1 ? sum!.div(flips.length) : sum!;
    }),
  );
}
