// IPv4/IPv6 addresses and CIDR blocks as bytes, for the egress policy
// (src/core/egress.ts). Only canonical text parses: dotted-decimal IPv4
// without leading zeros and RFC 4291 IPv6. Numeric shorthands such as
// 2130706433 or 0x7f.1 are the URL parser's job — callers pass hosts through
// `new URL` first, so this module never has to agree with it on them.

export interface IpAddress {
  version: 4 | 6;
  /** 4 bytes for IPv4, 16 for IPv6. */
  bytes: Uint8Array;
}

export interface Cidr {
  address: IpAddress;
  prefix: number;
}

/** "10.1.2.3" → its 4 bytes; undefined unless canonical dotted-decimal. */
export function parseIpv4(text: string): IpAddress | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return { version: 4, bytes };
}

/** "fd00::1", "::ffff:127.0.0.1", "[::1]" → 16 bytes; undefined when not IPv6. */
export function parseIpv6(text: string): IpAddress | undefined {
  let rest = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (!rest.includes(":")) return undefined;
  // A trailing dotted IPv4 stands for the last two 16-bit groups: rewrite it as them.
  const lastColon = rest.lastIndexOf(":");
  if (rest.slice(lastColon + 1).includes(".")) {
    const v4 = parseIpv4(rest.slice(lastColon + 1));
    if (!v4) return undefined;
    const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
    rest = `${rest.slice(0, lastColon + 1)}${hex(v4.bytes[0], v4.bytes[1])}:${hex(v4.bytes[2], v4.bytes[3])}`;
  }
  const halves = rest.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === "") return [];
    const out: number[] = [];
    for (const group of half.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
      out.push(parseInt(group, 16));
    }
    return out;
  };
  const head = groups(halves[0]);
  const after = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !after) return undefined;
  const given = head.length + after.length;
  let words: number[];
  if (halves.length === 2) {
    if (given > 7) return undefined;
    words = [...head, ...new Array<number>(8 - given).fill(0), ...after];
  } else {
    if (given !== 8) return undefined;
    words = head;
  }
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 0xff;
  });
  return { version: 6, bytes };
}

export function parseIp(text: string): IpAddress | undefined {
  return parseIpv4(text) ?? parseIpv6(text);
}

/** "10.0.0.0/8" → the block; throws when the prefix is out of range or host bits are set (a likely typo). */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const address = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!address || !/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > address.bytes.length * 8) return undefined;
  const cidr = { address, prefix };
  if (!sameBits(address.bytes, mask(cidr).bytes, address.bytes.length * 8)) {
    throw new RangeError(`${text} has bits set past its /${prefix} prefix (did you mean ${formatCidr(mask(cidr), prefix)}?)`);
  }
  return cidr;
}

/** The block's first address (host bits cleared). */
function mask(cidr: Cidr): IpAddress {
  const bytes = cidr.address.bytes.map((byte, i) => {
    const bits = Math.max(0, Math.min(8, cidr.prefix - 8 * i));
    return byte & ((0xff << (8 - bits)) & 0xff);
  });
  return { version: cidr.address.version, bytes };
}

function sameBits(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const bit = 7 - (i % 8);
    if (((a[i >> 3] >> bit) & 1) !== ((b[i >> 3] >> bit) & 1)) return false;
  }
  return true;
}

export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  return cidr.address.version === address.version && sameBits(cidr.address.bytes, address.bytes, cidr.prefix);
}

/** Whether two blocks share any address (one then contains the other). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.address.version !== b.address.version) return false;
  return sameBits(a.address.bytes, b.address.bytes, Math.min(a.prefix, b.prefix));
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), which sockets treat as that IPv4 address. */
export function mappedIpv4(address: IpAddress): IpAddress | undefined {
  if (address.version !== 6) return undefined;
  const b = address.bytes;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return undefined;
  if (b[10] !== 0xff || b[11] !== 0xff) return undefined;
  return { version: 4, bytes: b.slice(12) };
}

export function formatIp(address: IpAddress): string {
  if (address.version === 4) return Array.from(address.bytes).join(".");
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((address.bytes[i] << 8) | address.bytes[i + 1]).toString(16));
  // Compress the longest run of two or more zero groups, as RFC 5952 asks.
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && words[j] === "0") j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
  }
  if (best < 0) return words.join(":");
  return `${words.slice(0, best).join(":")}::${words.slice(best + bestLength).join(":")}`;
}

export function formatCidr(address: IpAddress, prefix: number): string {
  return `${formatIp(address)}/${prefix}`;
}
