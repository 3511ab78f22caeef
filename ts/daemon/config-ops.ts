// Config editing over the socket: `config.save` (validate fully, write
// atomically, apply live) and the static-peer edits built on it. A refused
// save changes nothing on disk.

import * as fs from 'node:fs';
import { changedPaths, requiringRestart } from '../config/diff.js';
import { appendPeer, removePeer } from '../config/edit.js';
import { formatIssue, validateConfigText } from '../config/validate.js';
import type { PeerConfig } from '../config/schema.js';
import { PimError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { matchIdPrefix, nodeIdFromPublicKey, parsePublicKeyHex } from '../identity/node-id.js';
import { parseHostPort } from '../net/ipv4.js';
import type { ConfigState } from './config-state.js';
import type { ReloadResult } from './reload.js';

export interface ConfigEditDeps {
  state: ConfigState;
  selfKey: string;
  /** Reads the file again and applies it (reload.ts). */
  reload(): Promise<ReloadResult>;
}

export interface SaveResult {
  saved: boolean;
  requiresRestart: string[];
  writtenTo: string | null;
}

/** Validates the whole text, writes it atomically and applies it; run inside ConfigState.edit. */
async function saveConfig(d: ConfigEditDeps, text: string, dryRun: boolean): Promise<SaveResult> {
  const { path, pathEnv } = d.state;
  const { config, issues } = validateConfigText(text, path, pathEnv);
  if (config === null || issues.length > 0) {
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    throw new PimError('config_invalid', `${formatIssue(issues[0]!)}${more}`, {
      data: issues.map(({ line, column, path, message }) => ({ line, column, path, message })),
    });
  }
  const requiresRestart = requiringRestart(changedPaths(d.state.current, config));
  if (dryRun) return { saved: false, requiresRestart, writtenTo: null };
  try {
    await writeFileAtomic(path, text, modeOf(path));
  } catch (err) {
    throw new PimError('config_save_rejected', (err as Error).message, { cause: err });
  }
  const reloaded = await d.reload();
  if (!reloaded.applied) throw new PimError('config_save_rejected', `saved, but not applied: ${reloaded.error ?? 'unknown error'}`);
  return { saved: true, requiresRestart: reloaded.requiresRestart, writtenTo: path };
}

function modeOf(file: string): number {
  try {
    return fs.statSync(file).mode & 0o777;
  } catch {
    return 0o600;
  }
}

async function currentText(state: ConfigState): Promise<string> {
  try {
    return await fs.promises.readFile(state.path, 'utf8');
  } catch (err) {
    throw new PimError('config_save_rejected', `cannot read ${state.path}: ${(err as Error).message}`);
  }
}

export const configEntryId = (nodeId: string): string => `peers/${nodeId}`;

/** `config.save`: one edit of the file, after those before it. */
export function saveConfigText(d: ConfigEditDeps, text: string, dryRun: boolean): Promise<SaveResult> {
  return d.state.edit(() => saveConfig(d, text, dryRun));
}

/** -32012 unless the address is host:port. */
export function checkPeerAddress(address: string): void {
  if (parseHostPort(address) === null) {
    throw new PimError('invalid_peer_address', `'${address}' is not host:port (an IPv4 address or DNS name, and a port 1-65535)`);
  }
}

export async function addStaticPeer(
  d: ConfigEditDeps,
  peer: { address: string; publicKey: string; label?: string | undefined },
): Promise<{ nodeId: string; configEntryId: string }> {
  checkPeerAddress(peer.address);
  const key = parsePublicKeyHex(peer.publicKey);
  if (key === null) throw new PimError('invalid_params', "invalid params: 'public_key' must be 64 lowercase hex characters");
  if (peer.publicKey === d.selfKey) throw new PimError('invalid_params', "invalid params: 'public_key' is this node's own key");
  const nodeId = nodeIdFromPublicKey(key);
  return d.state.edit(async () => {
    const text = await currentText(d.state);
    if (peersIn(d.state, text).some((p) => p.public_key === peer.publicKey)) {
      throw new PimError('peer_exists', `peer ${nodeId} is already configured`);
    }
    await saveConfig(d, appendPeer(text, { address: peer.address, public_key: peer.publicKey, label: peer.label ?? null }), false);
    return { nodeId, configEntryId: configEntryId(nodeId) };
  });
}

/** The static peers of the file as it is now (it may have been edited since the last reload). */
function peersIn(state: ConfigState, text: string): PeerConfig[] {
  const { config, issues } = validateConfigText(text, state.path, state.pathEnv);
  if (config === null) {
    throw new PimError('config_save_rejected', `the config file has errors; fix it first: ${formatIssue(issues[0]!)}`);
  }
  return config.peers;
}

export function removeStaticPeer(d: ConfigEditDeps, ref: { nodeId?: string | undefined; configEntryId?: string | undefined }): Promise<void> {
  return d.state.edit(async () => {
    const text = await currentText(d.state);
    const index = entryIndex(peersIn(d.state, text), ref);
    await saveConfig(d, removePeer(text, index), false);
  });
}

/** Which [[peers]] entry a reference names, by node_id (or a unique prefix) or entry id. */
function entryIndex(peers: readonly PeerConfig[], ref: { nodeId?: string | undefined; configEntryId?: string | undefined }): number {
  const ids = peers.map((p) => nodeIdFromPublicKey(Buffer.from(p.public_key, 'hex')));
  let index = -1;
  if (ref.configEntryId !== undefined) index = ids.findIndex((id) => configEntryId(id) === ref.configEntryId);
  else if (ref.nodeId !== undefined) {
    const m = matchIdPrefix(ref.nodeId, ids);
    if ('match' in m) index = ids.indexOf(m.match);
    else if (m.error !== 'none') throw new PimError('invalid_params', `invalid params: 'node_id' ${m.error === 'ambiguous' ? 'matches several peers' : 'needs at least 8 hex characters'}`);
  } else {
    throw new PimError('invalid_params', "invalid params: give 'node_id' or 'config_entry_id'");
  }
  if (index < 0) throw new PimError('peer_not_found', 'no configured static peer matches', { hint: 'list them with `pim peers`' });
  return index;
}
