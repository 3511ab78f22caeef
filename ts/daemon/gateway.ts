// The gateway role (Linux): IPv4 forwarding on, the mesh masqueraded out of
// `nat_interface` by an nftables table of pim's own, the role advertised to
// peers. Everything added is removed when the role is disabled or the
// daemon stops; forwarding goes back to what it was.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROLE_CONFLICT_MESSAGE, type Config } from '../config/schema.js';
import { describeError, PimError } from '../errors.js';
import { interfaceNameProblem } from '../net/ifname.js';
import type { Logger } from '../log/logger.js';
import type { Engine } from '../native/engine.js';
import type { OsNetwork } from '../routing/os-network.js';
import type { PersistedEdit } from './config-state.js';
import type { EventSink } from './events.js';
import type { PolicyPort } from './policy.js';
import { SerialQueue } from './serial.js';

/** How often the host's networks are read again while the role is on (an address gained or lost). */
const HOST_NETWORKS_MS = 5000;

export interface GatewayDeps {
  config(): Config;
  persist(edits: readonly PersistedEdit[]): Promise<void>;
  network: OsNetwork;
  meshPrefix: string;
  meshIp: string;
  policy: PolicyPort;
  engine: Pick<Engine, 'peers'>;
  events: EventSink;
  log: Logger;
  /** The role changed: the node's roles and advertisements follow. */
  onRoleChanged(): void;
}

export interface PreflightCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Preflight {
  supported: boolean;
  platform: string;
  checks: PreflightCheck[];
  suggestedNatInterfaces: string[];
}

export class GatewayManager {
  active = false;
  natInterface: string | null = null;
  /** Destinations the engine never forwards mesh traffic to: this host's addresses and local subnets. */
  blocked: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly os = new SerialQueue();
  constructor(private readonly d: GatewayDeps) {}

  /**
   * Where ip_forward's value from before pim first turned it on is kept, so
   * a clean stop restores it even after a crash left forwarding on.
   */
  private get forwardingFile(): string {
    return path.join(path.dirname(this.d.config().trust.store), 'ip_forward.before');
  }

  private rememberForwarding(): void {
    if (fs.existsSync(this.forwardingFile)) return; // the original from before a crash
    fs.mkdirSync(path.dirname(this.forwardingFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(this.forwardingFile, this.d.network.ipForwarding() ? '1\n' : '0\n', { mode: 0o600 });
  }

  private restoreForwarding(): void {
    if (!fs.existsSync(this.forwardingFile)) return;
    this.d.network.setIpForwarding(fs.readFileSync(this.forwardingFile, 'utf8').trim() === '1');
    fs.rmSync(this.forwardingFile, { force: true });
  }

  async preflight(natInterface: string | null): Promise<Preflight> {
    const badName = natInterface === null ? null : interfaceNameProblem(natInterface);
    if (badName !== null) throw new PimError('invalid_params', `invalid params: 'nat_interface': ${badName}`);
    const platform = process.platform;
    const suggested = platform === 'linux' ? (await this.d.network.defaultRouteInterfaces()).filter((i) => i !== this.d.config().interface.name) : [];
    if (platform !== 'linux') return { supported: false, platform, checks: [], suggestedNatInterfaces: [] };
    const nft = await this.d.network.nftAvailable();
    const checks: PreflightCheck[] = [
      { name: 'nftables', ok: nft, detail: nft ? 'nft is installed' : 'nft is not installed (apt-get install nftables)' },
      {
        name: 'ip_forward',
        ok: this.d.network.canSetIpForwarding(),
        detail: this.d.network.canSetIpForwarding() ? 'IPv4 forwarding can be enabled' : 'no permission to enable IPv4 forwarding (run as root)',
      },
      natInterface === null
        ? { name: 'nat_interface', ok: false, detail: `no NAT interface given${suggested.length ? `; try ${suggested.join(' or ')}` : ''}` }
        : natInterface === this.d.config().interface.name
          ? { name: 'nat_interface', ok: false, detail: `${natInterface} is the mesh interface itself` }
          : this.d.network.interfaceExists(natInterface)
            ? { name: 'nat_interface', ok: true, detail: `${natInterface} exists` }
            : { name: 'nat_interface', ok: false, detail: `no interface named ${natInterface}` },
    ];
    return { supported: true, platform, checks, suggestedNatInterfaces: suggested };
  }

  /** Turns the role on (idempotent); `persist` records it in the config. */
  enable(natInterface: string | null, persist: boolean): Promise<void> {
    return this.os.run(() => this.turnOn(natInterface, persist));
  }

  /** Turns the role off and removes everything it added; `persist` records it. */
  disable(persist: boolean): Promise<void> {
    return this.os.run(() => this.turnOff(persist));
  }

  private async turnOn(natInterface: string | null, persist: boolean): Promise<void> {
    if (this.d.config().route.internet_via_mesh) {
      throw new PimError('role_conflict', ROLE_CONFLICT_MESSAGE, { hint: 'turn routing via the mesh off first: pim route off' });
    }
    const want = natInterface ?? this.d.config().gateway.nat_interface;
    const pre = await this.preflight(want);
    if (!pre.supported) throw new PimError('gateway_unsupported', `the gateway role needs Linux (this is ${pre.platform})`);
    const failed = pre.checks.filter((c) => !c.ok);
    if (failed.length > 0) {
      throw new PimError('gateway_preflight_failed', `cannot enable the gateway: ${failed.map((c) => c.detail).join('; ')}`, { data: pre.checks });
    }
    this.rememberForwarding();
    try {
      this.d.network.setIpForwarding(true);
      // The mesh gets the internet, not this host or its LAN (docs/SECURITY.md):
      // the engine drops such packets and counts them, nftables holds the line too.
      this.blocked = await this.d.network.hostNetworks(this.d.config().interface.name);
      await this.installNat(want!, this.blocked);
    } catch (err) {
      // Half a gateway is none: undo what this attempt (or a crashed run) left.
      this.blocked = [];
      await this.clearLeftovers().catch(() => undefined);
      throw err;
    }
    this.active = true;
    this.natInterface = want;
    this.followHostNetworks();
    if (persist) await this.d.persist([['gateway', 'enabled', true], ['gateway', 'nat_interface', want]]);
    await this.d.policy.apply(() => undefined);
    this.d.events.emit({ type: 'gateway_enabled', natInterface: want! });
    this.d.onRoleChanged();
  }

  private async turnOff(persist: boolean): Promise<void> {
    clearInterval(this.timer);
    const wasActive = this.active;
    if (persist) await this.d.persist([['gateway', 'enabled', false]]);
    if (!wasActive) return;
    await this.d.network.removeGatewayNat();
    this.restoreForwarding();
    this.active = false;
    this.blocked = [];
    await this.d.policy.apply(() => undefined);
    this.d.events.emit({ type: 'gateway_disabled', natInterface: this.natInterface });
    this.d.onRoleChanged();
  }

  /**
   * Re-reads the host's networks every HOST_NETWORKS_MS while the role is on:
   * a LAN joined after `enable` must be kept from the mesh like the first one.
   */
  private followHostNetworks(): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      this.os.run(() => this.guardHostNetworks()).catch((err: unknown) =>
        this.d.log.error({ event: 'gateway_guard_failed', reason: describeError(err) }, `the gateway's LAN guard was not updated: ${describeError(err)}`),
      );
    }, HOST_NETWORKS_MS);
    this.timer.unref();
  }

  /** A change of the host's networks replaces the NAT table (one transaction) and the engine's blocked list. */
  private async guardHostNetworks(): Promise<void> {
    if (!this.active || this.natInterface === null) return;
    const now = await this.d.network.hostNetworks(this.d.config().interface.name);
    if ([...now].sort().join() === [...this.blocked].sort().join()) return;
    await this.installNat(this.natInterface, now);
    this.blocked = now;
    await this.d.policy.apply(() => undefined);
    this.d.log.info({ event: 'gateway_lan_changed', networks: now }, `the host's networks changed; the mesh is kept out of ${now.join(', ')}`);
  }

  /** The NAT table, keeping the mesh from `hostNetworks` unless [gateway] allow_lan leaves that to the engine. */
  private installNat(natInterface: string, hostNetworks: readonly string[]): Promise<void> {
    const lan = this.d.config().gateway.allow_lan ? null : hostNetworks;
    return this.d.network.installGatewayNat(this.d.config().interface.name, natInterface, this.d.meshPrefix, { meshIp: this.d.meshIp, lan });
  }

  /** At a start without the role: undo what a run that crashed as a gateway left. */
  async clearLeftovers(): Promise<void> {
    await this.d.network.removeGatewayNat();
    this.restoreForwarding();
  }

  /** Peers whose internet traffic went through this node. */
  peersThroughMe(): number {
    return this.d.engine.peers().filter((p) => (p.gatewayBytes ?? 0) > 0 && p.state === 'active').length;
  }
}
