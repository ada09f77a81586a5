// jobview.js — what a node's latest job looks like: a progress bar with
// bytes, rate and time left while it runs; the result (done, or the
// failure's reason in words) after. Built once, updated in place.

import { h, setText } from './dom.js';
import * as fmt from './format.js';

export function jobStatus() {
	const fill = h('div', { class: 'bar-fill' });
	const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0,
	    'aria-valuemax': 100, 'aria-label': 'progress' }, fill);
	const words = h('span', { class: 'job-words' });
	const figures = h('span', { class: 'job-figures' });
	const result = h('span', { class: 'job-result' });
	const el = h('div', { class: 'job' }, words, bar, figures, result);

	function update(node) {
		const j = node.job;
		const running = j && fmt.isActive(j.state);
		el.dataset.state = running ? j.state : j ? j.state : 'none';
		bar.hidden = !running;
		figures.hidden = !running;
		words.hidden = !running;
		result.hidden = running || !j;
		if (running) {
			const p = fmt.progress(j);
			// A job that moves no bytes (an inventory) has no bar to fill.
			const moving = (j.state === 'streaming' || j.state === 'verifying') && j.bytes_total > 0;
			setText(words, `${fmt.stateWords(j.state, j.action)} — ${j.image || j.action}`);
			bar.classList.toggle('waiting', !moving);
			if (moving) {
				bar.setAttribute('aria-valuenow', String(p.percent));
				bar.setAttribute('aria-valuetext', `${p.percent}%`);
				fill.style.transform = `scaleX(${p.percent / 100})`;
				setText(figures, `${p.percent}% · ${p.text} · ${p.rate} · ${p.left}`);
			} else {
				bar.removeAttribute('aria-valuenow');
				bar.setAttribute('aria-valuetext', 'waiting');
				fill.style.transform = '';
				setText(figures, j.state === 'queued' ? 'power the server on or reboot it to start' :
				    j.state === 'booting' ? 'waiting for the clone agent' : '');
			}
		} else if (j) {
			if (j.state === 'failed')
				setText(result, `Failed: ${fmt.reason(j.reason)}`);
			else if (j.state === 'done')
				setText(result, `Done: ${j.image || j.action}`);
			else
				setText(result, j.state);
		}
	}
	return { el, update };
}
