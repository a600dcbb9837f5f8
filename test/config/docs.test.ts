import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { CONFIG_DOCS_PATH, renderConfigDocs } from '../../scripts/gen-config-docs.ts';
import { listConfigKeys } from '../../src/config/schema.ts';

it('docs/config.md matches the schema (run `npm run docs:config` after changing it)', () => {
  assert.equal(readFileSync(CONFIG_DOCS_PATH, 'utf8'), renderConfigDocs());
});

it('documents every key with its environment variable', () => {
  const docs = renderConfigDocs();
  for (const key of listConfigKeys()) {
    assert.ok(docs.includes(`### \`${key.key}\``), key.key);
    assert.ok(docs.includes(`\`${key.env}\``), key.env);
    if (key.flag !== undefined) assert.ok(docs.includes(`\`--${key.flag}\``), key.flag);
  }
});
