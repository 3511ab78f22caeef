// "Route internet via mesh" on the client: the split-default routes and the
// kill-switch, and gateway selection among the nodes the mesh's routing
// table knows to advertise the role. When every gateway is lost with routing
// on, the routes stay, the engine drops internet-bound packets, and the
// nftables kill-switch blocks anything else: internet is blocked, never sent
// around the mesh. `route off` (or a clean stop) restores normal routing.

import type { Config } from '../config/schema.js';
import { describeError } from '../errors.js';
import { nodeIdFromPublicKey } from '../identity/node-id.js';
import type { Logger } from '../log/logger.js';
import { selectGateway, type GatewayCandidate } from '../routing/gateway-select.js';
import type { OsNetwork } from '../routing/os-network.js';
import type { PersistedEdit } from './config-state.js';
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

const nodeId = (publicKey: string): string => nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));

export class RouteManager {
  on = false;
  selected: string | null = null;
  private timer: NodeJS.Timeout | undefined;

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
    await this.d.persist([['route', 'internet_via_mesh', on]]);
    await this.apply(on);
  }

  /** Makes the OS and engine match `on` (after a reload changed the config, too). */
  async apply(on: boolean): Promise<void> {
    if (on === this.on) return;
    if (on) await this.turnOn();
    else await this.turnOff();
  }

  private async turnOn(): Promise<void> {
    const tun = this.d.config().interface.name;
    // The block first, so there is no moment with routes but no kill-switch.
    await this.d.network.installKillSwitch(tun, await this.d.network.localSubnets(tun));
    await this.d.network.installSplitDefault(tun);
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

  private async clearOs(): Promise<void> {
    await this.d.network.removeSplitDefault();
    await this.d.network.removeKillSwitch();
  }

  /** On a clean stop: normal OS routing again (the config still says on for the next start). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.on) await this.clearOs();
  }

  private tick(): void {
    this.reevaluate();
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
