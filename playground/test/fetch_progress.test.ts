import { describe, expect, it } from 'vitest';
import { readWithProgress } from '../src/data/fetch_progress.ts';
import { formatBytes } from '../src/views/progress.ts';

/** A response whose body arrives in `chunks`, with or without a Content-Length. */
function response(chunks: Uint8Array[], withLength: boolean): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
  const length = chunks.reduce((n, c) => n + c.byteLength, 0);
  return new Response(body, { headers: withLength ? { 'content-length': String(length) } : {} });
}

describe('fetching a dataset with progress', () => {
  it('reports the bytes as they arrive, with the total the server gives, and returns them in order', async () => {
    const chunks = [Uint8Array.of(1, 2, 3), Uint8Array.of(4), Uint8Array.of(5, 6, 7, 8, 9)];
    const seen: [number, number | null][] = [];
    const bytes = new Uint8Array(await readWithProgress(response(chunks, true), (loaded, total) => seen.push([loaded, total])));
    expect([...bytes]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen).toEqual([[0, 9], [3, 9], [4, 9], [9, 9]]);
  });

  it('says the total is unknown when the server does not give it', async () => {
    const seen: [number, number | null][] = [];
    await readWithProgress(response([Uint8Array.of(1, 2)], false), (loaded, total) => seen.push([loaded, total]));
    expect(seen.at(-1)).toEqual([2, null]);
    expect(formatBytes(2_500_000, null)).toBe('2.5 MB');
    expect(formatBytes(1_200_000, 4_530_000)).toBe('1.2 of 4.5 MB');
  });
});
