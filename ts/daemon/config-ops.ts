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
import type { Daemon } from './daemon.js';

export interface SaveResult {
  saved: boolean;
  requires_restart: string[];
  written_to: string | null;
}

export async function saveConfig(d: Daemon, text: string, dryRun: boolean): Promise<SaveResult> {
  const { config, issues } = validateConfigText(text, d.configPath, d.pathEnv);
  if (config === null || issues.length > 0) {
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    throw new PimError('config_invalid', `${formatIssue(issues[0]!)}${more}`, {
      data: issues.map(({ line, column, path, message }) => ({ line, column, path, message })),
    });
  }
  const requiresRestart = requiringRestart(changedPaths(d.currentConfig, config));
  if (dryRun) return { saved: false, requires_restart: requiresRestart, written_to: null };
  try {
    await writeFileAtomic(d.configPath, text, modeOf(d.configPath));
  } catch (err) {
    throw new PimError('config_save_rejected', (err as Error).message, { cause: err });
  }
  const reloaded = await d.reload();
  if (!reloaded.applied) throw new PimError('config_save_rejected', `saved, but not applied: ${reloaded.error ?? 'unknown error'}`);
  return { saved: true, requires_restart: reloaded.requiresRestart, written_to: d.configPath };
}

function modeOf(file: string): number {
  try {
    return fs.statSync(file).mode & 0o777;
  } catch {
    return 0o600;
  }
}

async function currentText(d: Daemon): Promise<string> {
  try {
    return await fs.promises.readFile(d.configPath, 'utf8');
  } catch (err) {
    throw new PimError('config_save_rejected', `cannot read ${d.configPath}: ${(err as Error).message}`);
  }
}

export const configEntryId = (nodeId: string): string => `peers/${nodeId}`;

export async function addStaticPeer(
  d: Daemon,
  peer: { address: string; public_key: string; label?: string | undefined },
): Promise<{ node_id: string; config_entry_id: string }> {
  if (parseHostPort(peer.address) === null) {
    throw new PimError('invalid_peer_address', `'${peer.address}' is not host:port (an IPv4 address or DNS name, and a port 1-65535)`);
  }
  const key = parsePublicKeyHex(peer.public_key);
  if (key === null) throw new PimError('invalid_params', "invalid params: 'public_key' must be 64 lowercase hex characters");
  if (peer.public_key === d.identity.publicKeyHex) throw new PimError('invalid_params', "invalid params: 'public_key' is this node's own key");
  const nodeId = nodeIdFromPublicKey(key);
  return d.editConfig(async () => {
    const text = await currentText(d);
    if (peersIn(d, text).some((p) => p.public_key === peer.public_key)) {
      throw new PimError('peer_exists', `peer ${nodeId} is already configured`);
    }
    await saveConfig(d, appendPeer(text, { address: peer.address, public_key: peer.public_key, label: peer.label ?? null }), false);
    return { node_id: nodeId, config_entry_id: configEntryId(nodeId) };
  });
}

/** The static peers of the file as it is now (it may have been edited since the last reload). */
function peersIn(d: Daemon, text: string): PeerConfig[] {
  const { config, issues } = validateConfigText(text, d.configPath, d.pathEnv);
  if (config === null) {
    throw new PimError('config_save_rejected', `the config file has errors; fix it first: ${formatIssue(issues[0]!)}`);
  }
  return config.peers;
}

export function removeStaticPeer(d: Daemon, ref: { node_id?: string | undefined; config_entry_id?: string | undefined }): Promise<null> {
  return d.editConfig(async () => {
    const text = await currentText(d);
    const index = entryIndex(peersIn(d, text), ref);
    await saveConfig(d, removePeer(text, index), false);
    return null;
  });
}

/** Which [[peers]] entry a reference names, by node_id (or a unique prefix) or entry id. */
function entryIndex(peers: readonly PeerConfig[], ref: { node_id?: string | undefined; config_entry_id?: string | undefined }): number {
  const ids = peers.map((p) => nodeIdFromPublicKey(Buffer.from(p.public_key, 'hex')));
  let index = -1;
  if (ref.config_entry_id !== undefined) index = ids.findIndex((id) => configEntryId(id) === ref.config_entry_id);
  else if (ref.node_id !== undefined) {
    const m = matchIdPrefix(ref.node_id, ids);
    if ('match' in m) index = ids.indexOf(m.match);
    else if (m.error !== 'none') throw new PimError('invalid_params', `invalid params: 'node_id' ${m.error === 'ambiguous' ? 'matches several peers' : 'needs at least 8 hex characters'}`);
  } else {
    throw new PimError('invalid_params', "invalid params: give 'node_id' or 'config_entry_id'");
  }
  if (index < 0) throw new PimError('peer_not_found', 'no configured static peer matches', { hint: 'list them with `pim peers`' });
  return index;
}
