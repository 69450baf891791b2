// Who may receive a Gateway's config: TLS 1.3 with an external pre-shared key (TLS-PSK), one
// key per Gateway. The PSK identity is the Gateway, `namespace/name`; the server looks the key
// up by that identity, so a handshake only completes for a client holding that Gateway's key,
// and the connection is then bound to that Gateway. Both sides prove the key (mutual
// authentication, no certificates, no CA to run); the handshake still does an (EC)DHE key
// exchange (OpenSSL's psk_dhe_ke), so the stream has forward secrecy.
//
// Keys: HMAC-SHA256(master key, "portico-sync/v1 " + gateway). The controller keeps one
// random master key (a Secret in its own namespace) and derives every Gateway's key from it,
// so it needs no per-Gateway state to answer a handshake; it writes each Gateway's key into a
// Secret the data-plane pod mounts (README.md: what the controller creates).

import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SyncError } from './errors.js';

/** The Secret key (and file name in the mounted volume) holding the Gateway's key as 64 hex digits. */
export const PSK_FILE = 'psk';
/** Where provisioned pods mount that Secret (`portico dataplane --credentials`). */
export const DEFAULT_CREDENTIALS_DIR = '/var/run/portico/sync';
/** Master key length, bytes. */
export const MASTER_KEY_BYTES = 32;

/** The key of Gateway `gateway` (`namespace/name`) under `master` (32 bytes). */
export function deriveGatewayKey(master: Buffer, gateway: string): Buffer {
  if (master.length < MASTER_KEY_BYTES) throw new SyncError('SYNC_CREDENTIALS', `master key has ${master.length} bytes, needs ${MASTER_KEY_BYTES}`);
  return createHmac('sha256', master).update(`portico-sync/v1 ${gateway}`).digest();
}

/** The text of the `psk` Secret entry for a key. */
export function encodeKey(key: Buffer): string {
  return key.toString('hex');
}

/** A key from its text form (64 hex digits, surrounding whitespace ignored). */
export function decodeKey(text: string, where: string): Buffer {
  const t = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(t)) throw new SyncError('SYNC_CREDENTIALS', `${where}: expected 64 hex digits (a 32-byte key)`);
  return Buffer.from(t, 'hex');
}

/** Reads `<dir>/psk`; read on every connect, so a rotated Secret is picked up without a restart. */
export async function readGatewayKey(dir: string): Promise<Buffer> {
  const file = path.join(dir, PSK_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SyncError('SYNC_CREDENTIALS', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeKey(text, file);
}
