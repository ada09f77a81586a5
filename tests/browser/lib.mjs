// lib.mjs — what the browser tests and the dashboard benchmark share:
// Debian's chromium driven by playwright-core (never a downloaded
// browser), a fresh profile each run, and a stand-in for the clone agent
// that reports a job's progress through rackd's agent API with the job's
// own token.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const env = {
	url: need('RACKD_URL'),
	state: need('RACKD_STATE'),
	token: need('RACKD_TOKEN'),
	password: need('RACKD_PASSWORD'),
	artifacts: process.env.ARTIFACTS || 'artifacts',
};

function need(name) {
	const v = process.env[name];
	if (!v)
		throw new Error(`${name} is not set (tests/integration/browser.sh sets it)`);
	return v;
}

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// A browser context with a profile of its own, removed by close().
export async function launch(viewport = { width: 1280, height: 800 }) {
	const profile = mkdtempSync(join(tmpdir(), 'rackd-chromium-'));
	const ctx = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		viewport,
		timeout: 30000,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
		    '--disable-background-networking', '--disable-component-update',
		    '--disable-sync'],
	});
	const close = async () => {
		await ctx.close().catch(() => {});
		rmSync(profile, { recursive: true, force: true });
	};
	mkdirSync(env.artifacts, { recursive: true });
	return { ctx, close };
}

// rackd's API with the Bearer token (the test's own hand, not the page's).
export async function api(method, path, body) {
	const r = await fetch(env.url + path, {
		method,
		headers: { Authorization: `Bearer ${env.token}`, 'Content-Type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
		signal: AbortSignal.timeout(10000),
	});
	const data = await r.json().catch(() => null);
	return { status: r.status, data };
}

// The agent token of a job, from rackd's database (the boot script would
// hand it to the node).
export function jobToken(id) {
	return execFileSync('sqlite3', ['-cmd', '.timeout 5000', join(env.state, 'rackd.db'),
	    `SELECT token FROM jobs WHERE id = ${Number(id)}`], { encoding: 'utf8' }).trim();
}

// Report as the agent would: POST /api/v1/agent/jobs/{id}/report.
export async function report(id, body, token = jobToken(id)) {
	const r = await fetch(`${env.url}/api/v1/agent/jobs/${id}/report`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
		body: JSON.stringify(body),
		signal: AbortSignal.timeout(10000),
	});
	if (r.status !== 200)
		throw new Error(`report ${JSON.stringify(body)} for job ${id}: ${r.status} ${await r.text()}`);
}

export async function reimage(slot, image) {
	const r = await api('POST', `/api/v1/nodes/${slot}/reimage`, { image });
	if (r.status !== 202)
		throw new Error(`reimage ${slot}: ${r.status} ${JSON.stringify(r.data)}`);
	return r.data;
}

// The active job of a slot (its id), as the API says.
export async function activeJob(slot) {
	const r = await api('GET', `/api/v1/nodes/${slot}`);
	const j = r.data && r.data.job;
	return j && !['done', 'failed'].includes(j.state) ? j : null;
}
