// bench.mjs — the dashboard's benchmark, run by tests/bench/dashboard.sh
// against a rackd with many slots and running jobs.
//
// 1. Page weight and time to first render: LOADS cold loads (a fresh
//    browser profile each, signed in by cookie) of /. Chromium's own
//    timing: navigation (responseEnd, DOMContentLoaded, load), first
//    contentful paint, and the mark 'rackd:rack' the page sets when the
//    whole rack is in the DOM. Bytes: the page's own files (HTML, CSS, JS,
//    icon) and the API's JSON, as transferred.
// 2. Responsiveness while JOBS jobs report progress every second through
//    the agent API for SECONDS: every 500 ms a click on a slot's checkbox
//    (real input through the browser); its input-to-next-frame time,
//    Chromium's Event Timing entries of 16 ms and more, long tasks (50 ms
//    and more), the longest gap between frames, and how long a progress
//    report takes to reach the page's progress bar (report -> bar shows it).
import { writeFileSync } from 'node:fs';
import { env, launch, report, jobToken } from './lib.mjs';

const LOADS = Number(process.env.LOADS || 5);
const SECONDS = Number(process.env.SECONDS_LIVE || 30);
const JOBS = JSON.parse(process.env.BENCH_JOBS);	// [{id, slot, total}]
const OUT = process.env.BENCH_OUT;

const median = (a) => {
	const s = [...a].sort((x, y) => x - y);
	return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const pct = (a, p) => {
	const s = [...a].sort((x, y) => x - y);
	return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};
const r1 = (x) => Math.round(x * 10) / 10;

async function signIn(ctx) {
	const r = await ctx.request.post(`${env.url}/api/v1/session`, { data: { password: env.password } });
	if (r.status() !== 200)
		throw new Error(`sign-in: ${r.status()}`);
}

async function coldLoad() {
	const b = await launch();
	try {
		await signIn(b.ctx);
		const page = b.ctx.pages()[0] || await b.ctx.newPage();
		const ready = () => page.waitForFunction(() => performance.getEntriesByName('rackd:rack').length > 0 &&
		    performance.getEntriesByName('first-contentful-paint').length > 0, null, { timeout: 15000 });
		// A first visit of the page in a browser just started...
		await page.goto(`${env.url}/`, { waitUntil: 'load' });
		await ready();
		await page.waitForTimeout(500);	/* the calls after the stream opens */
		const first = await page.evaluate(() => performance.getEntriesByName('rackd:rack')[0].startTime);
		// ...and the page loaded again in the same browser (warm).
		await page.reload({ waitUntil: 'load' });
		await ready();
		await page.waitForTimeout(500);
		return await page.evaluate((firstRack) => {
			const nav = performance.getEntriesByType('navigation')[0];
			const res = performance.getEntriesByType('resource');
			const own = res.filter((r) => !r.name.includes('/api/'));
			const apiRes = res.filter((r) => r.name.includes('/api/') && !r.name.includes('/events'));
			return {
				responseEnd: nav.responseEnd,
				dcl: nav.domContentLoadedEventEnd,
				load: nav.loadEventEnd,
				fcp: performance.getEntriesByName('first-contentful-paint')[0].startTime,
				rack: firstRack,
				warmFcp: performance.getEntriesByName('first-contentful-paint')[0].startTime,
				warmRack: performance.getEntriesByName('rackd:rack')[0].startTime,
				rows: document.querySelectorAll('table.rack tbody tr').length,
				pageBytes: nav.transferSize + own.reduce((n, r) => n + r.transferSize, 0),
				pageBody: nav.encodedBodySize + own.reduce((n, r) => n + r.encodedBodySize, 0),
				files: own.length + 1,
				apiBytes: apiRes.reduce((n, r) => n + r.transferSize, 0),
			};
		}, first);
	} finally {
		await b.close();
	}
}

async function live() {
	const b = await launch();
	const page = b.ctx.pages()[0] || await b.ctx.newPage();
	try {
		await signIn(b.ctx);
		await page.goto(`${env.url}/`);
		await page.locator('#live[data-live="live"]').waitFor({ timeout: 15000 });
		const rows = await page.locator('table.rack tbody tr').count();
		await page.evaluate(() => {
			window.__bench = { clicks: [], events: [], longtasks: [], maxGap: 0, frames: 0, t0: performance.now() };
			const B = window.__bench;
			new PerformanceObserver((l) => {
				for (const e of l.getEntries())
					B.longtasks.push({ at: e.startTime - B.t0, duration: e.duration });
			}).observe({ type: 'longtask' });
			new PerformanceObserver((l) => {
				for (const e of l.getEntries())
					if (e.name === 'click' || e.name === 'pointerdown' || e.name === 'pointerup')
						B.events.push({ name: e.name, duration: e.duration });
			}).observe({ type: 'event', durationThreshold: 16 });
			// Input to the next frame, for every click on a checkbox.
			document.addEventListener('click', (ev) => {
				if (!ev.target.matches('input[type=checkbox]'))
					return;
				const t0 = ev.timeStamp;
				requestAnimationFrame(() => setTimeout(() => B.clicks.push(performance.now() - t0), 0));
			}, true);
			let last = performance.now();
			const frame = (t) => {
				if (t - last > B.maxGap)
					B.maxGap = t - last;
				last = t;
				B.frames++;
				if (!B.stop)
					requestAnimationFrame(frame);
			};
			requestAnimationFrame(frame);
		});
		// The main thread's busy time (Chromium's own counters), over the window.
		const cdp = await b.ctx.newCDPSession(page);
		await cdp.send('Performance.enable');
		const metric = async () => Object.fromEntries((await cdp.send('Performance.getMetrics'))
		    .metrics.map((m) => [m.name, m.value]));
		const m0 = await metric();
		const tokens = new Map(JOBS.map((j) => [j.id, jobToken(j.id)]));
		const lag = [];
		let step = 0, reports = 0, failed = 0;
		const idle = (await page.locator('table.rack tbody tr[data-state="idle"] input[type=checkbox]').all());
		const start = Date.now();
		let nextReport = start, nextClick = start + 250, k = 0;
		while (Date.now() - start < SECONDS * 1000) {
			const now = Date.now();
			if (now >= nextReport) {
				// Every job reports; the first job's bar is timed to the page.
				step++;
				const sent = Date.now();
				const res = await Promise.allSettled(JOBS.map((j) => {
					const done = Math.min(j.total, Math.ceil(j.total * step / (SECONDS + 5)));
					return report(j.id, { state: 'streaming', bytes_done: done,
					    bytes_fetched: done, rate: Math.ceil(j.total / (SECONDS + 5)) }, tokens.get(j.id));
				}));
				reports += res.length;
				failed += res.filter((r) => r.status === 'rejected').length;
				const j0 = JOBS[0];
				const want = String(Math.floor((Math.min(j0.total, Math.ceil(j0.total * step / (SECONDS + 5))) / j0.total) * 100));
				await page.waitForFunction(([slot, w]) => document.querySelector(
				    `tr[data-slot="${slot}"] [role=progressbar]`)?.getAttribute('aria-valuenow') === w,
				    [j0.slot, want], { timeout: 10000, polling: 'raf' });
				lag.push(Date.now() - sent);
				nextReport += 1000;
			}
			if (Date.now() >= nextClick && idle.length) {
				await idle[k++ % idle.length].click();
				nextClick += 500;
			}
			await new Promise((r) => setTimeout(r, 20));
		}
		await page.waitForTimeout(300);
		const m1 = await metric();
		const span = m1.Timestamp - m0.Timestamp;
		const busy = {
			task: (m1.TaskDuration - m0.TaskDuration) / span,
			script: (m1.ScriptDuration - m0.ScriptDuration) / span,
			layout: (m1.LayoutDuration - m0.LayoutDuration + m1.RecalcStyleDuration - m0.RecalcStyleDuration) / span,
		};
		const B = await page.evaluate(() => {
			window.__bench.stop = true;
			return window.__bench;
		});
		return { rows, reports, failed, steps: step, lag, busy, ...B };
	} finally {
		await b.close();
	}
}

const loads = [];
for (let i = 0; i < LOADS; i++)
	loads.push(await coldLoad());
const l = await live();

const lines = [];
const say = (s) => { lines.push(s); console.log(s); };
say(`dashboard benchmark: ${loads[0].rows} slots, ${JOBS.length} jobs reporting every second`);
say('');
say(`page weight: ${loads[0].pageBytes} bytes transferred (${loads[0].pageBody} bytes of files in ${loads[0].files} files), ` +
    `API JSON at start ${loads[0].apiBytes} bytes`);
say(`cold load on localhost, median of ${LOADS} (ms): responseEnd ${r1(median(loads.map((x) => x.responseEnd)))}, ` +
    `DOMContentLoaded ${r1(median(loads.map((x) => x.dcl)))}, first contentful paint ${r1(median(loads.map((x) => x.fcp)))}, ` +
    `rack rendered ${r1(median(loads.map((x) => x.rack)))}, load ${r1(median(loads.map((x) => x.load)))}`);
say(`  each load, rack rendered (ms): ${loads.map((x) => r1(x.rack)).join(' ')}`);
say(`loaded again in the same browser, median (ms): first contentful paint ${r1(median(loads.map((x) => x.warmFcp)))}, ` +
    `rack rendered ${r1(median(loads.map((x) => x.warmRack)))}`);
say('');
say(`live for ${SECONDS} s: ${l.reports} progress reports (${l.failed} failed), ${l.clicks.length} clicks, ${l.frames} frames`);
say(`  click to next frame (ms): median ${r1(median(l.clicks))}, p95 ${r1(pct(l.clicks, 95))}, max ${r1(Math.max(...l.clicks))}`);
say(`  Event Timing entries >= 16 ms: ${l.events.length}` + (l.events.length ? `, longest ${r1(Math.max(...l.events.map((e) => e.duration)))} ms` : ''));
say(`  main thread busy: ${r1(l.busy.task * 100)}% of the time (script ${r1(l.busy.script * 100)}%, style and layout ${r1(l.busy.layout * 100)}%)`);
say(`  long tasks (>= 50 ms): ${l.longtasks.length}` + (l.longtasks.length ?
    ` (at s: ${l.longtasks.map((t) => `${r1(t.at / 1000)}:${Math.round(t.duration)}ms`).join(' ')})` : ''));
say(`  longest gap between frames: ${r1(l.maxGap)} ms`);
say(`  report sent -> progress bar shows it (ms): median ${r1(median(l.lag))}, p95 ${r1(pct(l.lag, 95))}, max ${Math.max(...l.lag)}`);
say('');
const goals = [
	[loads[0].pageBytes < 300 * 1024, `page weight ${loads[0].pageBytes} < 307200 bytes`],
	[pct(l.clicks, 95) < 100, `p95 click to next frame ${r1(pct(l.clicks, 95))} ms < 100 ms`],
	[l.longtasks.every((t) => t.duration < 200), 'no long task of 200 ms or more'],
	[l.failed === 0, 'every progress report accepted'],
];
for (const [ok, what] of goals)
	say(`${ok ? 'GOAL MET' : 'GOAL MISSED'}: ${what}`);
if (OUT)
	writeFileSync(OUT, lines.join('\n') + '\n');
if (l.failed > 0 || loads.some((x) => x.rows !== loads[0].rows))
	process.exit(1);
