// core/v1 ConfigMap (Kubernetes pkg/registry/core/configmap/strategy.go).
import type { StatusCause } from '../../types.ts';
import { schemaFor } from '../../api/schemas.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { base64Errors, configKeyErrors, dataBytes, immutableDataErrors, tooLarge } from './config-data.ts';
import { duplicate } from '../../api/validation.ts';

export const configMapStrategy = defineStrategy({
  resource: resourceInfo({ plural: 'configmaps', kind: 'ConfigMap', shortNames: ['cm'] }),
  schema: schemaFor('ConfigMap'),
  nameErrors: NAMES.subdomain,
  validate(cm) {
    const out: StatusCause[] = [];
    for (const key of Object.keys(cm.data ?? {})) out.push(...configKeyErrors(`data[${key}]`, key));
    for (const [key, value] of Object.entries(cm.binaryData ?? {})) {
      out.push(...configKeyErrors(`binaryData[${key}]`, key));
      if (cm.data && key in cm.data) out.push(duplicate(`binaryData[${key}]`, key));
      out.push(...base64Errors(`binaryData[${key}]`, value, '<binary data>'));
    }
    out.push(...tooLarge(dataBytes(cm.data, false) + dataBytes(cm.binaryData, true)));
    return out;
  },
  validateUpdate: (cm, old) => immutableDataErrors(cm, old, ['data', 'binaryData']),
  columns: [NAME, { name: 'Data', type: 'integer', description: 'Number of data items.', cell: (c) => Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length }, AGE],
});
