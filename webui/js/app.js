// app.js — the dashboard: sign-in, the views (#/ rack, #/node/SLOT,
// #/images), and the live stream that keeps them current.

import { h, clear, setText } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { connect } from './live.js';
import * as store from './store.js';
import { rackView } from './rack.js';
import { nodeView } from './node.js';
import { imagesView } from './images.js';
import { notify } from './notice.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const liveEl = document.getElementById('live');
let stream = null, unmount = () => {}, signedIn = false;

function setLive(s) {
	liveEl.dataset.live = s;
	setText(liveEl, s === 'live' ? 'Live' : s === 'reconnecting' ? 'Reconnecting…' : 'Offline');
}

// Events that arrive while the whole picture is being fetched wait, and
// are applied on top of it: the picture may be older than they are.
let loading = 0, held = [];

function live(fn) {
	return (data) => (loading ? held.push([fn, data]) : fn(data));
}

async function loadAll() {
	loading++;
	try {
		const [states, nodes, images, pulls] = await Promise.all([api.jobStates(),
		    api.nodes(), api.images(), api.pulls()]);
		fmt.setJobStates(states);
		store.setNodes(nodes);
		store.setImages(images);
		store.setPulls(pulls);
	} finally {
		if (--loading === 0) {
			const h = held;
			held = [];
			for (const [fn, data] of h)
				fn(data);
		}
	}
}

async function refreshImages() {
	try {
		store.setImages(await api.images());
	} catch (e) {
		/* signed out or offline: handled elsewhere */
	}
}

function startLive() {
	if (stream)
		stream.close();
	stream = connect({
		status: setLive,
		// On every (re)connect: the whole picture once, then changes.
		open: () => loadAll().catch(() => {}),
		node: live(store.applyNode),
		job: live(store.applyJob),
		link: live(store.applyLink),
		// An agent's note: the node page shows it in the job's events.
		job_event: (ev) => window.dispatchEvent(new CustomEvent('rackd-job-event', { detail: ev })),
		image: refreshImages,
		pull: live(store.applyPull),
		resync: () => loadAll().catch(() => {}),
		stillSignedIn: async () => {
			try {
				const s = await api.session.get();
				if (s.signed_in)
					return true;
			} catch (e) {
				return true;	/* rackd away: keep trying */
			}
			showSignIn('Your session has ended. Sign in again.');
			return false;
		},
	});
}

function route() {
	if (!signedIn)
		return;
	unmount();
	const hash = location.hash || '#/';
	let m;
	for (const a of nav.querySelectorAll('a'))
		a.toggleAttribute('aria-current', a.getAttribute('href') === hash ||
		    (hash.startsWith('#/node/') && a.getAttribute('href') === '#/'));
	if ((m = /^#\/node\/(.+)$/.exec(hash))) {
		unmount = nodeView(main, decodeURIComponent(m[1]));
		document.title = `${decodeURIComponent(m[1])} · rackd`;
	} else if (hash === '#/images') {
		unmount = imagesView(main);
		document.title = 'Images · rackd';
	} else {
		unmount = rackView(main);
		document.title = 'Rack · rackd';
	}
	main.focus({ preventScroll: true });
}

function showSignIn(message) {
	signedIn = false;
	api.setCsrf(null);
	if (stream) {
		stream.close();
		stream = null;
	}
	unmount();
	unmount = () => {};
	document.body.dataset.signedIn = 'no';
	document.title = 'Sign in · rackd';
	const pw = h('input', { id: 'password', name: 'password', type: 'password',
	    autocomplete: 'current-password', required: true });
	const err = h('p', { class: 'error', role: 'alert', id: 'signin-error' });
	const btn = h('button', { type: 'submit', class: 'primary', text: 'Sign in' });
	const form = h('form', { class: 'signin card', 'aria-labelledby': 'signin-title' },
	    h('h1', { id: 'signin-title', text: 'Sign in to this rack' }),
	    message ? h('p', { class: 'muted', text: message }) : null,
	    h('label', { for: 'password', text: 'Dashboard password' }), pw, err, btn,
	    h('p', { class: 'hint', text: 'The password is set in rackd\'s configuration (dashboard_password), or was made at first start into dashboard.password in rackd\'s state folder.' }));
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		btn.disabled = true;
		err.textContent = '';
		try {
			const s = await api.session.signIn(pw.value);
			await enter(s.csrf);
		} catch (x) {
			err.textContent = x.status === 401 ? 'Wrong password.' : x.message;
			pw.select();
		} finally {
			btn.disabled = false;
		}
	});
	clear(main);
	main.append(form);
	pw.focus();
}

async function enter(csrf, early) {
	api.setCsrf(csrf);
	signedIn = true;
	document.body.dataset.signedIn = 'yes';
	try {
		const got = early && await early;
		if (got) {
			fmt.setJobStates(got[0]);
			store.setNodes(got[1]);
			store.setImages(got[2]);
			store.setPulls(got[3]);
		} else
			await loadAll();
	} catch (e) {
		if (!signedIn)
			return;		/* refused: the sign-in page is up */
		notify(e.message, 'error');
	}
	route();
	startLive();
}

document.getElementById('signout').addEventListener('click', async () => {
	try {
		await api.session.signOut();
	} catch (e) {
		/* signed out anyway */
	}
	showSignIn('Signed out.');
});

api.whenSignedOut(() => {
	if (signedIn)
		showSignIn('Your session has ended. Sign in again.');
});
window.addEventListener('hashchange', route);

(async () => {
	// The rack is asked for beside the session: one round trip less to the
	// first picture when signed in (a 401 otherwise, which is fine).
	const early = Promise.all([api.jobStates(), api.nodes(), api.images(), api.pulls()])
	    .catch(() => null);
	try {
		const s = await api.session.get();
		if (s.signed_in)
			return enter(s.csrf, early);
	} catch (e) {
		/* fall through to the sign-in page */
	}
	showSignIn();
})();
