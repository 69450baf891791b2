// networking.k8s.io/v1 Ingress and IngressClass: the fields the API server checks and
// convert/serve.ts reads (Portico serves the Ingresses of its own IngressClasses).

import { any, arr, int, obj, str } from './validate-schema.js';

const serviceBackend = obj(
  { name: str({ min: 1 }), port: obj({ number: int({ min: 1, max: 65535 }), name: str({ min: 1 }) }) },
  { required: ['name'] },
);
const backend = obj({ service: serviceBackend, resource: obj({ apiGroup: str(), kind: str({ min: 1 }), name: str({ min: 1 }) }, { required: ['kind', 'name'] }) });

export const ingressSpec = obj({
  ingressClassName: str(),
  defaultBackend: backend,
  rules: arr(
    obj({
      host: str(),
      http: obj(
        { paths: arr(obj({ path: str(), pathType: str({ enum: ['Exact', 'Prefix', 'ImplementationSpecific'] }), backend }, { required: ['pathType', 'backend'] }), { min: 1 }) },
        { required: ['paths'] },
      ),
    }),
  ),
  tls: arr(obj({ hosts: arr(str()), secretName: str() })),
});

export const ingressClassSpec = obj({ controller: str({ max: 250 }), parameters: any() });
