// A small argument parser: `noteseal <command> [options] [operands]`. Options never carry secrets.
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ParsedArgs {
  command: string;
  operands: string[];
  /** Boolean flags (`--force`) map to true; valued options (`-o x`, `--keyfile=x`) map to the value. */
  options: Map<string, string | true>;
  /** How many operands came before a `--` (absent without one): `exec` splits files from the command there. */
  beforeSeparator?: number;
  /** Every value of a repeatable option (`--allow-env A --allow-env B`), in order. */
  repeated?: Map<string, string[]>;
}

/** Options taking a value; everything else known is a boolean flag. Short aliases map to long names. */
const VALUED = new Set(['keyfile', 'output', 'idle-minutes', 'identity', 'name', 'dir', 'my-name', 'allow-env', 'recipient', 'unlock', 'module', 'token', 'engine', 'command', 'model', 'language']);
const FLAGS = new Set(['force', 'detached', 'recovery', 'json', 'help', 'version', 'yes', 'rekey', 'trust', 'allow-unverified-writer', 'age', 'armor', 'rotate', 'pin', 'follow', 'sops', 'secret']);
/** Valued options that may be given more than once (all values kept in `repeated`). */
const REPEATABLE = new Set(['allow-env', 'recipient']);
const ALIASES: Record<string, string> = { o: 'output', f: 'force', h: 'help', y: 'yes', r: 'recipient', a: 'armor' };

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const options = new Map<string, string | true>();
  const repeated = new Map<string, string[]>();
  const positional: string[] = [];
  let separatorAt: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') { separatorAt = positional.length; positional.push(...argv.slice(i + 1)); break; }
    if (arg === '-' || !arg.startsWith('-')) { positional.push(arg); continue; }
    const [rawName, inlineValue] = arg.startsWith('--')
      ? splitOnce(arg.slice(2), '=')
      : [arg.slice(1), undefined];
    const name = ALIASES[rawName] ?? rawName;
    if (VALUED.has(name)) {
      const value = inlineValue ?? argv[++i];
      if (value === undefined || value === '') throw new UsageError(`option --${name} needs a value`);
      options.set(name, value);
      if (REPEATABLE.has(name)) repeated.set(name, [...repeated.get(name) ?? [], value]);
    } else if (FLAGS.has(name)) {
      if (inlineValue !== undefined) throw new UsageError(`option --${name} takes no value`);
      options.set(name, true);
    } else {
      throw new UsageError(`unknown option ${arg}`);
    }
  }
  const [command = 'help', ...operands] = positional;
  // The command name is the first positional; the separator counts operands only.
  const beforeSeparator = separatorAt === undefined ? undefined : Math.max(0, separatorAt - 1);
  return { command, operands, options, ...(beforeSeparator === undefined ? {} : { beforeSeparator }), ...(repeated.size > 0 ? { repeated } : {}) };
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const at = s.indexOf(sep);
  return at < 0 ? [s, undefined] : [s.slice(0, at), s.slice(at + 1)];
}

/** Throws unless exactly `count` operands (or within [min, max]) were given. */
export function expectOperands(args: ParsedArgs, min: number, max = min, what = 'argument'): string[] {
  const n = args.operands.length;
  if (n < min) throw new UsageError(`${args.command}: missing ${what}`);
  if (n > max) throw new UsageError(`${args.command}: unexpected argument ${args.operands[max]}`);
  return args.operands;
}

/** Throws if an option not valid for this command was given (catches typos like `verify -o x`). */
export function allowOnly(args: ParsedArgs, ...allowed: string[]): void {
  for (const name of args.options.keys()) {
    // --unlock NAME / --module PATH choose how to unlock, so every command takes them (unlock slots, issue 28).
    if (!allowed.includes(name) && !['keyfile', 'help', 'unlock', 'module'].includes(name)) {
      throw new UsageError(`${args.command}: option --${name} does not apply here`);
    }
  }
}
