// `pim completion bash|zsh` in the real shells, in a terminal (tmux): typing
// a unique prefix of every command and subcommand name and pressing Tab
// completes it; option values complete from their choices.

import test, { type ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../ts/lab/exec.js';
import { Tmux } from './helpers/tmux.js';
import { tempDir } from './helpers/tmp.js';

const CLI_JS = path.join(__dirname, '..', 'ts', 'cli.js');

/** Every command name by the command it belongs to ('' is `pim` itself). */
const NAMES: Record<string, string[]> = {
  '': ['up', 'down', 'status', 'peers', 'ping', 'route', 'gateway', 'watch', 'logs', 'id', 'config', 'service', 'completion', 'help'],
  peers: ['forget', 'pair', 'add', 'remove'],
  route: ['on', 'off', 'status'],
  gateway: ['enable', 'disable', 'status'],
  config: ['check', 'init', 'show'],
  service: ['install'],
};

/** The shortest prefix of `name` that no other name in `names` starts with. */
function uniquePrefix(name: string, names: readonly string[]): string {
  for (let n = 1; n <= name.length; n++) {
    const p = name.slice(0, n);
    if (names.every((o) => o === name || !o.startsWith(p))) return p;
  }
  return name;
}

const CASES: Array<[typed: string, completed: string]> = [
  ...Object.entries(NAMES).flatMap(([parent, names]) =>
    names.map((n): [string, string] => {
      const before = parent === '' ? 'pim ' : `pim ${parent} `;
      return [before + uniquePrefix(n, names), `${before}${n} `];
    }),
  ),
  ['pim logs --level wa', 'pim logs --level warn '],
  ['pim completion z', 'pim completion zsh '],
  ['pim -c /etc/pim.toml pe', 'pim -c /etc/pim.toml peers '],
  ['pim peers --js', 'pim peers --json '],
  ['pim help pe', 'pim help peers '],
];

async function shellIn(t: ExecutionContext, shell: 'bash' | 'zsh'): Promise<Tmux> {
  const dir = tempDir(t, 'pim-completion-');
  const script = (await run(process.execPath, [CLI_JS, 'completion', shell])).stdout;
  // No history file: bash writes one on its way out, into a directory the teardown is removing.
  const env = { PATH: process.env['PATH'], HOME: dir, LANG: 'C.UTF-8', HISTFILE: '' };
  let term: Tmux;
  if (shell === 'bash') {
    fs.writeFileSync(path.join(dir, 'pim.bash'), script);
    term = await Tmux.start(t, ['bash', '--norc', '--noprofile'], { env });
    await term.type(`PS1='$ '; source ${dir}/pim.bash; clear`);
  } else {
    // Installed as the docs say: a file _pim in a directory of $fpath.
    fs.writeFileSync(path.join(dir, '_pim'), script);
    term = await Tmux.start(t, ['zsh', '-f'], { env });
    await term.type(`PS1='$ '; fpath=(${dir} $fpath); autoload -U compinit; compinit -u -d ${dir}/zcompdump; clear`);
  }
  await term.send('Enter');
  await term.waitFor(t, `${shell} ready`, (s) => s[0] === '$' && s.slice(1).every((l) => l === ''));
  return term;
}

for (const shell of ['bash', 'zsh'] as const) {
  test(`${shell}: Tab completes every command and subcommand name, and option values`, async (t) => {
    t.timeout(120_000);
    const term = await shellIn(t, shell);
    for (const [typed, completed] of CASES) {
      await term.type(typed);
      await term.send('Tab');
      const screen = await term.waitFor(t, `${JSON.stringify(typed)} to complete to ${JSON.stringify(completed)}`, (s) => s[0] === `$ ${completed.trimEnd()}`);
      t.is(screen[0], `$ ${completed.trimEnd()}`);
      // Clear the line for the next case.
      await term.send('C-u');
      await term.waitFor(t, 'an empty prompt', (s) => s[0] === '$');
    }
  });
}
