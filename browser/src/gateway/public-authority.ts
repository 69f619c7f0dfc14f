/** A Host header value we are willing to echo into URLs: host name, IPv4 or [IPv6], optional port. */
export function isSafeAuthority(value: string): boolean {
  return /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(value);
}
