// The egress policy (src/core/egress.ts) and the address parsing under it
// (src/core/ip.ts): every denied range, the spellings that reach them, ports,
// the API host, and what EGRESS_ALLOW may and may not open.
import { describe, expect, it } from "vitest";
import {
  apiOrigin,
  classifyAddress,
  deniedCidrs,
  DENIED_RANGES,
  EgressConfigError,
  EgressPolicy,
  parseEgressRules,
} from "../../src/core/egress.js";
import { cidrContains, cidrsOverlap, formatIp, mappedIpv4, parseCidr, parseIp, parseIpv4, parseIpv6 } from "../../src/core/ip.js";

const policy = new EgressPolicy({ apiHost: "http://127.0.0.1:8787" });
const codeOf = (url: string, p = policy) => {
  const decision = p.checkUrl(url);
  return decision.kind === "denied" ? decision.code : decision.kind;
};

describe("ip parsing", () => {
  it("reads canonical IPv4 and nothing looser", () => {
    expect(Array.from(parseIpv4("10.1.2.3")!.bytes)).toEqual([10, 1, 2, 3]);
    for (const loose of ["2130706433", "0x7f.0.0.1", "127.1", "0177.0.0.1", "1.2.3.256", "1.2.3", "1.2.3.4.5", "", "a.b.c.d", " 1.2.3.4"]) {
      expect(parseIpv4(loose), loose).toBeUndefined();
    }
  });

  it("reads IPv6 in every RFC 4291 form", () => {
    expect(formatIp(parseIpv6("::1")!)).toBe("::1");
    expect(formatIp(parseIpv6("[::1]")!)).toBe("::1");
    expect(formatIp(parseIpv6("::")!)).toBe("::");
    expect(formatIp(parseIpv6("0:0:0:0:0:0:0:1")!)).toBe("::1");
    expect(formatIp(parseIpv6("FD00:EC2::254")!)).toBe("fd00:ec2::254");
    expect(formatIp(parseIpv6("::ffff:127.0.0.1")!)).toBe("::ffff:7f00:1");
    expect(formatIp(parseIpv6("1:2:3:4:5:6:7::")!)).toBe("1:2:3:4:5:6:7:0");
    expect(formatIp(parseIpv6("1:0:0:2:0:0:0:3")!)).toBe("1:0:0:2::3");
    for (const bad of ["1::2::3", ":1::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "::ffff:1.2.3", "::g", "1.2.3.4"]) {
      expect(parseIpv6(bad), bad).toBeUndefined();
    }
  });

  it("finds the IPv4 address inside an IPv4-mapped IPv6 address", () => {
    expect(formatIp(mappedIpv4(parseIp("::ffff:7f00:1")!)!)).toBe("127.0.0.1");
    expect(mappedIpv4(parseIp("::7f00:1")!)).toBeUndefined();
    expect(mappedIpv4(parseIp("127.0.0.1")!)).toBeUndefined();
  });

  it("matches and overlaps CIDR blocks, and refuses host bits past the prefix", () => {
    const ten = parseCidr("10.0.0.0/8")!;
    expect(cidrContains(ten, parseIp("10.255.0.1")!)).toBe(true);
    expect(cidrContains(ten, parseIp("11.0.0.1")!)).toBe(false);
    expect(cidrContains(ten, parseIp("::ffff:a00:1")!)).toBe(false);
    expect(cidrContains(parseCidr("0.0.0.0/0")!, parseIp("8.8.8.8")!)).toBe(true);
    expect(cidrContains(parseCidr("fc00::/7")!, parseIp("fdff::1")!)).toBe(true);
    expect(cidrContains(parseCidr("fc00::/7")!, parseIp("fe00::1")!)).toBe(false);
    expect(cidrsOverlap(parseCidr("10.1.0.0/16")!, ten)).toBe(true);
    expect(cidrsOverlap(parseCidr("11.0.0.0/8")!, ten)).toBe(false);
    expect(() => parseCidr("10.0.0.1/8")).toThrow("did you mean 10.0.0.0/8?");
    expect(parseCidr("10.0.0.0/33")).toBeUndefined();
    expect(parseCidr("10.0.0.0")).toBeUndefined();
  });
});

describe("denied ranges", () => {
  const cases: [string, string][] = [
    ["0.1.2.3", "loopback"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::", "loopback"],
    ["::1", "loopback"],
    ["169.254.169.254", "metadata"],
    ["169.254.170.2", "metadata"],
    ["100.100.100.200", "metadata"],
    ["fd00:ec2::254", "metadata"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["fc00::1", "private"],
    ["fd12:3456::1", "private"],
    ["fec0::1", "private"],
    ["169.254.0.1", "link-local"],
    ["fe80::1", "link-local"],
    ["febf::1", "link-local"],
    ["100.64.0.1", "shared"],
    ["100.127.255.255", "shared"],
    ["192.0.0.8", "reserved"],
    ["192.0.2.2", "reserved"],
    ["192.88.99.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["198.19.255.255", "reserved"],
    ["198.51.100.1", "reserved"],
    ["203.0.113.1", "reserved"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"],
    ["::7f00:1", "reserved"],
    ["100::1", "reserved"],
    ["2001:db8::1", "reserved"],
    ["ff02::1", "multicast"],
    // IPv4-mapped IPv6 is the IPv4 address to a socket.
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "metadata"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:0.0.0.0", "loopback"],
  ];
  it.each(cases)("%s is %s", (address, category) => {
    expect(classifyAddress(address)?.category).toBe(category);
  });

  it("leaves public addresses alone, right next to the denied ones", () => {
    for (const address of [
      "1.1.1.1",
      "8.8.8.8",
      "9.255.255.255",
      "11.0.0.0",
      "100.63.255.255",
      "100.128.0.0",
      "126.255.255.255",
      "128.0.0.0",
      "169.253.255.255",
      "172.15.255.255",
      "172.32.0.0",
      "192.167.255.255",
      "192.169.0.0",
      "223.255.255.255",
      "::ffff:8.8.8.8",
      "2606:4700:4700::1111",
      "2001:4860:4860::8888",
      "fbff::1",
      "2a00:1450::1",
    ]) {
      expect(classifyAddress(address), address).toBeUndefined();
    }
  });

  it("exports every range as CIDR text, IPv4 ranges in their mapped form too", () => {
    const cidrs = deniedCidrs();
    for (const range of DENIED_RANGES) expect(cidrs).toContain(range.cidr);
    expect(cidrs).toContain("::ffff:7f00:0/104");
    expect(cidrs).toContain("::ffff:a9fe:a9fe/128");
    expect(cidrs).toContain("::ffff:a00:0/104");
    for (const cidr of cidrs) expect(parseCidr(cidr), cidr).toBeDefined();
  });
});

describe("checkUrl", () => {
  it("serves the API host's exact origin as the API, even on loopback", () => {
    expect(policy.checkUrl("http://127.0.0.1:8787/api/v1/namespaces/_/actions")).toEqual({ kind: "api" });
    expect(policy.checkUrl(new URL("http://127.0.0.1:8787/"))).toEqual({ kind: "api" });
    // Another port, scheme or spelling of the same machine is not the API host.
    expect(codeOf("http://127.0.0.1:8788/")).toBe("loopback");
    expect(codeOf("https://127.0.0.1:8787/")).toBe("loopback");
    expect(codeOf("http://localhost:8787/")).toBe("loopback");
    expect(codeOf("http://[::1]:8787/")).toBe("loopback");
    expect(codeOf("http://127.0.0.2:8787/")).toBe("loopback");
  });

  it("compares with the configured API host's origin", () => {
    const configured = new EgressPolicy({ apiHost: "https://whisk.example.com/" });
    expect(configured.checkUrl("https://WHISK.example.com:443/api/v1")).toEqual({ kind: "api" });
    expect(configured.checkUrl("http://whisk.example.com/api/v1")).toEqual({ kind: "allowed", host: "whisk.example.com", port: 80 });
  });

  it("lets public hosts out with their canonical host and port", () => {
    expect(policy.checkUrl("https://example.com/x")).toEqual({ kind: "allowed", host: "example.com", port: 443 });
    expect(policy.checkUrl("http://example.com./x")).toEqual({ kind: "allowed", host: "example.com", port: 80 });
    expect(policy.checkUrl("http://8.8.8.8:8080/")).toEqual({ kind: "allowed", host: "8.8.8.8", port: 8080 });
    expect(policy.checkUrl("http://[2606:4700::1111]/")).toEqual({ kind: "allowed", host: "[2606:4700::1111]", port: 80 });
    expect(policy.checkUrl("https://xn--bcher-kva.example/")).toMatchObject({ kind: "allowed" });
  });

  it("sees through the numeric spellings the URL parser accepts", () => {
    for (const url of [
      "http://2130706433/",
      "http://0x7f000001/",
      "http://0x7f.1/",
      "http://127.1/",
      "http://0177.0.0.1/",
      "http://0177.1/",
      "http://127.0.0.1./",
      "http://0/",
      "http://0.0.0.0/",
      "http://[::ffff:127.0.0.1]/",
      "http://[::ffff:7f00:1]/",
      "http://[0:0:0:0:0:ffff:7f00:1]/",
      "http://[::1]/",
      "http://[0::1]/",
      "http://[::]/",
    ]) {
      expect(codeOf(url), url).toBe("loopback");
    }
    expect(codeOf("http://2852039166/latest/meta-data/")).toBe("metadata");
    expect(codeOf("http://0xa9fea9fe/")).toBe("metadata");
    expect(codeOf("http://[::ffff:a9fe:a9fe]/")).toBe("metadata");
    expect(codeOf("http://167772161/")).toBe("private");
    expect(codeOf("http://012.0.0.1/")).toBe("private");
  });

  it("refuses localhost names, local and private-use names", () => {
    expect(codeOf("http://localhost/")).toBe("loopback");
    expect(codeOf("http://LOCALHOST./")).toBe("loopback");
    expect(codeOf("http://api.localhost/")).toBe("loopback");
    expect(codeOf("http://metadata.google.internal/computeMetadata/v1/")).toBe("metadata");
    expect(codeOf("http://metadata/")).toBe("internal-name");
    expect(codeOf("http://postgres:5432/")).toBe("internal-name");
    expect(codeOf("http://invoker-0.invoker.default.svc.cluster.local:8080/")).toBe("internal-name");
    expect(codeOf("http://db.internal/")).toBe("internal-name");
    expect(codeOf("http://printer.local/")).toBe("internal-name");
    expect(codeOf("http://router.home.arpa/")).toBe("internal-name");
    expect(codeOf("http://box.localdomain/")).toBe("internal-name");
    expect(codeOf("http://internal.example.com/")).toBe("allowed");
  });

  it("refuses what is not an http(s) URL", () => {
    expect(codeOf("ftp://example.com/")).toBe("scheme");
    expect(codeOf("file:///etc/passwd")).toBe("scheme");
    expect(codeOf("not a url")).toBe("invalid");
  });
});

describe("checkSocket", () => {
  it("normalises the address before deciding, and hands back the form it checked", () => {
    expect(policy.checkSocket("2130706433:5432")).toMatchObject({ kind: "denied", code: "loopback" });
    expect(policy.checkSocket("0x7f.1:5432")).toMatchObject({ kind: "denied", code: "loopback" });
    expect(policy.checkSocket("[::1]:22")).toMatchObject({ kind: "denied", code: "loopback" });
    expect(policy.checkSocket("[::ffff:127.0.0.1]:22")).toMatchObject({ kind: "denied", code: "loopback" });
    expect(policy.checkSocket("localhost:6379")).toMatchObject({ kind: "denied", code: "loopback" });
    expect(policy.checkSocket("169.254.169.254:80")).toMatchObject({ kind: "denied", code: "metadata" });
    expect(policy.checkSocket("10.0.0.1:5432")).toMatchObject({ kind: "denied", code: "private" });
    expect(policy.checkSocket("EXAMPLE.com:443")).toEqual({ kind: "allowed", host: "example.com", port: 443 });
    expect(policy.checkSocket("8.8.8.8:53")).toEqual({ kind: "allowed", host: "8.8.8.8", port: 53 });
  });

  it("keeps the port whatever it is, the schemes' defaults included", () => {
    expect(policy.checkSocket("example.com:80")).toMatchObject({ port: 80 });
    expect(policy.checkSocket("example.com:443")).toMatchObject({ port: 443 });
    expect(policy.checkSocket("[2606:4700::1111]:80")).toMatchObject({ kind: "allowed", host: "[2606:4700::1111]", port: 80 });
  });

  it("refuses what is not host:port", () => {
    for (const address of ["example.com", "example.com:0x50", "example.com:99999", "1.2.3.4:80/x", "user@1.2.3.4:80", ""]) {
      expect(policy.checkSocket(address), address).toMatchObject({ kind: "denied", code: "invalid" });
    }
  });
});

describe("EGRESS_ALLOW", () => {
  const allowing = (allow: string) => new EgressPolicy({ apiHost: "http://127.0.0.1:8787", allow });

  it("opens a CIDR block on any port", () => {
    const p = allowing("10.20.0.0/16");
    expect(p.checkUrl("http://10.20.3.4:9000/")).toEqual({ kind: "allowed", host: "10.20.3.4", port: 9000, allowedBy: "10.20.0.0/16" });
    expect(p.checkSocket("10.20.3.4:5432")).toMatchObject({ kind: "allowed", allowedBy: "10.20.0.0/16" });
    expect(p.checkUrl("http://[::ffff:10.20.3.4]/")).toMatchObject({ kind: "allowed" });
    expect(codeOf("http://10.21.0.1/", p)).toBe("private");
  });

  it("opens an address only on the port it names", () => {
    const p = allowing(" 10.1.2.3:5432 , [fd12::5]:8080,fd12::6 ");
    expect(p.checkSocket("10.1.2.3:5432")).toMatchObject({ kind: "allowed", allowedBy: "10.1.2.3:5432" });
    expect(p.checkUrl("http://167838211:5432/")).toMatchObject({ kind: "allowed" });
    expect(codeOf("http://10.1.2.3/", p)).toBe("private");
    expect(p.checkSocket("10.1.2.3:5433")).toMatchObject({ kind: "denied", code: "private" });
    expect(p.checkUrl("http://[fd12::5]:8080/")).toMatchObject({ kind: "allowed", allowedBy: "[fd12::5]:8080" });
    expect(codeOf("http://[fd12::5]/", p)).toBe("private");
    expect(p.checkUrl("http://[fd12:0::6]:1234/")).toMatchObject({ kind: "allowed", allowedBy: "fd12::6" });
  });

  it("opens private-use names, with or without a port", () => {
    const p = allowing("db.internal:5432,cache");
    expect(p.checkSocket("DB.internal.:5432")).toMatchObject({ kind: "allowed", allowedBy: "db.internal:5432" });
    expect(p.checkSocket("db.internal:22")).toMatchObject({ kind: "denied", code: "internal-name" });
    expect(p.checkUrl("http://cache:6379/")).toMatchObject({ kind: "allowed", allowedBy: "cache" });
  });

  it("opens other reserved ranges, but never loopback or metadata", () => {
    expect(allowing("100.64.0.0/16").checkUrl("http://100.64.1.1/")).toMatchObject({ kind: "allowed" });
    expect(allowing("169.254.1.0/24").checkUrl("http://169.254.1.9/")).toMatchObject({ kind: "allowed" });
    expect(allowing("fc00::/8").checkUrl("http://[fc00::1]/")).toMatchObject({ kind: "allowed" });
  });

  it("refuses entries that would open loopback or a metadata endpoint, saying which", () => {
    const refusals: [string, string][] = [
      ["127.0.0.1", "would open loopback (127.0.0.0/8)"],
      ["127.0.0.1:5432", "would open loopback (127.0.0.0/8)"],
      ["2130706433:80", "would open loopback (127.0.0.0/8)"],
      ["[::1]:80", "would open loopback (::1/128)"],
      ["::1", "would open loopback (::1/128)"],
      ["[::ffff:127.0.0.1]:80", "would open loopback (127.0.0.0/8)"],
      ["0.0.0.0", "would open this host (0.0.0.0/8)"],
      ["localhost", "would open a localhost name (loopback)"],
      ["db.localhost:5432", "would open a localhost name (loopback)"],
      ["127.0.0.0/8", "would open loopback (127.0.0.0/8)"],
      ["0.0.0.0/0", "would open this host (0.0.0.0/8)"],
      ["::/0", "would open this host (::/128)"],
      ["::ffff:0:0/96", "would open this host (0.0.0.0/8)"],
      ["169.254.169.254", "would open cloud metadata service (169.254.169.254/32)"],
      ["169.254.0.0/16", "would open cloud metadata service (169.254.169.254/32)"],
      ["[fd00:ec2::254]:80", "would open AWS IPv6 metadata service (fd00:ec2::254/128)"],
      ["fd00::/8", "would open AWS IPv6 metadata service (fd00:ec2::254/128)"],
      ["100.64.0.0/10", "would open Alibaba Cloud metadata service (100.100.100.200/32)"],
      ["metadata.google.internal", "would open the name of a cloud metadata service"],
    ];
    for (const [entry, why] of refusals) {
      expect(() => parseEgressRules(entry), entry).toThrow(EgressConfigError);
      expect(() => allowing(`10.0.0.0/8,${entry}`), entry).toThrow(`EGRESS_ALLOW entry "${entry}" ${why}, which actions may never reach`);
    }
  });

  it("refuses malformed entries", () => {
    expect(() => allowing("10.0.0.1/8")).toThrow('EGRESS_ALLOW entry "10.0.0.1/8": 10.0.0.1/8 has bits set past its /8 prefix (did you mean 10.0.0.0/8?)');
    expect(() => allowing("10.0.0.0/40")).toThrow("not a CIDR block");
    expect(() => allowing("db internal")).toThrow("expected a CIDR block, an IP address or a host name");
    expect(() => allowing("http://db.internal/")).toThrow("not a URL");
    expect(() => allowing("db.internal:99999")).toThrow("expected a CIDR block");
  });

  it("is empty when unset or blank", () => {
    expect(parseEgressRules(undefined)).toEqual([]);
    expect(parseEgressRules(" , ,")).toEqual([]);
  });
});

describe("protected destinations", () => {
  it("are never reachable, public or allowed", () => {
    const p = new EgressPolicy({ allow: "10.0.0.0/8", protect: "10.0.0.5:5432, nats.example.com:4222, 203.0.113.0/24" });
    expect(p.checkSocket("10.0.0.5:5432")).toMatchObject({ kind: "denied", code: "protected" });
    expect(p.checkSocket("10.0.0.5:5433")).toMatchObject({ kind: "allowed" });
    expect(p.checkSocket("nats.example.com:4222")).toMatchObject({ kind: "denied", code: "protected" });
    expect(p.checkUrl("http://nats.example.com/")).toMatchObject({ kind: "allowed" });
    // A protect list may name loopback (that is the point); an allow list may not.
    expect(() => new EgressPolicy({ protect: "127.0.0.1:5432" })).not.toThrow();
  });
});

describe("apiOrigin", () => {
  it("reduces an API_HOST setting to its origin", () => {
    expect(apiOrigin("https://whisk.example.com/")).toBe("https://whisk.example.com");
    expect(apiOrigin("https://whisk.example.com:443/api/v1")).toBe("https://whisk.example.com");
    expect(apiOrigin("http://127.0.0.1:8787")).toBe("http://127.0.0.1:8787");
  });

  it("refuses what is not an http(s) URL", () => {
    expect(() => apiOrigin("whisk.example.com")).toThrow('API_HOST "whisk.example.com" is not a URL such as https://whisk.example.com');
    expect(() => apiOrigin("ftp://whisk.example.com")).toThrow("must be an http: or https: URL");
  });
});
