// The trust store: every peer this node has trusted, by node_id, with the
// underlay address it was first seen at (TOFU pins) or that the user paired
// it at. Written atomically; a store that cannot be read stops the daemon,
// because silently starting empty would forget pins and widen trust.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { PimError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { isNodeId, nodeIdFromPublicKey, parsePublicKeyHex } from '../identity/node-id.js';

export type TrustSource = 'tofu' | 'paired';

export interface TrustRecord {
  nodeId: string;
  publicKey: string;
  /** ip:port the peer was seen at (TOFU) or paired at; null when unknown. */
  endpoint: string | null;
  source: TrustSource;
  firstSeen: string;
}

const VERSION = 1;

function corrupt(file: string, why: string): PimError {
  return new PimError('trust_store_corrupt', `trust store ${file} is unusable: ${why}; refusing to start with fewer pins than it holds`, {
    hint: `repair it, or move it away deliberately (that forgets every pin: peers will be trusted on first use again)`,
  });
}

function parseRecord(raw: unknown, i: number, file: string): TrustRecord {
  const r = raw as Record<string, unknown>;
  const where = `peers[${i}]`;
  if (typeof r !== 'object' || r === null) throw corrupt(file, `${where} is not an object`);
  const publicKey = r.public_key;
  if (typeof publicKey !== 'string' || parsePublicKeyHex(publicKey) === null) throw corrupt(file, `${where}.public_key is not 64 lowercase hex`);
  const nodeId = nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));
  if (r.node_id !== nodeId || !isNodeId(nodeId)) throw corrupt(file, `${where}.node_id does not match its public_key`);
  if (r.endpoint !== null && typeof r.endpoint !== 'string') throw corrupt(file, `${where}.endpoint is neither a string nor null`);
  if (r.source !== 'tofu' && r.source !== 'paired') throw corrupt(file, `${where}.source must be "tofu" or "paired"`);
  if (typeof r.first_seen !== 'string' || Number.isNaN(Date.parse(r.first_seen))) throw corrupt(file, `${where}.first_seen is not a date`);
  return { nodeId, publicKey, endpoint: r.endpoint, source: r.source, firstSeen: r.first_seen };
}

export class TrustStore {
  private readonly byNodeId = new Map<string, TrustRecord>();

  private constructor(readonly file: string) {}

  static async load(file: string): Promise<TrustStore> {
    const store = new TrustStore(file);
    let text: string;
    try {
      text = await fs.promises.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw corrupt(file, (err as Error).message);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw corrupt(file, `not valid JSON (${(err as Error).message})`);
    }
    const d = doc as { version?: unknown; peers?: unknown };
    if (typeof doc !== 'object' || doc === null || d.version !== VERSION) throw corrupt(file, `expected {"version": ${VERSION}, "peers": [...]}`);
    if (!Array.isArray(d.peers)) throw corrupt(file, '"peers" is not an array');
    d.peers.forEach((raw, i) => {
      const rec = parseRecord(raw, i, file);
      if (store.byNodeId.has(rec.nodeId)) throw corrupt(file, `node ${rec.nodeId} is listed twice`);
      store.byNodeId.set(rec.nodeId, rec);
    });
    return store;
  }

  get records(): TrustRecord[] {
    return [...this.byNodeId.values()];
  }

  get(nodeId: string): TrustRecord | undefined {
    return this.byNodeId.get(nodeId);
  }

  /** Records a peer; false when nothing changed. An existing pin keeps its first-seen time. */
  set(publicKey: string, endpoint: string | null, source: TrustSource, now: Date): boolean {
    const nodeId = nodeIdFromPublicKey(Buffer.from(publicKey, 'hex'));
    const old = this.byNodeId.get(nodeId);
    if (old && old.endpoint === endpoint && old.source === source) return false;
    this.byNodeId.set(nodeId, { nodeId, publicKey, endpoint, source, firstSeen: old?.firstSeen ?? now.toISOString() });
    return true;
  }

  /** A function that puts every record back as it is now (for a change the engine refused). */
  checkpoint(): () => void {
    const saved = new Map(this.byNodeId);
    return () => {
      this.byNodeId.clear();
      for (const [k, v] of saved) this.byNodeId.set(k, v);
    };
  }

  /** Drops a peer's record (and with it its pin). */
  forget(nodeId: string): TrustRecord | undefined {
    const old = this.byNodeId.get(nodeId);
    this.byNodeId.delete(nodeId);
    return old;
  }

  async save(): Promise<void> {
    await fs.promises.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const peers = this.records.map((r) => ({
      node_id: r.nodeId,
      public_key: r.publicKey,
      endpoint: r.endpoint,
      source: r.source,
      first_seen: r.firstSeen,
    }));
    await writeFileAtomic(this.file, `${JSON.stringify({ version: VERSION, peers }, null, 2)}\n`, 0o600);
  }
}
