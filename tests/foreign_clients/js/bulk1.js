// Drives jsforce's Bulk API 1.0 client (`conn.bulk`), unchanged, against the emulator:
// `node bulk1.js <scenario>` with the scenario's input as JSON on stdin; prints one JSON line.
// Connection details come from EMU_* variables; the CA is trusted through NODE_EXTRA_CA_CERTS.
'use strict';
const jsforce = require('jsforce');

const env = process.env;

function records(stream) {
  return new Promise((resolve, reject) => {
    const rows = [];
    stream.on('record', (r) => rows.push(r)).on('end', () => resolve(rows)).on('error', reject);
  });
}

const scenarios = {
  // load() for each DML operation (a job, one CSV batch, polling, results, close), then query().
  async load_and_query(input) {
    const conn = new jsforce.Connection({ instanceUrl: env.EMU_INSTANCE_URL, accessToken: env.EMU_SESSION_ID,
      version: '59.0' });
    conn.bulk.pollInterval = 100;
    const counts = (results) => [results.filter((r) => r.success).length, results.filter((r) => !r.success).length];
    const inserted = await conn.bulk.load('Task', 'insert', input.inserts);
    const ids = inserted.filter((r) => r.success).map((r) => r.id);
    const upserted = await conn.bulk.load('Task', 'upsert', { extIdField: 'Sales_Connect_Id__c' }, input.upserts);
    const updated = await conn.bulk.load('Task', 'update', ids.map((Id) => ({ Id, Status: 'Completed' })));
    const deleted = await conn.bulk.load('Task', 'delete', [{ Id: ids[0] }]);
    const queried = await records(await conn.bulk.query('SELECT Id, Subject, Status FROM Task'));
    return {
      inserted: counts(inserted), insertErrors: inserted.filter((r) => !r.success).map((r) => r.errors[0]),
      upserted: counts(upserted), upsertCreated: upserted.map((r) => r.created),
      updated: counts(updated), deleted: counts(deleted), deletedId: ids[0],
      queried: queried.map((r) => ({ Id: r.Id, Subject: r.Subject, Status: r.Status })),
    };
  },
};

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const input = JSON.parse(Buffer.concat(chunks).toString() || '{}');
  const result = await scenarios[process.argv[2]](input);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n${JSON.stringify(err)}\n`);
  process.exit(1);
});
