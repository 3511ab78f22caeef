// Newline-delimited framing for the control socket: one JSON document per line.
//
// Splitting on the byte 0x0A before decoding is safe because UTF-8 never uses
// that byte inside a multi-byte sequence, so a character cut between two chunks
// is reassembled before it is decoded.

import { PimError } from '../errors';

/** The longest request line the daemon accepts, in bytes (newline excluded). */
export const MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

export class LineSplitter {
  // The unfinished line is kept as the chunks it arrived in and concatenated
  // once, when its newline comes, so each byte is copied a bounded number of
  // times however finely the stream is cut.
  private parts: Buffer[] = [];
  private partsLength = 0;

  constructor(private readonly maxLineBytes: number = MAX_LINE_BYTES) {}

  /**
   * Feeds one chunk and returns the lines it completes, without their line
   * ending (`\n` or `\r\n`); blank lines are skipped. Throws
   * PimError('invalid_request') once the unfinished line exceeds the limit:
   * the stream cannot be resynchronised, so the caller must drop it.
   */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline === -1) break;
      this.take(chunk.subarray(start, newline));
      const line = this.finishLine();
      if (line.length > 0) lines.push(line);
      start = newline + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
    return lines;
  }

  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    this.partsLength += piece.length;
    // One byte of slack lets a line of exactly the limit end in "\r\n".
    if (this.partsLength > this.maxLineBytes + 1) this.overflow();
    this.parts.push(piece);
  }

  private finishLine(): string {
    if (this.parts.length === 0) return '';
    const whole = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsLength);
    this.parts = [];
    this.partsLength = 0;
    const end = whole[whole.length - 1] === CARRIAGE_RETURN ? whole.length - 1 : whole.length;
    if (end > this.maxLineBytes) this.overflow();
    return whole.toString('utf8', 0, end);
  }

  private overflow(): never {
    this.parts = [];
    this.partsLength = 0;
    throw new PimError('invalid_request', `line longer than ${this.maxLineBytes} bytes (the limit); closing the connection`);
  }
}
