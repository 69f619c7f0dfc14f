import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A PEM certificate and its private key on disk. */
export interface CertificateFiles {
  certPath: string;
  keyPath: string;
}

/** What a leaf certificate is for: a TLS server (with SANs) or a client identity (user and groups). */
export type LeafCertificateRequest =
  | { kind: 'server'; commonName: string; ipAddresses: string[]; dnsNames: string[] }
  | { kind: 'client'; user: string; groups: string[] };

const VALID_DAYS = '3650';
const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
// Kubernetes maps CN to the user name and each O to a group; keep them to characters that need no escaping.
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:._@+-]*$/;

/** Throws a clear error unless `value` is usable as a certificate user or group name. */
export function assertCertificateName(what: 'user' | 'group', value: string): void {
  if (!NAME_PATTERN.test(value) || value.length > 64) {
    throw new Error(
      `Invalid ${what} name ${JSON.stringify(value)}: use 1-64 characters from letters, digits and ":._@+-", ` +
        'starting with a letter or digit (e.g. "alice", "system:serviceaccount:ns:name").',
    );
  }
}

/** The openssl `-subj` for a request: CN plus one O per group. */
export function subjectFor(request: LeafCertificateRequest): string {
  if (request.kind === 'server') return `/CN=${request.commonName}`;
  assertCertificateName('user', request.user);
  for (const group of request.groups) assertCertificateName('group', group);
  return [`/CN=${request.user}`, ...request.groups.map((group) => `/O=${group}`)].join('');
}

/** The openssl config (extension section `ext`) for a leaf certificate. */
export function leafConfigFor(request: LeafCertificateRequest): string {
  const lines = ['[req]', 'distinguished_name = dn', '[dn]', '[ext]', 'basicConstraints = critical,CA:FALSE'];
  if (request.kind === 'server') {
    const sans = [...request.ipAddresses.map((ip) => `IP:${ip}`), ...request.dnsNames.map((dns) => `DNS:${dns}`)];
    lines.push('keyUsage = critical,digitalSignature,keyEncipherment', 'extendedKeyUsage = serverAuth');
    if (sans.length > 0) lines.push(`subjectAltName = ${sans.join(',')}`);
  } else {
    lines.push('keyUsage = critical,digitalSignature,keyEncipherment', 'extendedKeyUsage = clientAuth');
  }
  return `${lines.join('\n')}\n`;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || (error as Error).message}`, { cause: error });
  }
}

/** Creates a self-signed certificate authority `<name>.crt`/`<name>.key` in `dir`. */
export async function createCertificateAuthority(dir: string, name: string, commonName: string): Promise<CertificateFiles> {
  await mkdir(dir, { recursive: true });
  const files = { certPath: path.join(dir, `${name}.crt`), keyPath: path.join(dir, `${name}.key`) };
  const config = path.join(dir, `${name}.cnf`);
  await writeFile(config, ['[req]', 'distinguished_name = dn', '[dn]', '[ext]',
    'basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign,digitalSignature',
    'subjectKeyIdentifier = hash', ''].join('\n'));
  await openssl(['req', '-x509', '-config', config, '-extensions', 'ext', ...KEY_ARGS, '-keyout', files.keyPath,
    '-out', files.certPath, '-days', VALID_DAYS, '-subj', `/CN=${commonName}`]);
  return files;
}

/** Issues a server or client certificate `<name>.crt`/`<name>.key` in `dir`, signed by `ca`. */
export async function issueCertificate(
  ca: CertificateFiles,
  dir: string,
  name: string,
  request: LeafCertificateRequest,
): Promise<CertificateFiles> {
  const subject = subjectFor(request);
  await mkdir(dir, { recursive: true });
  const files = { certPath: path.join(dir, `${name}.crt`), keyPath: path.join(dir, `${name}.key`) };
  const config = path.join(dir, `${name}.cnf`);
  await writeFile(config, leafConfigFor(request));
  await openssl(['req', '-x509', '-config', config, '-extensions', 'ext', ...KEY_ARGS, '-keyout', files.keyPath,
    '-out', files.certPath, '-days', VALID_DAYS, '-subj', subject, '-CA', ca.certPath, '-CAkey', ca.keyPath]);
  return files;
}

/** Creates the service-account signing key pair (`sa.key`, `sa.pub`) in `dir`. */
export async function createServiceAccountKeyPair(dir: string): Promise<{ privateKeyPath: string; publicKeyPath: string }> {
  await mkdir(dir, { recursive: true });
  const privateKeyPath = path.join(dir, 'sa.key');
  const publicKeyPath = path.join(dir, 'sa.pub');
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', privateKeyPath]);
  await openssl(['pkey', '-in', privateKeyPath, '-pubout', '-out', publicKeyPath]);
  return { privateKeyPath, publicKeyPath };
}
