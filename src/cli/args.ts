/**
 * Command-line parsing on top of node:util's parseArgs: typed flags, numbers checked where they are read, and one
 * error type whose message is the one line the user sees (`gpugrad: <reason> (see gpugrad <command> --help)`).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how the command was called: printed as one line, exit status 2. */
export class UsageError extends Error {
  constructor(message: string, readonly command = '') { super(message); }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` against `options`; unknown flags, missing values and stray positionals become UsageErrors. */
export function parse(command: string, argv: string[], options: Options, maxPositionals = Infinity) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    // parseArgs' messages are long and mention `args`; keep the flag and the gist.
    const msg = (e as Error).message.split('\n')[0]
      .replace(/\. To specify a positional argument.*$/s, '')
      .replace(/^Unknown option/, 'unknown flag')
      .replace(/^Option '(--[\w-]+) <value>' argument missing/, '$1 needs a value')
      .replace(/^Option '(--[\w-]+)' argument is ambiguous\./, "$1 needs a value (for one starting with '-', write $1=VALUE)");
    throw new UsageError(msg, command);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument '${parsed.positionals[maxPositionals]}'`, command);
  }
  return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
}

/** A flag's value as a number, or undefined when absent; `kind` checks integers and positivity. */
export function numberFlag(values: Record<string, unknown>, name: string, kind: 'int' | 'positive-int' | 'positive' | 'any', command: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  const bad = (what: string) => new UsageError(`--${name} must be ${what}, got '${String(raw)}'`, command);
  if (String(raw).trim() === '' || !Number.isFinite(v)) throw bad('a number');
  if ((kind === 'int' || kind === 'positive-int') && !Number.isInteger(v)) throw bad('an integer');
  if ((kind === 'positive-int' || kind === 'positive') && v <= 0) throw bad('positive');
  if (kind === 'int' && v < 0) throw bad('a non-negative integer');
  return v;
}

/** A flag that must be one of a few words. */
export function choiceFlag<T extends string>(values: Record<string, unknown>, name: string, choices: readonly T[], command: string): T | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (!choices.includes(raw as T)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${String(raw)}'`, command);
  return raw as T;
}
