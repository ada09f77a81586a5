// pulls.js — the images this rack pulls from its image_sources
// (GET /api/v1/pulls, kept current by "pull" events): each pull's image,
// source, state, a progress bar with bytes, chunks, rate and time left
// while it fetches, and its error when it failed. Built once, rows
// updated in place.

import { h, setText } from './dom.js';
import * as fmt from './format.js';

const WORDS = {
	queued: 'Queued', manifest: 'Reading the manifest', fetching: 'Fetching chunks',
	committing: 'Committing', done: 'Done', failed: 'Failed',
};
const running = (s) => s !== 'done' && s !== 'failed';

function pullRow(id) {
	const cell = (label, ...kids) => h('td', { dataset: { label } }, ...kids);
	const image = h('span', { class: 'pull-image' });
	const source = h('span', { class: 'pull-source' });
	const badge = h('span', { class: 'badge' });
	const fill = h('div', { class: 'bar-fill' });
	const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0,
	    'aria-valuemax': 100, 'aria-label': 'pull progress' }, fill);
	const figures = h('span', { class: 'job-figures pull-figures' });
	const rate = h('span', { class: 'pull-rate' });
	const left = h('span', { class: 'pull-left' });
	const error = h('span', { class: 'pull-error' });
	const el = h('tr', { dataset: { pull: String(id) } },
	    cell('Image', image), cell('Source', source), cell('State', badge),
	    cell('Progress', h('div', { class: 'job' }, bar, figures)),
	    cell('Rate', rate), cell('Time left', left), cell('Error', error));

	function update(p) {
		const pr = fmt.progress(p);
		el.dataset.state = p.state;
		badge.dataset.state = p.state;
		setText(image, p.image);
		setText(source, p.source || '—');
		setText(badge, WORDS[p.state] || p.state);
		const moving = p.state === 'fetching' || p.state === 'committing';
		bar.hidden = !running(p.state) && p.state !== 'done';
		bar.classList.toggle('waiting', !moving && running(p.state));
		const pct = p.state === 'done' ? 100 : pr.percent;
		bar.setAttribute('aria-valuenow', String(pct));
		bar.setAttribute('aria-valuetext', `${pct}%`);
		fill.style.transform = bar.classList.contains('waiting') ? '' : `scaleX(${pct / 100})`;
		const chunks = `${p.chunks_done} of ${p.missing} chunks`;
		setText(figures, p.present ? 'the rack had it' :
		    !p.missing && !running(p.state) ? '—' :
		    `${pct}% · ${pr.text} · ${chunks}${p.resumed ? ` · resumed ${p.resumed}×` : ''}`);
		setText(rate, p.state === 'fetching' ? pr.rate : '—');
		setText(left, p.state === 'fetching' ? (typeof p.seconds_left === 'number' ?
		    `${fmt.duration(p.seconds_left)} left` : pr.left) :
		    running(p.state) ? '—' : `took ${fmt.duration(p.seconds)}`);
		setText(error, p.error || '');
		error.hidden = !p.error;
	}
	return { el, update };
}

export function pullsPanel() {
	const rows = new Map();
	const body = h('tbody');
	const empty = h('p', { class: 'empty', text: 'No pull yet. Ask for one with rackctl pull-to, POST /api/v1/images/pull, or image_subscribe (image_sources set).' });
	const table = h('table', { class: 'plain pulls' },
	    h('thead', {}, h('tr', {}, ['Image', 'Source', 'State', 'Progress', 'Rate', 'Time left', 'Error']
		.map((t) => h('th', { scope: 'col', text: t })))), body);
	const summary = h('p', { class: 'summary' });
	const el = h('section', { class: 'card pulls-card', 'aria-labelledby': 'pulls-title' },
	    h('h2', { id: 'pulls-title', text: 'Pulls' }), summary, empty, table);

	function update(pulls) {
		const seen = new Set();
		pulls.forEach((p, i) => {
			let r = rows.get(p.id);
			if (!r) {
				r = pullRow(p.id);
				rows.set(p.id, r);
			}
			r.update(p);
			seen.add(p.id);
			if (body.children[i] !== r.el)
				body.insertBefore(r.el, body.children[i] || null);
		});
		for (const [id, r] of rows)
			if (!seen.has(id)) {
				r.el.remove();
				rows.delete(id);
			}
		const n = pulls.filter((p) => running(p.state)).length;
		setText(summary, `${pulls.length} pulls remembered, ${n} running`);
		empty.hidden = pulls.length > 0;
		table.hidden = pulls.length === 0;
	}
	return { el, update };
}
