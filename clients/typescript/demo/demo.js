// demo.js - the /demo page of `make run`: signs in as the demo user (demo.json, written by
// scripts/run.sh) and hands the client to <herald-inbox>.
import { HeraldClient } from '/demo/herald-inbox.js';

const inbox = document.getElementById('inbox');
const config = await (await fetch('/demo/demo.json', { cache: 'no-store' })).json();
const client = new HeraldClient({ baseUrl: '' });
await client.signIn(config.email, config.password);
const me = await client.me();
document.getElementById('who').textContent = `Signed in as ${me.email} (the demo user of make run).`;
document.getElementById('send').textContent = config.send_example ?? '';
inbox.client = client;
window.heraldDemo = { client, inbox, user: me };

const theme = document.getElementById('theme');
const dark = () => theme.value === 'dark' || (theme.value === 'auto' && matchMedia('(prefers-color-scheme: dark)').matches);
theme.addEventListener('change', () => {
  inbox.setAttribute('theme', theme.value);
  document.body.classList.toggle('dark', dark());
});
document.body.classList.toggle('dark', dark());
document.getElementById('lang').addEventListener('change', (e) => inbox.setAttribute('lang', e.target.value));
