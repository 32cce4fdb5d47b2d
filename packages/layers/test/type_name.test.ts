import { describe, expect, it } from 'vitest';
import type { Tensor } from '@welford/core';
import * as layers from '../src/index.ts';
import { BatchNormBase, Identity, InstanceNormBase, Module, ReLU, ResidualBlock, Sequential, WeightedLayer } from '../src/index.ts';

// A minifier renames classes ("t", "e"); a module's typeName must not change with it.

/** The abstract bases the package exports: never instantiated, so their names are never shown. */
const ABSTRACT_BASES: readonly unknown[] = [Module, BatchNormBase, InstanceNormBase, WeightedLayer, ResidualBlock];

/** A class as this test reads it: its static members. */
interface ModuleClass {
  readonly prototype: unknown;
  readonly typeName?: unknown;
}

function moduleClasses(): [string, ModuleClass][] {
  const exported = Object.entries(layers as Record<string, unknown>);
  return exported.filter((entry): entry is [string, ModuleClass] => typeof entry[1] === 'function' && entry[1].prototype instanceof Module);
}

/** Renames a class the way a minifier would. */
function mangle<C extends abstract new (...args: never[]) => unknown>(cls: C, name = 't'): C {
  Object.defineProperty(cls, 'name', { value: name, configurable: true });
  return cls;
}

describe('Module.typeName', () => {
  it('every concrete module class of the package declares its own typeName, equal to its export name', () => {
    const classes = moduleClasses();
    expect(classes.length).toBeGreaterThanOrEqual(30);
    for (const base of ABSTRACT_BASES) expect(base === Module || classes.some(([, cls]) => cls === base)).toBe(true);
    const concrete = classes.filter(([, cls]) => !ABSTRACT_BASES.includes(cls));
    const undeclared = concrete.filter(([, cls]) => !Object.hasOwn(cls, 'typeName')).map(([name]) => name);
    expect(undeclared).toEqual([]);
    for (const [name, cls] of concrete) expect(cls.typeName, name).toBe(name);
  });

  it('a minified class keeps its declared name in typeName, toString() and errors', () => {
    const Minified = mangle(
      class extends Module {
        static override readonly typeName = 'Conv2d';
        forward(): Tensor {
          throw new Error('expected 3 channels');
        }
      },
    );
    expect(Minified.name).toBe('t');
    const m = new Minified();
    expect(m.typeName).toBe('Conv2d');
    expect(m.toString()).toBe('Conv2d()');
    expect(() => m.removeParameter('weight')).toThrow('Conv2d: no parameter named "weight"');
    const model = mangle(class extends Sequential {}, 'e');
    expect(() => new model(new Identity(), m).call(null as unknown as Tensor)).toThrow('1 (Conv2d): expected 3 channels');
  });

  it('a package class renamed by a minifier still reports its name', () => {
    const original = Object.getOwnPropertyDescriptor(ReLU, 'name')!;
    try {
      mangle(ReLU);
      expect(new ReLU().typeName).toBe('ReLU');
      expect(new Sequential(new ReLU()).toString()).toBe('Sequential(\n  (0): ReLU()\n)');
    } finally {
      Object.defineProperty(ReLU, 'name', original);
    }
    expect(ReLU.name).toBe('ReLU');
  });

  it("a subclass that declares nothing is named by its own class, never by its parent's declaration", () => {
    class MyRelu extends ReLU {}
    expect(new MyRelu().typeName).toBe('MyRelu');
    class Gate extends Module {
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    expect(new Gate().typeName).toBe('Gate');
    expect(new Gate().toString()).toBe('Gate()');
    // Minified, an undeclared class can only give its mangled name.
    expect(new (mangle(class extends ReLU {}))().typeName).toBe('t');
  });

  it('a declared typeName that is not a string is ignored', () => {
    const Odd = class Odd extends ReLU {};
    Object.defineProperty(Odd, 'typeName', { value: 42 });
    expect(new Odd().typeName).toBe('Odd');
  });
});
