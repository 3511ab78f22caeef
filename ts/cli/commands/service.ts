// `pim service install`: pim-daemon as a systemd service, from the unit pim
// ships, pointed at this installation.

import { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PimError } from '../../errors.js';
import { writeFileAtomic } from '../../fs/atomic.js';
import { renderUnit, UNIT_CONFIG, UNIT_PATH } from '../../systemd/unit.js';
import { commandGroup } from '../group.js';
import { helpFooter } from '../help.js';

function installCommand(): Command {
  return new Command('install')
    .description(`write ${UNIT_PATH} for this pim (pim-daemon -c ${UNIT_CONFIG}) and reload systemd`)
    .option('--force', 'replace a unit file that differs (your edits to it are lost)')
    .addHelpText('after', helpFooter({ env: [], examples: ['sudo pim config init && sudo pim service install && sudo systemctl enable --now pim'] }))
    .action(async (opts: { force?: boolean }) => {
      const unit = renderUnit([process.execPath, path.join(__dirname, '..', '..', 'main.js')]);
      const current = fs.existsSync(UNIT_PATH) ? fs.readFileSync(UNIT_PATH, 'utf8') : null;
      if (current !== null && current !== unit && !opts.force) {
        throw new PimError('io_failed', `${UNIT_PATH} exists and differs from the unit this pim would write`, { hint: 'pass --force to replace it' });
      }
      try {
        await writeFileAtomic(UNIT_PATH, unit, 0o644);
      } catch (err) {
        const denied = (err as NodeJS.ErrnoException).code === 'EACCES';
        throw new PimError('io_failed', `cannot write ${UNIT_PATH}: ${(err as Error).message}`, denied ? { hint: 'run it as root: sudo pim service install' } : {});
      }
      process.stdout.write(`wrote ${UNIT_PATH}\n`);
      // Without systemd running (a container, a chroot) there is nothing to reload yet.
      if (fs.existsSync('/run/systemd/system')) {
        execFileSync('systemctl', ['daemon-reload'], { stdio: 'inherit' });
        process.stdout.write('start it now and at every boot with: sudo systemctl enable --now pim\n');
      } else {
        process.stdout.write('systemd is not running here; once it is: systemctl daemon-reload && systemctl enable --now pim\n');
      }
    });
}

export function serviceCommand(): Command {
  return commandGroup('service', 'run pim-daemon as a systemd service', [installCommand()]);
}
