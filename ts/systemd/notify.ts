// Under systemd with Type=notify, pim-daemon says READY=1 once its control
// socket answers and its engine is up, so `systemctl start pim` returns when
// `pim status` works. Anywhere else ($NOTIFY_SOCKET unset) it does nothing.

import type { Logger } from '../log/logger.js';
import { sdNotify } from '../native/binding.js';

export function notifyReady(logger: Logger): void {
  const socket = process.env['NOTIFY_SOCKET'];
  if (socket === undefined || socket === '') return;
  try {
    sdNotify(socket, 'READY=1');
  } catch (err) {
    // systemd will time the start out and say so; the journal says why.
    logger.error({ event: 'sd_notify_failed', reason: (err as Error).message }, (err as Error).message);
  }
}
