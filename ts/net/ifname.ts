// Linux interface names, checked before any reaches `ip` or `nft` (the
// config, the control socket and the OS layer all use this one rule).

const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** Null when `s` is a valid interface name, else what is wrong with it. */
export function interfaceNameProblem(s: string): string | null {
  if (INTERFACE_NAME.test(s) && s !== '.' && s !== '..') return null;
  return `expected an interface name of 1 to 15 letters, digits, "_", "." or "-", got ${JSON.stringify(s)}`;
}
