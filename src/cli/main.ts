// The `tumorscope` command line: each subcommand lives in its own file under commands/.
import { Command } from 'commander';
import { registerDemo } from './commands/demo.ts';

const program = new Command()
  .name('tumorscope')
  .description('Find and outline brain tumours in MRI slices (research tool, not a medical device).')
  .version('0.1.0');

registerDemo(program);

await program.parseAsync(process.argv);
