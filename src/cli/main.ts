// The `softdiff` command line: train, sample, eval, schedule, bench, info, classifier. Usage errors (unknown option,
// a value outside the accepted choices or ranges) print what is accepted and give exit code 2; engine
// errors print their message and hint and give exit code 1.
import { Command, CommanderError } from 'commander';
import { createNodeGpu, releaseNodeGpu } from '../node/device.ts';
import { EngineError } from '../gpu/errors.ts';
import { describeFsError } from '../node/files.ts';
import { processIo, type CliIo } from './args.ts';
import { trainCommand } from './train.ts';
import { sampleCommand } from './sample.ts';
import { scheduleCommand } from './schedule.ts';
import { benchCommand } from './bench.ts';
import { classifierCommand } from './classifier.ts';
import { evalCommand } from './eval.ts';

function infoCommand(io: CliIo): Command {
  return new Command('info').description('print the WebGPU adapter, its features and limits as JSON').action(async () => {
    const gpu = await createNodeGpu();
    const limits: Record<string, number> = {};
    for (const k in gpu.limits) limits[k] = (gpu.limits as unknown as Record<string, number>)[k]!;
    io.out(`${JSON.stringify({ adapter: gpu.adapter, features: gpu.features, limits }, null, 2)}\n`);
    gpu.destroy();
    releaseNodeGpu();
  });
}

/** Runs the CLI; resolves to the exit code (also stored in process.exitCode unless `io` is given). */
export async function main(argv: string[], io?: CliIo): Promise<number> {
  const out: CliIo = { ...(io ?? processIo), argv };
  const program = new Command('softdiff')
    .description('Soft Diffusion on WebGPU: train and sample diffusion models on the GPU.')
    .exitOverride()
    .showHelpAfterError('(add --help for the accepted options)')
    .configureOutput({ writeOut: out.out, writeErr: out.err });
  for (const cmd of [trainCommand(out), sampleCommand(out), evalCommand(out), scheduleCommand(out), benchCommand(), infoCommand(out), classifierCommand(out)]) {
    cmd.exitOverride().showHelpAfterError('(add --help for the accepted options)').configureOutput({ writeOut: out.out, writeErr: out.err });
    program.addCommand(cmd);
  }
  let code = 0;
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) code = e.exitCode === 0 ? 0 : 2;
    else if (e instanceof EngineError) {
      out.err(`softdiff: ${e.message}\n`);
      code = (e as EngineError & { exitCode?: number }).exitCode ?? 1;
    } else if (typeof (e as NodeJS.ErrnoException)?.code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string') {
      // A file-system error that no command turned into its own message: still say it in words.
      const fsErr = e as NodeJS.ErrnoException;
      out.err(`softdiff: ${describeFsError(fsErr, fsErr.path ?? '(a file)')}.\n`);
      code = 1;
    } else if (e instanceof RangeError && /allocation failed|Invalid (typed )?array length/i.test(e.message)) {
      out.err(`softdiff: out of memory (${e.message}).\n  -> Lower --batch, --size, --sample-count or the model width, or free memory.\n`);
      code = 1;
    } else throw e;
  }
  if (!io) process.exitCode = code;
  return code;
}
