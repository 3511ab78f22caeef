// Checks a request's envelope, routes it to its method and turns whatever the handler
// does (returns, throws a PimError, throws anything else) into a JSON-RPC
// result or error object. Nothing about a crash but a generic message ever
// reaches the client; the details go to the daemon's log.

import { ERRORS, PimError } from '../errors';
import type { Filter, Topic } from './events';
import { type ParamSchema, type ParamValues, validateParams } from './params';

export type RpcLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** How the rpc layer logs; the daemon adapts its logger to this. */
export type RpcLog = (level: RpcLogLevel, message: string, fields?: Record<string, unknown>) => void;

/**
 * What a handler may do to the connection that called it. Once a handler has
 * subscribed or notified, the connection's notifications wait until the
 * handler's answer is queued: the client reads the answer first, then what
 * the handler sent, then live events.
 */
export interface CallContext {
  readonly connectionId: string;
  /** Subscribes this connection to a topic (what `accepts` lets through); returns the subscription id. */
  subscribe(topic: Topic, accepts?: Filter): string;
  /** Drops one subscription; false if none matched. */
  unsubscribe(topic: Topic, subscriptionId: string): boolean;
  /** Whether this connection's subscriptions to the topic already let these params through. */
  receives(topic: Topic, params: Record<string, unknown>): boolean;
  /** Sends `<topic>.event` to this connection only (e.g. to replay history on subscribe). */
  notify(topic: Topic, params: Record<string, unknown>): void;
}

export type MethodSpec = {
  params: ParamSchema;
  handler: (params: Record<string, unknown>, ctx: CallContext) => Promise<unknown> | unknown;
};

export type MethodTable = Record<string, MethodSpec>;

/** Declares a method whose handler sees params typed from its schema. */
export function defineMethod<S extends ParamSchema>(
  params: S,
  handler: (params: ParamValues<S>, ctx: CallContext) => Promise<unknown> | unknown,
): MethodSpec {
  // Sound because dispatch only ever calls the handler with the output of
  // validateParams(params, …), which has exactly the type ParamValues<S>.
  return { params, handler: handler as MethodSpec['handler'] };
}

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export type Outcome = { result: unknown } | { error: RpcErrorObject };

export type RequestId = string | number | null;
/** A well-formed request; `id` undefined means a notification from the client (never answered). */
export type Request = { id: RequestId | undefined; method: string; params: unknown };
/** A message that is not a valid request, with the id its error answer carries. */
export type Rejected = { id: RequestId; error: RpcErrorObject };

export function invalidRequest(detail: string): RpcErrorObject {
  return { code: ERRORS.invalid_request.rpc, message: `invalid request: ${detail}` };
}

/** Checks the JSON-RPC 2.0 envelope of one parsed line. */
export function parseRequest(message: unknown): Request | Rejected {
  if (Array.isArray(message)) {
    return { id: null, error: invalidRequest('batch requests are not supported; send one request per line') };
  }
  if (typeof message !== 'object' || message === null) {
    return { id: null, error: invalidRequest('a request must be a JSON object') };
  }
  const m = message as Record<string, unknown>;
  const id = m['id'];
  if (id !== undefined && id !== null && typeof id !== 'string' && typeof id !== 'number') {
    return { id: null, error: invalidRequest('"id" must be a string, a number or null') };
  }
  // An invalid message is answered even without an id: the sender cannot
  // have meant it as a notification it expects to be ignored.
  const answerId = id ?? null;
  if (m['jsonrpc'] !== '2.0') return { id: answerId, error: invalidRequest('"jsonrpc" must be "2.0"') };
  if (typeof m['method'] !== 'string') return { id: answerId, error: invalidRequest('"method" must be a string') };
  return { id, method: m['method'], params: m['params'] };
}

export function errorObject(err: PimError): RpcErrorObject {
  const error: RpcErrorObject = { code: err.rpcCode, message: err.message };
  if (err.data !== undefined) error.data = err.data;
  return error;
}

/** The error object for a value that is not a PimError: logged in full, answered generically. */
export function internalError(err: unknown, log: RpcLog, fields: Record<string, unknown>): RpcErrorObject {
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  log('error', 'rpc request failed with an unexpected error', { ...fields, stack });
  return { code: ERRORS.internal.rpc, message: 'internal daemon error; the daemon log has the details' };
}

export async function dispatch(
  methods: MethodTable,
  method: string,
  params: unknown,
  ctx: CallContext,
  log: RpcLog,
): Promise<Outcome> {
  // hasOwn, not `in`: "constructor" or "__proto__" must not reach Object.prototype.
  const spec = Object.hasOwn(methods, method) ? methods[method] : undefined;
  if (spec === undefined) {
    return { error: { code: ERRORS.method_not_found.rpc, message: `method not found: '${method}'` } };
  }
  try {
    const values = validateParams(spec.params, params);
    const result = await spec.handler(values, ctx);
    // A handler that returns nothing answers null: JSON.stringify would drop an undefined result.
    return { result: result === undefined ? null : result };
  } catch (err) {
    if (err instanceof PimError) return { error: errorObject(err) };
    return { error: internalError(err, log, { method, connection: ctx.connectionId }) };
  }
}
