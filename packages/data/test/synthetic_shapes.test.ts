import { describe, expect, it } from 'vitest';
import { SyntheticShapes, type ShapeSpec } from '../src/index.ts';

/** The bytes of a sample's image and mask, for exact comparison. */
function bytesOf(set: SyntheticShapes, i: number): number[] {
  const { image, mask } = set.get(i);
  return [...new Uint8Array(image.buffer), ...mask];
}

/** Point-in-shape written independently: the triangle from its three vertices by edge signs. */
function inside(s: ShapeSpec, px: number, py: number): boolean {
  const { cx, cy, r } = s;
  if (s.kind === 1) return (px - cx) ** 2 + (py - cy) ** 2 <= r * r;
  if (s.kind === 2) return px >= cx - r && px <= cx + r && py >= cy - r && py <= cy + r;
  // Apex direction and the base's two ends for each orientation (up, right, down, left).
  const [ax, ay] = [[0, -1], [1, 0], [0, 1], [-1, 0]][s.orientation];
  const apex = [cx + ax * r, cy + ay * r];
  const b1 = [cx - ax * r + ay * r, cy - ay * r - ax * r];
  const b2 = [cx - ax * r - ay * r, cy - ay * r + ax * r];
  const cross = (p: number[], q: number[]) => (q[0] - p[0]) * (py - p[1]) - (q[1] - p[1]) * (px - p[0]);
  const d = [cross(apex, b1), cross(b1, b2), cross(b2, apex)];
  const eps = 1e-9;
  return d.every((v) => v >= -eps) || d.every((v) => v <= eps);
}

describe('SyntheticShapes', () => {
  it('gives the same bytes for the same seed and different ones for another seed', () => {
    const a = new SyntheticShapes({ length: 6, size: 20, seed: 7 });
    const b = new SyntheticShapes({ length: 6, size: 20, seed: 7 });
    const c = new SyntheticShapes({ length: 6, size: 20, seed: 8 });
    for (let i = 0; i < 6; i++) {
      expect(bytesOf(a, i)).toEqual(bytesOf(b, i));
      expect(bytesOf(a, i)).not.toEqual(bytesOf(c, i));
    }
    // Random access: reading in another order changes nothing.
    expect(bytesOf(a, 5)).toEqual(bytesOf(new SyntheticShapes({ length: 6, size: 20, seed: 7 }), 5));
    expect(bytesOf(a, 0)).not.toEqual(bytesOf(a, 1));
  });

  it('matches a pinned image, so that every machine draws the same', () => {
    const s = new SyntheticShapes({ length: 1, size: 16, seed: 123 }).get(0);
    let hash = 2166136261;
    for (const byte of [...new Uint8Array(s.image.buffer), ...s.mask]) hash = Math.imul(hash ^ byte, 16777619) >>> 0;
    expect(hash).toBe(3396073120);
  });

  it('masks every pixel with the last shape covering it, and the image shows that shape', () => {
    const set = new SyntheticShapes({ length: 12, size: [24, 30], seed: 3, noise: 0, shapes: [2, 4] });
    expect(set.shape).toEqual([1, 24, 30]);
    const seen = new Set<number>();
    for (let i = 0; i < set.length; i++) {
      const { image, mask } = set.get(i);
      const { background, shapes } = set.describe(i);
      expect(shapes.length).toBeGreaterThanOrEqual(2);
      expect(shapes.length).toBeLessThanOrEqual(4);
      for (let y = 0; y < 24; y++) {
        for (let x = 0; x < 30; x++) {
          const top = shapes.filter((s) => inside(s, x + 0.5, y + 0.5)).at(-1);
          expect(mask[y * 30 + x], `image ${i} pixel (${x}, ${y})`).toBe(top?.kind ?? 0);
          expect(image[y * 30 + x]).toBe(Math.fround(top?.intensity ?? background));
          seen.add(mask[y * 30 + x]);
        }
      }
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
  });

  it('keeps noisy values in [0, 1] and normalizes when asked', () => {
    const set = new SyntheticShapes({ length: 2, size: 12, noise: 1 });
    const img = set.get(1).image;
    expect(Math.min(...img)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...img)).toBeLessThanOrEqual(1);
    const norm = new SyntheticShapes({ length: 2, size: 12, noise: 1, normalize: { mean: [0.5], std: [0.25] } }).get(1).image;
    for (let k = 0; k < img.length; k++) expect(norm[k]).toBeCloseTo((img[k] - 0.5) / 0.25, 5);
  });

  it('checks its options', () => {
    expect(() => new SyntheticShapes({ size: 4 })).toThrow(/at least 8x8.*got 4x4/);
    expect(() => new SyntheticShapes({ shapes: [3, 2] })).toThrow(/fewest <= most, got \[3, 2\]/);
    expect(() => new SyntheticShapes({ noise: 2 })).toThrow(/noise must be a finite number in \[0, 1\], got 2/);
    expect(() => new SyntheticShapes({ normalize: { mean: [0, 0], std: [1, 1] } })).toThrow(/needs 1 mean and 1 std values for images of shape \[1, 32, 32\], got 2 and 2/);
    expect(() => new SyntheticShapes({ length: 3 }).get(3)).toThrow(/index 3 is out of range for a dataset of 3 samples/);
  });
});
