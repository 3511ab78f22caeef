// A real terminal for tests: a program running in a tmux pane on a tmux
// server of the test's own (its socket in a temp dir), driven with send-keys
// and read with capture-pane. Conditions are waited for, never slept on.

import type { ExecutionContext } from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { commandLine, run } from '../../ts/lab/exec.js';

export interface TmuxOptions {
  width?: number;
  height?: number;
  env?: NodeJS.ProcessEnv;
}

export class Tmux {
  private constructor(private readonly socket: string) {}

  /** Starts `argv` in a new pane; the server and its socket go when the test ends. */
  static async start(t: ExecutionContext, argv: readonly string[], opts: TmuxOptions = {}): Promise<Tmux> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pim-tmux-'));
    const tmux = new Tmux(path.join(dir, 'sock'));
    t.teardown(async () => {
      await tmux.tmux(['kill-server']).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const env = { ...(opts.env ?? process.env), TERM: 'xterm-256color' };
    // The pane stays after the program exits, so its last screen and exit status can be read.
    const conf = path.join(dir, 'tmux.conf');
    fs.writeFileSync(conf, 'set-option -g remain-on-exit on\n');
    await run('tmux', ['-S', tmux.socket, '-f', conf, 'new-session', '-d', '-x', String(opts.width ?? 120), '-y', String(opts.height ?? 40), commandLine(argv[0]!, argv.slice(1))], {
      env,
      timeoutMs: 10_000,
    });
    return tmux;
  }

  private tmux(args: string[]): Promise<string> {
    return run('tmux', ['-S', this.socket, ...args], { timeoutMs: 10_000 }).then((r) => r.stdout);
  }

  /** Keys as tmux names them: literal text, or 'Enter', 'Tab', 'C-c', 'C-u'. */
  async send(...keys: string[]): Promise<void> {
    await this.tmux(['send-keys', ...keys]);
  }

  /** Literal text, never read as key names. */
  async type(text: string): Promise<void> {
    await this.tmux(['send-keys', '-l', text]);
  }

  /** The visible screen, one string per row, trailing spaces trimmed. */
  async screen(): Promise<string[]> {
    return (await this.tmux(['capture-pane', '-p'])).split('\n').map((l) => l.trimEnd());
  }

  /** The screen with its colours and attributes as escape sequences. */
  async screenWithEscapes(): Promise<string> {
    return this.tmux(['capture-pane', '-p', '-e']);
  }

  /** The program's exit status once it has exited (128 + the signal if one ended it), else null. */
  async exitStatus(): Promise<number | null> {
    const [dead, status, signal] = (await this.tmux(['display-message', '-p', '#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}'])).trim().split(':');
    if (dead !== '1') return null;
    return signal ? 128 + Number(signal) : Number(status);
  }

  /** The program's exit status once it exits; fails the test (and answers null) if it does not in time. */
  async waitForExit(t: ExecutionContext, timeoutMs = 20_000): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.exitStatus();
      if (status !== null) return status;
      if (Date.now() > deadline) {
        t.fail(`the program did not exit within ${timeoutMs} ms; the screen:\n${(await this.screen()).join('\n')}`);
        return null;
      }
      await delay(50);
    }
  }

  /** Waits until `check` holds for the screen; fails the test with the last screen if it never does. */
  async waitFor(t: ExecutionContext, what: string, check: (screen: string[]) => boolean, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.screen();
      if (check(screen)) return screen;
      if (Date.now() > deadline) {
        t.fail(`timed out waiting for ${what}; the screen:\n${screen.join('\n')}`);
        return screen;
      }
      await delay(50);
    }
  }
}
