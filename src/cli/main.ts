// The `tumorscope` command line: each subcommand lives in its own file under commands/.
import { Command } from 'commander';
import { registerCv } from './commands/cv.ts';
import { registerDataInspect } from './commands/data-inspect.ts';
import { registerDemo } from './commands/demo.ts';
import { registerEvaluate } from './commands/evaluate.ts';
import { registerExport } from './commands/export.ts';
import { registerPredict } from './commands/predict.ts';
import { registerServe } from './commands/serve.ts';
import { registerTrain } from './commands/train.ts';
import { errorMessage } from './error-message.ts';

const program = new Command()
  .name('tumorscope')
  .description('Find and outline brain tumours in MRI slices (research tool, not a medical device).')
  .version('0.1.0');

// The command that runs, so that an error can name its flags.
let running: Command | undefined;
program.hook('preAction', (_program, command) => {
  running = command;
});

registerDemo(program);
registerDataInspect(program);
registerTrain(program);
registerCv(program);
registerEvaluate(program);
registerExport(program);
registerServe(program);
registerPredict(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Expected failures (bad input, missing files) read best as one line; TUMORSCOPE_DEBUG=1 shows the stack.
  console.error(
    `tumorscope: ${process.env['TUMORSCOPE_DEBUG'] ? (err as Error).stack : errorMessage(err, running)}`,
  );
  process.exitCode = 1;
}
