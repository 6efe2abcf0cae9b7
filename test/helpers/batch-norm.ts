// Batch norms away from their identity defaults, so that a test comparing two ways of running a network would
// notice a statistic or affine parameter applied wrongly (or not at all).
import { BatchNorm2d, type Module, noGrad } from '../../src/engine/index.ts';

/** Running statistics and affine parameters of every BatchNorm2d in `net`, drawn at random. */
export function randomiseBatchNorm(net: Module): void {
  noGrad(() => {
    for (const [, m] of net.namedModules()) {
      if (!(m instanceof BatchNorm2d)) continue;
      m.runningMean?.uniform_(-0.3, 0.3);
      m.runningVar?.uniform_(0.5, 2);
      m.weight?.uniform_(0.6, 1.4);
      m.bias?.uniform_(-0.2, 0.2);
    }
  });
}
