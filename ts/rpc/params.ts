// A small declarative schema for a method's named params, checked before the
// handler runs so handlers can trust the shapes they receive.

import { PimError } from '../errors';

export type ParamType = 'string' | 'boolean' | 'integer' | 'number' | 'object' | 'array';

export interface ParamRule {
  readonly type: ParamType;
  readonly optional?: boolean;
}

export type ParamSchema = Readonly<Record<string, ParamRule>>;

type ValueOf<T extends ParamType> = T extends 'string'
  ? string
  : T extends 'boolean'
    ? boolean
    : T extends 'integer' | 'number'
      ? number
      : T extends 'object'
        ? Record<string, unknown>
        : unknown[];

type OptionalKeys<S extends ParamSchema> = { [K in keyof S]: S[K]['optional'] extends true ? K : never }[keyof S];
type RequiredKeys<S extends ParamSchema> = Exclude<keyof S, OptionalKeys<S>>;

/** The params object a handler receives for schema S. */
export type ParamValues<S extends ParamSchema> = { [K in RequiredKeys<S>]: ValueOf<S[K]['type']> } & {
  [K in OptionalKeys<S>]?: ValueOf<S[K]['type']>;
};

const TYPE_NAMES: Record<ParamType, string> = {
  string: 'a string',
  boolean: 'a boolean',
  integer: 'an integer',
  number: 'a number',
  object: 'an object',
  array: 'an array',
};

function hasType(value: unknown, type: ParamType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return Number.isSafeInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
  }
}

function invalid(detail: string): PimError {
  return new PimError('invalid_params', `invalid params: ${detail}`);
}

/**
 * Checks a request's `params` against the schema and returns the named params.
 * Missing or null `params` counts as `{}`. An optional param given as null is
 * treated as absent, since many JSON encoders write absent optionals as null.
 * Throws PimError('invalid_params') naming the offending param.
 */
export function validateParams<S extends ParamSchema>(schema: S, params: unknown): ParamValues<S> {
  if (params === undefined || params === null) params = {};
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw invalid('params must be an object of named params (positional params are not supported)');
  }
  const given = params as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(schema, name)) {
      const known = Object.keys(schema);
      const expected = known.length === 0 ? 'this method takes no params' : `expected: ${known.join(', ')}`;
      throw invalid(`unknown param '${name}' (${expected})`);
    }
  }
  const values: Record<string, unknown> = {};
  for (const [name, rule] of Object.entries(schema)) {
    const value = given[name];
    if (value === undefined || (value === null && rule.optional === true)) {
      if (rule.optional !== true) throw invalid(`'${name}' is required (${TYPE_NAMES[rule.type]})`);
      continue;
    }
    if (!hasType(value, rule.type)) throw invalid(`'${name}' must be ${TYPE_NAMES[rule.type]}`);
    values[name] = value;
  }
  return values as ParamValues<S>;
}
