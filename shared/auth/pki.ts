// The cluster's public key infrastructure: one CA kept with the cluster's state (Redis), and the
// certificates it issues — each API server's serving certificate, the API server's client
// certificate for node agents, the administrator's — as kubeadm's and k3s' certificate phases do.
// Keys are made by Node's crypto; certificates are built and signed with node-forge, since Node
// can parse X.509 but not issue it. Pure but for the clock and randomness.
import { generateKeyPairSync, randomBytes, X509Certificate, createPublicKey } from 'node:crypto';
import forge from 'node-forge';
import { ipv4ToInt } from '../util.ts';

/** A certificate and its private key, both PEM (the key PKCS#8). */
export interface CertificateAndKey {
  cert: string;
  key: string;
}

const DAY_MS = 86_400_000;
/** kubeadm's and k3s' CA lifetime. */
export const CA_VALIDITY_DAYS = 3650;
/** kubeadm's and k3s' leaf certificate lifetime; serving certificates are issued anew at every start anyway. */
export const LEAF_VALIDITY_DAYS = 365;
/** Certificates start this far in the past, so a peer whose clock lags a little accepts them at once. */
const BACKDATE_MS = 60 * 60 * 1000;

/** The identity the API server presents to node agents (kubeadm's apiserver-kubelet-client certificate). */
export const KUBELET_CLIENT = { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'] } as const;

export type Usage = 'server' | 'client';

export interface CertificateRequest {
  commonName: string;
  /** The subject's O attributes: for a client certificate, the user's groups. */
  organizations?: string[];
  usages: Usage[];
  dnsNames?: string[];
  ipAddresses?: string[];
  validityDays?: number;
}

function newKey(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

/** A positive 128-bit serial number (RFC 5280 allows up to 20 octets; the top bit clear keeps it positive). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01; // no leading zero octet, which DER would have to drop
  return bytes.toString('hex');
}

function subject(commonName: string, organizations: string[] = []): forge.pki.CertificateField[] {
  return [...organizations.map((value) => ({ name: 'organizationName', value })), { name: 'commonName', value: commonName }];
}

function validity(cert: forge.pki.Certificate, days: number, now: Date): void {
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + days * DAY_MS);
}

function toPem(cert: forge.pki.Certificate): string {
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}

/** A new self-signed certificate authority (kubeadm's "kubernetes" CA; here named for the cluster). */
export function generateCa(commonName = 'wharf-ca', now = new Date()): CertificateAndKey {
  const { privatePem, publicPem } = newKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  cert.serialNumber = serialNumber();
  validity(cert, CA_VALIDITY_DAYS, now);
  cert.setSubject(subject(commonName));
  cert.setIssuer(subject(commonName));
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privatePem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { cert: toPem(cert), key: privatePem };
}

/** Subject alternative names, split into DNS names and IP addresses (an entry that parses as IPv4 is an address). */
export function subjectAltNames(names: Iterable<string | undefined>): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = new Set<string>();
  const ipAddresses = new Set<string>();
  for (const name of names) {
    if (!name) continue;
    if (ipv4ToInt(name) !== undefined || name.includes(':')) ipAddresses.add(name);
    else dnsNames.add(name.toLowerCase());
  }
  return { dnsNames: [...dnsNames], ipAddresses: [...ipAddresses] };
}

/**
 * The names an API server's serving certificate holds (kubeadm's apiserver certificate): its own
 * addresses, loopback, the `kubernetes` Service's cluster IP and every DNS name a pod may use for it.
 */
export function apiServingNames(opts: { addresses: (string | undefined)[]; kubernetesServiceIp: string; clusterDomain: string }): { dnsNames: string[]; ipAddresses: string[] } {
  return subjectAltNames([
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    `kubernetes.default.svc.${opts.clusterDomain}`,
    'localhost',
    '127.0.0.1',
    opts.kubernetesServiceIp,
    ...opts.addresses,
  ]);
}

function leaf(req: CertificateRequest, issuer: { cert: forge.pki.Certificate; key: forge.pki.PrivateKey } | undefined, now: Date): CertificateAndKey {
  const { privatePem, publicPem } = newKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  cert.serialNumber = serialNumber();
  validity(cert, req.validityDays ?? LEAF_VALIDITY_DAYS, now);
  cert.setSubject(subject(req.commonName, req.organizations));
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : subject(req.commonName, req.organizations));
  const altNames = [
    ...(req.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(req.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: req.usages.includes('server'), clientAuth: req.usages.includes('client') },
    ...(altNames.length ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'subjectKeyIdentifier' },
    ...(issuer ? [{ name: 'authorityKeyIdentifier', keyIdentifier: issuer.cert.generateSubjectKeyIdentifier().getBytes() }] : []),
  ]);
  const signer = issuer?.key ?? forge.pki.privateKeyFromPem(privatePem);
  cert.sign(signer as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { cert: toPem(cert), key: privatePem };
}

/** A certificate (and its new key) signed by the CA. */
export function issueCertificate(ca: CertificateAndKey, req: CertificateRequest, now = new Date()): CertificateAndKey {
  return leaf(req, { cert: forge.pki.certificateFromPem(ca.cert), key: forge.pki.privateKeyFromPem(ca.key) }, now);
}

/** A self-signed certificate (a node agent's serving certificate: it holds no CA key to have one issued). */
export function selfSignedCertificate(req: CertificateRequest, now = new Date()): CertificateAndKey {
  return leaf(req, undefined, now);
}

/** Whether cert was signed by ca's key and is valid at `now` (what a TLS peer checks of a chain of one). */
export function verifyIssuedBy(certPem: string, caPem: string, now = new Date()): boolean {
  const cert = new X509Certificate(certPem);
  const ca = new X509Certificate(caPem);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
  return Date.parse(cert.validFrom) <= now.getTime() && now.getTime() <= Date.parse(cert.validTo);
}

/** Whether a private key (PEM) belongs to a certificate (PEM). */
export function keyMatchesCertificate(keyPem: string, certPem: string): boolean {
  const fromKey = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  const fromCert = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return fromKey.equals(fromCert);
}
