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

/** Where the value that follows `=` on `line` (from `from`) ends: a string, or a bare token. */
function valueSpan(line: string, from: number): [number, number] {
  const eq = line.indexOf('=', from);
  let start = eq + 1;
  while (line[start] === ' ' || line[start] === '\t') start++;
  const quote = line[start];
  if (quote === '"' || quote === "'") {
    let end = start + 1;
    while (end < line.length && line[end] !== quote) end += quote === '"' && line[end] === '\\' ? 2 : 1;
    return [start, end + 1];
  }
  let end = start;
  while (end < line.length && !/[\s,}#]/.test(line[end]!)) end++;
  return [start, end];
}

const handEdit = (): PimError =>
  new PimError('config_save_rejected', 'this setting is written in a form pim does not rewrite (an inline table); edit the config file by hand');

/**
 * Sets `[table] key = value` in the file's text, changing only the value's
 * own characters when the key is there (comments, inline tables, dotted
 * keys and CRLF endings stay as written); otherwise the key goes under the
 * table's header, beside the table's dotted keys, or into a new table at
 * the end. null removes a key that has a line of its own.
 */
export function setKey(text: string, table: string, key: string, value: boolean | string | null): string {
  const keys = indexKeys(text);
  const lines = text.split('\n');
  const cr = text.includes('\r\n') ? '\r' : '';
  const rendered = value === null ? null : typeof value === 'string' ? tomlString(value) : String(value);
  const at = keys.get(`${table}.${key}`);
  if (at) {
    const line = lines[at.line - 1]!;
    if (line.lastIndexOf('{', at.column) >= 0) {
      if (rendered === null) throw handEdit();
    } else if (rendered === null) {
      lines.splice(at.line - 1, 1);
      return lines.join('\n');
    }
    const [start, end] = valueSpan(line, at.column - 1);
    lines[at.line - 1] = `${line.slice(0, start)}${rendered}${line.slice(end)}`;
    return lines.join('\n');
  }
  if (rendered === null) return text;
  const header = keys.get(table);
  if (header) {
    const first = lines[header.line - 1]!.trimStart();
    if (first.startsWith('[')) lines.splice(header.line, 0, `${key} = ${rendered}${cr}`);
    else if (first.startsWith(`${table}.`)) lines.splice(header.line, 0, `${table}.${key} = ${rendered}${cr}`);
    else throw handEdit();
    return lines.join('\n');
  }
  const nl = `${cr}\n`;
  const sep = text === '' || text.endsWith(nl + nl) ? '' : text.endsWith('\n') ? nl : nl + nl;
  return `${text}${sep}[${table}]${nl}${key} = ${rendered}${nl}`;
}
