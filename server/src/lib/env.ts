// loadEnv(): a program's encrypted config into process.env at start-up, as dotenv's config() does with a
// plain .env. The files are read, authenticated, checked and parsed exactly as `noteseal exec` does
// (cli/exec-command.ts): dotenv, flat JSON or flat YAML by the name inside the .enc; a file that no trusted
// writer signed is refused, and so is a variable that changes how programs load code (LD_PRELOAD,
// NODE_OPTIONS, PATH…: loaderVariables.ts) unless named in allowEnv. Nothing is set unless every file loads.
import { variablesOf } from '../cli/exec-command';
import { contextFor, type KeyOptions } from './keys';
import { mapped, NoteSealError } from './errors';

export interface LoadEnvOptions extends KeyOptions {
  /** Replace variables that are already set (default false: the environment wins, as with dotenv). */
  override?: boolean;
  /** Loader variables the files may set, by name (as `noteseal exec --allow-env NAME`). */
  allowEnv?: string[];
  /** Load a file no trusted writer signed (as `--allow-unverified-writer`); a warning is still given. */
  allowUnverifiedWriter?: boolean;
  /** Where the variables go (default: process.env). */
  processEnv?: Record<string, string | undefined>;
}

/** Loads `paths` (default `.env.enc`; later files win over earlier ones) and returns what they hold. */
export async function loadEnv(paths: string | string[] = '.env.enc', options: LoadEnvOptions = {}): Promise<{ parsed: Record<string, string> }> {
  const files = typeof paths === 'string' ? [paths] : paths;
  const ctx = contextFor(options);
  if (options.allowUnverifiedWriter) ctx.args.options.set('allow-unverified-writer', true);
  ctx.args.repeated = new Map([['allow-env', options.allowEnv ?? []]]);
  const vars = await mapped(() => variablesOf(ctx, files, { prompt: false })).catch(e => { throw inLibraryTerms(e); });
  const target = options.processEnv ?? process.env;
  const parsed: Record<string, string> = {};
  for (const [name, value] of vars) {
    parsed[name] = value;
    if (options.override || target[name] === undefined) target[name] = value;
  }
  return { parsed };
}

/** exec's refusals name its command-line options; a program passes options instead. Same class, same code. */
function inLibraryTerms(e: unknown): unknown {
  if (!(e instanceof NoteSealError)) return e;
  e.message = e.message
    .replace(/^exec: /, 'loadEnv: ')
    .replace('Nothing was run.', 'Nothing was loaded.')
    .replace(', nothing was run.', ', nothing was loaded.')
    .replace('pass --allow-unverified-writer', 'pass { allowUnverifiedWriter: true }')
    .replace(/name it: noteseal exec --allow-env (\S+) …/, "name it: { allowEnv: ['$1'] }");
  return e;
}
