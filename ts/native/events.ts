// Engine events arrive from the addon as loosely typed objects; this is
// where they become the EngineEvent union, so a mismatch between the Rust
// and TypeScript sides fails loudly in one place instead of deep in a handler.

import type { EngineEvent } from './engine.js';

interface RawEvent {
  kind: string;
  publicKey?: string;
  endpoint?: string;
  meshIp?: string;
  source?: string;
  message?: string;
  payload?: string;
}

function need(raw: RawEvent, field: 'publicKey' | 'endpoint' | 'meshIp' | 'source' | 'message' | 'payload'): string {
  const v = raw[field];
  if (typeof v !== 'string') throw new Error(`engine event ${raw.kind} lacks ${field}`);
  return v;
}

export function decodeEvent(raw: RawEvent): EngineEvent {
  switch (raw.kind) {
    case 'connected':
      return { kind: 'connected', publicKey: need(raw, 'publicKey'), endpoint: need(raw, 'endpoint'), meshIp: need(raw, 'meshIp') };
    case 'disconnected':
      return { kind: 'disconnected', publicKey: need(raw, 'publicKey') };
    case 'handshake_timeout':
      return { kind: 'handshake_timeout', publicKey: need(raw, 'publicKey') };
    case 'endpoint_changed':
      return { kind: 'endpoint_changed', publicKey: need(raw, 'publicKey'), endpoint: need(raw, 'endpoint') };
    case 'handshake_rejected':
      return { kind: 'handshake_rejected', source: need(raw, 'source') };
    case 'untrusted':
      return { kind: 'untrusted', publicKey: need(raw, 'publicKey'), source: need(raw, 'source') };
    case 'revoked':
      return { kind: 'revoked', publicKey: need(raw, 'publicKey') };
    case 'mesh_ip_conflict':
      return { kind: 'mesh_ip_conflict', publicKey: need(raw, 'publicKey'), meshIp: need(raw, 'meshIp') };
    case 'control':
      return { kind: 'control', publicKey: need(raw, 'publicKey'), payload: Buffer.from(need(raw, 'payload'), 'hex') };
    case 'fault':
      return { kind: 'fault', message: need(raw, 'message') };
    default:
      throw new Error(`unknown engine event kind ${JSON.stringify(raw.kind)}`);
  }
}
