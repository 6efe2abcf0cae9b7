// `tumorscope export`: writes a trained model as a standalone ONNX file (weights inside, batch-norm folded,
// softmax/sigmoid included) whose metadata carries the preprocessing, threshold(s) and post-processing, so that
// onnxruntime (Node, the browser) or any ONNX runtime can run it without tumorscope.
import { statSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { writeFileAtomic } from '../../engine/index.ts';
import { exportModelToOnnx, INPUT_NAME, OPSET, readOnnxMetadata } from '../../export/index.ts';
import { loadModel } from '../../pipeline/load-model.ts';

interface ExportValues {
  model: string;
  format: 'onnx';
  out: string;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a trained model as an ONNX file (for onnxruntime in Node or the browser)')
    .requiredOption('--model <base>', 'model base path, e.g. models/classifier (its .json and .safetensors)')
    .addOption(new Option('--format <format>', 'output format').choices(['onnx']).default('onnx'))
    .requiredOption('--out <file>', 'where to write it, e.g. classifier.onnx')
    .action((o: ExportValues) => {
      const loaded = loadModel(o.model);
      const file = exportModelToOnnx(loaded);
      writeFileAtomic(o.out, file);
      const meta = readOnnxMetadata(file);
      const { width, height } = loaded.preprocess;
      console.log(
        `${o.out}: ${loaded.kind} (${meta['architecture']}), ONNX opset ${OPSET}, ` +
          `${(statSync(o.out).size / 2 ** 20).toFixed(1)} MiB`,
      );
      console.log(
        `  input  ${INPUT_NAME} [batch, 3, ${height}, ${width}] float32, preprocessed as metadata 'tumorscope.preprocess'`,
      );
      console.log(
        `  output ${meta['output']}; threshold ${meta['threshold']} (metadata 'tumorscope.threshold')`,
      );
    });
}
