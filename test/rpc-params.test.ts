import test from 'ava';
import { PimError } from '../ts/errors';
import { type ParamSchema, validateParams } from '../ts/rpc/params';

const schema = {
  on: { type: 'boolean' },
  label: { type: 'string', optional: true },
  count: { type: 'integer', optional: true },
  ratio: { type: 'number', optional: true },
  detail: { type: 'object', optional: true },
  list: { type: 'array', optional: true },
} as const satisfies ParamSchema;

const accepted: [rule: string, params: unknown, expected: Record<string, unknown>][] = [
  ['required param present', { on: true }, { on: true }],
  ['optional string', { on: false, label: 'home' }, { on: false, label: 'home' }],
  ['integer', { on: true, count: 3 }, { on: true, count: 3 }],
  ['negative integer', { on: true, count: -3 }, { on: true, count: -3 }],
  ['number takes fractions', { on: true, ratio: 0.5 }, { on: true, ratio: 0.5 }],
  ['number takes integers', { on: true, ratio: 2 }, { on: true, ratio: 2 }],
  ['object', { on: true, detail: { a: 1 } }, { on: true, detail: { a: 1 } }],
  ['empty array', { on: true, list: [] }, { on: true, list: [] }],
  ['optional given as null is absent', { on: true, label: null }, { on: true }],
];

for (const [rule, params, expected] of accepted) {
  test(`accepts: ${rule}`, (t) => {
    t.deepEqual(validateParams(schema, params), expected);
  });
}

const rejected: [rule: string, params: unknown, message: string][] = [
  ['wrong type names the param', { on: 'yes' }, "invalid params: 'on' must be a boolean"],
  ['required param missing', {}, "invalid params: 'on' is required (a boolean)"],
  ['required param null', { on: null }, "invalid params: 'on' must be a boolean"],
  ['fraction is not an integer', { on: true, count: 1.5 }, "invalid params: 'count' must be an integer"],
  ['unsafe integer', { on: true, count: 2 ** 60 }, "invalid params: 'count' must be an integer"],
  ['string is not a number', { on: true, ratio: '1' }, "invalid params: 'ratio' must be a number"],
  ['array is not an object', { on: true, detail: [] }, "invalid params: 'detail' must be an object"],
  ['string is not an object', { on: true, detail: 'x' }, "invalid params: 'detail' must be an object"],
  ['object is not an array', { on: true, list: {} }, "invalid params: 'list' must be an array"],
  [
    'unknown param',
    { on: true, colour: 'red' },
    "invalid params: unknown param 'colour' (expected: on, label, count, ratio, detail, list)",
  ],
  [
    'positional params',
    [true],
    'invalid params: params must be an object of named params (positional params are not supported)',
  ],
  [
    'scalar params',
    'on',
    'invalid params: params must be an object of named params (positional params are not supported)',
  ],
];

for (const [rule, params, message] of rejected) {
  test(`rejects: ${rule}`, (t) => {
    const err = t.throws(() => validateParams(schema, params), { instanceOf: PimError }) as PimError;
    t.is(err.code, 'invalid_params');
    t.is(err.rpcCode, -32602);
    t.is(err.message, message);
  });
}

test('missing or null params count as {}', (t) => {
  t.deepEqual(validateParams({}, undefined), {});
  t.deepEqual(validateParams({}, null), {});
  t.deepEqual(validateParams({ label: { type: 'string', optional: true } }, null), {});
});

test('a method without params says so when given one', (t) => {
  t.throws(() => validateParams({}, { x: 1 }), {
    message: "invalid params: unknown param 'x' (this method takes no params)",
  });
});

test('"__proto__" and inherited names are unknown params, not schema lookups', (t) => {
  t.throws(() => validateParams(schema, JSON.parse('{"on":true,"__proto__":{}}')), { message: /unknown param '__proto__'/ });
  t.throws(() => validateParams(schema, { on: true, toString: 'x' }), { message: /unknown param 'toString'/ });
});

test('the result type follows the schema', (t) => {
  const values = validateParams(schema, { on: true, count: 2 });
  const on: boolean = values.on;
  const count: number | undefined = values.count;
  t.is(on, true);
  t.is(count, 2);
});
