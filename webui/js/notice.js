// notice.js — a short message at the foot of the page (read out by screen
// readers), e.g. "Reimage queued for usb2".

let timer = null;

export function notify(text, kind) {
	const el = document.getElementById('notice');
	if (!el)
		return;
	el.textContent = text;
	el.dataset.kind = kind || 'info';
	el.hidden = false;
	clearTimeout(timer);
	timer = setTimeout(() => { el.hidden = true; }, 4000);
}
