// Config-stream keys on the controller side (src/sync/README.md, "What the controller must
// wire"): one random master key in the Secret `portico-sync-master` of the controller's own
// namespace (the leader creates it when absent, every replica reads it from its informer
// cache), each Gateway's key derived from it on demand, and the per-Gateway Secret `<name>-sync`
// the data-plane pod mounts.

import { createHmac, randomBytes } from 'node:crypto';
import type { Resource } from '../api/types.js';
import { Kind } from '../api/names.js';
import type { ApiClient } from '../sources/kubernetes.js';
import { deriveGatewayKey, encodeKey, MASTER_KEY_BYTES, PSK_FILE } from '../sync/credentials.js';
import { syncSecretName } from '../provision/index.js';
import type { ProvisionedObject } from '../provision/index.js';
import { createObject } from './apply.js';

export const MASTER_SECRET = 'portico-sync-master';
export const MASTER_KEY = 'master';

export interface SecretReader {
  get(kind: string, namespace: string | undefined, name: string): Resource | undefined;
}

export class SyncKeys {
  private cached?: { raw: string; master: Buffer };
  private readonly derived = new Map<string, Buffer>();

  constructor(
    private readonly store: SecretReader,
    /** The controller's namespace, where the master key lives. */
    readonly namespace: string,
  ) {}

  /** The master key from the informer cache, if the Secret exists and holds 32 bytes or more. */
  master(): Buffer | undefined {
    const s = this.store.get(Kind.Secret, this.namespace, MASTER_SECRET) as (Resource & { data?: Record<string, string> }) | undefined;
    const raw = s?.data?.[MASTER_KEY];
    if (!raw) return undefined;
    if (this.cached?.raw !== raw) {
      const master = Buffer.from(raw, 'base64');
      if (master.length < MASTER_KEY_BYTES) return undefined;
      this.cached = { raw, master };
      this.derived.clear();
    }
    return this.cached.master;
  }

  /**
   * Seed of the session persistence token keys (TranslateOptions.sessionSeed): derived from the
   * master key, so every controller replica, and so every data plane, agrees. Undefined without it.
   */
  sessionSeed(): string | undefined {
    const master = this.master();
    return master ? createHmac('sha256', master).update('portico-session-seed/v1').digest('hex') : undefined;
  }

  /** Gateway `namespace/name`'s key, or undefined while there is no master key. */
  keyOf(gateway: string): Buffer | undefined {
    const master = this.master();
    if (!master) return undefined;
    let k = this.derived.get(gateway);
    if (!k) this.derived.set(gateway, (k = deriveGatewayKey(master, gateway)));
    return k;
  }

  /** Leader: create the master key Secret unless it exists (another leader may race: 409 is fine); `log` says when it did. */
  async ensureMaster(client: ApiClient, log: (m: string) => void): Promise<void> {
    if (this.master()) return;
    const created = await createObject(client, 'Secret', this.namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: MASTER_SECRET, namespace: this.namespace, labels: { 'app.kubernetes.io/name': 'portico', 'app.kubernetes.io/component': 'controller' } },
      type: 'Opaque',
      data: { [MASTER_KEY]: randomBytes(MASTER_KEY_BYTES).toString('base64') },
    });
    if (created) log(`created the config-stream master key Secret ${this.namespace}/${MASTER_SECRET}`);
  }

  /**
   * The Secret `<name>-sync` of a provisioned data plane (`identity`: the Gateway's `namespace/name`, or
   * `GatewayClass/<class>` merged), metadata like the other provisioned
   * objects (labels, owner reference), `data.psk` its key; undefined without a master key.
   */
  gatewaySecret(identity: string, meta: ProvisionedObject['metadata']): Record<string, unknown> | undefined {
    const key = this.keyOf(identity);
    if (!key) return undefined;
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { ...meta, name: syncSecretName(meta.name!) },
      type: 'Opaque',
      data: { [PSK_FILE]: Buffer.from(encodeKey(key)).toString('base64') },
    };
  }
}
