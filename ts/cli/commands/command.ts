import type { FlagSpecs, ParsedArgs } from '../args.js';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpecs;
  /** Resolves to the exit code (0 when omitted). */
  run(args: ParsedArgs): Promise<number | void>;
}

export const CONFIG_FLAG = { config: { short: 'c', value: true } } as const;
export const JSON_FLAG = { json: {} } as const;
