import type { CommerceShapeResponse } from '@apollo/gateway/dist/config.js';
import { computeResponse } from '@apollo/gateway/dist/resultShaping.js';
import {
  isCompositeType,
  isCustomScalarType,
  isListType,
  isNonNullType,
  isObjectType,
  isSubtype,
  isValidLeafValue,
  typenameFieldName,
  Variable,
  type CompositeType,
  type EnumType,
  type FieldSelection,
  type NamedType,
  type Operation,
  type ScalarType,
  type Schema,
  type SelectionSet,
  type Type,
} from '@apollo/federation-internals';
import type { FragmentDefinitionNode, OperationDefinitionNode } from 'graphql';

/**
 * The gateway's result shaping (`computeResponse` in @apollo/gateway: the merged subgraph answers
 * cut to what the operation selected, in its order, `__typename` filled in, leaves and nulls
 * checked), with the operation's walk compiled once instead of re-derived for every object of
 * every answer. It was about 30 % of the router's CPU on the benchmark's larger reads
 * (docs/DESIGN.md, router performance).
 *
 * Only the clean case is shaped here: wherever the gateway would report an error (a null for a
 * non-null field, an invalid leaf or `__typename`) or fail one of its assertions (a subgraph answer
 * of the wrong shape), this stops and the gateway's own `computeResponse` shapes the whole answer
 * from the start. So every answer with an error, and every message, is the gateway's; what is
 * produced here is checked against it in `router/test/result-shaping.test.ts`.
 */
export interface ResultShaper {
  shape: CommerceShapeResponse;
  /** Answers shaped here, and answers handed to the gateway's own shaping. */
  readonly stats: { shaped: number; fallbacks: number; compiled: number };
}

/** How a field's value is checked: its type with the wrappers unrolled once. */
type Shape =
  | { kind: 'nonNull'; of: Shape }
  | { kind: 'list'; of: Shape }
  | { kind: 'composite'; type: CompositeType }
  | { kind: 'leaf'; valid: (value: unknown) => boolean };

/** A @skip/@include condition: a literal, or the name of a variable. */
type Condition = boolean | { variable: string };

interface FieldStep {
  kind: 'field';
  skip: Condition | undefined;
  include: Condition | undefined;
  responseName: string;
  /** `__schema`/`__type`: answered by the gateway's introspection, given this selection. */
  introspection: FieldSelection | undefined;
  typename: boolean;
  shape: Shape;
  steps: Step[] | undefined;
}

interface FragmentStep {
  kind: 'fragment';
  skip: Condition | undefined;
  include: Condition | undefined;
  typeCondition: CompositeType | undefined;
  steps: Step[];
  /** Whether the type condition applies, by `__typename` (a string) or by parent type. */
  applies: Map<string | NamedType, boolean>;
}

type Step = FieldStep | FragmentStep;

interface Compiled {
  schema: Schema;
  fragments: readonly FragmentDefinitionNode[];
  defaults: Record<string, unknown>;
  steps: Step[];
  rootType: CompositeType;
}

interface Run {
  schema: Schema;
  variables: Record<string, unknown>;
  introspection: (selection: FieldSelection) => unknown;
}

/** Thrown where the gateway's shaping would report or assert something: it then shapes the answer itself. */
const FALL_BACK: unique symbol = Symbol('fall back to the gateway');

export function createResultShaper(): ResultShaper {
  const compiled = new WeakMap<OperationDefinitionNode, Compiled>();
  const stats = { shaped: 0, fallbacks: 0, compiled: 0 };

  const compiledFor = (operation: Operation, definition: OperationDefinitionNode, fragments: readonly FragmentDefinitionNode[]): Compiled => {
    const schema = operation.schema();
    const known = compiled.get(definition);
    if (known && known.schema === schema && sameNodes(known.fragments, fragments)) return known;
    const rootType = schema.schemaDefinition.rootType(operation.rootKind);
    if (!rootType) throw new Error(`no ${operation.rootKind} type`);
    const entry: Compiled = { schema, fragments, defaults: operation.collectDefaultedVariableValues(), steps: compileSelections(schema, operation.selectionSet), rootType };
    compiled.set(definition, entry);
    stats.compiled++;
    return entry;
  };

  const shape: CommerceShapeResponse = (args) => {
    const { operation, operationContext, input } = args;
    if (!input) return { data: input, errors: [] };
    try {
      const plan = compiledFor(operation, operationContext.operation, Object.values(operationContext.fragments));
      const run: Run = {
        schema: plan.schema,
        variables: { __proto__: null, ...plan.defaults, ...args.variables },
        introspection: args.introspectionHandling,
      };
      const data: Record<string, unknown> = Object.create(null);
      applySteps(run, input, plan.steps, data, plan.rootType);
      stats.shaped++;
      return { data, errors: [] };
    } catch {
      // FALL_BACK, or anything this code did not foresee: the gateway's answer either way.
      stats.fallbacks++;
      return computeResponse(args);
    }
  };

  return { shape, stats };
}

function sameNodes(a: readonly object[], b: readonly object[]): boolean {
  return a.length === b.length && a.every((node, i) => node === b[i]);
}

// --- Compiling: what the gateway derives per object, derived once per operation ----------------

function compileSelections(schema: Schema, selectionSet: SelectionSet): Step[] {
  const skipDirective = schema.skipDirective();
  const includeDirective = schema.includeDirective();
  return selectionSet.selections().map((selection): Step => {
    // As the gateway: only the first @skip and the first @include count.
    const skip = conditionOf(selection.element.appliedDirectivesOf(skipDirective)[0]?.arguments().if);
    const include = conditionOf(selection.element.appliedDirectivesOf(includeDirective)[0]?.arguments().if);
    if (selection.kind === 'FieldSelection') {
      const field = selection.element;
      return {
        kind: 'field',
        skip,
        include,
        responseName: field.responseName(),
        introspection: field.definition.isSchemaIntrospectionField() ? selection : undefined,
        typename: field.name === typenameFieldName,
        shape: shapeOf(schema, field.definition.type as Type),
        steps: selection.selectionSet ? compileSelections(schema, selection.selectionSet) : undefined,
      };
    }
    return {
      kind: 'fragment',
      skip,
      include,
      typeCondition: selection.element.typeCondition,
      steps: compileSelections(schema, selection.selectionSet),
      applies: new Map(),
    };
  });
}

function conditionOf(value: unknown): Condition | undefined {
  if (value === undefined) return undefined;
  if (value instanceof Variable) return { variable: value.name };
  // A literal that is not a boolean (validation lets none through): the gateway's check decides.
  if (typeof value !== 'boolean') throw FALL_BACK;
  return value;
}

function shapeOf(schema: Schema, type: Type): Shape {
  if (isNonNullType(type)) return { kind: 'nonNull', of: shapeOf(schema, type.ofType) };
  if (isListType(type)) return { kind: 'list', of: shapeOf(schema, type.ofType) };
  if (isCompositeType(type)) return { kind: 'composite', type };
  return { kind: 'leaf', valid: leafCheck(schema, type as ScalarType | EnumType) };
}

/** The gateway's `isValidLeafValue`, answered without it for the built-in scalars it checks by type. */
function leafCheck(schema: Schema, type: ScalarType | EnumType): (value: unknown) => boolean {
  if (isCustomScalarType(type)) return () => true;
  if (type === schema.stringType()) return (value) => typeof value === 'string';
  if (type === schema.booleanType()) return (value) => typeof value === 'boolean';
  if (type === schema.floatType()) return (value) => typeof value === 'number' && Number.isFinite(value);
  if (type === schema.intType()) return (value) => Number.isSafeInteger(value) || isValidLeafValue(schema, value, type);
  return (value) => isValidLeafValue(schema, value, type);
}

// --- Shaping: the gateway's applySelectionSet / updateOutputValue on the clean path -------------

function skipped(run: Run, step: Step): boolean {
  return (step.skip !== undefined && valueOf(run, step.skip)) || (step.include !== undefined && !valueOf(run, step.include));
}

function valueOf(run: Run, condition: Condition): boolean {
  if (typeof condition === 'boolean') return condition;
  const value = run.variables[condition.variable];
  if (typeof value !== 'boolean') throw FALL_BACK;
  return value;
}

function applySteps(run: Run, input: Record<string, unknown>, steps: Step[], output: Record<string, unknown>, parentType: NamedType): void {
  for (const step of steps) {
    if ((step.skip !== undefined || step.include !== undefined) && skipped(run, step)) continue;
    if (step.kind === 'field') {
      const name = step.responseName;
      const outputValue = output[name];
      if (step.introspection) {
        if (outputValue === undefined) output[name] = run.introspection(step.introspection);
        continue;
      }
      let inputValue = Object.hasOwn(input, name) ? (input[name] ?? null) : null;
      if (step.typename) {
        if (outputValue === undefined) {
          if (inputValue === null && name !== typenameFieldName) inputValue = input[typenameFieldName] ?? null;
          const type = typeof inputValue === 'string' ? (run.schema.type(inputValue) ?? parentType) : parentType;
          if (!isObjectType(type)) throw FALL_BACK;
          output[name] = type.name;
        }
        continue;
      }
      output[name] = update(run, outputValue, step.shape, inputValue, step.steps);
    } else {
      const typename = input[typenameFieldName];
      if (typename && typeof typename !== 'string') throw FALL_BACK;
      if (!step.typeCondition || conditionApplies(run, step, typename ? (typename as string) : undefined, parentType)) {
        applySteps(run, input, step.steps, output, step.typeCondition ?? parentType);
      }
    }
  }
}

function conditionApplies(run: Run, step: FragmentStep, typename: string | undefined, parentType: NamedType): boolean {
  const key = typename ?? parentType;
  let applies = step.applies.get(key);
  if (applies === undefined) {
    const condition = step.typeCondition!;
    if (typename) {
      const type = run.schema.type(typename);
      applies = !!type && isSubtype(condition, type);
    } else {
      applies = isSubtype(condition, parentType);
    }
    step.applies.set(key, applies);
  }
  return applies;
}

function update(run: Run, outputValue: unknown, shape: Shape, inputValue: unknown, steps: Step[] | undefined): unknown {
  if (inputValue === undefined) throw FALL_BACK;
  if (outputValue === null || (outputValue !== undefined && !steps)) return outputValue;
  switch (shape.kind) {
    case 'nonNull': {
      const updated = update(run, outputValue, shape.of, inputValue, steps);
      // The gateway reports a null here (or already has, below): its answer, then.
      if (updated === null) throw FALL_BACK;
      return updated;
    }
    case 'list': {
      if (inputValue === null) return null;
      if (!Array.isArray(inputValue) || (outputValue !== undefined && !Array.isArray(outputValue))) throw FALL_BACK;
      const outputList = outputValue as unknown[] | undefined;
      if (outputList !== undefined && outputList.length !== inputValue.length) throw FALL_BACK;
      const updated = new Array<unknown>(inputValue.length);
      for (let i = 0; i < inputValue.length; i++) {
        updated[i] = update(run, outputList?.[i], shape.of, inputValue[i], steps);
      }
      return updated;
    }
    case 'composite': {
      if (inputValue === null) return null;
      if (!steps || typeof inputValue !== 'object' || Array.isArray(inputValue)) throw FALL_BACK;
      if (outputValue !== undefined && typeof outputValue !== 'object') throw FALL_BACK;
      const object = inputValue as Record<string, unknown>;
      const typename = object[typenameFieldName];
      let type: NamedType = shape.type;
      if (typename !== undefined) {
        if (typeof typename !== 'string') throw FALL_BACK;
        if (typename) {
          const named = run.schema.type(typename);
          if (!named || !isCompositeType(named)) throw FALL_BACK;
          type = named;
        }
      }
      const output = (outputValue as Record<string, unknown> | undefined) ?? Object.create(null);
      applySteps(run, object, steps, output, type);
      return output;
    }
    case 'leaf':
      if (inputValue === null) return null;
      if (outputValue !== undefined || !shape.valid(inputValue)) throw FALL_BACK;
      return inputValue;
  }
}
