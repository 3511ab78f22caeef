// One registry of every coded error pim reports. The JSON-RPC number is what
// the control socket sends; the exit code is what the CLI exits with when the
// error ends a command. docs/RPC.md lists the same table; a test keeps them in step.

export const ERRORS = {
  parse_error: { rpc: -32700, exit: 1, summary: 'the request line is not valid JSON' },
  invalid_request: { rpc: -32600, exit: 1, summary: 'not a valid JSON-RPC request (or rpc.hello missing)' },
  method_not_found: { rpc: -32601, exit: 1, summary: 'no such method' },
  invalid_params: { rpc: -32602, exit: 2, summary: 'a parameter is missing or has the wrong type' },
  internal: { rpc: -32603, exit: 1, summary: 'an unexpected daemon error' },
  rpc_version_mismatch: { rpc: -32001, exit: 1, summary: 'client and daemon speak different rpc_version' },
  peer_not_found: { rpc: -32010, exit: 1, summary: 'no peer matches the given id' },
  peer_exists: { rpc: -32011, exit: 1, summary: 'the peer is already configured' },
  invalid_peer_address: { rpc: -32012, exit: 2, summary: 'the peer address is not host:port' },
  peer_key_unknown: { rpc: -32013, exit: 2, summary: 'no public key was given and none was heard at that address' },
  config_invalid: { rpc: -32020, exit: 1, summary: 'the configuration failed validation' },
  config_save_rejected: { rpc: -32021, exit: 1, summary: 'the configuration could not be written' },
  gateway_preflight_failed: { rpc: -32030, exit: 1, summary: 'the gateway cannot be enabled on this machine' },
  gateway_unsupported: { rpc: -32031, exit: 1, summary: 'the gateway role is not supported on this platform' },
  role_conflict: { rpc: -32032, exit: 1, summary: 'a gateway cannot route its own internet via the mesh' },
  // Local errors: they end a CLI command or stop the daemon, never cross the socket.
  usage: { rpc: null, exit: 2, summary: 'the command line is wrong' },
  daemon_not_running: { rpc: null, exit: 3, summary: 'no daemon answers on the control socket' },
  socket_busy: { rpc: null, exit: 1, summary: 'another daemon owns the control socket' },
  key_file_invalid: { rpc: null, exit: 1, summary: 'the identity key file is unusable' },
  trust_store_corrupt: { rpc: null, exit: 1, summary: 'the trust store cannot be read; refusing to widen trust' },
  tun_unavailable: { rpc: null, exit: 1, summary: 'the TUN device could not be created' },
  engine_failed: { rpc: null, exit: 1, summary: 'the data plane failed to start' },
  io_failed: { rpc: null, exit: 1, summary: 'a file or socket operation failed' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/**
 * Every code the engine's errors carry (native/src/error.rs, as the error's
 * `code` property), and the daemon error each one becomes. A test enumerates
 * the engine's codes from the addon and checks this table maps exactly those.
 */
export const ENGINE_ERRORS = {
  tun_unavailable: { code: 'tun_unavailable', hint: 'run as root (sudo pim up) or grant CAP_NET_ADMIN, and check that /dev/net/tun exists' },
  udp_bind_failed: { code: 'engine_failed', hint: 'another process may hold the UDP port: stop it or change [transport] listen_port' },
  invalid_snapshot: { code: 'internal' },
  snapshot_stale: { code: 'internal' },
  engine_state: { code: 'internal' },
  engine_io: { code: 'engine_failed' },
} as const satisfies Record<string, { code: ErrorCode; hint?: string }>;

export type EngineErrorCode = keyof typeof ENGINE_ERRORS;

export class PimError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly data: unknown;

  constructor(code: ErrorCode, message: string, options: { hint?: string; data?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PimError';
    this.code = code;
    this.hint = options.hint;
    this.data = options.data;
  }

  get rpcCode(): number {
    return ERRORS[this.code].rpc ?? ERRORS.internal.rpc;
  }

  get exitCode(): number {
    return ERRORS[this.code].exit;
  }
}

export function isPimError(err: unknown): err is PimError {
  return err instanceof PimError;
}

/** The text a user sees for any thrown value: our message, or the system's. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
