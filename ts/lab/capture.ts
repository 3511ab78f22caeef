// Packet captures inside a lab namespace: tcpdump writes a pcap file, stop()
// parses it. The capture is a lab process, so cleanup() ends a forgotten one.

import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import type { Lab, Node } from './netns.js';
import { parsePcap, type Frame } from './pcap.js';

export interface CaptureOptions {
  /** A tcpdump (pcap-filter) expression, e.g. 'udp port 51820'. */
  filter?: string;
  /** Bytes kept of each packet (tcpdump -s), e.g. only the headers of large ones. */
  snaplen?: number;
}

export interface Capture {
  /** The pcap file, inside a lab temp dir. */
  readonly file: string;
  /**
   * Waits until the frames written so far satisfy `done` (tcpdump writes
   * each frame as it reads it). Stopping right after traffic can lose what
   * tcpdump has not read yet on a busy machine; a test that needs every
   * frame waits for them first.
   */
  waitFor(what: string, done: (frames: Frame[]) => boolean, timeoutMs?: number): Promise<Frame[]>;
  /** Ends tcpdump and returns every frame it wrote. Calling it again returns the same frames. */
  stop(): Promise<Frame[]>;
}

const START_TIMEOUT_MS = 5000;
const STOP_TIMEOUT_MS = 5000;
const WAIT_TIMEOUT_MS = 10_000;
const POLL_MS = 25;
const PCAP_HEADER_BYTES = 24;

/** The frames in the file so far; none before tcpdump has written the file's header. */
async function readFrames(file: string): Promise<Frame[]> {
  const bytes = await readFile(file).catch(() => Buffer.alloc(0));
  return bytes.length < PCAP_HEADER_BYTES ? [] : parsePcap(bytes);
}

/** Resolves once tcpdump is listening, so traffic sent afterwards is in the capture. */
export async function startCapture(lab: Lab, node: Node, iface: string, opts: CaptureOptions = {}): Promise<Capture> {
  const file = join(await lab.tmpDir(), `${iface}.pcap`);
  // A capture stopped right after the traffic must have it all: --immediate-mode
  // hands tcpdump each packet at once (libpcap otherwise batches them for up to
  // a second and drops the batch on SIGINT), -U writes each to the file at once.
  const args = ['-i', iface, '--immediate-mode', '-U', '-n', '-w', file];
  if (opts.snaplen !== undefined) args.push('-s', String(opts.snaplen));
  if (opts.filter !== undefined) args.push(opts.filter);
  const tcpdump = lab.spawn(node, 'tcpdump', args);
  // tcpdump prints this on stderr once the capture socket is open.
  await tcpdump.waitForOutput(/listening on/, START_TIMEOUT_MS);

  let frames: Promise<Frame[]> | undefined;
  const finish = async (): Promise<Frame[]> => {
    tcpdump.kill('SIGINT');
    const status = await tcpdump.waitExit(STOP_TIMEOUT_MS);
    if (status.code !== 0) {
      const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
      throw new Error(`tcpdump on ${iface} in ${node.ns} ${how}; its output:\n${tcpdump.output().trim()}`);
    }
    return parsePcap(await readFile(file));
  };
  return {
    file,
    async waitFor(what, done, timeoutMs = WAIT_TIMEOUT_MS) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const sofar = await readFrames(file);
        if (done(sofar)) return sofar;
        if (Date.now() > deadline) throw new Error(`capture on ${iface} in ${node.ns}: timed out waiting for ${what} (${sofar.length} frames so far)`);
        await delay(POLL_MS);
      }
    },
    stop: () => (frames ??= finish()),
  };
}
