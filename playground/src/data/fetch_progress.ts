// Fetching a file while reporting the bytes received, so that the page can show how far a
// download of several megabytes has got.

/** Bytes received so far, and the total when the server says it (Content-Length), else null. */
export type ByteProgress = (loaded: number, total: number | null) => void;

/** The body of `response` as one buffer, calling `onBytes` as chunks arrive. */
export async function readWithProgress(response: Response, onBytes: ByteProgress): Promise<ArrayBuffer> {
  const length = Number(response.headers.get('content-length'));
  const total = Number.isFinite(length) && length > 0 ? length : null;
  if (!response.body) {
    const buffer = await response.arrayBuffer();
    onBytes(buffer.byteLength, total ?? buffer.byteLength);
    return buffer;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  onBytes(0, total);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onBytes(loaded, total);
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes.buffer;
}
