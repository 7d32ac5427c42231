/**
 * Which addresses a calendar feed may be downloaded from. A site manager chooses the feed URL, so
 * without a rule they could make the hub fetch its own admin endpoints, the router, or a cloud
 * metadata service, and learn from the answer (server-side request forgery). By default only
 * public unicast addresses are allowed; `--calendar-private-feeds` lets a home hub read a
 * calendar served on its own network.
 */
import { BlockList, isIP } from "node:net";

const NOT_PUBLIC = new BlockList();
// IPv4 special-purpose ranges (RFC 6890 and successors) that never name a public calendar server.
for (const [net, prefix] of [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local (cloud metadata services live here)
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of [
  ["::", 127], // unspecified and loopback
  ["64:ff9b::", 96], // NAT64 (embeds IPv4)
  ["100::", 64], // discard
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
] as const)
  NOT_PUBLIC.addSubnet(net, prefix, "ipv6");

/** True for a public unicast IP address (v4 or v6); false for anything else, including non-IPs. */
export function isPublicAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) return !NOT_PUBLIC.check(address, "ipv4");
  if (version !== 6) return false;
  // IPv4-mapped (::ffff:a.b.c.d) is judged as its IPv4 address; no IPv6 rule may cover that
  // range, since BlockList checks IPv4 addresses against IPv6 rules in mapped form too.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) return isPublicAddress(mapped);
  return !NOT_PUBLIC.check(address, "ipv6");
}
