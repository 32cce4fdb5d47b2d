// The last run's configuration and weights in IndexedDB, so that a reload (or a lost device)
// picks up where training was. One record, overwritten at every evaluation and pause.

/** What is kept of the last run. */
export interface SavedRun {
  /** The configuration as its query string. */
  query: string;
  step: number;
  /** The weights as a safetensors file. */
  bytes: Uint8Array;
  savedAt: number;
}

const DB = 'welford-playground';
const STORE = 'runs';
const KEY = 'last';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') return reject(new Error('this browser has no IndexedDB'));
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB refused to open'));
  });
}

async function transact<T>(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = act(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    db.close();
  }
}

/** Stores the run (replacing the previous one). */
export async function saveRun(run: SavedRun): Promise<void> {
  await transact('readwrite', (s) => s.put(run, KEY));
}

/** The stored run, or null (none yet, or no IndexedDB). */
export async function loadRun(): Promise<SavedRun | null> {
  try {
    const run = (await transact('readonly', (s) => s.get(KEY))) as SavedRun | undefined;
    return run && typeof run.query === 'string' && run.bytes instanceof Uint8Array ? run : null;
  } catch {
    return null;
  }
}
