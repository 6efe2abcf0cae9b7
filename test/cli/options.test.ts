// Every numeric or structured option of every command is checked while the command line is read: a bad value
// stops the command before any work, with a message naming the option. And a training whose loss stops being a
// number ends the command with an error naming the epoch, not with a "best" model.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { type CvTrainValues, cvFoldRecipes, registerCv } from '../../src/cli/commands/cv.ts';
import { registerDataInspect } from '../../src/cli/commands/data-inspect.ts';
import { registerDemo } from '../../src/cli/commands/demo.ts';
import { registerEvaluate } from '../../src/cli/commands/evaluate.ts';
import { registerPredict } from '../../src/cli/commands/predict.ts';
import { registerServe } from '../../src/cli/commands/serve.ts';
import { registerTrain } from '../../src/cli/commands/train.ts';
import {
  classWeights,
  fraction,
  integer,
  positiveNumber,
  probability,
  sampling,
} from '../../src/cli/options.ts';
import { readModelConfig } from '../../src/engine/index.ts';
import { repoRoot, tempDir } from '../data/fixtures.ts';
import { writeVisibleTumours } from '../helpers/visible-tumours.ts';

const MISSING = '/nonexistent/tumorscope-options-test';

/** The error commander raises for `argv`; fails if the command line is accepted. */
async function refusal(argv: string[]): Promise<string> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  for (const register of [
    registerDemo,
    registerDataInspect,
    registerTrain,
    registerEvaluate,
    registerServe,
    registerPredict,
    registerCv,
  ])
    register(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    return (err as Error).message;
  }
  return assert.fail(`accepted: ${argv.join(' ')}`);
}

const trainCommon = ['--data', MISSING, '--out', MISSING];
// [command line, the option its message must name]; every model and data path is missing, so a value that
// slipped through would fail on the path instead, and the message would not name the option.
const BAD: Array<[string[], string]> = [
  ...['classifier', 'segmenter'].flatMap(
    (stage): Array<[string[], string]> =>
      [
        ['--batch', '0'],
        ['--batch', 'abc'],
        ['--epochs', '0'],
        ['--size', '0'],
        ['--size', 'abc'],
        ['--size', ''],
        ['--lr', '0'],
        ['--lr', 'abc'],
        ['--lr', 'Infinity'],
        ['--seed', '-1'],
        ['--seed', '1.5'],
        ['--threads', '0'],
        ['--patience', '0'],
        ['--fold', 'x'],
        ['--sampling', 'oversample:0'],
        ['--sampling', 'everything'],
      ].map(([option, value]) => [['train', stage, ...trainCommon, option!, value!], option!]),
  ),
  [['train', 'classifier', ...trainCommon, '--head-dropout', 'abc'], '--head-dropout'],
  [['train', 'classifier', ...trainCommon, '--head-dropout', '1'], '--head-dropout'],
  [['train', 'classifier', ...trainCommon, '--head-warmup', '-1'], '--head-warmup'],
  [['train', 'classifier', ...trainCommon, '--class-weights', '1,0'], '--class-weights'],
  [['train', 'classifier', ...trainCommon, '--class-weights', '1,x'], '--class-weights'],
  [['train', 'segmenter', ...trainCommon, '--width', '0'], '--width'],
  [['train', 'segmenter', ...trainCommon, '--width', 'abc'], '--width'],
  [['data', 'inspect', MISSING, '--size', 'abc'], '--size'],
  [['data', 'inspect', MISSING, '--size', '0'], '--size'],
  [['data', 'inspect', MISSING, '--grid-slices', '0'], '--grid-slices'],
  [['data', 'inspect', MISSING, '--columns', '0'], '--columns'],
  [['data', 'inspect', MISSING, '--seed', 'x'], '--seed'],
  [['demo', '--data', MISSING, '--steps', '0'], '--steps'],
  [['demo', '--data', MISSING, '--size', '12'], '--size'],
  [['demo', '--data', MISSING, '--size', 'abc'], '--size'],
  [['demo', '--data', MISSING, '--threads', '0'], '--threads'],
  [['demo', '--data', MISSING, '--seed', 'x'], '--seed'],
  [['evaluate', '--data', MISSING, '--out', MISSING, '--batch', '0'], '--batch'],
  [['evaluate', '--data', MISSING, '--out', MISSING, '--threads', '0'], '--threads'],
  [['evaluate', '--data', MISSING, '--out', MISSING, '--gallery', '-1'], '--gallery'],
  [['evaluate', '--data', MISSING, '--out', MISSING, '--fold', 'x'], '--fold'],
  [['predict', MISSING, '--out', MISSING, '--batch', '0'], '--batch'],
  [['predict', MISSING, '--out', MISSING, '--threads', 'two'], '--threads'],
  [['serve', '--classifier', MISSING, '--port', '70000'], '--port'],
  [['serve', '--classifier', MISSING, '--batch', '0'], '--batch'],
  [['serve', '--classifier', MISSING, '--queue', '-1'], '--queue'],
  [['serve', '--classifier', MISSING, '--max-upload-mb', '0'], '--max-upload-mb'],
  [['serve', '--classifier', MISSING, '--workers', '0'], '--workers'],
  [['serve', '--classifier', MISSING, '--concurrent', '0'], '--concurrent'],
];

describe('command-line options', () => {
  it('refuses an engine other than auto, torch or onnx on predict, evaluate and serve', async () => {
    for (const argv of [
      ['predict', MISSING, '--out', MISSING],
      ['evaluate', '--data', MISSING, '--out', MISSING],
      ['serve', '--classifier', MISSING],
    ]) {
      const message = await refusal([...argv, '--backend', 'fast']);
      assert.match(
        message,
        /option '--backend <engine>' argument 'fast' is invalid\. Allowed choices are auto, torch, onnx, torch-bf16/,
      );
    }
  });

  it('refuses every bad value while parsing, naming the option', async () => {
    for (const [argv, option] of BAD) {
      const message = await refusal(argv);
      const named = new RegExp(`option '${option} <[^>]+>' argument .* is invalid\\. ${option} must `);
      assert.match(message, named, argv.join(' '));
    }
  });

  it('--layout takes channels-last or nchw only', async () => {
    for (const stage of ['classifier', 'segmenter']) {
      const message = await refusal(['train', stage, ...trainCommon, '--layout', 'nhwc']);
      assert.match(
        message,
        /option '--layout <name>' argument 'nhwc' is invalid\. Allowed choices are channels-last, nchw/,
      );
    }
  });

  it('--precision takes fp32 or bf16 only, in train and cv train', async () => {
    for (const args of [
      ['train', 'segmenter', ...trainCommon],
      ['cv', 'train', '--data', 'd', '--out', 'o'],
    ]) {
      const message = await refusal([...args, '--precision', 'fp16']);
      assert.match(
        message,
        /option '--precision <name>' argument 'fp16' is invalid\. Allowed choices are fp32, bf16/,
      );
    }
  });

  it('--segmenter-loss takes a segmentation loss only, and reaches the fold recipe of cv train', async () => {
    const message = await refusal(['cv', 'train', '--data', 'd', '--out', 'o', '--segmenter-loss', 'bce']);
    assert.match(
      message,
      /option '--segmenter-loss <name>' argument 'bce' is invalid\. Allowed choices are focal-tversky, dice, bce-dice/,
    );
    const parsed = async (extra: string[]) => {
      const program = new Command().exitOverride();
      registerCv(program);
      let values: CvTrainValues | undefined;
      const cvTrain = program.commands
        .find((c) => c.name() === 'cv')
        ?.commands.find((c) => c.name() === 'train');
      cvTrain?.action((o: CvTrainValues) => {
        values = o;
      });
      await program.parseAsync(['cv', 'train', '--data', 'd', '--out', 'o', ...extra], { from: 'user' });
      assert.ok(values, 'cv train ran');
      return cvFoldRecipes(values);
    };
    const standard = await parsed([]);
    assert.equal(standard.segmenter.loss, 'bce-dice');
    const changed = await parsed([
      '--segmenter-loss',
      'focal-tversky',
      '--segmenter-epochs',
      '30',
      '--precision',
      'bf16',
    ]);
    assert.equal(changed.segmenter.loss, 'focal-tversky');
    assert.equal(changed.segmenter.epochs, 30);
    assert.equal(changed.segmenter.patience, 30);
    assert.equal(changed.segmenter.precision, 'bf16');
    assert.equal(changed.classifier.precision, 'bf16');
    assert.deepEqual(changed.classifier.augment, standard.classifier.augment);
    assert.equal(standard.segmenter.architecture, 'resunet');
    assert.equal(standard.segmenter.seed, 0);
    const reseeded = await parsed([
      '--seed',
      '3',
      '--training-seed',
      '7',
      '--segmenter-arch',
      'unet',
      '--segmenter-width',
      '0.5',
    ]);
    assert.equal(reseeded.segmenter.architecture, 'unet');
    assert.equal(reseeded.segmenter.width, 0.5);
    assert.equal(standard.segmenter.width, 1);
    assert.equal(reseeded.segmenter.seed, 7);
    assert.equal(reseeded.classifier.seed, 7);
    assert.equal((await parsed(['--seed', '3'])).segmenter.seed, 3, 'the training seed follows --seed');
  });

  it('parses good values to what the commands use', () => {
    assert.equal(integer('--batch', { min: 1 })('16'), 16);
    assert.equal(integer('--port', { max: 65535 })('0'), 0);
    assert.equal(integer('--size', { min: 8, multipleOf: 8 })('64'), 64);
    assert.equal(positiveNumber('--lr')('1e-3'), 0.001);
    assert.equal(probability('--head-dropout')('0'), 0);
    assert.equal(probability('--head-dropout')('0.5'), 0.5);
    assert.equal(fraction('--val-fraction')('0.15'), 0.15);
    assert.deepEqual(sampling('--sampling')('oversample:2.5'), { kind: 'tumour-oversampling', factor: 2.5 });
    assert.deepEqual(sampling('--sampling')('tumour-only'), { kind: 'tumour-only' });
    assert.deepEqual(classWeights('--class-weights')('1,3'), [1, 3]);
    assert.equal(classWeights('--class-weights')('balanced'), 'balanced');
    assert.throws(() => integer('--size', { min: 8, multipleOf: 8, why: 'halved 3 times' })('12'), {
      message: '--size must be a multiple of 8 (halved 3 times)',
    });
    assert.throws(() => fraction('--val-fraction')('1'), {
      message: '--val-fraction must lie between 0 and 1',
    });
  });

  it('train stops with a non-zero exit naming the epoch when the training loss is not finite', (t) => {
    const data = writeVisibleTumours(tempDir(t));
    const out = join(tempDir(t), 'run');
    const args = ['train', 'segmenter', '--data', data, '--out', out, '--threads', '1', '--size', '32'];
    const tiny = ['--width', '0.25', '--batch', '8', '--epochs', '2', '--sampling', 'tumour-only'];
    let diverged = 0;
    try {
      execFileSync(
        process.execPath,
        [join(repoRoot, 'bin', 'tumorscope.js'), ...args, ...tiny, '--lr', '1e9'],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      assert.fail('a diverged training exited 0');
    } catch (err) {
      const { status, stderr } = err as { status: number; stderr: string };
      assert.equal(status, 1, stderr);
      const named =
        /^tumorscope: training diverged in epoch (\d+), batch \d+ of \d+: train_loss is (NaN|-?Infinity)/.exec(
          stderr,
        );
      assert.ok(named, stderr);
      diverged = Number(named[1]);
    }
    // Which epoch's loss first overflows depends on the kernels' rounding; nothing of that epoch is kept.
    const best = join(out, 'best');
    if (diverged === 1) assert.ok(!existsSync(`${best}.safetensors`), 'no "best" model from a diverged run');
    else assert.ok(readModelConfig<{ bestEpoch: number }>(best).bestEpoch < diverged);
  });

  it('each train command’s help suggests a run folder of its own stage', () => {
    const program = new Command();
    registerTrain(program);
    const train = program.commands.find((c) => c.name() === 'train')!;
    for (const stage of ['classifier', 'segmenter']) {
      const help = train.commands.find((c) => c.name() === stage)!.helpInformation();
      assert.match(help, new RegExp(`runs/${stage}-256`), stage);
    }
  });
});
