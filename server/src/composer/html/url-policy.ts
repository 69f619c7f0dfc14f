import { BlockList, isIP } from 'node:net';
import { decodeCharacterReferences } from './parse-fragment.ts';

/**
 * The scheme of an absolute URL as a browser reads it, lower case without the colon; undefined for a relative or
 * unparsable URL. Uses the WHATWG URL parser (the browser's own algorithm: leading and trailing spaces and control
 * characters are stripped, tabs and newlines anywhere are removed), so `" java\tscript:x"` is `javascript`.
 */
export function absoluteUrlScheme(value: string): string | undefined {
  if (!URL.canParse(value)) return undefined;
  return new URL(value).protocol.slice(0, -1).toLowerCase();
}

/**
 * Addresses a lesson never links to: this machine, private networks, link-local (cloud metadata), CGNAT. BlockList
 * matches IPv4-mapped IPv6 addresses (`[::ffff:127.0.0.1]`) against the IPv4 rules.
 */
const INTERNAL_ADDRESSES = new BlockList();
for (const [network, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) {
  INTERNAL_ADDRESSES.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [['::', 127], ['fc00::', 7], ['fe80::', 10]] as const) INTERNAL_ADDRESSES.addSubnet(network, prefix, 'ipv6');

/**
 * True when a URL's host (as the WHATWG parser normalised it: `http://2130706433/` is `127.0.0.1`) is `localhost`,
 * a `.localhost` name, or an IP literal of this machine or an internal network.
 */
export function isInternalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = isIP(host);
  return family !== 0 && INTERNAL_ADDRESSES.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/** True when `value` is an absolute URL with one of `schemes` (lower case, without the colon) and, if it has a host, not an internal one. */
export function isAllowedUrl(value: string, schemes: readonly string[]): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return schemes.includes(url.protocol.slice(0, -1).toLowerCase()) && !isInternalHost(url.hostname);
}

/** Schemes that run script when a page navigates to them. */
const SCRIPT_SCHEMES = new Set(['javascript', 'vbscript']);

/** data: URL types a browser shows as an image and nothing more. */
const INERT_DATA_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp', 'text/plain']);

const MIME_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;

function isScriptUrlAsIs(value: string): boolean {
  const scheme = absoluteUrlScheme(value);
  if (scheme === undefined) return false;
  if (SCRIPT_SCHEMES.has(scheme)) return true;
  if (scheme !== 'data') return false;
  // The media type is what precedes the first ";" or ","; a value such as "Data: 2024 survey" has none and is text.
  const afterScheme = value.slice(value.indexOf(':') + 1);
  const mediaType = afterScheme.split(/[;,]/, 1)[0]?.trim().toLowerCase() ?? '';
  return MIME_TYPE.test(mediaType) && !INERT_DATA_TYPES.has(mediaType);
}

/**
 * True when a whole string value would run script if an app used it as a link, image or frame URL: a
 * `javascript:` or `vbscript:` URL, or a `data:` URL of a type a browser renders as a document or script
 * (`data:text/html`, `data:image/svg+xml`…). Checked as written and with character references decoded
 * (`jav&#x61;script:`, `javascript&colon;`), since an app may put the value into HTML.
 */
export function isScriptUrl(value: string): boolean {
  if (isScriptUrlAsIs(value)) return true;
  if (!value.includes('&')) return false;
  return isScriptUrlAsIs(decodeCharacterReferences(value));
}
