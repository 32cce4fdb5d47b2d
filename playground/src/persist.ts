// The last run's configuration, weights and chart history in IndexedDB, so that a reload (or a
// lost device) picks up where training was. One record, overwritten at every evaluation and pause.
import type { ExperimentResult } from '@welford/experiments';
import type { SavedHistory } from './views/history.ts';

/** What is kept of the last run. */
export interface SavedRun {
  /** The configuration as its query string. */
  query: string;
  step: number;
  /** The weights as a safetensors file. */
  bytes: Uint8Array;
  savedAt: number;
  /** The charts' series (absent in records written before the page kept them). */
  history?: SavedHistory;
}

const DB = 'welford-playground';
const STORE = 'runs';
const KEY = 'last';
/** The lab's last result of each experiment, under one key. */
const LAB_KEY = 'lab';

/** An experiment's last finished result, kept so that a reload shows it again. */
export interface SavedLabResult {
  result: ExperimentResult;
  /** The lab's quick mode (false: full size). */
  quick: boolean;
  savedAt: number;
}

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

/** Forgets the stored run and the lab's results (the Forget control); nothing stored is no error. */
export async function clearRun(): Promise<void> {
  await transact('readwrite', (s) => s.delete(KEY));
  await transact('readwrite', (s) => s.delete(LAB_KEY));
}

/** The lab's stored results by experiment name ({} when none, or no IndexedDB). */
export async function loadLabResults(): Promise<Record<string, SavedLabResult>> {
  try {
    const saved = (await transact('readonly', (s) => s.get(LAB_KEY))) as Record<string, SavedLabResult> | undefined;
    return saved && typeof saved === 'object' ? saved : {};
  } catch {
    return {};
  }
}

/** Keeps `saved` as its experiment's last result (one per experiment: the store stays small). */
export async function saveLabResult(saved: SavedLabResult): Promise<void> {
  const all = await loadLabResults();
  all[saved.result.name] = saved;
  await transact('readwrite', (s) => s.put(all, LAB_KEY));
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
