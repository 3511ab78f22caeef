// A small, strict command-line parser: known flags only, values where a
// flag takes one, everything else positional. Mistakes are usage errors (exit 2).

import { PimError } from '../errors.js';

export interface FlagSpec {
  short?: string;
  /** The flag takes a value (`-c FILE`); otherwise it is a switch. */
  value?: boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

export function parseArgs(argv: readonly string[], specs: FlagSpecs, usage: string): ParsedArgs {
  const byShort = new Map(Object.entries(specs).flatMap(([long, s]) => (s.short ? [[s.short, long] as const] : [])));
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const fail = (message: string): never => {
    throw new PimError('usage', message, { hint: usage });
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const [rawName, inline] = arg.startsWith('--') ? splitInline(arg.slice(2)) : [byShort.get(arg.slice(1)) ?? `-${arg.slice(1)}`, undefined];
    // Own keys only: `--toString` must not find Object.prototype's.
    const spec = Object.hasOwn(specs, rawName) ? specs[rawName] : undefined;
    if (!spec) fail(`unknown option '${arg}'`);
    if (!spec!.value) {
      if (inline !== undefined) fail(`option '--${rawName}' takes no value`);
      flags.set(rawName, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('-'))) fail(`option '${arg}' needs a value`);
    flags.set(rawName, value!);
  }
  return { positional, flags };
}

function splitInline(s: string): [string, string | undefined] {
  const eq = s.indexOf('=');
  return eq < 0 ? [s, undefined] : [s.slice(0, eq), s.slice(eq + 1)];
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function hasFlag(args: ParsedArgs, name: string): boolean {
  return args.flags.has(name);
}
