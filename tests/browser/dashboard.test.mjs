// dashboard.test.mjs — the rackd dashboard in a real browser (Debian's
// chromium through playwright-core) against a real rackd with four slots,
// started by tests/integration/browser.sh. One page goes through what an
// operator does: a wrong password, sign in, four slots, reimage through
// the dialog, progress reported by a stand-in agent advancing the bar to
// done, a failed job's reason, cancel, several nodes at once, a link going
// down live, the node page (job history with event logs, link history),
// the Power card, the Inventory card and the rack's hardware summary, the
// images page, a pull followed live in its Pulls panel (progress, rate,
// time left, done; a failed one's error), a write without the CSRF token,
// the
// node's serial console (output, typing, refused without a session), the
// keyboard, a phone's width, page weight, a BMC link's node (no Reimage),
// sign out. Screenshots go to $ARTIFACTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { constants, openSync, writeFileSync } from 'node:fs';
import tty from 'node:tty';
import { join } from 'node:path';
import { env, launch, api, report, reimage, activeJob, jobToken } from './lib.mjs';

const IMAGE = process.env.TEST_IMAGE || 'demo';
const VERSION = process.env.TEST_VERSION || '1';
const REF = `${IMAGE}:${VERSION}`;
const PULL = process.env.PULL_IMAGE || 'pulled:1';
const T = 15000;		// ms: any one wait for the page

let browser, page;
const errors = [];

const row = (slot) => page.locator(`table.rack tr[data-slot="${slot}"]`);
const shot = (name) => page.screenshot({ path: join(env.artifacts, `${name}.png`), fullPage: true });

async function imageSize() {
	const r = await api('GET', `/api/v1/images/${IMAGE}`);
	return r.data.versions.find((v) => v.version === VERSION).size;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function alive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch (e) {
		return false;
	}
}

// Wait until fn() (run in the page) is true.
function until(fn, arg) {
	return page.waitForFunction(fn, arg, { timeout: T });
}

before(async () => {
	browser = await launch();
	page = browser.ctx.pages()[0] || await browser.ctx.newPage();
	page.setDefaultTimeout(T);
	page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
	page.on('console', (m) => {
		// A refused request (401 for the wrong password, 403 for the
		// CSRF test) is logged by the browser itself; script errors are not.
		if (m.type() === 'error' && !/Failed to load resource/.test(m.text()))
			errors.push(`console: ${m.text()}`);
	});
});

after(async () => {
	if (browser)
		await browser.close();
});

test('a wrong password is refused', async () => {
	await page.goto(env.url + '/');
	await page.locator('#password').fill('not-the-password');
	await page.getByRole('button', { name: 'Sign in' }).click();
	await assert.doesNotReject(page.locator('#signin-error', { hasText: 'Wrong password.' }).waitFor());
	assert.equal(await page.locator('table.rack').count(), 0, 'no rack shown');
	await shot('01-signin-wrong-password');
});

test('sign in: four slots in rack order', async () => {
	await page.locator('#password').fill(env.password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.locator('table.rack tbody tr').nth(3).waitFor();
	const slots = await page.locator('table.rack tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.slot));
	assert.deepEqual(slots, ['usb1', 'usb2', 'usb3', 'usb4']);
	await page.locator('#live[data-live="live"]').waitFor();
	// The rig's links are up and the nodes have their addresses.
	await until(() => [...document.querySelectorAll('table.rack tr[data-slot] .link')]
	    .every((l) => l.dataset.link === 'up'));
	const addr = await row('usb1').locator('td[data-label="Address"]').textContent();
	assert.match(addr, /^\d+\.\d+\.\d+\.\d+$/);
	await shot('02-rack-signed-in');
});

let jobId, total;

test('reimage one node: choose the image and version, confirm', async () => {
	await row('usb2').getByRole('button', { name: 'Reimage usb2' }).click();
	const dlg = page.locator('dialog.modal');
	await dlg.waitFor();
	await dlg.locator('#dlg-image').selectOption(IMAGE);
	await dlg.locator('#dlg-version').selectOption(VERSION);
	await shot('03-reimage-choose');
	await dlg.getByRole('button', { name: 'Next' }).click();
	const text = await dlg.locator('.confirm-text').textContent();
	assert.match(text, /usb2/, 'the confirmation names the slot');
	assert.match(text, new RegExp(REF), 'the confirmation names the image');
	await shot('04-reimage-confirm');
	await dlg.getByRole('button', { name: 'Reimage usb2' }).click();
	await dlg.waitFor({ state: 'detached' });
	await row('usb2').and(page.locator('[data-state="queued"]')).waitFor();
	const j = await activeJob('usb2');
	assert.ok(j, 'the job exists in rackd');
	assert.equal(j.image, REF);
	jobId = j.id;
	total = await imageSize();
	assert.equal(await row('usb2').getByRole('button', { name: 'Reimage usb2' }).isDisabled(), true,
	    'no second reimage while one runs');
});

test('the progress bar advances as the agent reports, then done', async () => {
	const bar = row('usb2').getByRole('progressbar');
	const seen = [];
	for (const pct of [20, 45, 80]) {
		const done = Math.ceil(total * pct / 100);
		await report(jobId, { state: 'streaming', bytes_done: done, bytes_fetched: done, rate: 1048576 });
		await until(([p]) => document.querySelector('tr[data-slot="usb2"] [role=progressbar]')
		    ?.getAttribute('aria-valuenow') === String(p), [pct]);
		seen.push(Number(await bar.getAttribute('aria-valuenow')));
		const figures = await row('usb2').locator('.job-figures').textContent();
		assert.match(figures, new RegExp(`^${pct}% · `), 'percent');
		assert.match(figures, /of .*(KiB|MiB)/, 'bytes written of the total');
		assert.match(figures, /1\.0 MiB\/s/, 'rate');
		assert.match(figures, /left$/, 'time left');
		if (pct === 45) {
			await page.waitForTimeout(500);	/* the bar's 0.4 s glide */
			await shot('05-progress');
		}
	}
	assert.deepEqual(seen, [20, 45, 80], 'the bar moved forward');
	const drawn = await row('usb2').locator('.bar-fill').evaluate((e) => e.style.transform);
	assert.equal(drawn, 'scaleX(0.8)', 'the bar is drawn at 80%');
	await report(jobId, { state: 'verifying', bytes_done: total, bytes_fetched: total, rate: 1048576 });
	await row('usb2').and(page.locator('[data-state="verifying"]')).waitFor();
	await report(jobId, { state: 'done', bytes_done: total, bytes_fetched: total, rate: 0 });
	await row('usb2').locator('.job-result', { hasText: `Done: ${REF}` }).waitFor();
	assert.equal(await row('usb2').locator('td[data-label="Image"]').textContent(), REF,
	    'the node has its new image');
	assert.equal(await row('usb2').locator('.badge').textContent(), 'idle');
	assert.equal(await row('usb2').getByRole('progressbar').isVisible(), false, 'no bar after the job');
	await shot('06-done');
});

test('a failed job shows its reason in words', async () => {
	const j = await reimage('usb3', REF);
	await row('usb3').and(page.locator('[data-state="queued"]')).waitFor();
	await report(j.id, { state: 'streaming', bytes_done: 1000, bytes_fetched: 1000, rate: 5000 });
	await report(j.id, { state: 'failed', bytes_done: 1000, bytes_fetched: 1000, rate: 0,
	    reason: 'chunk 3 did not match its hash' });
	await row('usb3').locator('.job-result', { hasText: 'Failed: Chunk 3 did not match its hash' }).waitFor();
	await shot('07-failed');
});

test('cancel a running job', async () => {
	const j = await reimage('usb4', REF);
	await report(j.id, { state: 'streaming', bytes_done: 4096, bytes_fetched: 4096, rate: 2048 });
	await row('usb4').getByRole('button', { name: 'Cancel the job on usb4' }).click();
	const dlg = page.locator('dialog.modal');
	await dlg.getByRole('button', { name: 'Cancel job' }).click();
	await row('usb4').locator('.job-result', { hasText: 'Failed: Cancelled by the operator' }).waitFor();
	const r = await api('GET', `/api/v1/jobs/${j.id}`);
	assert.equal(r.data.state, 'failed');
	assert.equal(r.data.reason, 'cancelled by operator');
});

test('several nodes reimaged at once', async () => {
	await row('usb1').getByRole('checkbox').check();
	await row('usb3').getByRole('checkbox').check();
	await page.getByText('2 selected').waitFor();
	await page.getByRole('button', { name: 'Reimage selected…' }).click();
	const dlg = page.locator('dialog.modal');
	await dlg.locator('#dlg-image').selectOption(IMAGE);
	await dlg.getByRole('button', { name: 'Next' }).click();
	const text = await dlg.locator('.confirm-text').textContent();
	assert.match(text, /usb1 and usb3/);
	assert.match(text, new RegExp(REF));
	await shot('08-reimage-several-confirm');
	await dlg.getByRole('button', { name: 'Reimage 2 servers' }).click();
	await row('usb1').and(page.locator('[data-state="queued"]')).waitFor();
	await row('usb3').and(page.locator('[data-state="queued"]')).waitFor();
	for (const s of ['usb1', 'usb3']) {
		const j = await activeJob(s);
		assert.ok(j, `${s} has a job`);
		assert.equal(j.image, REF);
		assert.equal((await api('POST', `/api/v1/jobs/${j.id}/cancel`, {})).status, 200);
	}
	await row('usb1').locator('.job-result', { hasText: 'Cancelled' }).waitFor();
});

test('a link going down shows at once, and coming back', async () => {
	// The server's end goes down (its cable pulled): the rack's end loses
	// its carrier.
	const ns = process.env.NODE4_NS;
	assert.ok(ns, 'NODE4_NS: the namespace of the node on usb4');
	execFileSync('ip', ['-n', ns, 'link', 'set', 'eth0', 'down']);
	await row('usb4').locator('.link[data-link="down"]').waitFor();
	await shot('09-link-down');
	execFileSync('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
	await row('usb4').locator('.link[data-link="up"]').waitFor();
});

test('rackd restarts: the page reconnects by itself and stays signed in', async (t) => {
	// browser.sh hands over rackd's pid and command line; the new rackd's
	// pid goes to RACKD_PID_FILE so that browser.sh stops it at the end.
	const cmd = JSON.parse(process.env.RACKD_CMD || 'null');
	const pid = Number(process.env.RACKD_PID);
	assert.ok(cmd && pid, 'RACKD_CMD and RACKD_PID from browser.sh');
	process.kill(pid, 'SIGTERM');
	for (let i = 0; i < 100 && alive(pid); i++)
		await sleep(100);
	assert.equal(alive(pid), false, 'rackd stopped');
	await page.locator('#live[data-live="reconnecting"]').waitFor();
	const log = openSync(process.env.RACKD_LOG, 'a');
	const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', log, log], detached: true,
	    cwd: process.env.RACKD_CWD });
	writeFileSync(process.env.RACKD_PID_FILE, String(child.pid));
	child.unref();
	for (let i = 0; i < 100; i++) {
		if (await fetch(env.url + '/healthz').then((r) => r.ok, () => false))
			break;
		await sleep(100);
	}
	await page.locator('#live[data-live="live"]').waitFor({ timeout: 30000 });
	// The stream carries changes again, and the session outlived the restart.
	const j = await reimage('usb4', REF);
	await row('usb4').and(page.locator('[data-state="queued"]')).waitFor();
	await row('usb4').getByRole('button', { name: 'Cancel the job on usb4' }).click();
	await page.locator('dialog.modal').getByRole('button', { name: 'Cancel job' }).click();
	await row('usb4').locator('.job-result', { hasText: 'Cancelled' }).waitFor();
	assert.equal((await api('GET', `/api/v1/jobs/${j.id}`)).data.state, 'failed');
});

test('node page: job history with event logs, link history', async () => {
	await row('usb2').getByRole('link', { name: 'usb2' }).click();
	await page.getByRole('heading', { name: 'Jobs' }).waitFor();
	const first = page.locator(`.jobs details[data-job="${jobId}"]`);
	await first.waitFor();
	assert.equal(await first.evaluate((d) => d.open), true, 'the newest job is open');
	await first.locator('.events li').nth(4).waitFor();
	const states = await first.locator('.events li .badge').allTextContents();
	assert.deepEqual(states, ['queued', 'booting', 'streaming', 'verifying', 'done']);
	// Link history: browser.sh flapped usb2 once before the tests.
	await page.locator('table.plain tbody tr').nth(1).waitFor();
	const links = await page.locator('table.plain tbody tr .link').allTextContents();
	assert.ok(links.includes('down') && links.includes('up'), `link history: ${links}`);
	await shot('10-node-page');
	// The older failed job of usb3 is there with its reason, too.
	await page.goto(env.url + '/#/node/usb3');
	await page.locator('.jobs details .reason', { hasText: 'Chunk 3 did not match its hash' }).waitFor();
});

test('node page: the Power card, by what the method can', async () => {
	// No method: the card says to switch the server on by hand.
	await page.goto(env.url + '/#/node/usb1');
	const card = page.locator('section.power');
	await card.locator('.hint', { hasText: 'switch the server on now' }).waitFor();
	for (const name of ['On', 'Off', 'Cycle'])
		assert.equal(await card.getByRole('button', { name }).isVisible(), false, `${name} hidden`);
	// Wake-on-LAN: On alone, and its note.
	let r = await api('PATCH', '/api/v1/nodes/usb1', { power: { method: 'wol' } });
	assert.equal(r.status, 200);
	await card.locator('.hint', { hasText: 'Wake-on-LAN can only switch on' }).waitFor();
	assert.equal(await card.getByRole('button', { name: 'On' }).isVisible(), true);
	assert.equal(await card.getByRole('button', { name: 'Off' }).isVisible(), false);
	// A command: On, Off and Cycle; Cycle queues a power job that ends done.
	r = await api('PATCH', '/api/v1/nodes/usb1', { power: { method: 'command', program: '/bin/true' } });
	assert.equal(r.status, 200);
	await card.getByRole('button', { name: 'Cycle' }).waitFor();
	assert.equal(await card.getByRole('button', { name: 'Off' }).isVisible(), true);
	await card.getByRole('button', { name: 'Cycle' }).click();
	await page.locator('.jobs details summary', { hasText: 'power_cycle' }).waitFor();
	for (let i = 0; i < 50; i++) {
		r = await api('GET', '/api/v1/jobs?node=usb1&limit=1');
		if (r.data[0].state === 'done')
			break;
		await sleep(100);
	}
	assert.equal(r.data[0].action, 'power_cycle');
	assert.equal(r.data[0].state, 'done');
	await shot('11-power-card');
	r = await api('PATCH', '/api/v1/nodes/usb1', { power: null });
	assert.equal(r.status, 200);
});

// The agent's part of an inventory job: its reports and the posted
// inventory, with the NVMe disk's serial given.
async function runInventory(id, serial) {
	const inv = {
		system: { vendor: 'RackTest Inc', model: 'RT-1000', serial: 'SN-4242',
		    uuid: '5e1f4c2a-0b3d-4c6e-8f70-91a2b3c4d5e6' },
		cpus: { model: 'Test CPU', sockets: 1, cores: 4, threads: 8 },
		memory_bytes: 805306368,
		disks: [{ name: 'nvme0n1', path: '/dev/nvme0n1', model: 'QEMU NVMe Ctrl', serial,
		    size_bytes: 67108864, rotational: false, smart: 'passed' },
		    { name: 'vda', path: '/dev/vda', model: '', serial: 'VBLK-0001',
		    size_bytes: 100663296, rotational: true, smart: 'unknown' }],
		nics: [{ name: 'eth0', mac: '52:54:00:12:34:56', driver: 'virtio_net', speed_mbps: null }],
		firmware: { mode: 'uefi', secure_boot: true },
	};
	await report(id, { state: 'streaming' });
	// Posted twice (an agent retrying a lost answer): one record.
	for (let i = 0; i < 2; i++) {
		const r = await fetch(`${env.url}/api/v1/agent/jobs/${id}/inventory`, {
			method: 'POST',
			headers: { Authorization: `Bearer ${jobToken(id)}`, 'Content-Type': 'application/json' },
			body: JSON.stringify(inv),
			signal: AbortSignal.timeout(10000),
		});
		assert.equal(r.status, 200, `inventory POST: ${await r.text()}`);
	}
	await report(id, { state: 'verifying' });
	await report(id, { state: 'done' });
}

test('the Inventory card, the rack\'s summary and a changed inventory flagged', async () => {
	await page.goto(env.url + '/#/node/usb1');
	const card = page.locator('section.inventory');
	await card.locator('p', { hasText: 'Not inventoried yet' }).waitFor();
	await card.getByRole('button', { name: 'Inventory' }).click();
	await page.locator('.jobs details summary', { hasText: 'inventory' }).waitFor();
	let j = await activeJob('usb1');
	assert.equal(j.action, 'inventory');
	await runInventory(j.id, 'NVME-0001');
	await card.locator('td', { hasText: 'NVME-0001' }).waitFor();
	await card.locator('dd', { hasText: 'SN-4242' }).waitFor();
	await card.locator('dd', { hasText: 'Secure Boot on' }).waitFor();
	assert.equal(await card.locator('.inventory-changed').isVisible(), false);
	// Another NVMe disk: the change is flagged, on the rack too.
	await card.getByRole('button', { name: 'Inventory' }).click();
	await until(() => document.querySelector('section.inventory button')?.disabled === true);
	j = await activeJob('usb1');
	await runInventory(j.id, 'NVME-0002');
	await card.locator('.inventory-changed').waitFor();
	await card.locator('.inventory-history li', { hasText: 'disk serial NVME-0001' }).waitFor();
	await shot('12-inventory-card');
	await page.goto(env.url + '/#/');
	await row('usb1').locator('.hw', { hasText: 'RT-1000 · 768 MiB · 2 disks' }).waitFor();
	await row('usb1').locator('.inventory-flag').waitFor({ state: 'visible' });
	assert.equal(await row('usb2').locator('.inventory-flag').isVisible(), false);
	// Acknowledged: the flag goes.
	await page.goto(env.url + '/#/node/usb1');
	await card.getByRole('button', { name: 'Acknowledge the change' }).click();
	await card.locator('.inventory-changed').waitFor({ state: 'hidden' });
	const r = await api('GET', '/api/v1/nodes/usb1/inventory');
	assert.equal(r.data.changed, false);
	assert.equal(r.data.history.length, 2, 'one record a job');
});

test('images page: versions, size, chunks, signed, used by', async () => {
	await page.getByRole('link', { name: 'Images' }).click();
	const card = page.locator(`section.image[data-image="${IMAGE}"]`);
	await card.waitFor();
	const v = card.locator(`tr[data-version="${VERSION}"]`);
	assert.match(await v.locator('td[data-label="Size"]').textContent(), /KiB|MiB/);
	assert.match(await v.locator('td[data-label="Chunks"]').textContent(), /^\d+$/);
	assert.equal(await v.locator('td[data-label="Signed"]').textContent(), 'not signed');
	assert.match(await v.locator('td[data-label="Used by"]').textContent(), /usb2/);
	await shot('11-images');
});

test('images page: a pull followed live, progress, rate, time left, done; a failed one\'s error', async () => {
	// On the images page already: what follows arrives by /api/v1/events.
	await page.locator('section.pulls-card').waitFor();
	const loads = [];
	const onReq = (r) => { if (r.url().includes('/api/v1/pulls')) loads.push(r.url()); };
	page.on('request', onReq);
	let r = await api('POST', '/api/v1/images/pull', { image: PULL });
	assert.equal(r.status, 202, JSON.stringify(r.data));
	const id = r.data.id;
	const pr = page.locator(`table.pulls tr[data-pull="${id}"]`);
	await pr.waitFor();
	assert.equal(await pr.locator('td[data-label="Image"]').textContent(), PULL);
	// Fetching, some of it in: the bar, bytes, chunks, a rate, time left.
	await until((id) => {
		const el = document.querySelector(`table.pulls tr[data-pull="${id}"]`);
		const bar = el && el.querySelector('[role="progressbar"]');
		return el && el.dataset.state === 'fetching' && bar &&
		    Number(bar.getAttribute('aria-valuenow')) > 0 &&
		    /\/s$/.test(el.querySelector('td[data-label="Rate"]').textContent);
	}, id);
	assert.match(await pr.locator('td[data-label="Source"]').textContent(), /^http:\/\/127\.0\.0\.1:\d+$/);
	assert.match(await pr.locator('td[data-label="Progress"]').textContent(), /\d+% · .*iB of .*iB · \d+ of \d+ chunks/);
	assert.match(await pr.locator('td[data-label="Time left"]').textContent(), /\d+ (s|min).* left/);
	assert.equal(await pr.locator('td[data-label="State"]').textContent(), 'Fetching chunks');
	const before = Number(await pr.locator('[role="progressbar"]').getAttribute('aria-valuenow'));
	await shot('11-pull-fetching');
	await page.waitForFunction(([id, b]) => {
		const bar = document.querySelector(`table.pulls tr[data-pull="${id}"] [role="progressbar"]`);
		return bar && Number(bar.getAttribute('aria-valuenow')) > b;
	}, [id, before], { timeout: T });
	await page.waitForFunction((id) => document.querySelector(`table.pulls tr[data-pull="${id}"]`)
	    ?.dataset.state === 'done', id, { timeout: 40000 });
	assert.equal(await pr.locator('td[data-label="State"]').textContent(), 'Done');
	assert.match(await pr.locator('td[data-label="Time left"]').textContent(), /^took \d+ s/);
	// The commit's image event: the pulled image's card appears.
	await page.locator(`section.image[data-image="${PULL.split(':')[0]}"]`).waitFor();
	// A pull no source can serve: failed, its error in words.
	r = await api('POST', '/api/v1/images/pull', { image: 'absent:1' });
	assert.equal(r.status, 202);
	const bad = page.locator(`table.pulls tr[data-pull="${r.data.id}"][data-state="failed"]`);
	await bad.waitFor();
	assert.equal(await bad.locator('td[data-label="State"]').textContent(), 'Failed');
	assert.match(await bad.locator('td[data-label="Error"]').textContent(), /no source has absent:1.*HTTP 404/);
	assert.equal(await page.locator('table.pulls tbody tr').first().getAttribute('data-pull'), String(r.data.id),
	    'the newest pull first');
	page.off('request', onReq);
	assert.deepEqual(loads, [], 'no polling: the panel follows the event stream');
	await shot('11-pulls');
});

test('a write without the CSRF token is refused', async () => {
	const res = await page.evaluate(async () => {
		const body = JSON.stringify({ label: 'no-csrf' });
		const opts = { method: 'PATCH', body, headers: { 'Content-Type': 'application/json' } };
		const without = await fetch('/api/v1/nodes/usb1', opts);
		const s = await (await fetch('/api/v1/session')).json();
		const withTok = await fetch('/api/v1/nodes/usb1', { ...opts,
		    headers: { ...opts.headers, 'X-CSRF-Token': s.csrf } });
		return [without.status, withTok.status];
	});
	assert.deepEqual(res, [403, 200]);
	const r = await api('GET', '/api/v1/nodes/usb1');
	assert.equal(r.data.label, 'no-csrf', 'only the write with the token took');
	assert.equal((await api('PATCH', '/api/v1/nodes/usb1', { label: 'U1' })).status, 200);
});

test('the node page\'s console: output live, typing as the signed-in user', async () => {
	const server = process.env.CONSOLE_SERVER;
	assert.ok(server, 'CONSOLE_SERVER is set (tests/integration/browser.sh)');
	// What the page types arrives at the server's end of the pty.
	let typed = '';
	// A tty stream, not an fs one: a pending fs read of a pty blocks a
	// worker thread until more comes, and node would not exit.
	const rd = new tty.ReadStream(openSync(server, constants.O_RDWR | constants.O_NOCTTY));
	rd.on('data', (b) => { typed += b.toString('latin1'); });
	rd.on('error', () => {});
	try {
		await page.goto(env.url + '/#/node/usb1');
		const screen = page.locator('[data-console="usb1"]');
		await screen.locator('.xterm-rows').waitFor();
		await page.locator('.console-status', { hasText: 'Live' }).waitFor();
		// xterm.js draws only while it is on screen (the cards above
		// it can push it below the fold).
		await screen.scrollIntoViewIfNeeded();
		writeFileSync(server, 'login: from the server\r\n');
		await until(() => document.querySelector('[data-console="usb1"] .xterm-rows')
		    .textContent.includes('login: from the server'));
		await screen.click();
		await page.keyboard.type('root');
		await page.keyboard.press('Enter');
		for (let i = 0; i < 100 && !typed.includes('root\r'); i++)
			await sleep(100);
		assert.ok(typed.includes('root\r'), `typed at the server's end: ${JSON.stringify(typed)}`);
		// xterm.js and its style sheet come from the board itself.
		const files = await page.evaluate(() => performance.getEntriesByType('resource')
		    .map((r) => r.name).filter((n) => n.includes('xterm')));
		assert.ok(files.length >= 2 && files.every((n) => n.startsWith(env.url + '/vendor/')),
		    `xterm files: ${files}`);
		await shot('11-console');
	} finally {
		rd.destroy();
	}
	// The rack's own log names the session that typed, once.
	const log = execFileSync('grep', ['-c', 'audit: session [0-9a-f]* types into the console of slot usb1',
	    process.env.RACKD_LOG], { encoding: 'utf8' }).trim();
	assert.equal(log, '1');
});

test('the console refuses input without a session, or without its CSRF token', async () => {
	const body = JSON.stringify({ data: Buffer.from('x').toString('base64') });
	const r = await fetch(`${env.url}/api/v1/nodes/usb1/console`, { method: 'POST', body,
	    headers: { 'Content-Type': 'application/json' }, signal: AbortSignal.timeout(10000) });
	assert.equal(r.status, 401, 'no session, no token');
	const s = await fetch(`${env.url}/api/v1/nodes/usb1/console`, { signal: AbortSignal.timeout(10000) });
	assert.equal(s.status, 401, 'the stream without a session');
	const res = await page.evaluate(async (b) => (await fetch('/api/v1/nodes/usb1/console',
	    { method: 'POST', body: b, headers: { 'Content-Type': 'application/json' } })).status, body);
	assert.equal(res, 403, 'a session without its CSRF token');
	// A node without a console says so on its page.
	await page.goto(env.url + '/#/node/usb3');
	await page.locator('.console-status', { hasText: 'No console' }).waitFor();
});

test('keyboard: reach Reimage with Tab, open with Enter, close with Escape', async () => {
	await page.goto(env.url + '/#/');
	await row('usb4').waitFor();
	await page.locator('body').click({ position: { x: 5, y: 300 } });
	let found = false;
	for (let i = 0; i < 80 && !found; i++) {
		await page.keyboard.press('Tab');
		found = await page.evaluate(() => document.activeElement?.getAttribute('aria-label') === 'Reimage usb4');
	}
	assert.ok(found, 'Tab reaches the Reimage button of usb4');
	await page.keyboard.press('Enter');
	const dlg = page.locator('dialog.modal');
	await dlg.waitFor();
	assert.equal(await page.evaluate(() => document.activeElement?.id), 'dlg-image', 'focus in the dialog');
	await page.keyboard.press('Escape');
	await dlg.waitFor({ state: 'detached' });
});

test('a phone-width screen: no sideways scrolling', async () => {
	await page.setViewportSize({ width: 390, height: 844 });
	await page.goto(env.url + '/#/');
	await row('usb4').waitFor();
	const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
	assert.ok(overflow <= 0, `page wider than the screen by ${overflow}px`);
	await shot('12-phone');
	await page.goto(env.url + '/#/node/usb2');
	await page.getByRole('heading', { name: 'Jobs' }).waitFor();
	assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth));
	await shot('13-phone-node');
	await page.setViewportSize({ width: 1280, height: 800 });
});

test('the whole page weighs under 300 KB', async () => {
	// A fresh load of the rack page: xterm.js loads on node pages only.
	await page.goto(env.url + '/#/');
	await page.reload();
	await row('usb4').waitFor();
	const bytes = await page.evaluate(() => {
		const nav = performance.getEntriesByType('navigation')[0];
		const files = performance.getEntriesByType('resource')
		    .filter((r) => !r.name.includes('/api/'));
		return nav.encodedBodySize + files.reduce((n, r) => n + r.encodedBodySize, 0);
	});
	assert.ok(bytes > 5000 && bytes < 300 * 1024, `page weight ${bytes} bytes`);
});

test("a BMC link's node: shown as the BMC of its slot, no Reimage", async () => {
	const now = Date.now();
	execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(env.state, 'rackd.db'),
	    `INSERT INTO nodes (slot, created, updated) VALUES ('usb1.bmc', ${now}, ${now})`]);
	await page.goto(env.url + '/#/');
	await page.reload();
	const r = row('usb1.bmc');
	await r.waitFor();
	assert.equal((await r.locator('td[data-label="Image"]').textContent()).trim(), 'BMC of usb1');
	assert.equal(await r.getByRole('button', { name: 'Reimage usb1.bmc' }).isVisible(), false,
	    'no Reimage on the BMC row');
	assert.equal(await r.locator('input[type="checkbox"]').isDisabled(), true, 'the BMC row cannot be selected');
	assert.equal(await row('usb1').getByRole('button', { name: 'Reimage usb1' }).isVisible(), true,
	    'its server still has Reimage');
	await shot('13-rack-bmc-row');
	await page.goto(env.url + '/#/node/usb1.bmc');
	await page.locator('section.power .hint', { hasText: 'This is the BMC of slot usb1' }).waitFor();
	assert.equal(await page.locator('.view-head').getByRole('button', { name: 'Reimage' }).isVisible(), false,
	    'no Reimage on the BMC page');
	assert.equal(await page.getByText('No power method').count(), 0, 'no "no power method" note');
	await shot('14-node-bmc');
	await page.goto(env.url + '/#/');
	await row('usb1').waitFor();
});

test('a session that ends while the page is open: back to sign-in', async () => {
	execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(env.state, 'rackd.db'),
	    'UPDATE sessions SET expires = 0']);
	// The node page asks rackd for the job history: refused, so the page
	// says the session has ended and asks for the password.
	await row('usb1').getByRole('link', { name: 'usb1' }).click();
	await page.getByText('Your session has ended. Sign in again.').waitFor();
	await page.locator('#password').fill(env.password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.getByRole('heading', { name: 'Jobs' }).waitFor();
	await page.locator('#live[data-live="live"]').waitFor();
});

test('sign out: the sign-in page, and the session is gone', async () => {
	await page.getByRole('button', { name: 'Sign out' }).click();
	await page.locator('#password').waitFor();
	const status = await page.evaluate(async () => (await fetch('/api/v1/nodes')).status);
	assert.equal(status, 401);
	await page.reload();
	await page.locator('#password').waitFor();
	await shot('14-signed-out');
});

test('figures and reasons in words (format.js in the page)', async () => {
	const got = await page.evaluate(async () => {
		const f = await import('/js/format.js');
		return {
			bytes: [f.bytes(0), f.bytes(1536), f.bytes(5 * 1048576), f.bytes(-1)],
			dur: [f.duration(8), f.duration(75), f.duration(3725), f.duration(90061)],
			reasons: [f.reason('cancelled by operator'),
			    f.reason('no boot: the node did not call in within 900s'),
			    f.reason('agent silent for 300s'), f.reason(''), f.reason('disk  too small')],
			prog: f.progress({ bytes_total: 1000, bytes_done: 250, rate: 50 }),
			still: f.progress({ bytes_total: 1000, bytes_done: 0, rate: 0 }),
			order: ['usb10', 'usb2', 'usb1'].sort(f.slotOrder),
		};
	});
	assert.deepEqual(got.bytes, ['0 B', '1.5 KiB', '5.0 MiB', '—']);
	assert.deepEqual(got.dur, ['8 s', '1 min 15 s', '1 h 2 min', '1 d 1 h']);
	assert.deepEqual(got.reasons, ['Cancelled by the operator',
	    'The server did not boot from the network within 15 min',
	    'The server stopped reporting progress for 5 min',
	    'Failed (no reason given)', 'Disk too small']);
	assert.deepEqual(got.prog, { percent: 25, text: '250 B of 1000 B', rate: '50 B/s', left: '15 s left' });
	assert.equal(got.still.left, '—');
	assert.deepEqual(got.order, ['usb1', 'usb2', 'usb10']);
});

test('no script errors on the page', () => {
	assert.deepEqual(errors, []);
});
