// Edits to the config file's text that keep everything outside the edited
// entry as the user wrote it: comments, order, spacing. Only [[peers]]
// entries are edited this way (peers.add_static / peers.remove).

import { PimError } from '../errors.js';
import { indexKeys } from './locate.js';
import type { PeerConfig } from './schema.js';

/** A TOML basic string: JSON's escapes are a subset TOML accepts. */
const tomlString = (s: string): string => JSON.stringify(s);

export function appendPeer(text: string, peer: PeerConfig): string {
  const lines = ['[[peers]]', `address = ${tomlString(peer.address)}`, `public_key = ${tomlString(peer.public_key)}`];
  if (peer.label !== null) lines.push(`label = ${tomlString(peer.label)}`);
  const sep = text === '' || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
  return `${text}${sep}${lines.join('\n')}\n`;
}

/** Removes the lines of the `index`-th [[peers]] entry: its header through its last key. */
export function removePeer(text: string, index: number): string {
  const keys = indexKeys(text);
  const header = keys.get(`peers[${index}]`);
  const lines = text.split('\n');
  if (!header || !lines[header.line - 1]!.trimStart().startsWith('[[')) {
    throw new PimError('config_save_rejected', 'the peer is not written as a [[peers]] table; edit the config file by hand');
  }
  let last = header.line;
  for (const [path, pos] of keys) if (path.startsWith(`peers[${index}].`)) last = Math.max(last, pos.line);
  lines.splice(header.line - 1, last - header.line + 1);
  // Do not leave a run of blank lines where the entry was.
  const at = header.line - 1;
  while (at > 0 && at < lines.length && lines[at - 1]!.trim() === '' && lines[at]!.trim() === '') lines.splice(at, 1);
  return lines.join('\n');
}

/**
 * Sets `[table] key = value` in place: the key's line is rewritten if the
 * key is there, inserted after the table header if the table is, or a new
 * table is appended. null removes the key.
 */
export function setKey(text: string, table: string, key: string, value: boolean | string | null): string {
  const keys = indexKeys(text);
  const lines = text.split('\n');
  const at = keys.get(`${table}.${key}`);
  const line = value === null ? null : `${key} = ${typeof value === 'string' ? tomlString(value) : String(value)}`;
  if (at) {
    const old = lines[at.line - 1]!;
    // Keep a trailing comment on the edited line.
    const comment = /\s+#[^"']*$/.exec(old)?.[0] ?? '';
    if (line === null) lines.splice(at.line - 1, 1);
    else lines[at.line - 1] = `${old.slice(0, at.column - 1)}${line}${comment}`;
    return lines.join('\n');
  }
  if (line === null) return text;
  const header = keys.get(table);
  if (header && lines[header.line - 1]!.trimStart().startsWith('[')) {
    lines.splice(header.line, 0, line);
    return lines.join('\n');
  }
  const sep = text === '' || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
  return `${text}${sep}[${table}]\n${line}\n`;
}
