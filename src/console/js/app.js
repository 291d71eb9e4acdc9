// app.js -- the console's shell: theme, token, navigation between the
// views of views.js (hash routes, so reloading keeps the place).

import { h, clear } from './dom.js';
import { ApiError, AuthError, api, setToken, token } from './api.js';
import { views, home } from './views.js';

const THEME = 'bora.theme';
let stop = null;
let seq = 0;

function applyTheme(t) {
	document.documentElement.dataset.theme = t;
	const b = document.getElementById('theme');
	if (b)
		b.textContent = t === 'dark' ? 'Light theme' : 'Dark theme';
}

function initTheme() {
	const saved = localStorage.getItem(THEME);
	const dark = window.matchMedia &&
	    window.matchMedia('(prefers-color-scheme: dark)').matches;
	applyTheme(saved || (dark ? 'dark' : 'light'));
	document.getElementById('theme').addEventListener('click', () => {
		const t = document.documentElement.dataset.theme === 'dark' ?
		    'light' : 'dark';
		localStorage.setItem(THEME, t);
		applyTheme(t);
	});
}

function nav(current) {
	const ul = clear(document.getElementById('nav'));
	for (const v of views.filter((x) => !x.hidden))
		ul.append(h('a', { href: '#/' + v.name,
		    class: v.name === current ? 'active' : null }, v.title));
}

// The token form, shown when the API answers 401.
function askToken(root, why) {
	clear(root).append(h('form', { class: 'card token', id: 'token-form',
	    onsubmit: (ev) => {
		ev.preventDefault();
		setToken(ev.target.elements.token.value.trim());
		route();
	} },
	    h('h2', {}, 'Authentication required'),
	    h('p', {}, why || 'This borad requires an API token (its --api-token).'),
	    h('input', { name: 'token', type: 'password', autocomplete: 'off',
		placeholder: 'API token', required: true, autofocus: true }),
	    h('button', { type: 'submit' }, 'Sign in')));
}

export function setStatus(text, cls) {
	const el = document.getElementById('live');
	el.textContent = text;
	el.className = 'live ' + (cls || '');
}

async function route() {
	const my = ++seq;
	if (stop) {
		stop();
		stop = null;
	}
	const parts = location.hash.replace(/^#\/?/, '').split('/')
	    .filter((p) => p !== '').map(decodeURIComponent);
	const v = views.find((x) => x.name === parts[0]);
	if (!v) {
		location.replace('#/' + home);
		return;
	}
	nav(v.name);
	document.getElementById('signout').hidden = !token();
	const root = document.getElementById('view');
	try {
		// One cheap call tells whether the token is right.
		await api('GET', '/v2');
		const mod = await import(parts.length > 1 && v.item ? v.item :
		    v.module);
		if (my !== seq)
			return;
		clear(root);
		const r = await mod.render(root, parts.slice(1), { setStatus });
		if (my !== seq) {
			if (typeof r === 'function')
				r();
			return;
		}
		stop = typeof r === 'function' ? r : null;
	} catch (e) {
		if (my !== seq)
			return;
		if (e instanceof AuthError) {
			askToken(root, token() ? 'The token was refused.' : null);
			return;
		}
		if (!(e instanceof ApiError))
			console.error(e);
		clear(root).append(h('div', { class: 'card error' }, String(e.message || e)));
	}
}

document.getElementById('signout').addEventListener('click', () => {
	setToken('');
	route();
});
initTheme();
window.addEventListener('hashchange', route);
route();
