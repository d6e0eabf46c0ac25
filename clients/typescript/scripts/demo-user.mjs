// demo-user.mjs - the demo user of `make run`, with the client built into the demo folder:
//   setup         registers it (a 202 whether or not it exists) and, when its feed is empty,
//                 sends it a welcome notification
//   send [TITLE]  sends it a notification (as the admin): it shows up live on /demo
// Environment: HERALD_DEMO_DIR (the folder of scripts/demo.mjs), HERALD_API_URL,
// HERALD_ADMIN_EMAIL, HERALD_ADMIN_PASSWORD, HERALD_DEMO_EMAIL, HERALD_DEMO_PASSWORD.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const env = (k) => {
  if (!process.env[k]) {
    console.error(`demo-user: ${k} is not set`);
    process.exit(2);
  }
  return process.env[k];
};
const { HeraldClient } = await import(pathToFileURL(path.join(env('HERALD_DEMO_DIR'), 'herald-client.js')).href);
const base = env('HERALD_API_URL');
const [cmd = 'setup', ...words] = process.argv.slice(2);

const demo = new HeraldClient({ baseUrl: base });
if (cmd === 'setup') await demo.register({ email: env('HERALD_DEMO_EMAIL'), password: env('HERALD_DEMO_PASSWORD'), name: 'Demo User' });
await demo.signIn(env('HERALD_DEMO_EMAIL'), env('HERALD_DEMO_PASSWORD'));
const me = await demo.me();
const admin = new HeraldClient({ baseUrl: base });
await admin.signIn(env('HERALD_ADMIN_EMAIL'), env('HERALD_ADMIN_PASSWORD'));
const send = (title, body, category) => admin.sendNotification({ user_id: me.id, category, title, body, channels: ['in_app'] });

if (cmd === 'setup') {
  if ((await demo.listNotifications({ limit: 1 })).data.length === 0) {
    await send('Welcome to Herald', 'This inbox is <herald-inbox>: new notifications arrive here live.', 'welcome');
  }
  console.log(`demo-user: ${me.email} is ready`);
} else if (cmd === 'send') {
  const title = words.join(' ') || `Hello at ${new Date().toLocaleTimeString()}`;
  const r = await send(title, 'Sent with make demo-send.', 'demo');
  console.log(`demo-user: sent ${r.id} to ${me.email}`);
} else {
  console.error('usage: node scripts/demo-user.mjs setup|send [TITLE]');
  process.exit(2);
}
