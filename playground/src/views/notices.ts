// Messages above the panels: what was replaced in a malformed URL, why a checkpoint was refused,
// that WebGPU is missing or the device was lost, with the action that helps.

export type NoticeKind = 'info' | 'warn' | 'error';

/** A button in a notice. */
export interface NoticeAction {
  label: string;
  id: string;
  run: () => void | Promise<void>;
}

export interface Notice {
  /** Replaces an earlier notice with the same key. */
  key: string;
  kind: NoticeKind;
  text: string;
  actions?: NoticeAction[];
  /** Closed by the user (default true). */
  closable?: boolean;
}

const root = (): HTMLElement => document.getElementById('notices')!;

/** Shows a notice (replacing one with the same key). */
export function notify(n: Notice): void {
  dismiss(n.key);
  const box = document.createElement('div');
  box.className = `notice ${n.kind}`;
  box.dataset.key = n.key;
  box.setAttribute('role', n.kind === 'error' ? 'alert' : 'status');
  const text = document.createElement('p');
  text.textContent = n.text;
  box.append(text);
  for (const a of n.actions ?? []) {
    const button = document.createElement('button');
    button.type = 'button';
    button.id = a.id;
    button.textContent = a.label;
    button.addEventListener('click', () => {
      button.disabled = true;
      void Promise.resolve(a.run()).finally(() => (button.disabled = false));
    });
    box.append(button);
  }
  if (n.closable ?? true) {
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'close';
    close.setAttribute('aria-label', 'close');
    close.textContent = '×';
    close.addEventListener('click', () => box.remove());
    box.append(close);
  }
  root().append(box);
}

/** Removes the notice with `key`, if shown. */
export function dismiss(key: string): void {
  root().querySelector(`[data-key="${CSS.escape(key)}"]`)?.remove();
}

/** The notices shown, as { key, kind, text } (for the page state the browser tests read). */
export function shownNotices(): { key: string; kind: string; text: string }[] {
  return [...root().querySelectorAll<HTMLElement>('.notice')].map((e) => ({
    key: e.dataset.key ?? '',
    kind: e.classList.contains('error') ? 'error' : e.classList.contains('warn') ? 'warn' : 'info',
    text: e.querySelector('p')?.textContent ?? '',
  }));
}
