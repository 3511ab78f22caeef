// docs/RPC.md's wire types as a checker: every value a test recorded is
// written out as a TypeScript literal of the type the page declares for it
// (`Methods['status']['result']`, `Events['logs.event']`, ...), and the
// TypeScript compiler says what does not conform: a missing field, one the
// page does not declare, a wrong type or enum value.

import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const RPC_MD = path.join(__dirname, '..', '..', '..', 'docs', 'RPC.md');

/** The TypeScript of the page's ```ts blocks. */
export function contractSource(): string {
  const doc = fs.readFileSync(RPC_MD, 'utf8');
  return [...doc.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!).join('\n');
}

/** The methods the page's `interface Methods` declares. */
export function contractMethods(): string[] {
  const block = /^interface Methods \{\n([\s\S]*?)^\}$/m.exec(contractSource())?.[1] ?? '';
  return [...block.matchAll(/^ {2}'?([\w.]+)'?: \{/gm)].map((m) => m[1]!);
}

export interface Recorded {
  /** What the value is, for the problem report (e.g. `#12 status result`). */
  what: string;
  /** A type expression over the page's declarations. */
  type: string;
  value: unknown;
}

const FILE = 'contract-check.ts';
const OPTIONS: ts.CompilerOptions = { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, lib: ['lib.es5.d.ts'], types: [] };

/** Every way the values fail their types, one line each; empty when all conform. */
export function contractProblems(values: readonly Recorded[]): string[] {
  const head = contractSource();
  const literal = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v));
  // One value per line, so a problem's line says whose it is.
  const text = `${head}\n${values.map((v, i) => `const v${i}: ${v.type} = ${literal(v.value)};`).join('\n')}\n`;
  const firstValueLine = head.split('\n').length;
  const host = ts.createCompilerHost(OPTIONS);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => (name === FILE ? ts.createSourceFile(name, text, language) : getSourceFile(name, language, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === FILE || fileExists(name);
  const program = ts.createProgram([FILE], OPTIONS, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const v = values[line - firstValueLine];
    const where = v === undefined ? `docs/RPC.md's types (line ${line + 1} of the check)` : `${v.what} as ${v.type}`;
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}
