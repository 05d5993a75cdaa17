// Drives jsforce, unchanged, against the emulator: `node driver.js <scenario>` with the scenario's
// input as JSON on stdin; prints one JSON line with what the client saw. Connection details come
// from EMU_* variables; the CA is trusted through NODE_EXTRA_CA_CERTS.
'use strict';
const jsforce = require('jsforce');

const env = process.env;
const VERSION = '59.0';

function direct(version = VERSION) {
  return new jsforce.Connection({ instanceUrl: env.EMU_INSTANCE_URL, accessToken: env.EMU_SESSION_ID, version });
}

function oauth2() {
  return { loginUrl: env.EMU_INSTANCE_URL, clientId: env.EMU_CLIENT_ID, clientSecret: env.EMU_CLIENT_SECRET };
}

async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (err) {
    return { name: err.name, errorCode: err.errorCode, message: err.message };
  }
}

// Every record of a query, following its locators as jsforce's autoFetch does.
async function readAll(conn, soql, scanAll) {
  const records = [];
  await new Promise((resolve, reject) => {
    conn.query(soql).on('record', (r) => records.push(r)).on('end', resolve).on('error', reject)
      .run({ autoFetch: true, maxFetch: 1e6, scanAll });
  });
  return records;
}

const scenarios = {
  // SOAP login (jsforce's default), the identity URL, then logout through SOAP.
  async soap_login() {
    const conn = new jsforce.Connection({ loginUrl: env.EMU_INSTANCE_URL, version: VERSION });
    const userInfo = await conn.login(env.EMU_USERNAME, env.EMU_PASSWORD);
    const identity = await conn.identity();
    const count = (await conn.query('SELECT COUNT() FROM Task')).totalSize;
    await conn.logout();
    const reuse = new jsforce.Connection({ instanceUrl: conn.instanceUrl || env.EMU_INSTANCE_URL, version: VERSION,
      accessToken: userInfo.accessToken });
    return { userInfo, identity, count, reused: await failure(reuse.query('SELECT Id FROM Task')) };
  },

  // OAuth 2.0 password grant, identity, and revoke on logout.
  async oauth_password() {
    const conn = new jsforce.Connection({ oauth2: oauth2(), version: VERSION });
    const userInfo = await conn.login(env.EMU_USERNAME, env.EMU_PASSWORD);
    const identity = await conn.identity();
    const token = conn.accessToken;
    await conn.logout();
    const revoked = new jsforce.Connection({ instanceUrl: env.EMU_INSTANCE_URL, accessToken: token, version: VERSION });
    return { userInfo, identity, afterRevoke: await failure(revoked.query('SELECT Id FROM Task')) };
  },

  // A stale access token plus a refresh token: jsforce refreshes on the 401 and retries.
  async oauth_refresh(input) {
    const refreshed = [];
    const conn = new jsforce.Connection({ oauth2: oauth2(), instanceUrl: env.EMU_INSTANCE_URL, version: VERSION,
      accessToken: 'stale-token', refreshToken: input.refresh_token });
    conn.on('refresh', (accessToken) => refreshed.push(accessToken));
    const count = (await conn.query('SELECT COUNT() FROM Task')).totalSize;
    const unknown = await failure(new jsforce.OAuth2(oauth2()).refreshToken('5Aep861-not-a-refresh-token'));
    return { count, refreshed: refreshed.length, unknown };
  },

  // SOSL through conn.search, and Salesforce's own error for a search the emulator cannot run.
  async sosl(input) {
    const conn = direct();
    const found = await conn.search(`FIND {${input.term}} IN ALL FIELDS RETURNING Task(Id, Subject)`);
    const refused = await failure(conn.search('FIND {} RETURNING Task'));
    return { found: found.searchRecords.map((r) => r.Subject).sort(), refused };
  },

  async versions() {
    const conn = direct();
    const listed = await conn.request('/services/data/');
    const latest = listed[listed.length - 1].version;
    const resources = await direct(latest).request(`/services/data/v${latest}`);
    const count = (await direct(latest).query('SELECT COUNT() FROM Task')).totalSize;
    return { versions: listed.map((v) => v.version), resources: Object.keys(resources), count };
  },

  // Full read with autoFetch across locators, query and queryAll (scanAll).
  async read_all(input) {
    const conn = direct();
    const rows = async (soql, scanAll) => readAll(conn, soql, scanAll);
    const soql = input.soql || 'SELECT Id, Subject, IsDeleted FROM Task';
    const live = await rows(soql, false);
    const all = await rows(soql, true);
    return { live: live.length, all: all.length, deleted: all.filter((r) => r.IsDeleted).length,
      distinct: new Set(all.map((r) => r.Id)).size };
  },

  // The cycle a data team's connector runs: describe, full read, writes through sObject Collections,
  // then Bulk API 2.0 writes and a Bulk 2.0 read.
  // The next run's incremental read: changed rows since the last one, updated/ and deleted/ replication.
  async incremental(input) {
    const conn = direct();
    const task = conn.sobject('Task');
    const changed = await readAll(conn, `SELECT Id FROM Task WHERE SystemModstamp >= ${input.since}`, false);
    const gone = await readAll(conn, `SELECT Id FROM Task WHERE IsDeleted = true AND SystemModstamp >= ${input.since}`,
      true);
    return { changed: changed.length, deletedRows: gone.length,
      updatedIds: (await task.updated(input.since, input.end)).ids.length,
      deletedIds: (await task.deleted(input.since, input.end)).deletedRecords.length };
  },

  async sync_cycle(input) {
    const conn = direct();
    conn.bulk2.pollInterval = 100;
    const task = conn.sobject('Task');
    const read = async (soql, scanAll = false) => readAll(conn, soql, scanAll);
    const describe = await task.describe();
    const full = await read('SELECT Id, Subject, SystemModstamp FROM Task');
    const created = await task.create(
      [1, 2, 3].map((i) => ({ Subject: `jsforce ${i}`, Sales_Connect_Id__c: `JS-${i}` })));
    const ids = created.map((r) => r.id);
    const retrieved = await task.retrieve([...ids, input.missing_id], { fields: ['Id', 'Subject'] });
    const updated = await task.update(ids.map((Id) => ({ Id, Status: 'In Progress' })));
    const upserted = await task.upsert(
      [{ Sales_Connect_Id__c: 'JS-1', Subject: 'jsforce 1 again' }, { Sales_Connect_Id__c: 'JS-9', Subject: 'new' }],
      'Sales_Connect_Id__c');
    const destroyed = await task.destroy([ids[2]]);
    const bulkInsert = await conn.bulk2.loadAndWaitForResults({ object: 'Task', operation: 'insert',
      input: [{ Subject: 'bulk a', Sales_Connect_Id__c: 'JS-B1' }, { Subject: 'bulk b', Sales_Connect_Id__c: 'JS-B2' }] });
    const bulkUpsert = await conn.bulk2.loadAndWaitForResults({ object: 'Task', operation: 'upsert',
      externalIdFieldName: 'Sales_Connect_Id__c',
      input: [{ Sales_Connect_Id__c: 'JS-B1', Subject: 'bulk a2' }, { Sales_Connect_Id__c: 'JS-B3', Subject: 'bulk c' }] });
    const bulkDelete = await conn.bulk2.loadAndWaitForResults({ object: 'Task', operation: 'delete',
      input: [{ Id: bulkInsert.successfulResults[1].sf__Id }] });
    const bulkRead = await (await conn.bulk2.query('SELECT Id, Subject FROM Task')).toArray();
    const ok = (results) => results.filter((r) => r.success).length;
    return {
      describe: { name: describe.name, fields: describe.fields.length,
        externalIds: describe.fields.filter((f) => f.externalId).map((f) => f.name) },
      full: full.length, created: ok(created), retrieved: retrieved.map((r) => (r ? r.Subject : null)),
      updated: ok(updated), upserted: upserted.map((r) => r.created), destroyed: ok(destroyed),
      bulk: [bulkInsert, bulkUpsert, bulkDelete].map((r) => [r.successfulResults.length, r.failedResults.length]),
      bulkUpsertCreated: bulkUpsert.successfulResults.map((r) => r.sf__Created),
      bulkRead: bulkRead.length,
    };
  },
};

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const input = JSON.parse(Buffer.concat(chunks).toString() || '{}');
  const scenario = scenarios[process.argv[2]];
  if (!scenario) throw new Error(`no scenario ${process.argv[2]}`);
  process.stdout.write(`${JSON.stringify(await scenario(input))}\n`);
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err, err && err.errorCode ? `errorCode=${err.errorCode}` : '');
  process.exit(1);
});
