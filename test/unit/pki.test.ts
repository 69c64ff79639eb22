// The cluster PKI (shared/auth/pki.ts): the CA, the certificates it issues and the names they hold,
// checked with Node's own X.509 parser and TLS verification, not with the library that made them.
import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { createServer, connect, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { CA_VALIDITY_DAYS, KUBELET_CLIENT, apiServingNames, generateCa, issueCertificate, keyMatchesCertificate, selfSignedCertificate, subjectAltNames, verifyIssuedBy, type CertificateAndKey } from '../../shared/auth/pki.ts';

const ca = generateCa();
const otherCa = generateCa('another-ca');

test('the CA is a self-signed CA certificate valid for ten years, whose key is its own', (t) => {
  const cert = new X509Certificate(ca.cert);
  t.true(cert.ca);
  t.is(cert.subject, 'CN=wharf-ca');
  t.is(cert.issuer, 'CN=wharf-ca');
  t.true(cert.verify(cert.publicKey));
  t.true(keyMatchesCertificate(ca.key, ca.cert));
  const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
  t.true(days > CA_VALIDITY_DAYS - 1 && days <= CA_VALIDITY_DAYS, String(days));
  t.true(Date.parse(cert.validFrom) < Date.now(), 'valid already, for a peer whose clock lags');
  t.regex(ca.key, /^-----BEGIN PRIVATE KEY-----/);
});

test('two CAs made apart are different: replicas must share the stored one', (t) => {
  t.not(ca.cert, otherCa.cert);
  t.false(keyMatchesCertificate(ca.key, otherCa.cert));
});

test('the API server\'s names: the kubernetes Service\'s IP and DNS names, loopback and its own addresses', (t) => {
  const names = apiServingNames({ addresses: ['10.0.0.5', 'Node-1', undefined, '10.0.0.5'], kubernetesServiceIp: '10.96.0.1', clusterDomain: 'cluster.local' });
  t.deepEqual(names.dnsNames, ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost', 'node-1']);
  t.deepEqual(names.ipAddresses, ['127.0.0.1', '10.96.0.1', '10.0.0.5']);
  t.deepEqual(apiServingNames({ addresses: [], kubernetesServiceIp: '10.1.0.1', clusterDomain: 'corp.example' }).dnsNames.at(3), 'kubernetes.default.svc.corp.example');
});

test('subjectAltNames splits addresses from DNS names, once each', (t) => {
  t.deepEqual(subjectAltNames(['a.example', '1.2.3.4', 'A.example', '::1', '', undefined, '1.2.3.4']), { dnsNames: ['a.example'], ipAddresses: ['1.2.3.4', '::1'] });
});

test('a serving certificate holds its names, serverAuth only, and chains to the CA', (t) => {
  const serving = issueCertificate(ca, { commonName: 'kube-apiserver', usages: ['server'], ...apiServingNames({ addresses: ['192.168.1.7'], kubernetesServiceIp: '10.96.0.1', clusterDomain: 'cluster.local' }) });
  const cert = new X509Certificate(serving.cert);
  t.false(cert.ca);
  t.is(cert.subject, 'CN=kube-apiserver');
  t.is(cert.issuer, 'CN=wharf-ca');
  t.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  for (const name of ['kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost']) t.is(cert.checkHost(name), name);
  for (const ip of ['127.0.0.1', '10.96.0.1', '192.168.1.7']) t.is(cert.checkIP(ip), ip);
  t.is(cert.checkIP('10.96.0.2'), undefined);
  t.true(verifyIssuedBy(serving.cert, ca.cert));
  t.false(verifyIssuedBy(serving.cert, otherCa.cert));
  t.true(keyMatchesCertificate(serving.key, serving.cert));
});

test('a client certificate names the user (CN) and groups (O), clientAuth only', (t) => {
  const jane = issueCertificate(ca, { commonName: 'jane', organizations: ['devs', 'ops'], usages: ['client'] });
  const cert = new X509Certificate(jane.cert);
  t.is(cert.subject, 'O=devs\nO=ops\nCN=jane');
  t.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  t.is(cert.subjectAltName, undefined);
});

test('a certificate is not valid past its lifetime, nor before it starts', (t) => {
  const old = issueCertificate(ca, { commonName: 'old', usages: ['client'], validityDays: 1 }, new Date(Date.now() - 3 * 86_400_000));
  t.false(verifyIssuedBy(old.cert, ca.cert));
  const future = issueCertificate(ca, { commonName: 'future', usages: ['client'] }, new Date(Date.now() + 3 * 86_400_000));
  t.false(verifyIssuedBy(future.cert, ca.cert));
});

test('a self-signed certificate is its own issuer and chains to no CA', (t) => {
  const own = selfSignedCertificate({ commonName: 'node-1', usages: ['server'], ...subjectAltNames(['node-1', '10.0.0.9']) });
  const cert = new X509Certificate(own.cert);
  t.is(cert.issuer, 'CN=node-1');
  t.true(cert.verify(cert.publicKey));
  t.false(verifyIssuedBy(own.cert, ca.cert));
  t.is(cert.checkIP('10.0.0.9'), '10.0.0.9');
});

/** A TLS handshake with a server that asks for a client certificate verified against the CA: what the server sees. */
async function handshake(server: CertificateAndKey, client: CertificateAndKey | undefined, trust: string): Promise<{ authorized: boolean; error?: string; subject?: string }> {
  const srv = createServer({ key: server.key, cert: server.cert, ca: [trust], requestCert: true, rejectUnauthorized: false });
  const seen = new Promise<{ authorized: boolean; error?: string; subject?: string }>((resolve) => srv.once('secureConnection', (s: TLSSocket) => {
    const peer = s.getPeerCertificate();
    resolve({ authorized: s.authorized, error: s.authorizationError ? String(s.authorizationError) : undefined, subject: peer.subject?.CN as string | undefined });
    s.end();
  }));
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const socket = connect({ port: (srv.address() as AddressInfo).port, host: '127.0.0.1', ca: [ca.cert], cert: client?.cert, key: client?.key });
  socket.on('error', () => undefined);
  try {
    return await seen;
  } finally {
    socket.destroy();
    srv.close();
  }
}

test('TLS: the CA\'s client certificate is authorized, another CA\'s or a server certificate is not', async (t) => {
  const serving = issueCertificate(ca, { commonName: 'kube-apiserver', usages: ['server'], ...apiServingNames({ addresses: [], kubernetesServiceIp: '10.96.0.1', clusterDomain: 'cluster.local' }) });
  const kubeletClient = issueCertificate(ca, { commonName: KUBELET_CLIENT.commonName, organizations: [...KUBELET_CLIENT.organizations], usages: ['client'] });
  t.like(await handshake(serving, kubeletClient, ca.cert), { authorized: true, subject: 'kube-apiserver-kubelet-client' });
  const foreign = issueCertificate(otherCa, { commonName: 'mallory', usages: ['client'] });
  t.like(await handshake(serving, foreign, ca.cert), { authorized: false, subject: 'mallory' });
  // A serving certificate of the CA is no client certificate (its extended key usage says so).
  t.like(await handshake(serving, serving, ca.cert), { authorized: false });
  t.like(await handshake(serving, undefined, ca.cert), { authorized: false, subject: undefined });
});
