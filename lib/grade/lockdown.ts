/**
 * Locking down a grading process before the student's code runs: every built-in the tests could use
 * (globals, their prototypes and methods, `Deno`, `node:assert`) and every library export the tests
 * import become read-only, so code that replaces `Math.abs`, patches `Array.prototype.every`, adds
 * `Object.prototype.toJSON` or swaps a global gets a `TypeError` instead of changing what the tests see.
 * It is the idea of SES's `lockdown()` (Agoric), cut down to what grading needs.
 *
 * Freezing a prototype breaks a common pattern, assigning a property that the prototype also has
 * (`this.name = "MyError"` in a subclass, the "override mistake"); for the usual names
 * ({@linkcode OVERRIDABLE}) the frozen property becomes a getter with a setter that gives the instance
 * its own property, as SES does. `Worker` becomes a constructor that refuses (a worker is a fresh realm
 * whose built-ins the lock does not cover), and so do the runtime's internals (`Deno[Deno.internal]`,
 * whose `core.evalContext` runs strings as code whatever V8's flags say).
 *
 * Not covered: the contents of typed arrays (they cannot be frozen); state that a library keeps in its
 * closures; objects a library function returns (fresh, the caller's to change); objects of third-party
 * packages other than their functions and prototypes (see {@linkcode LockdownOptions}); objects a
 * built-in returns from a prototype getter (`crypto.subtle`); `process`, whose functions only are locked.
 *
 * @module
 */
import { types } from "node:util";

/** Properties of frozen prototypes that instances may still assign (they get an own property). */
export const OVERRIDABLE: ReadonlySet<PropertyKey> = new Set<PropertyKey>([
  "constructor",
  "name",
  "message",
  "toString",
  "toLocaleString",
  "valueOf",
  "toJSON",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "push",
  "concat",
  "bind",
  Symbol.iterator,
]);

/** The globals of the runtime, before any library added its own (this module is imported first). */
const _BUILTIN_GLOBALS: ReadonlySet<PropertyKey> = new Set(Reflect.ownKeys(globalThis));

const _freeze = Object.freeze, _gopd = Object.getOwnPropertyDescriptor, _dp = Object.defineProperty;
const _proto = Object.getPrototypeOf, _ownKeys = Reflect.ownKeys;

function _chain(o: object): object[] {
  const out: object[] = [];
  for (let p = _proto(o); p !== null; p = _proto(p)) out.push(p);
  return out;
}

function _isPrototype(o: object): boolean {
  const c = _gopd(o, "constructor");
  return !!c && "value" in c && typeof c.value === "function" &&
    (c.value as { prototype?: unknown }).prototype === o;
}

/** A frozen-looking property that instances can still override by assignment. */
function _overridable(o: object, key: PropertyKey, d: PropertyDescriptor): void {
  const value = d.value;
  _dp(o, key, {
    get: () => value,
    set(this: object, v: unknown) {
      if (this === o) {
        throw new TypeError(`Cannot assign to read only property '${String(key)}' of a built-in`);
      }
      _dp(this, key, { value: v, writable: true, enumerable: true, configurable: true });
    },
    enumerable: d.enumerable,
    configurable: false,
  });
}

/** Options for {@linkcode lockdown}. */
export interface LockdownOptions {
  /**
   * Module namespaces of third-party packages (e.g. zod). Their functions and prototypes get their
   * existing properties locked but stay extensible (zod installs methods on first use); their other
   * objects, and instances of their classes reached from `roots`, are left as they are (they hold the
   * package's caches).
   */
  packages?: unknown[];
}

class _DeniedWorker {
  constructor() {
    throw new Deno.errors.NotCapable("Graded code may not start a Worker");
  }
}

/** Makes each own property of `globalThis` read-only: a lazy getter becomes its value, fixed. */
function _lockGlobals(): void {
  for (const key of _ownKeys(globalThis)) {
    const d = _gopd(globalThis, key)!;
    if (!d.configurable) continue;
    if ("value" in d) {
      _dp(globalThis, key, { writable: false, configurable: false });
      continue;
    }
    let value: unknown;
    try {
      if (typeof key === "string" && key.startsWith("on")) throw new Error("an event handler stays settable");
      value = d.get?.call(globalThis);
    } catch {
      _dp(globalThis, key, { configurable: false });
      continue;
    }
    _dp(globalThis, key, { value, writable: false, enumerable: d.enumerable, configurable: false });
  }
}

/**
 * Makes each own property of `o` read-only and not configurable (visiting each value, getter and
 * setter); the usual names of a prototype stay overridable by instances.
 */
function _lockProperties(o: object, visit: (v: unknown) => void, lock: boolean): void {
  const proto = _isPrototype(o);
  let keys: PropertyKey[] = [];
  try {
    keys = _ownKeys(o);
  } catch { /* an exotic object */ }
  for (const key of keys) {
    let d: PropertyDescriptor | undefined;
    try {
      d = _gopd(o, key);
    } catch {
      continue; // a module binding not yet initialised
    }
    if (!d) continue;
    if (!("value" in d)) {
      visit(d.get), visit(d.set);
    } else {
      visit(d.value);
      if (!lock) continue;
      if (proto && d.writable && d.configurable && OVERRIDABLE.has(key)) {
        _overridable(o, key, d);
        continue;
      }
    }
    if (!lock || !d.configurable) continue;
    try {
      _dp(o, key, "value" in d ? { writable: false, configurable: false } : { configurable: false });
    } catch { /* a host object that refuses */ }
  }
}

/**
 * Freezes the built-ins and `roots` (e.g. the module namespaces the tests import), deeply: each
 * object reachable through properties, getters/setters and prototypes. Call it once, after every
 * module the tests need has loaded (a Node built-in module that loads later may fail) and before any
 * untrusted code runs. Irreversible for the process.
 *
 * @param roots Objects to freeze besides the globals (module namespaces are walked, not frozen).
 * @returns How many objects were frozen.
 *
 * @example A built-in cannot be replaced after lockdown (run in a child process: it is for good)
 * ```ts
 * import assert from "node:assert/strict";
 * const lockdown = new URL("./lockdown.ts", import.meta.url).href;
 * const code = `import { lockdown } from "${lockdown}"; lockdown();
 * try { Math.abs = () => 0; } catch (e) { console.log(String(e)); }
 * class MyError extends Error { constructor() { super("x"); this.name = "MyError"; } }
 * console.log(String(new MyError()));`;
 * const out = await new Deno.Command(Deno.execPath(), { args: ["eval", code] }).output();
 * assert.deepEqual(new TextDecoder().decode(out.stdout).trim().split("\n"), [
 *   "TypeError: Cannot assign to read only property 'abs' of object '[object Math]'",
 *   "MyError: x",
 * ]);
 * ```
 */
export function lockdown(roots: unknown[] = [], options: LockdownOptions = {}): number {
  // The runtime's internals (`Deno[Deno.internal].core`) can evaluate strings despite V8's ban.
  const internal = (Deno as unknown as { internal?: symbol }).internal;
  if (internal && _gopd(Deno, internal)?.configurable) {
    _dp(Deno, internal, {
      get() {
        throw new Deno.errors.NotCapable(
          "Graded code may not use the runtime's internals (Deno[Deno.internal])",
        );
      },
      configurable: false,
    });
  }
  if (_gopd(globalThis, "Worker")?.configurable) {
    _dp(globalThis, "Worker", {
      value: _DeniedWorker,
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }
  _lockGlobals();
  // `process` holds the Node compatibility layer's own state (written on exit): only its functions
  // (`nextTick`, `emitWarning`, …) are locked.
  const process = (globalThis as unknown as { process?: Record<string, unknown> }).process;
  for (const [key, d] of Object.entries(process ? Object.getOwnPropertyDescriptors(process) : {})) {
    if (typeof d.value === "function" && d.configurable) {
      _dp(process, key, { writable: false, configurable: false });
    }
  }
  const seen = new Set<unknown>([globalThis, process]);
  const packaged = new Set<unknown>();
  let frozen = 0;
  const walk = (starts: unknown[], mode: "freeze" | "package") => {
    const todo: object[] = [];
    const visit = (v: unknown) => {
      if ((typeof v !== "object" && typeof v !== "function") || v === null || seen.has(v)) return;
      seen.add(v);
      if (types.isProxy(v)) return;
      if (mode === "package") packaged.add(v);
      else if (typeof v === "object" && _chain(v).some((p) => packaged.has(p))) return; // a package's instance
      todo.push(v);
    };
    starts.forEach(visit);
    while (todo.length) {
      const o = todo.pop()!;
      visit(_proto(o));
      const lock = mode === "freeze" || typeof o === "function" || _isPrototype(o);
      _lockProperties(o, visit, lock);
      if (mode === "package" || ArrayBuffer.isView(o) || types.isModuleNamespaceObject(o)) continue;
      try {
        _freeze(o);
        frozen++;
      } catch { /* cannot be frozen (e.g. a host object); its properties were locked */ }
    }
  };
  const values = (keys: PropertyKey[]) =>
    keys.flatMap((key) => {
      const d = _gopd(globalThis, key)!;
      return "value" in d ? [d.value] : [d.get, d.set];
    });
  const keys = _ownKeys(globalThis);
  walk(values(keys.filter((k) => _BUILTIN_GLOBALS.has(k))), "freeze");
  walk([...(options.packages ?? []), ...values(keys.filter((k) => !_BUILTIN_GLOBALS.has(k)))], "package");
  walk(roots, "freeze");
  return frozen;
}
