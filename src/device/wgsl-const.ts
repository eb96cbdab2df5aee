// The integer constant expressions of a WGSL kernel, evaluated as the shader compiler would: a
// module-scope `const` or `override` (an override's value given, else its default) in terms of
// the others, so a size the WGSL states as an expression (`array<f32, SCRATCH>` with `override
// SCRATCH: u32 = max(WGS / 32u * 256u, 16u * BN)`) is read from it, never restated. Covers what
// the kernels write in such expressions: integer and bool literals, + − * / % (integer division
// truncates), parentheses, and max, min and select.

type Value = number | boolean;

/** The right-hand side of every module-scope `const` and `override` with an initialiser, by name. */
function declarations(source: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of source.matchAll(/^(?:const|override)\s+(\w+)\s*(?::\s*\w+)?\s*=\s*([^;]+);/gm)) found.set(m[1]!, m[2]!.trim());
  return found;
}

const tokenPattern = /\s*(?:(\d+)[ui]?|(\w+)|(.))/y;

function tokens(text: string): string[] {
  const out: string[] = [];
  tokenPattern.lastIndex = 0;
  while (tokenPattern.lastIndex < text.trimEnd().length) {
    const m = tokenPattern.exec(text);
    if (!m) break;
    out.push(m[1] ?? m[2] ?? m[3]!);
  }
  return out;
}

const functions: Record<string, (args: Value[]) => Value> = {
  max: ([a, b]) => Math.max(Number(a), Number(b)),
  min: ([a, b]) => Math.min(Number(a), Number(b)),
  select: ([f, t, c]) => (c ? t! : f!),
};

const binary: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => Math.trunc(a / b),
  '%': (a, b) => a % b,
};

/**
 * The value of `expression` in terms of a kernel's consts and overrides (`overrides` replacing the
 * overrides' defaults). Throws, naming the kernel, where it is not a constant expression of the
 * forms above.
 */
export function evaluateExpression(kernel: string, source: string, expression: string, overrides: Record<string, number> = {}): number {
  const decls = declarations(source);
  const values = new Map<string, Value>();
  const fail = (why: string): never => {
    throw new Error(`kernel ${kernel}: cannot evaluate '${expression}': ${why}`);
  };
  const named = (id: string, seen: readonly string[]): Value => {
    if (id in overrides) return overrides[id]!;
    if (id === 'true' || id === 'false') return id === 'true';
    const known = values.get(id);
    if (known !== undefined) return known;
    const text = decls.get(id);
    if (text === undefined) return fail(`'${id}' is no const or override with a value`);
    if (seen.includes(id)) return fail(`'${id}' refers to itself`);
    const v = parse(tokens(text), [...seen, id]);
    values.set(id, v);
    return v;
  };
  function parse(t: string[], seen: readonly string[]): Value {
    let i = 0;
    const expect = (s: string): void => {
      if (t[i++] !== s) fail(`expected '${s}' in ${t.join(' ')}`);
    };
    const primary = (): Value => {
      const tok = t[i++];
      if (tok === undefined) return fail(`unexpected end of ${t.join(' ')}`);
      if (tok === '(') {
        const v = sum();
        expect(')');
        return v;
      }
      if (tok === '-') return -Number(primary());
      if (/^\d+$/.test(tok)) return Number(tok);
      if (!/^\w+$/.test(tok)) return fail(`unexpected '${tok}' in ${t.join(' ')}`);
      if (t[i] !== '(') return named(tok, seen);
      const f = functions[tok] ?? fail(`unknown function '${tok}'`);
      i++;
      const args = [sum()];
      while (t[i] === ',') {
        i++;
        args.push(sum());
      }
      expect(')');
      return f(args);
    };
    const level =
      (next: () => Value, ops: string): (() => Value) =>
      () => {
        let v = next();
        while (t[i] !== undefined && ops.includes(t[i]!)) {
          const op = t[i++]!;
          v = binary[op]!(Number(v), Number(next()));
        }
        return v;
      };
    const sum = level(level(primary, '*/%'), '+-');
    const v = sum();
    if (i !== t.length) fail(`unexpected '${t[i]}' in ${t.join(' ')}`);
    return v;
  }
  return Number(parse(tokens(expression), []));
}
