// The rows of the post-processing table: the raw output first, then one saved step switched on per row, in the
// order the pipeline applies them, ending at the saved config.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postprocessChain } from '../../src/pipeline/postprocess-steps.ts';
import { NO_POSTPROCESS } from '../../src/postprocess/config.ts';

test('every step of the saved config gets its own row, in pipeline order', () => {
  const saved = { threshold: 0.4, minComponentArea: 64, largest3DComponent: true, tta: 'flips' as const };
  const chain = postprocessChain(saved);
  assert.deepEqual(
    chain.map((c) => c.config),
    [
      NO_POSTPROCESS,
      { ...NO_POSTPROCESS, threshold: 0.4 },
      { ...NO_POSTPROCESS, threshold: 0.4, minComponentArea: 64 },
      { ...NO_POSTPROCESS, threshold: 0.4, minComponentArea: 64, largest3DComponent: true },
      saved,
    ],
  );
  assert.match(chain[2]!.step, /64/);
});

test('steps that are off get no row; the raw output alone when nothing is on', () => {
  assert.deepEqual(
    postprocessChain({ ...NO_POSTPROCESS, largest3DComponent: true }).map((c) => c.config),
    [NO_POSTPROCESS, { ...NO_POSTPROCESS, largest3DComponent: true }],
  );
  assert.deepEqual(
    postprocessChain(NO_POSTPROCESS).map((c) => c.config),
    [NO_POSTPROCESS],
  );
});
