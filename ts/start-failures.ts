// Why the daemon could not start, said so a user can act on it: the OS error
// under an engine error is recognised and named with its fix. The one table
// of start-up causes; `runDaemon` passes every start-up error through it.
// Errors it does not recognise pass unchanged (with the engine's own hint).

import { isPimError, PimError } from './errors.js';

interface Cause {
  /** The engine's error code (native/src/error.rs). */
  engineCode: string;
  /** The engine's message, e.g. "cannot create TUN device pim0: ... (os error 16) ...". */
  pattern: RegExp;
  errno: number[];
  explain(m: RegExpExecArray): { message: string; hint: string };
}

const ROOT = 'run it as root (`sudo pim up`), or as the systemd service (`sudo pim service install`), which has CAP_NET_ADMIN';

// Each message keeps the engine's "cannot <do what> <on what>" and says why.
const CAUSES: Cause[] = [
  {
    engineCode: 'udp_bind_failed',
    pattern: /^cannot mark UDP \S+ with fwmark 0x[0-9a-f]+/,
    errno: [1, 13],
    explain: (m) => ({ message: `${m[0]}: that needs CAP_NET_ADMIN, which this process does not have`, hint: ROOT }),
  },
  {
    engineCode: 'udp_bind_failed',
    pattern: /^cannot bind UDP (\S+):(\d+)/,
    errno: [98],
    explain: (m) => ({
      message: `${m[0]}: the port is already in use`,
      hint: `another program or pim daemon holds it (\`ss -ulpn 'sport = :${m[2]}'\` shows which): stop it, or set [transport] listen_port to another port (0 picks a free one)`,
    }),
  },
  {
    engineCode: 'udp_bind_failed',
    pattern: /^cannot bind UDP (\S+):(\d+)/,
    errno: [99],
    explain: (m) => ({ message: `${m[0]}: ${m[1]} is not an address of this machine`, hint: 'set [transport] bind to one of its addresses, or to 0.0.0.0' }),
  },
  {
    engineCode: 'udp_bind_failed',
    pattern: /^cannot bind UDP (\S+):(\d+)/,
    errno: [13],
    explain: (m) => ({ message: `${m[0]}: ports below 1024 need root`, hint: `${ROOT}; or set [transport] listen_port above 1023` }),
  },
  {
    engineCode: 'tun_unavailable',
    pattern: /^cannot create TUN device ([^\s:]+)/,
    errno: [16],
    explain: (m) => ({
      message: `${m[0]}: the name is taken by another TUN device (another pim daemon?)`,
      hint: `stop the other one (\`ip link show ${m[1]}\`; \`pim down -c <its config>\`), or set [interface] name to a free name`,
    }),
  },
  {
    engineCode: 'tun_unavailable',
    pattern: /^cannot create TUN device ([^\s:]+)/,
    errno: [22],
    explain: (m) => ({
      message: `${m[0]}: an interface with that name exists and is not a TUN device`,
      hint: `\`ip link show ${m[1]}\` shows it: remove it, or set [interface] name to a free name`,
    }),
  },
  {
    engineCode: 'tun_unavailable',
    pattern: /^cannot create TUN device ([^\s:]+)/,
    errno: [2, 19],
    explain: (m) => ({
      message: `${m[0]}: this machine has no TUN driver (/dev/net/tun is missing)`,
      hint: 'load it with `modprobe tun`; in a container, pass the device in (e.g. docker run --device /dev/net/tun --cap-add NET_ADMIN)',
    }),
  },
  {
    engineCode: 'tun_unavailable',
    pattern: /^cannot create TUN device ([^\s:]+)/,
    errno: [1, 13],
    explain: (m) => ({ message: `${m[0]}: that needs CAP_NET_ADMIN, which this process does not have`, hint: ROOT }),
  },
];

/** The engine's code: the `code` property of the addon's error (under the PimError), when it has one. */
function engineCode(err: PimError): string | undefined {
  const code: unknown = (err.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function explainStartFailure(err: unknown): unknown {
  if (!isPimError(err)) return err;
  const code = engineCode(err);
  const errno = Number(/\(os error (\d+)\)/.exec(err.message)?.[1]);
  for (const cause of CAUSES) {
    const m = cause.pattern.exec(err.message);
    if (m === null || !cause.errno.includes(errno) || (code !== undefined && code !== cause.engineCode)) continue;
    const { message, hint } = cause.explain(m);
    return new PimError(err.code, message, { hint, cause: err });
  }
  return err;
}
