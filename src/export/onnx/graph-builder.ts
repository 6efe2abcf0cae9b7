// Accumulates an ONNX graph's nodes and initializers while an exporter walks a model: each op returns the name
// of its (single) output, so exporters read like the model's forward.
import type { Attribute, GraphSpec, InitializerSpec, NodeSpec, ValueInfoSpec } from './onnx-model.ts';

export class GraphBuilder {
  readonly #nodes: NodeSpec[] = [];
  readonly #initializers: InitializerSpec[] = [];
  readonly #names = new Set<string>();

  /** `base`, or `base_2`, `base_3`, … when taken: every value and node name is unique in a graph. */
  #unique(base: string): string {
    let name = base;
    for (let i = 2; this.#names.has(name); i++) name = `${base}_${i}`;
    this.#names.add(name);
    return name;
  }

  /** Reserves a graph input's name. */
  input(name: string): string {
    if (this.#names.has(name)) throw new Error(`ONNX graph: name ${name} is already used`);
    this.#names.add(name);
    return name;
  }

  /** A float32 weight; its length must match the dims. */
  initializer(name: string, dims: readonly number[], data: Float32Array): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw new Error(`ONNX initializer ${name}: ${data.length} values for dims [${dims.join(', ')}]`);
    }
    const unique = this.#unique(name);
    this.#initializers.push({ name: unique, dims: [...dims], data });
    return unique;
  }

  /**
   * Adds a node with one output and returns that output's name (derived from `name`, or exactly `output` when
   * the value is a graph output). An empty input name marks an omitted optional input.
   */
  op(
    opType: string,
    inputs: readonly string[],
    name: string,
    attributes: readonly Attribute[] = [],
    output?: string,
  ): string {
    const out = output === undefined ? this.#unique(name) : this.input(output);
    this.#nodes.push({ opType, inputs: [...inputs], outputs: [out], name: out, attributes });
    return out;
  }

  build(name: string, inputs: readonly ValueInfoSpec[], outputs: readonly ValueInfoSpec[]): GraphSpec {
    return { name, nodes: [...this.#nodes], initializers: [...this.#initializers], inputs, outputs };
  }
}
