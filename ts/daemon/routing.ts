// "Route internet via mesh" on the client: the split-default routes, the
// kill-switch and the [route] dns resolvers, and gateway selection among the
// nodes the mesh's routing table knows to advertise the role. When every
// gateway is lost with routing on, the routes stay, the engine drops
// internet-bound packets, and the nftables kill-switch blocks anything else:
// internet is blocked, never sent around the mesh. `route off` restores
// normal routing, and so does a clean stop unless [route] lockdown is on; a
// crash leaves the block in the kernel for the next start to take over.

import { ROLE_CONFLICT_MESSAGE, type Config } from '../config/schema.js';
import { describeError, PimError } from '../errors.js';
import { nodeIdFromPublicKey } from '../identity/node-id.js';
import type { Logger } from '../log/logger.js';
import { selectGateway, type GatewayCandidate } from '../routing/gateway-select.js';
import { splitLocalSubnets } from '../routing/local-networks.js';
import type { OsNetwork } from '../routing/os-network.js';
import type { PersistedEdit } from './config-state.js';
import { SerialQueue } from './serial.js';
import type { EventSink } from './events.js';
import type { PolicyPort } from './policy.js';

export interface RoutingDeps {
  config(): Config;
  persist(edits: readonly PersistedEdit[]): Promise<void>;
  network: OsNetwork;
  policy: PolicyPort;
  /** Reachable nodes that may be the gateway (explicitly trusted, advertising the role). */
  candidates(): GatewayCandidate[];
  events: EventSink;
  log: Logger;
}

const KILL_SWITCH_REASON = 'routing via the mesh is on and no gateway is reachable';

const EVALUATE_MS = 1000;
/** How often the local subnets are read again while routing is on (a new network joined, an address gone). */
const LOCAL_SUBNETS_MS = 5000;

const nodeId = (publicKey: string): string => nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));

export class RouteManager {
  on = false;
  selected: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  /** The local subnets the installed block lets through. */
  private exempt: readonly string[] = [];
  /** The refused ones as last logged, so a refusal is logged once, not every check. */
  private refusedKey = '';
  private localCheckedAt = 0;
  private readonly os = new SerialQueue();

  constructor(private readonly d: RoutingDeps) {}

  /** The nodes that could be the gateway, reachable or not. */
  candidates(): GatewayCandidate[] {
    return this.d.candidates();
  }

  get killSwitch(): boolean {
    return this.on && this.selected === null;
  }

  /** Where the engine sends non-mesh traffic: the selected gateway, or nowhere. */
  get internetVia(): string | null {
    return this.on ? this.selected : null;
  }

  /** At start: restore the persisted choice, or clear what a crashed run left behind. */
  async start(): Promise<void> {
    if (this.d.config().route.internet_via_mesh) await this.turnOn();
    else await this.clearOs();
    this.timer = setInterval(() => this.tick(), EVALUATE_MS);
    this.timer.unref();
  }

  /** `pim route on|off`: records the choice in the config and applies it. */
  async setOn(on: boolean): Promise<void> {
    if (on && this.d.config().gateway.enabled) {
      throw new PimError('role_conflict', ROLE_CONFLICT_MESSAGE, { hint: 'turn the gateway role off first: pim gateway disable' });
    }
    await this.d.persist([['route', 'internet_via_mesh', on]]);
    await this.apply(on);
  }

  /** Makes the OS and engine match `on` (after a reload changed the config, too). */
  apply(on: boolean): Promise<void> {
    return this.os.run(async () => {
      if (on === this.on) return;
      if (on) await this.turnOn();
      else await this.turnOff();
    });
  }

  /** After a reload or config.save: a new [route] dns list changes the block and the resolver at once. */
  async reconfigure(previous: Config['route'], next: Config['route']): Promise<void> {
    if (next.internet_via_mesh !== this.on) await this.apply(next.internet_via_mesh);
    else if (this.on && previous.dns.join() !== next.dns.join()) await this.os.run(() => this.installBlock());
  }

  private async turnOn(): Promise<void> {
    // The block first, so there is no moment with routes but no kill-switch.
    await this.installBlock();
    await this.d.network.installSplitDefault(this.d.config().interface.name);
    this.on = true;
    this.d.events.emit({ type: 'route_on' });
    await this.evaluate(true);
  }

  private async turnOff(): Promise<void> {
    this.on = false;
    this.selected = null;
    await this.clearOs();
    await this.d.policy.apply(() => undefined);
    this.d.events.emit({ type: 'route_off' });
  }

  /** The kill-switch table (one nft transaction) and the system resolver, for the current [route] dns. */
  private async installBlock(): Promise<void> {
    const tun = this.d.config().interface.name;
    const { dns } = this.d.config().route;
    this.exempt = await this.readLocalSubnets(tun);
    this.localCheckedAt = Date.now();
    await this.d.network.installKillSwitch(tun, { subnets: this.exempt, dns });
    if (dns.length > 0) await this.d.network.setResolvers(tun, dns);
    else await this.d.network.restoreResolvers(tun);
  }

  private async clearOs(): Promise<void> {
    // The resolver first: should its restore fail, the block stays and the error says why.
    await this.d.network.restoreResolvers(this.d.config().interface.name);
    await this.d.network.removeSplitDefault();
    await this.d.network.removeKillSwitch();
  }

  /** Whether a stop leaves the block in the kernel: after a crash always, after a clean stop in lockdown. */
  keepsBlock(crashed: boolean): boolean {
    return this.on && (crashed || this.d.config().route.lockdown);
  }

  /**
   * On a stop. A clean stop restores normal OS routing (the config still says
   * on for the next start) unless [route] lockdown is on; after a crash
   * nothing is touched: the kill-switch, rules, resolver and `unreachable`
   * routes stay until the next start or `pim route off`.
   */
  async stop(crashed: boolean): Promise<void> {
    clearInterval(this.timer);
    await this.os.idle();
    if (!this.on) return;
    if (!this.keepsBlock(crashed)) return this.clearOs();
    const why = crashed ? 'the daemon failed' : '[route] lockdown is on';
    this.d.log.warn({ event: 'kill_switch_kept', reason: crashed ? 'crash' : 'lockdown' }, `${why}: internet stays blocked until pim starts again or \`pim route off\``);
  }

  private tick(): void {
    this.reevaluate();
    if (this.on && Date.now() - this.localCheckedAt >= LOCAL_SUBNETS_MS) {
      this.localCheckedAt = Date.now();
      this.os.run(() => this.followLocalSubnets()).catch((err: unknown) =>
        this.d.log.error({ event: 'local_subnets_failed', reason: describeError(err) }, `local subnets not updated: ${describeError(err)}`),
      );
    }
  }

  /** The local subnets the block may exempt (docs/SECURITY.md); the others are logged when they change. */
  private async readLocalSubnets(tun: string): Promise<string[]> {
    const { exempt, refused } = splitLocalSubnets(await this.d.network.localSubnets(tun));
    const key = refused.join();
    if (key !== this.refusedKey && refused.length > 0) {
      this.d.log.warn(
        { event: 'local_subnets_blocked', subnets: refused },
        `local subnets outside private address ranges stay blocked outside the tunnel while routing is on: ${refused.join(', ')}`,
      );
    }
    this.refusedKey = key;
    return exempt;
  }

  /** Re-reads the local subnets; a change replaces the block in one transaction. */
  private async followLocalSubnets(): Promise<void> {
    if (!this.on) return;
    const tun = this.d.config().interface.name;
    const next = await this.readLocalSubnets(tun);
    if (next.join() === this.exempt.join()) return;
    await this.d.network.installKillSwitch(tun, { subnets: next, dns: this.d.config().route.dns });
    this.exempt = next;
    this.d.log.info({ event: 'local_subnets_changed', subnets: next }, `local subnets reachable outside the tunnel: ${next.join(', ') || 'none'}`);
  }

  /** Re-selects the gateway when nobody waits for it; a failure is logged, never thrown. */
  reevaluate(): void {
    this.evaluate(false).catch((err: unknown) =>
      this.d.log.error({ event: 'gateway_selection_failed', reason: describeError(err) }, `gateway selection not applied: ${describeError(err)}`),
    );
  }

  /** Picks the gateway; applies and reports a change. */
  async evaluate(force: boolean): Promise<void> {
    if (!this.on) return;
    const next = selectGateway(this.d.candidates(), this.selected);
    if (next === this.selected && !force) return;
    const previous = this.selected;
    const wasBlocking = force ? null : this.killSwitch;
    this.selected = next;
    await this.d.policy.apply(() => undefined);
    if (previous !== null && previous !== next) this.d.events.emit({ type: 'gateway_lost', nodeId: nodeId(previous) });
    if (next !== null && next !== previous) this.d.events.emit({ type: 'gateway_selected', nodeId: nodeId(next) });
    if (this.killSwitch !== wasBlocking) {
      this.d.events.emit({ type: 'kill_switch', engaged: this.killSwitch, reason: this.killSwitch ? KILL_SWITCH_REASON : null, initial: wasBlocking === null });
    }
  }
}
