// Sealed logs from any program: `noteseal append LOG` seals stdin as it arrives (a chunk at least every
// second), `noteseal cat LOG [--follow]` reads back what is sealed. The log itself: server/src/logs/.
import { decryptVerifiedFirst, readHeaderFromFile } from '../crypto/format';
import { NoteSealError } from '../crypto/errors';
import { LogAppender } from '../logs/appender';
import { readLog } from '../logs/reader';
import { allowOnly, expectOperands, UsageError } from './args';
import { aboutFile, type CliContext } from './context';
import { ExitCode } from './exit-codes';
import { withFileKeys } from './file-keys';
import { membersFor, newFileKeysFor } from './new-file-keys';
import { writeManyToStdout, writeToStdout } from './stdout';
import { isAgeFile, isDotenvxFile } from '../formats';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Runs `fn` with a signal that aborts on SIGINT/SIGTERM/SIGHUP (instead of dying with buffered bytes unsealed). */
async function untilSignal<T>(fn: (signal: AbortSignal, stoppedBy: () => string | undefined) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let by: string | undefined;
  const handlers = STOP_SIGNALS.map(sig => {
    const h = () => { by ??= sig; abort.abort(); };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    return await fn(abort.signal, () => by);
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

/** stdin's bytes as they arrive, until it ends or `signal` aborts. */
async function* stdinUntil(signal: AbortSignal): AsyncGenerator<Buffer> {
  const stdin = process.stdin;
  const stop = () => stdin.destroy();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const piece of stdin as AsyncIterable<Buffer>) {
      yield piece;
      if (signal.aborted) return;
    }
  } catch (e) {
    if (!signal.aborted) throw e; // destroyed by our own stop: the end of the input
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

export async function appendCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args);
  const [file] = expectOperands(ctx.args, 1, 1, 'log file to append to');
  if (file === '-') throw new UsageError('append writes to a log file, not to stdout');
  // The members of the log's folder, checked before any key is asked for.
  const members = await aboutFile(file, () => membersFor(ctx, file));
  return withFileKeys(ctx, async keys => aboutFile(file, async () => {
    const log = await LogAppender.open(file, {
      unwrap: keys.unwrap,
      newKeys: async () => {
        const { dataKey, stanzas, options } = await newFileKeysFor(ctx, keys, file, members);
        return { dataKey, stanzas, ...(options.payloadBound ? { payloadBound: options.payloadBound } : {}) };
      },
    });
    if (log.start.kind === 'recovered') {
      ctx.note(`noteseal: ${file} was not closed (its writer stopped without sealing the end): recovered ${log.start.keptBytes} bytes, dropped ${log.start.droppedBytes} bytes of a torn chunk; appending after it.`);
    }
    return untilSignal(async (signal, stoppedBy) => {
      try {
        for await (const piece of stdinUntil(signal)) await log.write(piece);
      } catch (e) {
        await log.close().catch(() => undefined); // what was read is sealed before the error is reported
        throw e;
      }
      await log.close();
      const by = stoppedBy();
      if (by) ctx.note(`noteseal: ${by}: stopped reading; ${file} is closed and sealed.`);
      return ExitCode.OK;
    });
  }), file);
}

export async function catCommand(ctx: CliContext): Promise<number> {
  allowOnly(ctx.args, 'follow', 'identity');
  const [file] = expectOperands(ctx.args, 1, 1, 'log file to read');
  const follow = ctx.args.options.has('follow');
  if (await isAgeFile(file) || await isDotenvxFile(file)) throw new UsageError(`cat reads NoteSeal files and logs; for ${file} use noteseal decrypt`);
  const header = await aboutFile(file, () => readHeaderFromFile(file));
  return withFileKeys(ctx, keys => aboutFile(file, async () => {
    if (!header.appendMode) {
      if (follow) throw new UsageError(`cat --follow: ${file} is not a log (written by noteseal append) and does not grow`);
      // Not a log: as `decrypt` to stdout, nothing shown unless the whole file authenticates.
      await decryptVerifiedFirst(file, keys.unwrap, batch => writeManyToStdout(ctx.stdout, batch));
      return ExitCode.OK;
    }
    return untilSignal(async signal => {
      const end = await readLog(file, keys.unwrap, plain => writeToStdout(ctx.stdout, plain), { follow, signal });
      if (end === 'unfinished') {
        ctx.note(`noteseal: ${file} was not closed cleanly: its writer stopped without sealing the end (a crash?). Shown is what it had sealed; whatever it had not sealed yet is lost. noteseal recover (or the next noteseal append) seals it as it is.`);
        return ExitCode.DAMAGED_FILE;
      }
      if (end === 'truncated') {
        throw new NoteSealError('TRUNCATED', `${file} ends without its final chunk and no writer left its lock behind as a crash does: it was closed and then cut short (or copied without its lock); the end is missing. Shown above is what authenticates before the cut.`);
      }
      return ExitCode.OK;
    });
  }), file);
}
