import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { binaryPath, tempDir } from './services.ts';

const run = promisify(execFile);

/** One certificate and its key: files (PEM) and their text. */
export interface CertPair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * A throw-away PKI made by `openssl` for one test file: a CA, a server certificate it signed for `127.0.0.1` and
 * `localhost`, a server certificate it signed for another host only, a client certificate (mutual TLS), and a second
 * CA nobody trusts. Keys are unencrypted PKCS#8 RSA (what Kafka's PEM key store, PostgreSQL and Mosquitto all read).
 */
export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: string;
  /** Signed by the CA for `IP:127.0.0.1, DNS:localhost`. */
  readonly server: CertPair;
  /** Signed by the CA for `DNS:elsewhere.invalid` only: a host-name mismatch on 127.0.0.1. */
  readonly wrongHost: CertPair;
  /** Signed by the CA for client authentication (CN `gridstream-client`). */
  readonly client: CertPair;
  /** A CA that signed nothing the servers use: trusting only it must fail. */
  readonly otherCaFile: string;
  remove(): Promise<void>;
}

/** Makes a {@link TestPki}; fails (CI) or skips (ad hoc) when openssl is not installed. */
export async function makeTestPki(t?: TestContext): Promise<TestPki | undefined> {
  const openssl = await binaryPath(t, ['/usr/bin/openssl'], 'openssl', 'apt-get install openssl');
  if (openssl === undefined) return undefined;
  const dir = await tempDir('gridstream-pki-');
  const at = (name: string): string => join(dir.path, name);
  const ssl = (args: string[]) => run(openssl, args, { cwd: dir.path });
  try {
    const ca = async (name: string) => {
      await ssl([
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        at(`${name}.key`),
        '-out',
        at(`${name}.pem`),
        '-days',
        '2',
        '-subj',
        `/CN=gridstream test ${name}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ]);
    };
    await ca('ca');
    await ca('other-ca');
    const leaf = async (name: string, cn: string, extensions: string): Promise<CertPair> => {
      await ssl(
        ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`)].concat([
          '-subj',
          `/CN=${cn}`,
        ]),
      );
      await writeFile(at(`${name}.ext`), `${extensions}\n`);
      await ssl([
        'x509',
        '-req',
        '-in',
        at(`${name}.csr`),
        '-CA',
        at('ca.pem'),
        '-CAkey',
        at('ca.key'),
        '-CAcreateserial',
        '-out',
        at(`${name}.pem`),
        '-days',
        '2',
        '-extfile',
        at(`${name}.ext`),
      ]);
      return {
        certFile: at(`${name}.pem`),
        keyFile: at(`${name}.key`),
        cert: await readFile(at(`${name}.pem`), 'utf8'),
        key: await readFile(at(`${name}.key`), 'utf8'),
      };
    };
    const serverExt = 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth';
    const server = await leaf('server', 'localhost', `subjectAltName=IP:127.0.0.1,DNS:localhost\n${serverExt}`);
    const wrongHost = await leaf(
      'wrong-host',
      'elsewhere.invalid',
      `subjectAltName=DNS:elsewhere.invalid\n${serverExt}`,
    );
    const client = await leaf(
      'client',
      'gridstream-client',
      'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth',
    );
    return {
      dir: dir.path,
      caFile: at('ca.pem'),
      ca: await readFile(at('ca.pem'), 'utf8'),
      server,
      wrongHost,
      client,
      otherCaFile: at('other-ca.pem'),
      remove: dir.remove,
    };
  } catch (error) {
    await dir.remove();
    throw error;
  }
}
