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
    const rows = async (soql, scanAll) => {
      const records = [];
      await new Promise((resolve, reject) => {
        conn.query(soql).on('record', (r) => records.push(r)).on('end', resolve).on('error', reject)
          .run({ autoFetch: true, maxFetch: 1e6, scanAll });
      });
      return records;
    };
    const soql = input.soql || 'SELECT Id, Subject, IsDeleted FROM Task';
    const live = await rows(soql, false);
    const all = await rows(soql, true);
    return { live: live.length, all: all.length, deleted: all.filter((r) => r.IsDeleted).length,
      distinct: new Set(all.map((r) => r.Id)).size };
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
