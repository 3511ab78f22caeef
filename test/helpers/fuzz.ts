// A small seeded generator for the parsers' fuzz tests (test/fuzz.test.ts):
// the same cases every run; `PIM_FUZZ_CASES=N` runs N cases per parser and
// `PIM_FUZZ_SEED=S` another sequence.

export const FUZZ_CASES = Number(process.env.PIM_FUZZ_CASES ?? 200);
export const FUZZ_SEED = Number(process.env.PIM_FUZZ_SEED ?? 0x5eed);

/** mulberry32: 32 bits of state, enough to vary test inputs reproducibly. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => this.int(256)));
  }
}

/** Tokens that tend to reach a parser's corners. */
const TOKENS = ['"', '\\', '{', '}', '[', ']', ',', ':', '=', '\n', '#', 'null', 'true', '-1', '1e999', '0x', '\u0000', 'é', '"""', '[[', ']]', '10.77.0.1', 'a'.repeat(70)];

/** `sample` changed in 1–4 places: bytes flipped, cut, duplicated, or a token put in. */
export function mutate(rng: Rng, sample: Buffer): Buffer {
  let b = Buffer.from(sample);
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const at = rng.int(b.length + 1);
    switch (rng.int(5)) {
      case 0:
        if (b.length > 0) b[Math.min(at, b.length - 1)]! ^= 1 << rng.int(8);
        break;
      case 1:
        b = b.subarray(0, at);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, at), b.subarray(rng.int(b.length + 1))]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, at), Buffer.from(rng.pick(TOKENS)), b.subarray(at)]);
        break;
      default:
        b = Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(8)), b.subarray(at)]);
    }
  }
  return b;
}

/** Runs `body` on FUZZ_CASES inputs: mutations of the samples, and now and then plain noise. Returns how many ran. */
export function fuzz(name: string, samples: readonly Buffer[], body: (input: Buffer, i: number) => void): number {
  const rng = new Rng(FUZZ_SEED ^ [...name].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7));
  for (let i = 0; i < FUZZ_CASES; i++) {
    const input = rng.int(8) === 0 ? rng.bytes(rng.int(300)) : mutate(rng, rng.pick(samples));
    try {
      body(input, i);
    } catch (err) {
      throw new Error(`${name}: case ${i} (seed ${FUZZ_SEED}) input ${JSON.stringify(input.toString('latin1'))}: ${(err as Error).message}`);
    }
  }
  return FUZZ_CASES;
}
